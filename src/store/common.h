// Internal to the store module, for its backends only (sqlite/, postgres/); nothing
// outside src/store/ includes it. It holds the logic that every Store implementation
// shares, written once so the backends cannot drift apart:
// - the error shapes ("store: <context>: <what>", and the conflict and not-found prefixes
//   of store.h), and the wording of every conflict and not-found message;
// - the checks a record passes before it is written, in the same order, with the same
//   messages;
// - the column lists each reader expects and the conversion of a row into a record,
//   including the checks a stored row passes before it is handed out.
// So, given the same calls and the same stored rows, both backends refuse the same writes,
// return equal records and word their errors alike, which the contract tests
// (tests/store/store_contract.h) check. The operations themselves (their SQL, statements
// and transactions) are written once too, over these helpers, in sql_store.h; binding,
// the few words of SQL that differ and each database's error codes stay in the backend.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "deploy/deployment.h"
#include "store/migrations.h"
#include "store/store.h"

namespace glidepath::store::detail {

// --- Errors ---

// "store: saving deployment dep_1: database is locked". Conflict and not-found errors are
// made with their own prefixes instead (store.h), and are passed up unwrapped.
core::Failure store_error(std::string_view context, const core::Error& error);
core::Failure store_error(std::string_view context, std::string_view message);
core::Failure conflict(std::string_view message);
core::Failure not_found(std::string_view message);

core::Failure deployment_not_found(std::string_view id);
core::Failure api_key_not_found(std::string_view id);
// A new key whose id or key hash another key has.
core::Failure api_key_exists(std::string_view id);

inline constexpr std::string_view kEventCounterMissing = "the event_log counter is missing";

// Runs one public operation so that nothing it throws (allocation failure, a JSON
// library error) escapes the Store: it becomes an error value.
template <typename Operation>
auto guarded(std::string_view context, Operation&& operation) -> decltype(operation()) {
  try {
    return operation();
  } catch (const std::exception& e) {
    return store_error(context, e.what());
  }
}

// --- Values as stored ---

inline int64_t micros(core::TimePoint t) {
  return core::to_epoch_micros(t);
}
inline core::TimePoint time_at(int64_t us) {
  return core::from_epoch_micros(us);
}

// The largest count a BIGINT column holds.
inline constexpr int64_t kMaxCount = std::numeric_limits<int64_t>::max();
int64_t clamp_to_int64(std::size_t n);

// --- Checks before a write, and the column values they yield ---
// Each returns store_error(context, ...) for the first thing wrong.

core::Result<void> check_new_deployment(std::string_view context,
                                        const deploy::Deployment& deployment);
core::Result<void> check_event_service(std::string_view context, std::string_view service);
core::Result<void> check_usage_buckets(std::string_view context,
                                       std::span<const access::UsageBucket> buckets);
core::Result<void> check_quota_increment(std::string_view context, uint64_t n);

struct ApiKeyValues {
  std::string metadata_json;
  std::optional<int64_t> revoked_at_us;
};
core::Result<ApiKeyValues> api_key_values(std::string_view context,
                                          const access::ApiKeyRecord& key);

// Unlike the checks above, unwrapped: the caller adds its context.
struct ServiceValues {
  std::string versions_json;
  std::optional<std::string> traffic_json;
};
core::Result<ServiceValues> service_values(const deploy::ServiceState& state);

// --- Rows → records ---

// One row of a result, as each backend reads it.
class Row {
 public:
  virtual ~Row() = default;
  virtual std::string text(int column) const = 0;
  virtual std::optional<std::string> optional_text(int column) const = 0;
  virtual int64_t int64(int column) const = 0;
  virtual std::optional<int64_t> optional_int64(int column) const = 0;
};

// Each reader names the columns its SELECT must list, in order.
inline constexpr std::string_view kServiceColumns =
    "name, live_version, versions_json, traffic_json, updated_at_us";
core::Result<deploy::ServiceState> read_service(const Row& row);

inline constexpr std::string_view kDeploymentColumns = "id, body, revision";
core::Result<StoredDeployment> read_deployment(const Row& row);

inline constexpr std::string_view kEventColumns =
    "id, service, deployment_id, event_time_us, type, message";
EventRecord read_event(const Row& row);

inline constexpr std::string_view kApiKeyColumns =
    "id, consumer, contact, metadata_json, key_hash, key_prefix, rate, quota, preview, "
    "created_at_us, revoked_at_us";
core::Result<access::ApiKeyRecord> read_api_key(const Row& row);

inline constexpr std::string_view kUsageColumns =
    "consumer, service, operation, version, status_class, minute_start, requests, "
    "first_seen_us, last_seen_us";
access::UsageBucket read_usage(const Row& row);

// Columns kMetricWindowColumns (metric_window_rows.h). Unwrapped: the caller adds its
// context.
core::Result<metrics::MetricWindow> read_metric_window(const Row& row);

// --- Explaining a refused write ---

// The active deployment of a service, as read after a unique index refused a write.
struct ActiveDeployment {
  std::string id;
  std::string state;
};
// After a constraint refused a write of `deployment`: the one-active-per-service index
// (`active` is the running deployment, named) or, on create, the primary key (a duplicate
// id).
core::Failure active_conflict(const deploy::Deployment& deployment,
                              const std::optional<ActiveDeployment>& active);

// A deployment's stored service and revision.
struct StoredRevision {
  std::string service;
  int64_t revision = 0;
};
// After an UPDATE guarded by id, service and revision changed nothing: which failed, given
// what is stored under the deployment's id (nothing when it does not exist).
core::Failure save_refusal(const deploy::Deployment& deployment, int64_t expected_revision,
                           const std::optional<StoredRevision>& stored, std::string_view context);

// The key to revoke, as found by its id: refuses a missing key and one already revoked.
core::Result<access::ApiKeyRecord> key_to_revoke(std::string_view id,
                                                 std::optional<access::ApiKeyRecord> found);

// --- Migrations ---

// The context of applying `migration`: "applying migration 3 (api keys)".
std::string migration_context(const Migration& migration);
// "<context>: <error>", without the "store: " prefix (open wraps the whole).
core::Failure in_context(std::string_view context, const core::Error& error);
// Refuses a database that a newer build migrated.
core::Result<void> check_schema_not_newer(int version);

}  // namespace glidepath::store::detail
