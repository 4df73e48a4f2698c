// Where state is kept (SPEC sections 3, 5, 7 and 9): the runtime state of services, the
// deployments and their event log, API keys, usage buckets, quota counters and a fleet's
// per-second metric windows. The records belong to the modules that mean them
// (deploy/service_state.h, access/records.h, metrics/metric_window.h); the store keeps
// them and declares only what is its own: revisions, the event log's ids, filters.
//
// One interface, one implementation per database (sqlite/ now, postgres/ for a fleet), and
// one test suite (tests/store/store_contract.h) that every implementation must pass.
//
// Promises every implementation keeps:
// - No exception leaves a Store: every failure is a core::Result error whose message names
//   the operation and the record it was about.
// - Thread-safe: one Store may be used from the controller thread and admin threads at
//   once, and several Stores (processes) may share one database.
// - Every call that changes more than one row does so in one transaction: all or nothing.
// - A lookup that finds nothing is not an error: it returns std::nullopt.
// - Times are stored with microsecond precision, so a value reads back equal (operator==).
// - The store never reads a clock for the records it keeps: times come from the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "access/records.h"
#include "core/clock.h"
#include "core/result.h"
#include "deploy/deployment.h"
#include "deploy/service_state.h"
#include "metrics/metric_window.h"

namespace glidepath::store {

// A deployment as stored, with the revision to pass back to save_deployment: every save
// increments it, and a save that names an older revision is refused (optimistic
// concurrency, for when several controllers share one database).
struct StoredDeployment {
  deploy::Deployment deployment;
  int64_t revision = 0;
  friend bool operator==(const StoredDeployment&, const StoredDeployment&) = default;
};

struct DeploymentFilter {
  std::optional<std::string> service;
  bool active_only = false;  // only deployments the controller is still driving
  std::size_t limit = 100;   // 0: no limit
};

// One entry of the append-only event log that server-sent events replay (SPEC section 7).
// Ids increase monotonically and become visible in id order: a reader that has seen id N
// never later finds a committed event with an id ≤ N that it missed.
struct EventRecord {
  int64_t id = 0;
  std::string service;
  std::string deployment_id;  // empty for events that belong to no deployment
  deploy::DeploymentEvent event;
  friend bool operator==(const EventRecord&, const EventRecord&) = default;
};

struct UsageFilter {
  std::optional<std::string> consumer;
  std::optional<std::string> service;
  int64_t since_minute = 0;  // epoch seconds: buckets whose minute starts at or after this
};

class Store {
 public:
  virtual ~Store() = default;

  // The highest migration applied to the database.
  virtual core::Result<int> schema_version() = 0;

  // --- Services' runtime state ---
  virtual core::Result<std::optional<deploy::ServiceState>> get_service(std::string_view name) = 0;
  virtual core::Result<std::vector<deploy::ServiceState>> list_services() = 0;  // by name
  // Inserts or replaces the whole record.
  virtual core::Result<void> upsert_service(const deploy::ServiceState& state) = 0;

  // --- Deployments ---
  // Stores a new deployment at revision 1 and appends its events (the `created` event of
  // deploy::new_deployment) to the event log. Refused, atomically and by the database
  // itself, when the service already has an active (non-terminal) deployment: the error
  // names the running deployment, and is_conflict() is true for it.
  virtual core::Result<StoredDeployment> create_deployment(
      const deploy::Deployment& deployment) = 0;

  // Writes the deployment's whole state and appends `new_events` (those added since it was
  // read) to the event log, in one transaction. `expected_revision` is the revision that
  // was read; if the stored one differs, nothing is written and the error satisfies
  // is_conflict(). With `service_update`, that service record is written in the same
  // transaction (a promotion that changes the live version must not be half-done).
  // Returns the new revision.
  virtual core::Result<int64_t> save_deployment(const deploy::Deployment& deployment,
                                                int64_t expected_revision,
                                                std::span<const deploy::DeploymentEvent> new_events,
                                                const deploy::ServiceState* service_update) = 0;
  core::Result<int64_t> save_deployment(const deploy::Deployment& deployment,
                                        int64_t expected_revision,
                                        std::span<const deploy::DeploymentEvent> new_events) {
    return save_deployment(deployment, expected_revision, new_events, nullptr);
  }

  virtual core::Result<std::optional<StoredDeployment>> get_deployment(std::string_view id) = 0;
  // Newest first (by started_at, then id).
  virtual core::Result<std::vector<StoredDeployment>> list_deployments(
      const DeploymentFilter& filter) = 0;
  // Every deployment still being driven, oldest first: what a restarted controller resumes.
  virtual core::Result<std::vector<StoredDeployment>> active_deployments() = 0;

  // --- Event log ---
  // Returns the new event's id. A non-empty deployment_id must name a stored deployment.
  virtual core::Result<int64_t> append_event(std::string_view service,
                                             std::string_view deployment_id,
                                             const deploy::DeploymentEvent& event) = 0;
  // Events with id > after_id, in id order, at most `limit` (0 gives none).
  virtual core::Result<std::vector<EventRecord>> events_after(int64_t after_id,
                                                              std::size_t limit) = 0;
  // The newest event's id (0 when there is none): where a new subscriber starts.
  virtual core::Result<int64_t> last_event_id() = 0;

  // --- API keys ---
  // Refused when the id or the hash is already stored, or the hash is not 64 hex digits.
  virtual core::Result<void> create_api_key(const access::ApiKeyRecord& key) = 0;
  virtual core::Result<std::vector<access::ApiKeyRecord>> list_api_keys() = 0;  // oldest first
  virtual core::Result<std::optional<access::ApiKeyRecord>> get_api_key(std::string_view id) = 0;
  // Revoked keys are found too: the caller answers 403 for them (SPEC section 4).
  virtual core::Result<std::optional<access::ApiKeyRecord>> find_api_key_by_hash(
      std::string_view key_hash) = 0;
  // Sets revoked_at. An unknown id (is_not_found) or an already revoked key (is_conflict)
  // is an error. Returns the revoked record.
  virtual core::Result<access::ApiKeyRecord> revoke_api_key(std::string_view id,
                                                            core::TimePoint at) = 0;

  // --- Usage ---
  // Adds each bucket's count to the stored one with the same key (consumer, service,
  // operation, version, status_class, minute) and widens first/last seen; one transaction.
  // A minute that is not a multiple of 60 refuses the whole batch.
  virtual core::Result<void> add_usage(std::span<const access::UsageBucket> buckets) = 0;
  // Ordered by minute, then consumer, service, operation, version, status_class.
  virtual core::Result<std::vector<access::UsageBucket>> query_usage(const UsageFilter& filter) = 0;

  // --- Quota counters (so quotas survive a restart) ---
  // Adds n to the key's counter for the period and returns the new total. The key must
  // exist.
  virtual core::Result<uint64_t> add_quota_usage(std::string_view key_id, int64_t period_start,
                                                 uint64_t n) = 0;
  virtual core::Result<uint64_t> get_quota_usage(std::string_view key_id, int64_t period_start) = 0;

  // --- Metric windows (SPEC section 9) ---
  // Written every second by every gateway of a fleet and read every second by the leading
  // controller, so they are never announced on PostgresOptions::change_channel.
  // Writes the windows in one transaction; a window already stored for the same (service,
  // version, second, gateway) is replaced (a gateway re-sending after a lost reply), and
  // of two in one batch with the same key the later wins. One invalid window (see
  // metrics::MetricWindow) refuses the whole batch, naming it.
  virtual core::Result<void> put_metric_windows(std::span<const metrics::MetricWindow> windows) = 0;
  // Every gateway's windows with from_second <= second < to_second, ordered by second,
  // service, version, gateway (byte order). A stored row that does not decode is an error
  // naming the row.
  virtual core::Result<std::vector<metrics::MetricWindow>> metric_windows(int64_t from_second,
                                                                          int64_t to_second) = 0;
  // Deletes windows older than `before_second`; returns how many went.
  virtual core::Result<uint64_t> prune_metric_windows(int64_t before_second) = 0;
};

// Errors whose cause callers act on: a conflict (another active deployment, a stale
// revision, a key revoked twice, a duplicate id — the admin API's 409) and a missing record
// (404). The store starts those messages with these stable prefixes.
inline constexpr std::string_view kConflictPrefix = "conflict: ";
inline constexpr std::string_view kNotFoundPrefix = "not found: ";
inline bool is_conflict(const core::Error& error) {
  return std::string_view(error.message).starts_with(kConflictPrefix);
}
inline bool is_not_found(const core::Error& error) {
  return std::string_view(error.message).starts_with(kNotFoundPrefix);
}

}  // namespace glidepath::store
