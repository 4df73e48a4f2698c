#include "store/common.h"

#include <fmt/format.h>

#include <utility>

#include "deploy/deployment_json.h"
#include "store/metric_window_rows.h"
#include "store/records_json.h"

namespace glidepath::store::detail {

using access::ApiKeyRecord;
using access::UsageBucket;
using deploy::ServiceState;
using metrics::MetricWindow;
namespace {

bool is_sha256_hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

// --- Errors ---

core::Failure store_error(std::string_view context, const core::Error& error) {
  return core::fail(fmt::format("store: {}: {}", context, error.message));
}
core::Failure store_error(std::string_view context, std::string_view message) {
  return core::fail(fmt::format("store: {}: {}", context, message));
}
core::Failure conflict(std::string_view message) {
  return core::fail(fmt::format("{}{}", kConflictPrefix, message));
}
core::Failure not_found(std::string_view message) {
  return core::fail(fmt::format("{}{}", kNotFoundPrefix, message));
}

core::Failure deployment_not_found(std::string_view id) {
  return not_found(fmt::format("deployment {}", id));
}
core::Failure api_key_not_found(std::string_view id) {
  return not_found(fmt::format("API key {}", id));
}
core::Failure api_key_exists(std::string_view id) {
  return conflict(fmt::format("API key {} (or one with the same key hash) already exists", id));
}

// --- Values as stored ---

int64_t clamp_to_int64(std::size_t n) {
  return n > static_cast<std::size_t>(kMaxCount) ? kMaxCount : static_cast<int64_t>(n);
}

// --- Checks before a write ---

core::Result<void> check_new_deployment(std::string_view context,
                                        const deploy::Deployment& deployment) {
  if (deployment.id.empty()) return store_error(context, "the deployment has no id");
  if (deployment.spec.service.empty()) {
    return store_error(context, "the deployment names no service");
  }
  return {};
}

core::Result<void> check_event_service(std::string_view context, std::string_view service) {
  if (service.empty()) return store_error(context, "the event names no service");
  return {};
}

core::Result<void> check_usage_buckets(std::string_view context,
                                       std::span<const UsageBucket> buckets) {
  for (const UsageBucket& bucket : buckets) {
    if (bucket.minute % 60 != 0) {
      return store_error(context,
                         fmt::format("minute {} is not the start of a minute", bucket.minute));
    }
    if (bucket.count > static_cast<uint64_t>(kMaxCount)) {
      return store_error(context, "a bucket's count is out of range");
    }
  }
  return {};
}

core::Result<void> check_quota_increment(std::string_view context, uint64_t n) {
  if (n > static_cast<uint64_t>(kMaxCount)) return store_error(context, "n is out of range");
  return {};
}

core::Result<ApiKeyValues> api_key_values(std::string_view context, const ApiKeyRecord& key) {
  if (key.id.empty()) return store_error(context, "the key has no id");
  if (key.consumer.empty()) return store_error(context, "the key names no consumer");
  if (!is_sha256_hex(key.key_hash)) {
    return store_error(context, "key_hash must be 64 lowercase hex digits (SHA-256)");
  }
  auto metadata = metadata_to_json_text(key.metadata);
  if (!metadata) return store_error(context, metadata.error());
  ApiKeyValues values;
  values.metadata_json = std::move(*metadata);
  if (key.revoked_at) values.revoked_at_us = micros(*key.revoked_at);
  return values;
}

core::Result<ServiceValues> service_values(const ServiceState& state) {
  if (state.name.empty()) return core::fail("the service has no name");
  auto versions = versions_to_json_text(state.versions);
  if (!versions) return core::Failure{versions.error()};
  ServiceValues values;
  values.versions_json = std::move(*versions);
  if (state.traffic) {
    auto text = traffic_to_json_text(*state.traffic);
    if (!text) return core::Failure{text.error()};
    values.traffic_json = std::move(*text);
  }
  return values;
}

// --- Rows → records ---

core::Result<ServiceState> read_service(const Row& row) {
  ServiceState state;
  state.name = row.text(0);
  state.live_version = row.text(1);
  auto versions = versions_from_json_text(row.text(2));
  if (!versions) return store_error(fmt::format("service {}", state.name), versions.error());
  state.versions = std::move(*versions);
  if (auto traffic_text = row.optional_text(3)) {
    auto traffic = traffic_from_json_text(*traffic_text);
    if (!traffic) return store_error(fmt::format("service {}", state.name), traffic.error());
    state.traffic = std::move(*traffic);
  }
  state.updated_at = time_at(row.int64(4));
  return state;
}

core::Result<StoredDeployment> read_deployment(const Row& row) {
  const std::string id = row.text(0);
  const std::string context = fmt::format("deployment {}", id);
  std::optional<core::Result<deploy::Deployment>> parsed;
  try {
    parsed.emplace(deploy::deployment_from_json_text(row.text(1)));
  } catch (const std::exception& e) {
    return store_error(context, fmt::format("stored JSON is unreadable: {}", e.what()));
  }
  auto& deployment = *parsed;
  if (!deployment) {
    return store_error(context,
                       fmt::format("stored JSON is unreadable: {}", deployment.error().message));
  }
  if (deployment->id != id) {
    return store_error(context, fmt::format("stored JSON names another id, '{}'", deployment->id));
  }
  return StoredDeployment{std::move(*deployment), row.int64(2)};
}

EventRecord read_event(const Row& row) {
  EventRecord record;
  record.id = row.int64(0);
  record.service = row.text(1);
  record.deployment_id = row.optional_text(2).value_or("");
  record.event.time = time_at(row.int64(3));
  record.event.type = row.text(4);
  record.event.message = row.text(5);
  return record;
}

core::Result<ApiKeyRecord> read_api_key(const Row& row) {
  ApiKeyRecord key;
  key.id = row.text(0);
  key.consumer = row.text(1);
  key.contact = row.text(2);
  auto metadata = metadata_from_json_text(row.text(3));
  if (!metadata) return store_error(fmt::format("API key {}", key.id), metadata.error());
  key.metadata = std::move(*metadata);
  key.key_hash = row.text(4);
  key.key_prefix = row.text(5);
  key.rate = row.optional_text(6);
  key.quota = row.optional_text(7);
  key.preview = row.int64(8) != 0;
  key.created_at = time_at(row.int64(9));
  if (auto revoked = row.optional_int64(10)) key.revoked_at = time_at(*revoked);
  return key;
}

UsageBucket read_usage(const Row& row) {
  UsageBucket bucket;
  bucket.consumer = row.text(0);
  bucket.service = row.text(1);
  bucket.operation = row.text(2);
  bucket.version = row.text(3);
  bucket.status_class = row.text(4);
  bucket.minute = row.int64(5);
  bucket.count = static_cast<uint64_t>(row.int64(6));
  bucket.first_seen = time_at(row.int64(7));
  bucket.last_seen = time_at(row.int64(8));
  return bucket;
}

core::Result<MetricWindow> read_metric_window(const Row& row) {
  MetricWindowRow values;
  values.service = row.text(0);
  values.version = row.text(1);
  values.epoch_second = row.int64(2);
  values.gateway = row.text(3);
  for (std::size_t i = 0; i < values.numbers.size(); ++i)
    values.numbers[i] = row.int64(4 + static_cast<int>(i));
  values.latency_buckets = row.text(kMetricWindowColumnCount - 1);
  return metric_window_from_row(std::move(values));
}

// --- Explaining a refused write ---

core::Failure active_conflict(const deploy::Deployment& deployment,
                              const std::optional<ActiveDeployment>& active) {
  if (active && active->id != deployment.id) {
    return conflict(fmt::format(
        "service {} already has an active deployment, {} (state {}); only one deployment "
        "per service runs at a time: wait for it to finish or abort it",
        deployment.spec.service, active->id, active->state));
  }
  return conflict(fmt::format("deployment {} already exists", deployment.id));
}

core::Failure save_refusal(const deploy::Deployment& deployment, int64_t expected_revision,
                           const std::optional<StoredRevision>& stored, std::string_view context) {
  if (!stored) return deployment_not_found(deployment.id);
  if (stored->service != deployment.spec.service) {
    return store_error(context, fmt::format("it belongs to service {}, not {}", stored->service,
                                            deployment.spec.service));
  }
  return conflict(fmt::format(
      "deployment {} was changed by another writer (stored revision {}, this write expected "
      "{}); read it again and retry",
      deployment.id, stored->revision, expected_revision));
}

core::Result<ApiKeyRecord> key_to_revoke(std::string_view id, std::optional<ApiKeyRecord> found) {
  if (!found) return api_key_not_found(id);
  if (found->revoked_at) {
    return conflict(fmt::format("API key {} was already revoked at {}", id,
                                core::format_rfc3339(*found->revoked_at)));
  }
  return std::move(*found);
}

// --- Migrations ---

std::string migration_context(const Migration& migration) {
  return fmt::format("applying migration {} ({})", migration.version, migration.description);
}

core::Failure in_context(std::string_view context, const core::Error& error) {
  return core::fail(fmt::format("{}: {}", context, error.message));
}

core::Result<void> check_schema_not_newer(int version) {
  if (version > latest_schema_version()) {
    return core::fail(
        fmt::format("the database is at schema version {}, newer than this build knows ({}); "
                    "run a newer glidepath",
                    version, latest_schema_version()));
  }
  return {};
}

}  // namespace glidepath::store::detail
