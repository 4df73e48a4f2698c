#include "store/postgres/postgres_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <mutex>
#include <utility>

#include "deploy/deployment_json.h"
#include "store/common.h"
#include "store/metric_window_rows.h"
#include "store/migrations.h"
#include "store/postgres/pg_connection.h"

namespace glidepath::store {

using access::ApiKeyRecord;
using access::UsageBucket;
using deploy::ServiceState;
using metrics::MetricWindow;
namespace {

using core::Result;
using namespace detail;  // the helpers every backend shares
using postgres::Connection;
using postgres::Params;
using postgres::Rows;
using postgres::Transaction;

// Row `r` of a result, for the shared readers (common.h).
class ResultRow final : public Row {
 public:
  ResultRow(const Rows& rows, int r) : rows_(rows), r_(r) {}
  std::string text(int column) const override { return rows_.text(r_, column); }
  std::optional<std::string> optional_text(int column) const override {
    return rows_.optional_text(r_, column);
  }
  int64_t int64(int column) const override { return rows_.int64(r_, column); }
  std::optional<int64_t> optional_int64(int column) const override {
    return rows_.optional_int64(r_, column);
  }

 private:
  const Rows& rows_;
  int r_;
};

// Rows per INSERT of metric windows: 16 parameters each, well inside the protocol's limit
// of 65535 parameters per statement.
constexpr std::size_t kMetricWindowsPerInsert = 1000;

// Any two processes that migrate take this lock first: CREATE TABLE IF NOT EXISTS is not
// safe against a concurrent CREATE of the same table in PostgreSQL. The number is
// arbitrary but fixed ("glidepath" in ASCII, as a 64-bit integer).
constexpr int64_t kMigrationLock = 0x676c69646570;

Result<std::vector<StoredDeployment>> read_deployments(const Rows& rows) {
  std::vector<StoredDeployment> deployments;
  for (int r = 0; r < rows.size(); ++r) {
    auto stored = read_deployment(ResultRow(rows, r));
    if (!stored) return core::Failure{stored.error()};
    deployments.push_back(std::move(*stored));
  }
  return deployments;
}

class PostgresStoreImpl final : public PostgresStore {
 public:
  PostgresStoreImpl(std::unique_ptr<Connection> connection, PostgresOptions options)
      : connection_(std::move(connection)), options_(std::move(options)) {}

  Result<int> schema_version() override {
    constexpr std::string_view context = "reading the schema version";
    return run(context, [&]() -> Result<int> {
      auto version = current_schema_version();
      if (!version) return store_error(context, version.error());
      return *version;
    });
  }

  Result<void> notify(std::string_view channel, std::string_view payload) override {
    const std::string context = fmt::format("notifying channel {}", channel);
    return run(context, [&]() -> Result<void> {
      auto sent = db().exec("SELECT pg_notify($1, $2)", Params().add(channel).add(payload));
      if (!sent) return store_error(context, sent.error());
      return {};
    });
  }

  // --- Services ---

  Result<std::optional<ServiceState>> get_service(std::string_view name) override {
    const std::string context = fmt::format("reading service {}", name);
    return run(context, [&]() -> Result<std::optional<ServiceState>> {
      auto rows =
          db().exec(fmt::format("SELECT {} FROM service_state WHERE name = $1", kServiceColumns),
                    Params().add(name));
      if (!rows) return store_error(context, rows.error());
      if (rows->empty()) return std::optional<ServiceState>();
      auto state = read_service(ResultRow(*rows, 0));
      if (!state) return core::Failure{state.error()};
      return std::optional<ServiceState>(std::move(*state));
    });
  }

  Result<std::vector<ServiceState>> list_services() override {
    constexpr std::string_view context = "listing services";
    return run(context, [&]() -> Result<std::vector<ServiceState>> {
      auto rows = db().exec(
          fmt::format("SELECT {} FROM service_state ORDER BY name COLLATE \"C\"", kServiceColumns));
      if (!rows) return store_error(context, rows.error());
      std::vector<ServiceState> services;
      for (int r = 0; r < rows->size(); ++r) {
        auto state = read_service(ResultRow(*rows, r));
        if (!state) return core::Failure{state.error()};
        services.push_back(std::move(*state));
      }
      return services;
    });
  }

  Result<void> upsert_service(const ServiceState& state) override {
    const std::string context = fmt::format("saving service {}", state.name);
    return run(context, [&]() -> Result<void> {
      // A transaction even for one statement: a connection lost before COMMIT then means
      // "rolled back" for certain, which is what makes retrying safe.
      auto transaction = Transaction::begin(db());
      if (!transaction) return store_error(context, transaction.error());
      auto written = write_service(state);
      if (!written) return store_error(context, written.error());
      auto committed = transaction->commit();
      if (!committed) return store_error(context, committed.error());
      return {};
    });
  }

  // --- Deployments ---

  Result<StoredDeployment> create_deployment(const deploy::Deployment& deployment) override {
    const std::string context = fmt::format("creating deployment {}", deployment.id);
    return guarded(context, [&]() -> Result<StoredDeployment> {
      auto checked = check_new_deployment(context, deployment);
      if (!checked) return core::Failure{checked.error()};
      const std::string body = deploy::to_json_text(deployment);
      return run(context, [&]() -> Result<StoredDeployment> {
        auto transaction = Transaction::begin(db());
        if (!transaction) return store_error(context, transaction.error());
        auto inserted = db().exec(
            "INSERT INTO deployments (id, service, state, active, started_at_us, updated_at_us, "
            "revision, body) VALUES ($1, $2, $3, $4, $5, $6, 1, $7)",
            Params()
                .add(deployment.id)
                .add(deployment.spec.service)
                .add(deploy::to_string(deployment.state))
                .add(int64_t{deploy::is_active(deployment.state) ? 1 : 0})
                .add(micros(deployment.started_at))
                .add(micros(deployment.updated_at))
                .add(body));
        if (!inserted) {
          if (db().last_failure().sqlstate == postgres::kUniqueViolation) {
            // The failed INSERT aborted the transaction; the explaining read runs after
            // it, and sees the winner, which committed before the index refused this.
            transaction->rollback();
            return explain_active_conflict(deployment, context);
          }
          return store_error(context, inserted.error());
        }
        auto appended =
            append_events_locked(deployment.spec.service, deployment.id, deployment.events);
        if (!appended) return store_error(context, appended.error());
        auto notified = notify_change_locked(fmt::format("deployment {}", deployment.id));
        if (!notified) return store_error(context, notified.error());
        auto committed = transaction->commit();
        if (!committed) return store_error(context, committed.error());
        return StoredDeployment{deployment, 1};
      });
    });
  }

  using Store::save_deployment;
  Result<int64_t> save_deployment(const deploy::Deployment& deployment, int64_t expected_revision,
                                  std::span<const deploy::DeploymentEvent> new_events,
                                  const ServiceState* service_update) override {
    const std::string context = fmt::format("saving deployment {}", deployment.id);
    return guarded(context, [&]() -> Result<int64_t> {
      const std::string body = deploy::to_json_text(deployment);
      return run(context, [&]() -> Result<int64_t> {
        auto transaction = Transaction::begin(db());
        if (!transaction) return store_error(context, transaction.error());
        // The service is part of the WHERE clause: a deployment never moves to another.
        // At READ COMMITTED a concurrent save of the same row makes this one wait, then
        // re-check the revision, so exactly one of two racing saves matches.
        auto updated = db().exec(
            "UPDATE deployments SET state = $1, active = $2, started_at_us = $3, "
            "updated_at_us = $4, body = $5, revision = revision + 1 "
            "WHERE id = $6 AND service = $7 AND revision = $8",
            Params()
                .add(deploy::to_string(deployment.state))
                .add(int64_t{deploy::is_active(deployment.state) ? 1 : 0})
                .add(micros(deployment.started_at))
                .add(micros(deployment.updated_at))
                .add(body)
                .add(deployment.id)
                .add(deployment.spec.service)
                .add(expected_revision));
        if (!updated) {
          // Only the one-active-per-service index can fail here: a finished deployment
          // made active again while another runs.
          if (db().last_failure().sqlstate == postgres::kUniqueViolation) {
            transaction->rollback();
            return explain_active_conflict(deployment, context);
          }
          return store_error(context, updated.error());
        }
        if (updated->affected() == 0) {
          return explain_save_refusal(deployment, expected_revision, context);
        }
        auto appended = append_events_locked(deployment.spec.service, deployment.id, new_events);
        if (!appended) return store_error(context, appended.error());
        if (service_update != nullptr) {
          auto written = write_service(*service_update);
          if (!written) {
            return store_error(fmt::format("{} with service {}", context, service_update->name),
                               written.error());
          }
        }
        auto notified = notify_change_locked(fmt::format("deployment {}", deployment.id));
        if (!notified) return store_error(context, notified.error());
        auto committed = transaction->commit();
        if (!committed) return store_error(context, committed.error());
        return expected_revision + 1;
      });
    });
  }

  Result<std::optional<StoredDeployment>> get_deployment(std::string_view id) override {
    const std::string context = fmt::format("reading deployment {}", id);
    return run(context, [&]() -> Result<std::optional<StoredDeployment>> {
      auto rows =
          db().exec(fmt::format("SELECT {} FROM deployments WHERE id = $1", kDeploymentColumns),
                    Params().add(id));
      if (!rows) return store_error(context, rows.error());
      if (rows->empty()) return std::optional<StoredDeployment>();
      auto stored = read_deployment(ResultRow(*rows, 0));
      if (!stored) return core::Failure{stored.error()};
      return std::optional<StoredDeployment>(std::move(*stored));
    });
  }

  Result<std::vector<StoredDeployment>> list_deployments(const DeploymentFilter& filter) override {
    constexpr std::string_view context = "listing deployments";
    return run(context, [&]() -> Result<std::vector<StoredDeployment>> {
      std::string sql = fmt::format("SELECT {} FROM deployments WHERE 1 = 1", kDeploymentColumns);
      Params params;
      if (filter.service) {
        params.add(*filter.service);
        sql += fmt::format(" AND service = ${}", params.size());
      }
      if (filter.active_only) sql += " AND active = 1";
      sql += " ORDER BY started_at_us DESC, id COLLATE \"C\" DESC";
      if (filter.limit > 0) {
        params.add(clamp_to_int64(filter.limit));
        sql += fmt::format(" LIMIT ${}", params.size());
      }
      auto rows = db().exec(sql, params);
      if (!rows) return store_error(context, rows.error());
      return read_deployments(*rows);
    });
  }

  Result<std::vector<StoredDeployment>> active_deployments() override {
    constexpr std::string_view context = "listing active deployments";
    return run(context, [&]() -> Result<std::vector<StoredDeployment>> {
      auto rows = db().exec(fmt::format(
          "SELECT {} FROM deployments WHERE active = 1 ORDER BY started_at_us, id COLLATE \"C\"",
          kDeploymentColumns));
      if (!rows) return store_error(context, rows.error());
      return read_deployments(*rows);
    });
  }

  // --- Event log ---

  Result<int64_t> append_event(std::string_view service, std::string_view deployment_id,
                               const deploy::DeploymentEvent& event) override {
    const std::string context = fmt::format("appending an event of service {}", service);
    return guarded(context, [&]() -> Result<int64_t> {
      auto checked = check_event_service(context, service);
      if (!checked) return core::Failure{checked.error()};
      return run(context, [&]() -> Result<int64_t> {
        auto transaction = Transaction::begin(db());
        if (!transaction) return store_error(context, transaction.error());
        if (!deployment_id.empty()) {
          auto rows =
              db().exec("SELECT 1 FROM deployments WHERE id = $1", Params().add(deployment_id));
          if (!rows) return store_error(context, rows.error());
          if (rows->empty()) return deployment_not_found(deployment_id);
        }
        auto appended = append_events_locked(service, deployment_id, std::span(&event, 1));
        if (!appended) return store_error(context, appended.error());
        auto notified = notify_change_locked(fmt::format("event {}", *appended));
        if (!notified) return store_error(context, notified.error());
        auto committed = transaction->commit();
        if (!committed) return store_error(context, committed.error());
        return *appended;
      });
    });
  }

  Result<std::vector<EventRecord>> events_after(int64_t after_id, std::size_t limit) override {
    constexpr std::string_view context = "reading the event log";
    return run(context, [&]() -> Result<std::vector<EventRecord>> {
      auto rows = db().exec(
          fmt::format("SELECT {} FROM event_log WHERE id > $1 ORDER BY id LIMIT $2", kEventColumns),
          Params().add(after_id).add(clamp_to_int64(limit)));
      if (!rows) return store_error(context, rows.error());
      std::vector<EventRecord> events;
      events.reserve(static_cast<std::size_t>(rows->size()));
      for (int r = 0; r < rows->size(); ++r)
        events.push_back(read_event(ResultRow(*rows, r)));
      return events;
    });
  }

  Result<int64_t> last_event_id() override {
    constexpr std::string_view context = "reading the event log";
    return run(context, [&]() -> Result<int64_t> {
      auto rows = db().exec("SELECT value FROM counters WHERE name = 'event_log'");
      if (!rows) return store_error(context, rows.error());
      if (rows->empty()) return store_error(context, kEventCounterMissing);
      return rows->int64(0, 0);
    });
  }

  // --- API keys ---

  Result<void> create_api_key(const ApiKeyRecord& key) override {
    const std::string context = fmt::format("creating API key {}", key.id);
    return guarded(context, [&]() -> Result<void> {
      auto values = api_key_values(context, key);
      if (!values) return core::Failure{values.error()};

      return run(context, [&]() -> Result<void> {
        auto transaction = Transaction::begin(db());
        if (!transaction) return store_error(context, transaction.error());
        auto inserted = db().exec(
            fmt::format("INSERT INTO api_keys ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
                        "$10, $11)",
                        kApiKeyColumns),
            Params()
                .add(key.id)
                .add(key.consumer)
                .add(key.contact)
                .add(values->metadata_json)
                .add(key.key_hash)
                .add(key.key_prefix)
                .add(key.rate)
                .add(key.quota)
                .add(int64_t{key.preview ? 1 : 0})
                .add(micros(key.created_at))
                .add(values->revoked_at_us));
        if (!inserted) {
          if (db().last_failure().sqlstate == postgres::kUniqueViolation) {
            return api_key_exists(key.id);
          }
          return store_error(context, inserted.error());
        }
        auto notified = notify_change_locked(fmt::format("api_key {}", key.id));
        if (!notified) return store_error(context, notified.error());
        auto committed = transaction->commit();
        if (!committed) return store_error(context, committed.error());
        return {};
      });
    });
  }

  Result<std::vector<ApiKeyRecord>> list_api_keys() override {
    constexpr std::string_view context = "listing API keys";
    return run(context, [&]() -> Result<std::vector<ApiKeyRecord>> {
      auto rows = db().exec(fmt::format(
          "SELECT {} FROM api_keys ORDER BY created_at_us, id COLLATE \"C\"", kApiKeyColumns));
      if (!rows) return store_error(context, rows.error());
      std::vector<ApiKeyRecord> keys;
      for (int r = 0; r < rows->size(); ++r) {
        auto key = read_api_key(ResultRow(*rows, r));
        if (!key) return core::Failure{key.error()};
        keys.push_back(std::move(*key));
      }
      return keys;
    });
  }

  Result<std::optional<ApiKeyRecord>> get_api_key(std::string_view id) override {
    const std::string context = fmt::format("reading API key {}", id);
    return run(context, [&]() -> Result<std::optional<ApiKeyRecord>> {
      return find_api_key_locked("id", id, context, false);
    });
  }

  Result<std::optional<ApiKeyRecord>> find_api_key_by_hash(std::string_view key_hash) override {
    constexpr std::string_view context = "finding an API key by hash";
    return run(context, [&]() -> Result<std::optional<ApiKeyRecord>> {
      return find_api_key_locked("key_hash", key_hash, context, false);
    });
  }

  Result<ApiKeyRecord> revoke_api_key(std::string_view id, core::TimePoint at) override {
    const std::string context = fmt::format("revoking API key {}", id);
    return run(context, [&]() -> Result<ApiKeyRecord> {
      auto transaction = Transaction::begin(db());
      if (!transaction) return store_error(context, transaction.error());
      // FOR UPDATE: of two racing revocations, the second reads the first's revoked_at
      // and is refused, as SQLite's write lock makes it there.
      auto found = find_api_key_locked("id", id, context, true);
      if (!found) return core::Failure{found.error()};
      auto key = key_to_revoke(id, std::move(*found));
      if (!key) return core::Failure{key.error()};
      auto updated = db().exec("UPDATE api_keys SET revoked_at_us = $1 WHERE id = $2",
                               Params().add(micros(at)).add(id));
      if (!updated) return store_error(context, updated.error());
      auto notified = notify_change_locked(fmt::format("api_key {}", id));
      if (!notified) return store_error(context, notified.error());
      auto committed = transaction->commit();
      if (!committed) return store_error(context, committed.error());
      key->revoked_at = at;
      return std::move(*key);
    });
  }

  // --- Usage ---

  Result<void> add_usage(std::span<const UsageBucket> buckets) override {
    constexpr std::string_view context = "recording usage";
    return guarded(context, [&]() -> Result<void> {
      auto checked = check_usage_buckets(context, buckets);
      if (!checked) return core::Failure{checked.error()};
      const std::string sql = fmt::format(
          "INSERT INTO usage_buckets ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
          "ON CONFLICT (consumer, service, operation, version, status_class, minute_start) "
          "DO UPDATE SET requests = usage_buckets.requests + excluded.requests, "
          "first_seen_us = LEAST(usage_buckets.first_seen_us, excluded.first_seen_us), "
          "last_seen_us = GREATEST(usage_buckets.last_seen_us, excluded.last_seen_us)",
          kUsageColumns);
      return run(context, [&]() -> Result<void> {
        // Two batches that touch the same buckets in different orders may deadlock; the
        // server then aborts one (40P01) and run() repeats it.
        auto transaction = Transaction::begin(db());
        if (!transaction) return store_error(context, transaction.error());
        for (const UsageBucket& bucket : buckets) {
          auto written = db().exec(sql, Params()
                                            .add(bucket.consumer)
                                            .add(bucket.service)
                                            .add(bucket.operation)
                                            .add(bucket.version)
                                            .add(bucket.status_class)
                                            .add(bucket.minute)
                                            .add(static_cast<int64_t>(bucket.count))
                                            .add(micros(bucket.first_seen))
                                            .add(micros(bucket.last_seen)));
          if (!written) return store_error(context, written.error());
        }
        auto committed = transaction->commit();
        if (!committed) return store_error(context, committed.error());
        return {};
      });
    });
  }

  Result<std::vector<UsageBucket>> query_usage(const UsageFilter& filter) override {
    constexpr std::string_view context = "reading usage";
    return run(context, [&]() -> Result<std::vector<UsageBucket>> {
      Params params;
      params.add(filter.since_minute);
      std::string sql =
          fmt::format("SELECT {} FROM usage_buckets WHERE minute_start >= $1", kUsageColumns);
      if (filter.consumer) {
        params.add(*filter.consumer);
        sql += fmt::format(" AND consumer = ${}", params.size());
      }
      if (filter.service) {
        params.add(*filter.service);
        sql += fmt::format(" AND service = ${}", params.size());
      }
      // COLLATE "C": byte order, as SQLite sorts, whatever the database's locale.
      sql +=
          " ORDER BY minute_start, consumer COLLATE \"C\", service COLLATE \"C\", "
          "operation COLLATE \"C\", version COLLATE \"C\", status_class COLLATE \"C\"";
      auto rows = db().exec(sql, params);
      if (!rows) return store_error(context, rows.error());
      std::vector<UsageBucket> buckets;
      buckets.reserve(static_cast<std::size_t>(rows->size()));
      for (int r = 0; r < rows->size(); ++r)
        buckets.push_back(read_usage(ResultRow(*rows, r)));
      return buckets;
    });
  }

  // --- Quota counters ---

  Result<uint64_t> add_quota_usage(std::string_view key_id, int64_t period_start,
                                   uint64_t n) override {
    const std::string context = fmt::format("counting quota usage of API key {}", key_id);
    return guarded(context, [&]() -> Result<uint64_t> {
      auto checked = check_quota_increment(context, n);
      if (!checked) return core::Failure{checked.error()};
      return run(context, [&]() -> Result<uint64_t> {
        auto transaction = Transaction::begin(db());
        if (!transaction) return store_error(context, transaction.error());
        auto rows = db().exec(
            "INSERT INTO quota_usage (key_id, period_start, used) VALUES ($1, $2, $3) "
            "ON CONFLICT (key_id, period_start) DO UPDATE SET "
            "used = quota_usage.used + excluded.used RETURNING used",
            Params().add(key_id).add(period_start).add(static_cast<int64_t>(n)));
        if (!rows) {
          if (db().last_failure().sqlstate == postgres::kForeignKeyViolation) {
            return api_key_not_found(key_id);
          }
          return store_error(context, rows.error());
        }
        if (rows->empty()) return store_error(context, "the counter was not returned");
        const int64_t total = rows->int64(0, 0);
        auto committed = transaction->commit();
        if (!committed) return store_error(context, committed.error());
        return static_cast<uint64_t>(total);
      });
    });
  }

  Result<uint64_t> get_quota_usage(std::string_view key_id, int64_t period_start) override {
    const std::string context = fmt::format("reading quota usage of API key {}", key_id);
    return run(context, [&]() -> Result<uint64_t> {
      auto rows = db().exec("SELECT used FROM quota_usage WHERE key_id = $1 AND period_start = $2",
                            Params().add(key_id).add(period_start));
      if (!rows) return store_error(context, rows.error());
      if (rows->empty()) return uint64_t{0};
      return static_cast<uint64_t>(rows->int64(0, 0));
    });
  }

  // --- Metric windows ---
  // Never announced on change_channel: every gateway writes them every second, and what
  // listens there (weights, config) has no use for them.

  Result<void> put_metric_windows(std::span<const MetricWindow> windows) override {
    constexpr std::string_view context = "writing metric windows";
    return guarded(context, [&]() -> Result<void> {
      auto rows = metric_window_rows(windows);
      if (!rows) return store_error(context, rows.error());
      if (rows->empty()) return {};
      // Many rows per statement, so a batch costs a round trip or two, not one per row.
      // The rows are sorted by key (concurrent batches lock in one order) and unique (ON
      // CONFLICT DO UPDATE may not touch one row twice in a statement).
      std::vector<std::pair<std::string, Params>> statements;
      for (std::size_t first = 0; first < rows->size(); first += kMetricWindowsPerInsert) {
        const std::size_t last = std::min(rows->size(), first + kMetricWindowsPerInsert);
        std::string sql =
            fmt::format("INSERT INTO metric_windows ({}) VALUES ", kMetricWindowColumns);
        Params params;
        for (std::size_t r = first; r < last; ++r) {
          const MetricWindowRow& row = (*rows)[r];
          sql += r == first ? "(" : ", (";
          for (int c = 0; c < kMetricWindowColumnCount; ++c) {
            fmt::format_to(std::back_inserter(sql), "{}${}", c == 0 ? "" : ", ",
                           params.size() + static_cast<std::size_t>(c) + 1);
          }
          sql += ')';
          params.add(row.service).add(row.version).add(row.epoch_second).add(row.gateway);
          for (int64_t number : row.numbers)
            params.add(number);
          params.add(row.latency_buckets);
        }
        fmt::format_to(std::back_inserter(sql), " ON CONFLICT ({}) DO UPDATE SET {}",
                       kMetricWindowKey, kMetricWindowReplaceSet);
        statements.emplace_back(std::move(sql), std::move(params));
      }
      return run(context, [&]() -> Result<void> {
        auto transaction = Transaction::begin(db());
        if (!transaction) return store_error(context, transaction.error());
        for (const auto& [sql, params] : statements) {
          auto written = db().exec(sql, params);
          if (!written) return store_error(context, written.error());
        }
        auto committed = transaction->commit();
        if (!committed) return store_error(context, committed.error());
        return {};
      });
    });
  }

  Result<std::vector<MetricWindow>> metric_windows(int64_t from_second,
                                                   int64_t to_second) override {
    const std::string context =
        fmt::format("reading metric windows of seconds [{}, {})", from_second, to_second);
    return guarded(context, [&]() -> Result<std::vector<MetricWindow>> {
      if (from_second >= to_second) return std::vector<MetricWindow>();
      return run(context, [&]() -> Result<std::vector<MetricWindow>> {
        // The range on epoch_second, the primary key's first column, is an index scan
        // (postgres_store_test checks the plan); COLLATE "C" sorts by bytes, as SQLite
        // does, whatever the database's locale.
        auto rows =
            db().exec(fmt::format("SELECT {} FROM metric_windows WHERE epoch_second >= $1 AND "
                                  "epoch_second < $2 ORDER BY epoch_second, service COLLATE \"C\", "
                                  "version COLLATE \"C\", gateway COLLATE \"C\"",
                                  kMetricWindowColumns),
                      Params().add(from_second).add(to_second));
        if (!rows) return store_error(context, rows.error());
        std::vector<MetricWindow> windows;
        windows.reserve(static_cast<std::size_t>(rows->size()));
        for (int r = 0; r < rows->size(); ++r) {
          auto window = read_metric_window(ResultRow(*rows, r));
          if (!window) return store_error(context, window.error());
          windows.push_back(std::move(*window));
        }
        return windows;
      });
    });
  }

  Result<uint64_t> prune_metric_windows(int64_t before_second) override {
    const std::string context =
        fmt::format("pruning metric windows before second {}", before_second);
    return run(context, [&]() -> Result<uint64_t> {
      // In a transaction, so a connection lost before COMMIT certainly rolled back.
      auto transaction = Transaction::begin(db());
      if (!transaction) return store_error(context, transaction.error());
      auto removed = db().exec("DELETE FROM metric_windows WHERE epoch_second < $1",
                               Params().add(before_second));
      if (!removed) return store_error(context, removed.error());
      auto committed = transaction->commit();
      if (!committed) return store_error(context, committed.error());
      return static_cast<uint64_t>(removed->affected());
    });
  }

  // Runs at open: applies each migration the database lacks in its own transaction, all
  // under the advisory lock, re-reading the version under it (another process may have
  // migrated while this one waited).
  Result<void> migrate() {
    return run("migrating", [&]() -> Result<void> {
      for (const Migration& migration : migrations()) {
        auto transaction = Transaction::begin(db());
        if (!transaction) return core::Failure{transaction.error()};
        auto locked = db().exec("SELECT pg_advisory_xact_lock($1)", Params().add(kMigrationLock));
        if (!locked) return core::Failure{locked.error()};
        auto created = db().exec_script(kSchemaMigrationsTableSql);
        if (!created) return core::Failure{created.error()};
        auto applied = current_schema_version();
        if (!applied) return core::Failure{applied.error()};
        auto known = check_schema_not_newer(*applied);
        if (!known) return core::Failure{known.error()};
        if (*applied >= migration.version) {
          auto committed = transaction->commit();
          if (!committed) return core::Failure{committed.error()};
          continue;
        }
        const std::string context = migration_context(migration);
        auto ran = db().exec_script(migration.sql);
        if (!ran) return in_context(context, ran.error());
        // The one time the store reads a clock: when a migration ran is not decision input.
        auto recorded = db().exec(
            "INSERT INTO schema_migrations (version, description, applied_at_us) "
            "VALUES ($1, $2, $3)",
            Params()
                .add(int64_t{migration.version})
                .add(migration.description)
                .add(micros(core::SystemClock().now())));
        if (!recorded) return in_context(context, recorded.error());
        auto committed = transaction->commit();
        if (!committed) return in_context(context, committed.error());
      }
      return {};
    });
  }

 private:
  Connection& db() { return *connection_; }

  // Runs one public operation holding the mutex: (re)connects first, and runs it again
  // when Connection::should_retry says the failed attempt was certainly rolled back.
  template <typename Operation>
  auto run(std::string_view context, Operation&& operation) -> decltype(operation()) {
    return guarded(context, [&]() -> decltype(operation()) {
      std::lock_guard lock(mutex_);
      for (int attempt = 0;; ++attempt) {
        auto connected = db().ensure_connected();
        if (!connected) return store_error(context, connected.error());
        db().begin_operation();
        auto result = operation();
        if (result.ok() || !db().should_retry(attempt)) return result;
      }
    });
  }

  Result<int> current_schema_version() {
    auto rows = db().exec("SELECT MAX(version) FROM schema_migrations");
    if (!rows) return core::Failure{rows.error()};
    if (rows->empty() || rows->is_null(0, 0)) return 0;
    return static_cast<int>(rows->int64(0, 0));
  }

  // Inside the caller's transaction.
  Result<void> write_service(const ServiceState& state) {
    auto values = service_values(state);
    if (!values) return core::Failure{values.error()};
    auto upserted = db().exec(
        fmt::format("INSERT INTO service_state ({}) VALUES ($1, $2, $3, $4, $5) "
                    "ON CONFLICT (name) DO UPDATE SET "
                    "live_version = excluded.live_version, versions_json = excluded.versions_json, "
                    "traffic_json = excluded.traffic_json, updated_at_us = excluded.updated_at_us",
                    kServiceColumns),
        Params()
            .add(state.name)
            .add(state.live_version)
            .add(values->versions_json)
            .add(values->traffic_json)
            .add(micros(state.updated_at)));
    if (!upserted) return core::Failure{upserted.error()};
    return notify_change_locked(fmt::format("service {}", state.name));
  }

  // Inside the caller's transaction: delivered to listeners when it commits, never for a
  // write that rolled back.
  Result<void> notify_change_locked(const std::string& payload) {
    if (options_.change_channel.empty()) return {};
    auto sent =
        db().exec("SELECT pg_notify($1, $2)", Params().add(options_.change_channel).add(payload));
    if (!sent) return core::Failure{sent.error()};
    return {};
  }

  // Inside the caller's transaction. Draws ids from the event_log counter (migrations.cpp
  // says why): the row lock taken by the UPDATE is held until commit, so a concurrent
  // writer waits and then draws the ids after these. Returns the last id, or the current
  // counter when there are no events.
  Result<int64_t> append_events_locked(std::string_view service, std::string_view deployment_id,
                                       std::span<const deploy::DeploymentEvent> events) {
    auto counter =
        db().exec("UPDATE counters SET value = value + $1 WHERE name = 'event_log' RETURNING value",
                  Params().add(static_cast<int64_t>(events.size())));
    if (!counter) return core::Failure{counter.error()};
    if (counter->empty()) return core::fail(std::string(kEventCounterMissing));
    const int64_t last_id = counter->int64(0, 0);
    int64_t id = last_id - static_cast<int64_t>(events.size());
    std::optional<std::string> deployment;
    if (!deployment_id.empty()) deployment = std::string(deployment_id);
    const std::string sql =
        fmt::format("INSERT INTO event_log ({}) VALUES ($1, $2, $3, $4, $5, $6)", kEventColumns);
    for (const deploy::DeploymentEvent& event : events) {
      auto inserted = db().exec(sql, Params()
                                         .add(++id)
                                         .add(service)
                                         .add(deployment)
                                         .add(micros(event.time))
                                         .add(event.type)
                                         .add(event.message));
      if (!inserted) return core::Failure{inserted.error()};
    }
    return last_id;
  }

  // After a unique index refused a write of `deployment` (and the transaction was rolled
  // back): reads the service's active deployment, which active_conflict names (or else
  // reports a duplicate id).
  core::Failure explain_active_conflict(const deploy::Deployment& deployment,
                                        std::string_view context) {
    auto rows = db().exec("SELECT id, state FROM deployments WHERE service = $1 AND active = 1",
                          Params().add(deployment.spec.service));
    if (!rows) return store_error(context, rows.error());
    std::optional<ActiveDeployment> active;
    if (!rows->empty()) active = ActiveDeployment{rows->text(0, 0), rows->text(0, 1)};
    return active_conflict(deployment, active);
  }

  // After an UPDATE guarded by id, service and revision changed nothing: reads what is
  // stored under the id, from which save_refusal says which failed.
  core::Failure explain_save_refusal(const deploy::Deployment& deployment,
                                     int64_t expected_revision, std::string_view context) {
    auto rows = db().exec("SELECT service, revision FROM deployments WHERE id = $1",
                          Params().add(deployment.id));
    if (!rows) return store_error(context, rows.error());
    std::optional<StoredRevision> stored;
    if (!rows->empty()) stored = StoredRevision{rows->text(0, 0), rows->int64(0, 1)};
    return save_refusal(deployment, expected_revision, stored, context);
  }

  // `column` is one of two fixed names, never a caller's value.
  Result<std::optional<ApiKeyRecord>> find_api_key_locked(std::string_view column,
                                                          std::string_view value,
                                                          std::string_view context,
                                                          bool for_update) {
    auto rows = db().exec(fmt::format("SELECT {} FROM api_keys WHERE {} = $1{}", kApiKeyColumns,
                                      column, for_update ? " FOR UPDATE" : ""),
                          Params().add(value));
    if (!rows) return store_error(context, rows.error());
    if (rows->empty()) return std::optional<ApiKeyRecord>();
    auto key = read_api_key(ResultRow(*rows, 0));
    if (!key) return core::Failure{key.error()};
    return std::optional<ApiKeyRecord>(std::move(*key));
  }

  std::mutex mutex_;  // held for each whole call: the connection is used by one thread
  std::unique_ptr<Connection> connection_;
  const PostgresOptions options_;
};

}  // namespace

Result<std::unique_ptr<PostgresStore>> open_postgres(const std::string& url,
                                                     const PostgresOptions& options) {
  const std::string context =
      fmt::format("opening PostgreSQL database {}", postgres::describe_server(url));
  return guarded(context, [&]() -> Result<std::unique_ptr<PostgresStore>> {
    if (url.empty()) return store_error(context, "no URL given");
    postgres::ConnectionOptions connection_options;
    connection_options.url = url;
    connection_options.connect_timeout = options.connect_timeout;
    connection_options.reconnect_timeout = options.reconnect_timeout;
    connection_options.first_backoff = options.first_backoff;
    connection_options.max_backoff = options.max_backoff;
    auto connection = Connection::open(connection_options);
    if (!connection) return store_error(context, connection.error());
    auto store = std::make_unique<PostgresStoreImpl>(std::move(*connection), options);
    auto migrated = store->migrate();
    if (!migrated) return store_error(context, migrated.error());
    return std::unique_ptr<PostgresStore>(std::move(store));
  });
}

Result<std::unique_ptr<Store>> open_postgres_store(const std::string& url,
                                                   const PostgresOptions& options) {
  auto opened = open_postgres(url, options);
  if (!opened) return core::Failure{opened.error()};
  return std::unique_ptr<Store>(std::move(*opened));
}

}  // namespace glidepath::store
