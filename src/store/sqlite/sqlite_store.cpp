#include "store/sqlite/sqlite_store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <utility>

#include "deploy/deployment_json.h"
#include "store/common.h"
#include "store/metric_window_rows.h"
#include "store/migrations.h"
#include "store/sqlite/sqlite_connection.h"

namespace glidepath::store {

using access::ApiKeyRecord;
using access::UsageBucket;
using deploy::ServiceState;
using metrics::MetricWindow;
namespace {

using core::Result;
using namespace detail;  // the helpers every backend shares
using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

// The row a statement has stepped to, for the shared readers (common.h).
class CurrentRow final : public Row {
 public:
  explicit CurrentRow(const Statement& statement) : statement_(statement) {}
  std::string text(int column) const override { return statement_.text(column); }
  std::optional<std::string> optional_text(int column) const override {
    return statement_.optional_text(column);
  }
  int64_t int64(int column) const override { return statement_.int64(column); }
  std::optional<int64_t> optional_int64(int column) const override {
    return statement_.optional_int64(column);
  }

 private:
  const Statement& statement_;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(std::unique_ptr<Connection> connection)
      : connection_(std::move(connection)) {}

  Result<int> schema_version() override {
    return guarded("reading the schema version", [&]() -> Result<int> {
      std::lock_guard lock(mutex_);
      return current_schema_version();
    });
  }

  // --- Services ---

  Result<std::optional<ServiceState>> get_service(std::string_view name) override {
    const std::string context = fmt::format("reading service {}", name);
    return guarded(context, [&]() -> Result<std::optional<ServiceState>> {
      std::lock_guard lock(mutex_);
      auto query =
          prepare(fmt::format("SELECT {} FROM service_state WHERE name = ?", kServiceColumns));
      if (!query) return store_error(context, query.error());
      query->bind(name);
      auto row = query->step();
      if (!row) return store_error(context, row.error());
      if (!*row) return std::optional<ServiceState>();
      auto state = read_service(CurrentRow(*query));
      if (!state) return core::Failure{state.error()};
      return std::optional<ServiceState>(std::move(*state));
    });
  }

  Result<std::vector<ServiceState>> list_services() override {
    constexpr std::string_view context = "listing services";
    return guarded(context, [&]() -> Result<std::vector<ServiceState>> {
      std::lock_guard lock(mutex_);
      auto query =
          prepare(fmt::format("SELECT {} FROM service_state ORDER BY name", kServiceColumns));
      if (!query) return store_error(context, query.error());
      std::vector<ServiceState> services;
      while (true) {
        auto row = query->step();
        if (!row) return store_error(context, row.error());
        if (!*row) break;
        auto state = read_service(CurrentRow(*query));
        if (!state) return core::Failure{state.error()};
        services.push_back(std::move(*state));
      }
      return services;
    });
  }

  Result<void> upsert_service(const ServiceState& state) override {
    const std::string context = fmt::format("saving service {}", state.name);
    return guarded(context, [&]() -> Result<void> {
      std::lock_guard lock(mutex_);
      auto written = write_service(state);
      if (!written) return store_error(context, written.error());
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

      std::lock_guard lock(mutex_);
      auto transaction = Transaction::begin(*connection_);
      if (!transaction) return store_error(context, transaction.error());
      {
        auto insert = prepare(
            "INSERT INTO deployments (id, service, state, active, started_at_us, updated_at_us, "
            "revision, body) VALUES (?, ?, ?, ?, ?, ?, 1, ?)");
        if (!insert) return store_error(context, insert.error());
        insert->bind(deployment.id)
            .bind(deployment.spec.service)
            .bind(deploy::to_string(deployment.state))
            .bind(int64_t{deploy::is_active(deployment.state) ? 1 : 0})
            .bind(micros(deployment.started_at))
            .bind(micros(deployment.updated_at))
            .bind(body);
        auto inserted = insert->run();
        if (!inserted) {
          if (insert->failed_on_constraint()) return explain_active_conflict(deployment, context);
          return store_error(context, inserted.error());
        }
      }
      auto appended =
          append_events_locked(deployment.spec.service, deployment.id, deployment.events);
      if (!appended) return store_error(context, appended.error());
      auto committed = transaction->commit();
      if (!committed) return store_error(context, committed.error());
      return StoredDeployment{deployment, 1};
    });
  }

  using Store::save_deployment;
  Result<int64_t> save_deployment(const deploy::Deployment& deployment, int64_t expected_revision,
                                  std::span<const deploy::DeploymentEvent> new_events,
                                  const ServiceState* service_update) override {
    const std::string context = fmt::format("saving deployment {}", deployment.id);
    return guarded(context, [&]() -> Result<int64_t> {
      const std::string body = deploy::to_json_text(deployment);

      std::lock_guard lock(mutex_);
      auto transaction = Transaction::begin(*connection_);
      if (!transaction) return store_error(context, transaction.error());
      {
        // The service is part of the WHERE clause: a deployment never moves to another.
        auto update = prepare(
            "UPDATE deployments SET state = ?, active = ?, started_at_us = ?, updated_at_us = ?, "
            "body = ?, revision = revision + 1 WHERE id = ? AND service = ? AND revision = ?");
        if (!update) return store_error(context, update.error());
        update->bind(deploy::to_string(deployment.state))
            .bind(int64_t{deploy::is_active(deployment.state) ? 1 : 0})
            .bind(micros(deployment.started_at))
            .bind(micros(deployment.updated_at))
            .bind(body)
            .bind(deployment.id)
            .bind(deployment.spec.service)
            .bind(expected_revision);
        auto updated = update->run();
        if (!updated) {
          // Only the one-active-per-service index can fail here: a finished deployment
          // made active again while another runs.
          if (update->failed_on_constraint()) return explain_active_conflict(deployment, context);
          return store_error(context, updated.error());
        }
      }
      if (sqlite3_changes(connection_->handle()) == 0) {
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
      auto committed = transaction->commit();
      if (!committed) return store_error(context, committed.error());
      return expected_revision + 1;
    });
  }

  Result<std::optional<StoredDeployment>> get_deployment(std::string_view id) override {
    const std::string context = fmt::format("reading deployment {}", id);
    return guarded(context, [&]() -> Result<std::optional<StoredDeployment>> {
      std::lock_guard lock(mutex_);
      auto query =
          prepare(fmt::format("SELECT {} FROM deployments WHERE id = ?", kDeploymentColumns));
      if (!query) return store_error(context, query.error());
      query->bind(id);
      auto row = query->step();
      if (!row) return store_error(context, row.error());
      if (!*row) return std::optional<StoredDeployment>();
      auto stored = read_deployment(CurrentRow(*query));
      if (!stored) return core::Failure{stored.error()};
      return std::optional<StoredDeployment>(std::move(*stored));
    });
  }

  Result<std::vector<StoredDeployment>> list_deployments(const DeploymentFilter& filter) override {
    constexpr std::string_view context = "listing deployments";
    return guarded(context, [&]() -> Result<std::vector<StoredDeployment>> {
      std::string sql = fmt::format("SELECT {} FROM deployments WHERE 1 = 1", kDeploymentColumns);
      if (filter.service) sql += " AND service = ?";
      if (filter.active_only) sql += " AND active = 1";
      sql += " ORDER BY started_at_us DESC, id DESC";
      if (filter.limit > 0) sql += " LIMIT ?";

      std::lock_guard lock(mutex_);
      auto query = prepare(sql);
      if (!query) return store_error(context, query.error());
      if (filter.service) query->bind(*filter.service);
      if (filter.limit > 0) query->bind(clamp_to_int64(filter.limit));
      return read_deployments(*query, context);
    });
  }

  Result<std::vector<StoredDeployment>> active_deployments() override {
    constexpr std::string_view context = "listing active deployments";
    return guarded(context, [&]() -> Result<std::vector<StoredDeployment>> {
      std::lock_guard lock(mutex_);
      auto query = prepare(
          fmt::format("SELECT {} FROM deployments WHERE active = 1 ORDER BY started_at_us, id",
                      kDeploymentColumns));
      if (!query) return store_error(context, query.error());
      return read_deployments(*query, context);
    });
  }

  // --- Event log ---

  Result<int64_t> append_event(std::string_view service, std::string_view deployment_id,
                               const deploy::DeploymentEvent& event) override {
    const std::string context = fmt::format("appending an event of service {}", service);
    return guarded(context, [&]() -> Result<int64_t> {
      auto checked = check_event_service(context, service);
      if (!checked) return core::Failure{checked.error()};
      std::lock_guard lock(mutex_);
      auto transaction = Transaction::begin(*connection_);
      if (!transaction) return store_error(context, transaction.error());
      if (!deployment_id.empty()) {
        auto query = prepare("SELECT 1 FROM deployments WHERE id = ?");
        if (!query) return store_error(context, query.error());
        query->bind(deployment_id);
        auto row = query->step();
        if (!row) return store_error(context, row.error());
        if (!*row) return deployment_not_found(deployment_id);
      }
      auto appended = append_events_locked(service, deployment_id, std::span(&event, 1));
      if (!appended) return store_error(context, appended.error());
      auto committed = transaction->commit();
      if (!committed) return store_error(context, committed.error());
      return *appended;
    });
  }

  Result<std::vector<EventRecord>> events_after(int64_t after_id, std::size_t limit) override {
    constexpr std::string_view context = "reading the event log";
    return guarded(context, [&]() -> Result<std::vector<EventRecord>> {
      std::lock_guard lock(mutex_);
      auto query = prepare(
          fmt::format("SELECT {} FROM event_log WHERE id > ? ORDER BY id LIMIT ?", kEventColumns));
      if (!query) return store_error(context, query.error());
      query->bind(after_id).bind(clamp_to_int64(limit));
      std::vector<EventRecord> events;
      while (true) {
        auto row = query->step();
        if (!row) return store_error(context, row.error());
        if (!*row) break;
        events.push_back(read_event(CurrentRow(*query)));
      }
      return events;
    });
  }

  Result<int64_t> last_event_id() override {
    constexpr std::string_view context = "reading the event log";
    return guarded(context, [&]() -> Result<int64_t> {
      std::lock_guard lock(mutex_);
      auto query = prepare("SELECT value FROM counters WHERE name = 'event_log'");
      if (!query) return store_error(context, query.error());
      auto row = query->step();
      if (!row) return store_error(context, row.error());
      if (!*row) return store_error(context, kEventCounterMissing);
      return query->int64(0);
    });
  }

  // --- API keys ---

  Result<void> create_api_key(const ApiKeyRecord& key) override {
    const std::string context = fmt::format("creating API key {}", key.id);
    return guarded(context, [&]() -> Result<void> {
      auto values = api_key_values(context, key);
      if (!values) return core::Failure{values.error()};

      std::lock_guard lock(mutex_);
      auto insert = prepare(fmt::format(
          "INSERT INTO api_keys ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", kApiKeyColumns));
      if (!insert) return store_error(context, insert.error());
      insert->bind(key.id)
          .bind(key.consumer)
          .bind(key.contact)
          .bind(values->metadata_json)
          .bind(key.key_hash)
          .bind(key.key_prefix)
          .bind(key.rate)
          .bind(key.quota)
          .bind(int64_t{key.preview ? 1 : 0})
          .bind(micros(key.created_at))
          .bind(values->revoked_at_us);
      auto inserted = insert->run();
      if (!inserted) {
        if (insert->failed_on_constraint()) return api_key_exists(key.id);
        return store_error(context, inserted.error());
      }
      return {};
    });
  }

  Result<std::vector<ApiKeyRecord>> list_api_keys() override {
    constexpr std::string_view context = "listing API keys";
    return guarded(context, [&]() -> Result<std::vector<ApiKeyRecord>> {
      std::lock_guard lock(mutex_);
      auto query = prepare(
          fmt::format("SELECT {} FROM api_keys ORDER BY created_at_us, id", kApiKeyColumns));
      if (!query) return store_error(context, query.error());
      std::vector<ApiKeyRecord> keys;
      while (true) {
        auto row = query->step();
        if (!row) return store_error(context, row.error());
        if (!*row) break;
        auto key = read_api_key(CurrentRow(*query));
        if (!key) return core::Failure{key.error()};
        keys.push_back(std::move(*key));
      }
      return keys;
    });
  }

  Result<std::optional<ApiKeyRecord>> get_api_key(std::string_view id) override {
    const std::string context = fmt::format("reading API key {}", id);
    return guarded(context, [&]() -> Result<std::optional<ApiKeyRecord>> {
      std::lock_guard lock(mutex_);
      return find_api_key_locked("id", id, context);
    });
  }

  Result<std::optional<ApiKeyRecord>> find_api_key_by_hash(std::string_view key_hash) override {
    constexpr std::string_view context = "finding an API key by hash";
    return guarded(context, [&]() -> Result<std::optional<ApiKeyRecord>> {
      std::lock_guard lock(mutex_);
      return find_api_key_locked("key_hash", key_hash, context);
    });
  }

  Result<ApiKeyRecord> revoke_api_key(std::string_view id, core::TimePoint at) override {
    const std::string context = fmt::format("revoking API key {}", id);
    return guarded(context, [&]() -> Result<ApiKeyRecord> {
      std::lock_guard lock(mutex_);
      auto transaction = Transaction::begin(*connection_);
      if (!transaction) return store_error(context, transaction.error());
      auto found = find_api_key_locked("id", id, context);
      if (!found) return core::Failure{found.error()};
      auto key = key_to_revoke(id, std::move(*found));
      if (!key) return core::Failure{key.error()};
      {
        auto update = prepare("UPDATE api_keys SET revoked_at_us = ? WHERE id = ?");
        if (!update) return store_error(context, update.error());
        update->bind(micros(at)).bind(id);
        auto updated = update->run();
        if (!updated) return store_error(context, updated.error());
      }
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
      std::lock_guard lock(mutex_);
      auto transaction = Transaction::begin(*connection_);
      if (!transaction) return store_error(context, transaction.error());
      for (const UsageBucket& bucket : buckets) {
        // CASE rather than MIN/MAX of two values: those are LEAST/GREATEST in PostgreSQL.
        auto upsert = prepare(fmt::format(
            "INSERT INTO usage_buckets ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (consumer, service, operation, version, status_class, minute_start) "
            "DO UPDATE SET requests = usage_buckets.requests + excluded.requests, "
            "first_seen_us = CASE WHEN excluded.first_seen_us < usage_buckets.first_seen_us "
            "THEN excluded.first_seen_us ELSE usage_buckets.first_seen_us END, "
            "last_seen_us = CASE WHEN excluded.last_seen_us > usage_buckets.last_seen_us "
            "THEN excluded.last_seen_us ELSE usage_buckets.last_seen_us END",
            kUsageColumns));
        if (!upsert) return store_error(context, upsert.error());
        upsert->bind(bucket.consumer)
            .bind(bucket.service)
            .bind(bucket.operation)
            .bind(bucket.version)
            .bind(bucket.status_class)
            .bind(bucket.minute)
            .bind(static_cast<int64_t>(bucket.count))
            .bind(micros(bucket.first_seen))
            .bind(micros(bucket.last_seen));
        auto written = upsert->run();
        if (!written) return store_error(context, written.error());
      }
      auto committed = transaction->commit();
      if (!committed) return store_error(context, committed.error());
      return {};
    });
  }

  Result<std::vector<UsageBucket>> query_usage(const UsageFilter& filter) override {
    constexpr std::string_view context = "reading usage";
    return guarded(context, [&]() -> Result<std::vector<UsageBucket>> {
      std::string sql =
          fmt::format("SELECT {} FROM usage_buckets WHERE minute_start >= ?", kUsageColumns);
      if (filter.consumer) sql += " AND consumer = ?";
      if (filter.service) sql += " AND service = ?";
      sql += " ORDER BY minute_start, consumer, service, operation, version, status_class";

      std::lock_guard lock(mutex_);
      auto query = prepare(sql);
      if (!query) return store_error(context, query.error());
      query->bind(filter.since_minute);
      if (filter.consumer) query->bind(*filter.consumer);
      if (filter.service) query->bind(*filter.service);
      std::vector<UsageBucket> buckets;
      while (true) {
        auto row = query->step();
        if (!row) return store_error(context, row.error());
        if (!*row) break;
        buckets.push_back(read_usage(CurrentRow(*query)));
      }
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
      std::lock_guard lock(mutex_);
      auto transaction = Transaction::begin(*connection_);
      if (!transaction) return store_error(context, transaction.error());
      int64_t total = 0;
      {
        auto upsert = prepare(
            "INSERT INTO quota_usage (key_id, period_start, used) VALUES (?, ?, ?) "
            "ON CONFLICT (key_id, period_start) DO UPDATE SET "
            "used = quota_usage.used + excluded.used RETURNING used");
        if (!upsert) return store_error(context, upsert.error());
        upsert->bind(key_id).bind(period_start).bind(static_cast<int64_t>(n));
        auto row = upsert->step();
        if (!row) {
          if (upsert->result_code() == SQLITE_CONSTRAINT_FOREIGNKEY) {
            return api_key_not_found(key_id);
          }
          return store_error(context, row.error());
        }
        if (!*row) return store_error(context, "the counter was not returned");
        total = upsert->int64(0);
        auto finished = upsert->run();
        if (!finished) return store_error(context, finished.error());
      }
      auto committed = transaction->commit();
      if (!committed) return store_error(context, committed.error());
      return static_cast<uint64_t>(total);
    });
  }

  Result<uint64_t> get_quota_usage(std::string_view key_id, int64_t period_start) override {
    const std::string context = fmt::format("reading quota usage of API key {}", key_id);
    return guarded(context, [&]() -> Result<uint64_t> {
      std::lock_guard lock(mutex_);
      auto query = prepare("SELECT used FROM quota_usage WHERE key_id = ? AND period_start = ?");
      if (!query) return store_error(context, query.error());
      query->bind(key_id).bind(period_start);
      auto row = query->step();
      if (!row) return store_error(context, row.error());
      if (!*row) return uint64_t{0};
      return static_cast<uint64_t>(query->int64(0));
    });
  }

  // --- Metric windows ---

  Result<void> put_metric_windows(std::span<const MetricWindow> windows) override {
    constexpr std::string_view context = "writing metric windows";
    return guarded(context, [&]() -> Result<void> {
      auto rows = metric_window_rows(windows);
      if (!rows) return store_error(context, rows.error());
      if (rows->empty()) return {};
      std::lock_guard lock(mutex_);
      auto transaction = Transaction::begin(*connection_);
      if (!transaction) return store_error(context, transaction.error());
      // One cached statement, run per row: SQLite has no round trips to save.
      const std::string sql = fmt::format(
          "INSERT INTO metric_windows ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
          "ON CONFLICT ({}) DO UPDATE SET {}",
          kMetricWindowColumns, kMetricWindowKey, kMetricWindowReplaceSet);
      for (const MetricWindowRow& row : *rows) {
        auto upsert = prepare(sql);
        if (!upsert) return store_error(context, upsert.error());
        upsert->bind(row.service).bind(row.version).bind(row.epoch_second).bind(row.gateway);
        for (int64_t number : row.numbers)
          upsert->bind(number);
        upsert->bind(row.latency_buckets);
        auto written = upsert->run();
        if (!written) {
          return store_error(fmt::format("{} ({}/{}, second {}, gateway {})", context, row.service,
                                         row.version, row.epoch_second, row.gateway),
                             written.error());
        }
      }
      auto committed = transaction->commit();
      if (!committed) return store_error(context, committed.error());
      return {};
    });
  }

  Result<std::vector<MetricWindow>> metric_windows(int64_t from_second,
                                                   int64_t to_second) override {
    const std::string context =
        fmt::format("reading metric windows of seconds [{}, {})", from_second, to_second);
    return guarded(context, [&]() -> Result<std::vector<MetricWindow>> {
      std::vector<MetricWindow> windows;
      if (from_second >= to_second) return windows;
      std::lock_guard lock(mutex_);
      // The range on epoch_second, the primary key's first column, is an index range scan
      // that also yields the order (sqlite_store_test checks the plan).
      auto query = prepare(
          fmt::format("SELECT {} FROM metric_windows WHERE epoch_second >= ? AND epoch_second < ? "
                      "ORDER BY epoch_second, service, version, gateway",
                      kMetricWindowColumns));
      if (!query) return store_error(context, query.error());
      query->bind(from_second).bind(to_second);
      while (true) {
        auto step = query->step();
        if (!step) return store_error(context, step.error());
        if (!*step) break;
        auto window = read_metric_window(CurrentRow(*query));
        if (!window) return store_error(context, window.error());
        windows.push_back(std::move(*window));
      }
      return windows;
    });
  }

  Result<uint64_t> prune_metric_windows(int64_t before_second) override {
    const std::string context =
        fmt::format("pruning metric windows before second {}", before_second);
    return guarded(context, [&]() -> Result<uint64_t> {
      std::lock_guard lock(mutex_);
      auto remove = prepare("DELETE FROM metric_windows WHERE epoch_second < ?");
      if (!remove) return store_error(context, remove.error());
      remove->bind(before_second);
      auto removed = remove->run();
      if (!removed) return store_error(context, removed.error());
      return static_cast<uint64_t>(sqlite3_changes64(connection_->handle()));
    });
  }

  // Runs at open, before the store is shared: creates schema_migrations and applies each
  // migration the database lacks, each in its own transaction. Another process opening
  // the same file at once is harmless: the version is re-read under the write lock.
  Result<void> migrate() {
    std::lock_guard lock(mutex_);
    auto created = connection_->exec(std::string(kSchemaMigrationsTableSql));
    if (!created) return core::Failure{created.error()};
    auto version = current_schema_version();
    if (!version) return core::Failure{version.error()};
    auto known = check_schema_not_newer(*version);
    if (!known) return core::Failure{known.error()};
    for (const Migration& migration : migrations()) {
      auto transaction = Transaction::begin(*connection_);
      if (!transaction) return core::Failure{transaction.error()};
      auto applied = current_schema_version();
      if (!applied) return core::Failure{applied.error()};
      if (*applied >= migration.version) continue;
      const std::string context = migration_context(migration);
      auto ran = connection_->exec(std::string(migration.sql));
      if (!ran) return in_context(context, ran.error());
      {
        auto record = prepare(
            "INSERT INTO schema_migrations (version, description, applied_at_us) "
            "VALUES (?, ?, ?)");
        if (!record) return core::Failure{record.error()};
        // The one time the store reads a clock: when a migration ran is not decision input.
        record->bind(int64_t{migration.version})
            .bind(migration.description)
            .bind(micros(core::SystemClock().now()));
        auto recorded = record->run();
        if (!recorded) return in_context(context, recorded.error());
      }
      auto committed = transaction->commit();
      if (!committed) return in_context(context, committed.error());
    }
    return {};
  }

 private:
  Result<Statement> prepare(std::string_view sql) { return connection_->prepare(sql); }

  Result<int> current_schema_version() {
    auto query = prepare("SELECT MAX(version) FROM schema_migrations");
    if (!query) return core::Failure{query.error()};
    auto row = query->step();
    if (!row) return core::Failure{row.error()};
    if (!*row || query->is_null(0)) return 0;
    return static_cast<int>(query->int64(0));
  }

  // Inside the caller's transaction.
  Result<void> write_service(const ServiceState& state) {
    auto values = service_values(state);
    if (!values) return core::Failure{values.error()};
    auto upsert = prepare(fmt::format(
        "INSERT INTO service_state ({}) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
        "live_version = excluded.live_version, versions_json = excluded.versions_json, "
        "traffic_json = excluded.traffic_json, updated_at_us = excluded.updated_at_us",
        kServiceColumns));
    if (!upsert) return core::Failure{upsert.error()};
    upsert->bind(state.name)
        .bind(state.live_version)
        .bind(values->versions_json)
        .bind(values->traffic_json)
        .bind(micros(state.updated_at));
    return upsert->run();
  }

  // Inside the caller's transaction. Draws ids from the event_log counter (migrations.cpp
  // says why) and returns the last one, or the current counter when there are no events.
  Result<int64_t> append_events_locked(std::string_view service, std::string_view deployment_id,
                                       std::span<const deploy::DeploymentEvent> events) {
    int64_t last_id = 0;
    {
      auto counter =
          prepare("UPDATE counters SET value = value + ? WHERE name = 'event_log' RETURNING value");
      if (!counter) return core::Failure{counter.error()};
      counter->bind(static_cast<int64_t>(events.size()));
      auto row = counter->step();
      if (!row) return core::Failure{row.error()};
      if (!*row) return core::fail(std::string(kEventCounterMissing));
      last_id = counter->int64(0);
      auto finished = counter->run();
      if (!finished) return core::Failure{finished.error()};
    }
    int64_t id = last_id - static_cast<int64_t>(events.size());
    for (const deploy::DeploymentEvent& event : events) {
      auto insert = prepare(
          fmt::format("INSERT INTO event_log ({}) VALUES (?, ?, ?, ?, ?, ?)", kEventColumns));
      if (!insert) return core::Failure{insert.error()};
      insert->bind(++id).bind(service);
      if (deployment_id.empty()) {
        insert->bind(std::nullopt);
      } else {
        insert->bind(deployment_id);
      }
      insert->bind(micros(event.time)).bind(event.type).bind(event.message);
      auto inserted = insert->run();
      if (!inserted) return core::Failure{inserted.error()};
    }
    return last_id;
  }

  // After a constraint refused a write of `deployment`: reads the service's active
  // deployment, which active_conflict names (or else reports a duplicate id).
  core::Failure explain_active_conflict(const deploy::Deployment& deployment,
                                        std::string_view context) {
    auto query = prepare("SELECT id, state FROM deployments WHERE service = ? AND active = 1");
    if (!query) return store_error(context, query.error());
    query->bind(deployment.spec.service);
    auto row = query->step();
    if (!row) return store_error(context, row.error());
    std::optional<ActiveDeployment> active;
    if (*row) active = ActiveDeployment{query->text(0), query->text(1)};
    return active_conflict(deployment, active);
  }

  // After an UPDATE guarded by id, service and revision changed nothing: reads what is
  // stored under the id, from which save_refusal says which failed.
  core::Failure explain_save_refusal(const deploy::Deployment& deployment,
                                     int64_t expected_revision, std::string_view context) {
    auto query = prepare("SELECT service, revision FROM deployments WHERE id = ?");
    if (!query) return store_error(context, query.error());
    query->bind(deployment.id);
    auto row = query->step();
    if (!row) return store_error(context, row.error());
    std::optional<StoredRevision> stored;
    if (*row) stored = StoredRevision{query->text(0), query->int64(1)};
    return save_refusal(deployment, expected_revision, stored, context);
  }

  Result<std::vector<StoredDeployment>> read_deployments(Statement& query,
                                                         std::string_view context) {
    std::vector<StoredDeployment> deployments;
    while (true) {
      auto row = query.step();
      if (!row) return store_error(context, row.error());
      if (!*row) break;
      auto stored = read_deployment(CurrentRow(query));
      if (!stored) return core::Failure{stored.error()};
      deployments.push_back(std::move(*stored));
    }
    return deployments;
  }

  Result<std::optional<ApiKeyRecord>> find_api_key_locked(std::string_view column,
                                                          std::string_view value,
                                                          std::string_view context) {
    auto query =
        prepare(fmt::format("SELECT {} FROM api_keys WHERE {} = ?", kApiKeyColumns, column));
    if (!query) return store_error(context, query.error());
    query->bind(value);
    auto row = query->step();
    if (!row) return store_error(context, row.error());
    if (!*row) return std::optional<ApiKeyRecord>();
    auto key = read_api_key(CurrentRow(*query));
    if (!key) return core::Failure{key.error()};
    return std::optional<ApiKeyRecord>(std::move(*key));
  }

  std::mutex mutex_;  // held for each whole call: the connection is used by one thread
  std::unique_ptr<Connection> connection_;
};

// Whether `path` names a file whose directory is missing (":memory:" and "file:" URIs
// are left to SQLite).
std::optional<std::string> missing_directory(const std::string& path) {
  if (path == ":memory:" || path.starts_with("file:")) return std::nullopt;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return std::nullopt;
  std::error_code error;
  if (std::filesystem::is_directory(parent, error)) return std::nullopt;
  return parent.string();
}

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path,
                                                 const SqliteOptions& options) {
  const std::string context = fmt::format("opening SQLite database '{}'", path);
  return guarded(context, [&]() -> Result<std::unique_ptr<Store>> {
    if (path.empty()) return store_error(context, "no path given");
    if (auto directory = missing_directory(path)) {
      return store_error(context, fmt::format("directory '{}' does not exist", *directory));
    }
    auto connection = Connection::open(path);
    if (!connection) return store_error(context, connection.error());

    const auto busy_ms = options.busy_timeout.count();
    sqlite3_busy_timeout((*connection)->handle(),
                         static_cast<int>(std::clamp<int64_t>(busy_ms, 0, 3'600'000)));
    // WAL: readers do not block the writer nor it them. synchronous=NORMAL: in WAL mode
    // a commit survives a process crash; only a power loss may undo the newest commits.
    for (const char* pragma :
         {"PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON"}) {
      auto set = (*connection)->exec(pragma);
      if (!set) return store_error(context, set.error());
    }

    auto store = std::make_unique<SqliteStore>(std::move(*connection));
    auto migrated = store->migrate();
    if (!migrated) return store_error(context, migrated.error());
    return std::unique_ptr<Store>(std::move(store));
  });
}

}  // namespace glidepath::store
