// Every Store operation, written once over SQL for both backends (sqlite/, postgres/).
// Internal to the store module. SqlStore<Backend> holds the logic of each operation: its
// checks (common.h), its SQL, the order of its statements, its transaction, the building
// of records from rows and the wording of every error. A backend supplies only what
// differs between the databases:
//
//   struct Backend {
//     using Statement = ...;    // one statement; see SqlStatement below
//     using Transaction = ...;  // store::Transaction<its connection> (store/transaction.h)
//     static constexpr Dialect kDialect;  // the few pieces of SQL that differ
//
//     Statement prepare(std::string_view sql);  // `?` placeholders; errors show on step/run
//     core::Result<Transaction> begin();
//     // Runs `operation` (one attempt of a public call, under the store's mutex), and may
//     // run it again: PostgreSQL reconnects first and retries what certainly rolled back.
//     template <typename Operation>
//     std::invoke_result_t<Operation&> run(std::string_view context, Operation& operation);
//     // After `statement` failed: whether a constraint of that kind refused it.
//     bool violated(const Statement& statement, Violation violation) const;
//     // Inside a write's transaction: tells listeners that "<kind> <id>" changed when the
//     // transaction commits (PostgreSQL's NOTIFY; nothing on SQLite).
//     core::Result<void> announce(std::string_view kind, std::string_view id);
//     core::Result<void> exec_script(std::string_view sql);  // statements without values
//     core::Result<void> lock_schema();  // inside a migration's transaction, before reading
//   };
//
// The SQL is the subset both databases accept: ON CONFLICT upserts, RETURNING, CASE,
// LIMIT ?; values only ever travel as parameters.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "deploy/deployment_json.h"
#include "store/common.h"
#include "store/metric_window_rows.h"
#include "store/migrations.h"
#include "store/store.h"

namespace glidepath::store::detail {

// The SQL that differs between the backends.
struct Dialect {
  // Follows a text column in ORDER BY so that it sorts by bytes: SQLite's default collation
  // does; PostgreSQL's follows the database's locale unless told COLLATE "C".
  std::string_view byte_order;
  // Follows a SELECT whose rows the transaction goes on to update: PostgreSQL's FOR UPDATE.
  // SQLite needs none: BEGIN IMMEDIATE has taken the write lock.
  std::string_view lock_rows;
  // Metric windows per INSERT. With 1 a failure names its window; more saves round trips.
  std::size_t metric_windows_per_insert;
};

// The constraint violations the operations tell apart.
enum class Violation { unique, foreign_key };

// One use of a statement: values bound in placeholder order (bind returns the statement,
// so binds chain), then step() through its rows, reading the current row's columns, or
// run() it to the end. changes() counts the rows a finished INSERT, UPDATE or DELETE
// changed.
template <typename S>
concept SqlStatement = requires(S statement, const S& row, int column) {
  { statement.bind(int64_t{0}) } -> std::same_as<S&>;
  { statement.bind(std::string_view()) } -> std::same_as<S&>;
  { statement.bind(std::nullopt) } -> std::same_as<S&>;
  { statement.step() } -> std::same_as<core::Result<bool>>;
  { statement.run() } -> std::same_as<core::Result<void>>;
  { row.changes() } -> std::same_as<int64_t>;
  { row.is_null(column) } -> std::same_as<bool>;
  { row.int64(column) } -> std::same_as<int64_t>;
  { row.text(column) } -> std::same_as<std::string>;
  { row.optional_int64(column) } -> std::same_as<std::optional<int64_t>>;
  { row.optional_text(column) } -> std::same_as<std::optional<std::string>>;
};

// The row a statement has stepped to, for the readers of common.h.
template <SqlStatement Statement>
class StatementRow final : public Row {
 public:
  explicit StatementRow(const Statement& statement) : statement_(statement) {}
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

// The Store interface over a Backend, with every operation. Interface is Store or a
// backend's extension of it (PostgresStore), whose extra calls the backend's subclass adds.
template <typename Backend, typename Interface = Store>
requires SqlStatement<typename Backend::Statement>
class SqlStore : public Interface {
 protected:
  using ApiKeyRecord = access::ApiKeyRecord;
  using UsageBucket = access::UsageBucket;
  using ServiceState = deploy::ServiceState;
  using MetricWindow = metrics::MetricWindow;
  using Statement = typename Backend::Statement;
  using Transaction = typename Backend::Transaction;
  static constexpr const Dialect& kDialect = Backend::kDialect;

 public:
  explicit SqlStore(Backend backend) : backend_(std::move(backend)) {}

  core::Result<int> schema_version() override {
    constexpr std::string_view context = "reading the schema version";
    return exclusive(context, [&]() -> core::Result<int> {
      auto version = current_schema_version();
      if (!version) return store_error(context, version.error());
      return *version;
    });
  }

  // --- Services ---

  core::Result<std::optional<ServiceState>> get_service(std::string_view name) override {
    const std::string context = fmt::format("reading service {}", name);
    return exclusive(context, [&] {
      auto query =
          prepare(fmt::format("SELECT {} FROM service_state WHERE name = ?", kServiceColumns));
      query.bind(name);
      return read_one<ServiceState>(query, context, read_service);
    });
  }

  core::Result<std::vector<ServiceState>> list_services() override {
    constexpr std::string_view context = "listing services";
    return exclusive(context, [&] {
      auto query = prepare(fmt::format("SELECT {} FROM service_state ORDER BY name{}",
                                       kServiceColumns, kDialect.byte_order));
      return read_all<ServiceState>(query, context, read_service);
    });
  }

  core::Result<void> upsert_service(const ServiceState& state) override {
    const std::string context = fmt::format("saving service {}", state.name);
    return write(context, [&](Transaction&) -> core::Result<void> {
      auto written = write_service(state);
      if (!written) return store_error(context, written.error());
      return {};
    });
  }

  // --- Deployments ---

  core::Result<StoredDeployment> create_deployment(const deploy::Deployment& deployment) override {
    const std::string context = fmt::format("creating deployment {}", deployment.id);
    return guarded(context, [&]() -> core::Result<StoredDeployment> {
      auto checked = check_new_deployment(context, deployment);
      if (!checked) return core::Failure{checked.error()};
      const std::string body = deploy::to_json_text(deployment);
      return write(context, [&](Transaction& transaction) -> core::Result<StoredDeployment> {
        auto insert = prepare(
            "INSERT INTO deployments (state, active, started_at_us, updated_at_us, body, id, "
            "service, revision) VALUES (?, ?, ?, ?, ?, ?, ?, 1)");
        bind_deployment(insert, deployment, body);
        auto inserted = write_deployment(insert, transaction, deployment, context);
        if (!inserted) return core::Failure{inserted.error()};
        auto appended = append_events(deployment.spec.service, deployment.id, deployment.events);
        if (!appended) return store_error(context, appended.error());
        auto announced = backend_.announce("deployment", deployment.id);
        if (!announced) return store_error(context, announced.error());
        return StoredDeployment{deployment, 1};
      });
    });
  }

  using Store::save_deployment;
  core::Result<int64_t> save_deployment(const deploy::Deployment& deployment,
                                        int64_t expected_revision,
                                        std::span<const deploy::DeploymentEvent> new_events,
                                        const ServiceState* service_update) override {
    const std::string context = fmt::format("saving deployment {}", deployment.id);
    return guarded(context, [&]() -> core::Result<int64_t> {
      const std::string body = deploy::to_json_text(deployment);
      return write(context, [&](Transaction& transaction) -> core::Result<int64_t> {
        // The service is part of the WHERE clause: a deployment never moves to another.
        // At READ COMMITTED (PostgreSQL) a concurrent save of the same row makes this one
        // wait, then re-check the revision, so exactly one of two racing saves matches.
        auto update = prepare(
            "UPDATE deployments SET state = ?, active = ?, started_at_us = ?, updated_at_us = ?, "
            "body = ?, revision = revision + 1 WHERE id = ? AND service = ? AND revision = ?");
        bind_deployment(update, deployment, body);
        update.bind(expected_revision);
        auto updated = write_deployment(update, transaction, deployment, context);
        if (!updated) return core::Failure{updated.error()};
        if (update.changes() == 0) {
          return explain_save_refusal(deployment, expected_revision, context);
        }
        auto appended = append_events(deployment.spec.service, deployment.id, new_events);
        if (!appended) return store_error(context, appended.error());
        if (service_update != nullptr) {
          auto written = write_service(*service_update);
          if (!written) {
            return store_error(fmt::format("{} with service {}", context, service_update->name),
                               written.error());
          }
        }
        auto announced = backend_.announce("deployment", deployment.id);
        if (!announced) return store_error(context, announced.error());
        return expected_revision + 1;
      });
    });
  }

  core::Result<std::optional<StoredDeployment>> get_deployment(std::string_view id) override {
    const std::string context = fmt::format("reading deployment {}", id);
    return exclusive(context, [&] {
      auto query =
          prepare(fmt::format("SELECT {} FROM deployments WHERE id = ?", kDeploymentColumns));
      query.bind(id);
      return read_one<StoredDeployment>(query, context, read_deployment);
    });
  }

  core::Result<std::vector<StoredDeployment>> list_deployments(
      const DeploymentFilter& filter) override {
    constexpr std::string_view context = "listing deployments";
    return exclusive(context, [&] {
      std::string sql = fmt::format("SELECT {} FROM deployments WHERE 1 = 1", kDeploymentColumns);
      if (filter.service) sql += " AND service = ?";
      if (filter.active_only) sql += " AND active = 1";
      sql += fmt::format(" ORDER BY started_at_us DESC, id{} DESC", kDialect.byte_order);
      if (filter.limit > 0) sql += " LIMIT ?";
      auto query = prepare(sql);
      if (filter.service) query.bind(*filter.service);
      if (filter.limit > 0) query.bind(clamp_to_int64(filter.limit));
      return read_all<StoredDeployment>(query, context, read_deployment);
    });
  }

  core::Result<std::vector<StoredDeployment>> active_deployments() override {
    constexpr std::string_view context = "listing active deployments";
    return exclusive(context, [&] {
      auto query = prepare(
          fmt::format("SELECT {} FROM deployments WHERE active = 1 ORDER BY started_at_us, id{}",
                      kDeploymentColumns, kDialect.byte_order));
      return read_all<StoredDeployment>(query, context, read_deployment);
    });
  }

  // --- Event log ---

  core::Result<int64_t> append_event(std::string_view service, std::string_view deployment_id,
                                     const deploy::DeploymentEvent& event) override {
    const std::string context = fmt::format("appending an event of service {}", service);
    return guarded(context, [&]() -> core::Result<int64_t> {
      auto checked = check_event_service(context, service);
      if (!checked) return core::Failure{checked.error()};
      return write(context, [&](Transaction&) -> core::Result<int64_t> {
        if (!deployment_id.empty()) {
          auto query = prepare("SELECT 1 FROM deployments WHERE id = ?");
          query.bind(deployment_id);
          auto row = query.step();
          if (!row) return store_error(context, row.error());
          if (!*row) return deployment_not_found(deployment_id);
        }
        auto appended = append_events(service, deployment_id, std::span(&event, 1));
        if (!appended) return store_error(context, appended.error());
        auto announced = backend_.announce("event", std::to_string(*appended));
        if (!announced) return store_error(context, announced.error());
        return *appended;
      });
    });
  }

  core::Result<std::vector<EventRecord>> events_after(int64_t after_id,
                                                      std::size_t limit) override {
    constexpr std::string_view context = "reading the event log";
    return exclusive(context, [&] {
      auto query = prepare(
          fmt::format("SELECT {} FROM event_log WHERE id > ? ORDER BY id LIMIT ?", kEventColumns));
      query.bind(after_id).bind(clamp_to_int64(limit));
      return read_all<EventRecord>(query, context, read_event);
    });
  }

  core::Result<int64_t> last_event_id() override {
    constexpr std::string_view context = "reading the event log";
    return exclusive(context, [&]() -> core::Result<int64_t> {
      auto query = prepare("SELECT value FROM counters WHERE name = 'event_log'");
      auto row = query.step();
      if (!row) return store_error(context, row.error());
      if (!*row) return store_error(context, kEventCounterMissing);
      return query.int64(0);
    });
  }

  // --- API keys ---

  core::Result<void> create_api_key(const ApiKeyRecord& key) override {
    const std::string context = fmt::format("creating API key {}", key.id);
    return guarded(context, [&]() -> core::Result<void> {
      auto values = api_key_values(context, key);
      if (!values) return core::Failure{values.error()};
      return write(context, [&](Transaction&) -> core::Result<void> {
        auto insert = prepare(fmt::format(
            "INSERT INTO api_keys ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", kApiKeyColumns));
        insert.bind(key.id)
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
        auto inserted = insert.run();
        if (!inserted) {
          if (backend_.violated(insert, Violation::unique)) return api_key_exists(key.id);
          return store_error(context, inserted.error());
        }
        auto announced = backend_.announce("api_key", key.id);
        if (!announced) return store_error(context, announced.error());
        return {};
      });
    });
  }

  core::Result<std::vector<ApiKeyRecord>> list_api_keys() override {
    constexpr std::string_view context = "listing API keys";
    return exclusive(context, [&] {
      auto query = prepare(fmt::format("SELECT {} FROM api_keys ORDER BY created_at_us, id{}",
                                       kApiKeyColumns, kDialect.byte_order));
      return read_all<ApiKeyRecord>(query, context, read_api_key);
    });
  }

  core::Result<std::optional<ApiKeyRecord>> get_api_key(std::string_view id) override {
    const std::string context = fmt::format("reading API key {}", id);
    return exclusive(context, [&] { return find_api_key("id", id, context, false); });
  }

  core::Result<std::optional<ApiKeyRecord>> find_api_key_by_hash(
      std::string_view key_hash) override {
    constexpr std::string_view context = "finding an API key by hash";
    return exclusive(context, [&] { return find_api_key("key_hash", key_hash, context, false); });
  }

  core::Result<ApiKeyRecord> revoke_api_key(std::string_view id, core::TimePoint at) override {
    const std::string context = fmt::format("revoking API key {}", id);
    return write(context, [&](Transaction&) -> core::Result<ApiKeyRecord> {
      // Read for update: of two racing revocations, the second reads the first's
      // revoked_at and is refused.
      auto found = find_api_key("id", id, context, true);
      if (!found) return core::Failure{found.error()};
      auto key = key_to_revoke(id, std::move(*found));
      if (!key) return core::Failure{key.error()};
      auto update = prepare("UPDATE api_keys SET revoked_at_us = ? WHERE id = ?");
      update.bind(micros(at)).bind(id);
      auto updated = update.run();
      if (!updated) return store_error(context, updated.error());
      auto announced = backend_.announce("api_key", id);
      if (!announced) return store_error(context, announced.error());
      key->revoked_at = at;
      return key;
    });
  }

  // --- Usage ---

  core::Result<void> add_usage(std::span<const UsageBucket> buckets) override {
    constexpr std::string_view context = "recording usage";
    return guarded(context, [&]() -> core::Result<void> {
      auto checked = check_usage_buckets(context, buckets);
      if (!checked) return core::Failure{checked.error()};
      // CASE rather than MIN/MAX of two values: those are LEAST/GREATEST in PostgreSQL.
      const std::string sql = fmt::format(
          "INSERT INTO usage_buckets ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
          "ON CONFLICT (consumer, service, operation, version, status_class, minute_start) "
          "DO UPDATE SET requests = usage_buckets.requests + excluded.requests, "
          "first_seen_us = CASE WHEN excluded.first_seen_us < usage_buckets.first_seen_us "
          "THEN excluded.first_seen_us ELSE usage_buckets.first_seen_us END, "
          "last_seen_us = CASE WHEN excluded.last_seen_us > usage_buckets.last_seen_us "
          "THEN excluded.last_seen_us ELSE usage_buckets.last_seen_us END",
          kUsageColumns);
      // Two batches that touch the same buckets in different orders may deadlock on
      // PostgreSQL; the server then aborts one (40P01) and the backend runs it again.
      return write(context, [&](Transaction&) -> core::Result<void> {
        for (const UsageBucket& bucket : buckets) {
          auto upsert = prepare(sql);
          upsert.bind(bucket.consumer)
              .bind(bucket.service)
              .bind(bucket.operation)
              .bind(bucket.version)
              .bind(bucket.status_class)
              .bind(bucket.minute)
              .bind(static_cast<int64_t>(bucket.count))
              .bind(micros(bucket.first_seen))
              .bind(micros(bucket.last_seen));
          auto written = upsert.run();
          if (!written) return store_error(context, written.error());
        }
        return {};
      });
    });
  }

  core::Result<std::vector<UsageBucket>> query_usage(const UsageFilter& filter) override {
    constexpr std::string_view context = "reading usage";
    return exclusive(context, [&] {
      std::string sql =
          fmt::format("SELECT {} FROM usage_buckets WHERE minute_start >= ?", kUsageColumns);
      if (filter.consumer) sql += " AND consumer = ?";
      if (filter.service) sql += " AND service = ?";
      sql += fmt::format(
          " ORDER BY minute_start, consumer{0}, service{0}, operation{0}, version{0}, "
          "status_class{0}",
          kDialect.byte_order);
      auto query = prepare(sql);
      query.bind(filter.since_minute);
      if (filter.consumer) query.bind(*filter.consumer);
      if (filter.service) query.bind(*filter.service);
      return read_all<UsageBucket>(query, context, read_usage);
    });
  }

  // --- Quota counters ---

  core::Result<uint64_t> add_quota_usage(std::string_view key_id, int64_t period_start,
                                         uint64_t n) override {
    const std::string context = fmt::format("counting quota usage of API key {}", key_id);
    return guarded(context, [&]() -> core::Result<uint64_t> {
      auto checked = check_quota_increment(context, n);
      if (!checked) return core::Failure{checked.error()};
      return write(context, [&](Transaction&) -> core::Result<uint64_t> {
        auto upsert = prepare(
            "INSERT INTO quota_usage (key_id, period_start, used) VALUES (?, ?, ?) "
            "ON CONFLICT (key_id, period_start) DO UPDATE SET "
            "used = quota_usage.used + excluded.used RETURNING used");
        upsert.bind(key_id).bind(period_start).bind(static_cast<int64_t>(n));
        auto row = upsert.step();
        if (!row) {
          if (backend_.violated(upsert, Violation::foreign_key)) return api_key_not_found(key_id);
          return store_error(context, row.error());
        }
        if (!*row) return store_error(context, "the counter was not returned");
        const int64_t total = upsert.int64(0);
        auto finished = upsert.run();
        if (!finished) return store_error(context, finished.error());
        return static_cast<uint64_t>(total);
      });
    });
  }

  core::Result<uint64_t> get_quota_usage(std::string_view key_id, int64_t period_start) override {
    const std::string context = fmt::format("reading quota usage of API key {}", key_id);
    return exclusive(context, [&]() -> core::Result<uint64_t> {
      auto query = prepare("SELECT used FROM quota_usage WHERE key_id = ? AND period_start = ?");
      query.bind(key_id).bind(period_start);
      auto row = query.step();
      if (!row) return store_error(context, row.error());
      if (!*row) return uint64_t{0};
      return static_cast<uint64_t>(query.int64(0));
    });
  }

  // --- Metric windows ---
  // Never announced: every gateway writes them every second, and what listens for changes
  // (weights, config) has no use for them.

  core::Result<void> put_metric_windows(std::span<const MetricWindow> windows) override {
    constexpr std::string_view context = "writing metric windows";
    return guarded(context, [&]() -> core::Result<void> {
      auto rows = metric_window_rows(windows);
      if (!rows) return store_error(context, rows.error());
      if (rows->empty()) return {};
      // The rows are sorted by key, so concurrent batches lock in one order, and unique, as
      // one INSERT of several needs.
      const std::span<const MetricWindowRow> all(*rows);
      constexpr std::size_t per_insert = kDialect.metric_windows_per_insert;
      return write(context, [&](Transaction&) -> core::Result<void> {
        std::string sql;
        std::size_t sql_rows = 0;
        for (std::size_t first = 0; first < all.size(); first += per_insert) {
          const auto some = all.subspan(first, std::min(per_insert, all.size() - first));
          if (some.size() != sql_rows) {
            sql = metric_windows_upsert_sql(some.size());
            sql_rows = some.size();
          }
          auto upsert = prepare(sql);
          for (const MetricWindowRow& row : some) {
            upsert.bind(row.service).bind(row.version).bind(row.epoch_second).bind(row.gateway);
            for (int64_t number : row.numbers)
              upsert.bind(number);
            upsert.bind(row.latency_buckets);
          }
          auto written = upsert.run();
          if (!written && per_insert == 1) {
            const MetricWindowRow& row = some.front();
            return store_error(fmt::format("{} ({}/{}, second {}, gateway {})", context,
                                           row.service, row.version, row.epoch_second, row.gateway),
                               written.error());
          }
          if (!written) return store_error(context, written.error());
        }
        return {};
      });
    });
  }

  core::Result<std::vector<MetricWindow>> metric_windows(int64_t from_second,
                                                         int64_t to_second) override {
    const std::string context =
        fmt::format("reading metric windows of seconds [{}, {})", from_second, to_second);
    return guarded(context, [&]() -> core::Result<std::vector<MetricWindow>> {
      if (from_second >= to_second) return std::vector<MetricWindow>();
      return exclusive(context, [&] {
        // The range on epoch_second, the primary key's first column, is an index range scan
        // that also yields the order (sqlite_store_test and postgres_store_test check the
        // plans).
        auto query = prepare(fmt::format(
            "SELECT {0} FROM metric_windows WHERE epoch_second >= ? AND epoch_second < ? "
            "ORDER BY epoch_second, service{1}, version{1}, gateway{1}",
            kMetricWindowColumns, kDialect.byte_order));
        query.bind(from_second).bind(to_second);
        // read_metric_window's errors name the row but not the call: add the context.
        const auto read = [&](const Row& row) -> core::Result<MetricWindow> {
          auto window = read_metric_window(row);
          if (!window) return store_error(context, window.error());
          return window;
        };
        return read_all<MetricWindow>(query, context, read);
      });
    });
  }

  core::Result<uint64_t> prune_metric_windows(int64_t before_second) override {
    const std::string context =
        fmt::format("pruning metric windows before second {}", before_second);
    return write(context, [&](Transaction&) -> core::Result<uint64_t> {
      auto remove = prepare("DELETE FROM metric_windows WHERE epoch_second < ?");
      remove.bind(before_second);
      auto removed = remove.run();
      if (!removed) return store_error(context, removed.error());
      return static_cast<uint64_t>(remove.changes());
    });
  }

  // Runs at open, before the store is shared: applies each migration the database lacks,
  // each in its own transaction, re-reading the version inside it (another process may
  // have migrated meanwhile). Errors are unwrapped: the caller adds its context.
  core::Result<void> migrate() {
    return exclusive("migrating", [&]() -> core::Result<void> {
      for (const Migration& migration : migrations()) {
        auto transaction = backend_.begin();
        if (!transaction) return core::Failure{transaction.error()};
        auto locked = backend_.lock_schema();
        if (!locked) return core::Failure{locked.error()};
        auto created = backend_.exec_script(kSchemaMigrationsTableSql);
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
        auto ran = backend_.exec_script(migration.sql);
        if (!ran) return in_context(context, ran.error());
        auto record = prepare(
            "INSERT INTO schema_migrations (version, description, applied_at_us) "
            "VALUES (?, ?, ?)");
        // The one time the store reads a clock: when a migration ran is not decision input.
        record.bind(int64_t{migration.version})
            .bind(migration.description)
            .bind(micros(core::SystemClock().now()));
        auto recorded = record.run();
        if (!recorded) return in_context(context, recorded.error());
        auto committed = transaction->commit();
        if (!committed) return in_context(context, committed.error());
      }
      return {};
    });
  }

 protected:
  // Runs one public operation: nothing it throws escapes the Store, it holds the mutex
  // (the connection is used by one thread at a time), and the backend may run it again.
  template <typename Operation>
  auto exclusive(std::string_view context, Operation&& operation)
      -> std::invoke_result_t<Operation&> {
    return guarded(context, [&]() -> std::invoke_result_t<Operation&> {
      std::lock_guard lock(mutex_);
      return backend_.run(context, operation);
    });
  }

  Backend& backend() { return backend_; }

 private:
  // Runs body(transaction) between BEGIN and COMMIT, as one exclusive operation; body's
  // errors pass up as they are, and the transaction then rolls back. A transaction even
  // for one statement: a PostgreSQL connection lost before COMMIT then means "rolled back"
  // for certain, which is what makes retrying safe.
  template <typename Body>
  auto write(std::string_view context, Body&& body) -> std::invoke_result_t<Body&, Transaction&> {
    using Outcome = std::invoke_result_t<Body&, Transaction&>;
    return exclusive(context, [&]() -> Outcome {
      auto transaction = backend_.begin();
      if (!transaction) return store_error(context, transaction.error());
      Outcome outcome = body(*transaction);
      if (!outcome) return outcome;
      auto committed = transaction->commit();
      if (!committed) return store_error(context, committed.error());
      return outcome;
    });
  }

  Statement prepare(std::string_view sql) { return backend_.prepare(sql); }

  // The first row of `query` as a record (std::nullopt when there is none), made by `read`,
  // a reader of common.h, whose errors pass up as they are.
  template <typename Record, typename Read>
  static core::Result<std::optional<Record>> read_one(Statement& query, std::string_view context,
                                                      Read&& read) {
    auto row = query.step();
    if (!row) return store_error(context, row.error());
    if (!*row) return std::optional<Record>();
    core::Result<Record> record = read(StatementRow<Statement>(query));
    if (!record) return core::Failure{record.error()};
    return std::optional<Record>(std::move(*record));
  }

  // Every row of `query` as a record, as read_one makes them.
  template <typename Record, typename Read>
  static core::Result<std::vector<Record>> read_all(Statement& query, std::string_view context,
                                                    Read&& read) {
    std::vector<Record> records;
    while (true) {
      auto row = query.step();
      if (!row) return store_error(context, row.error());
      if (!*row) return records;
      core::Result<Record> record = read(StatementRow<Statement>(query));
      if (!record) return core::Failure{record.error()};
      records.push_back(std::move(*record));
    }
  }

  core::Result<int> current_schema_version() {
    auto query = prepare("SELECT MAX(version) FROM schema_migrations");
    auto row = query.step();
    if (!row) return core::Failure{row.error()};
    if (!*row || query.is_null(0)) return 0;
    return static_cast<int>(query.int64(0));
  }

  // Inside the caller's transaction. Unwrapped: the caller adds its context.
  core::Result<void> write_service(const ServiceState& state) {
    auto values = service_values(state);
    if (!values) return core::Failure{values.error()};
    auto upsert = prepare(fmt::format(
        "INSERT INTO service_state ({}) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
        "live_version = excluded.live_version, versions_json = excluded.versions_json, "
        "traffic_json = excluded.traffic_json, updated_at_us = excluded.updated_at_us",
        kServiceColumns));
    upsert.bind(state.name)
        .bind(state.live_version)
        .bind(values->versions_json)
        .bind(values->traffic_json)
        .bind(micros(state.updated_at));
    auto upserted = upsert.run();
    if (!upserted) return upserted;
    return backend_.announce("service", state.name);
  }

  // Inside the caller's transaction. Draws ids from the event_log counter (migrations.cpp
  // says why): the counter row stays locked until commit, so a concurrent writer waits and
  // then draws the ids after these. Returns the last id, or the current counter when
  // there are no events. Unwrapped: the caller adds its context.
  core::Result<int64_t> append_events(std::string_view service, std::string_view deployment_id,
                                      std::span<const deploy::DeploymentEvent> events) {
    auto counter =
        prepare("UPDATE counters SET value = value + ? WHERE name = 'event_log' RETURNING value");
    counter.bind(static_cast<int64_t>(events.size()));
    auto row = counter.step();
    if (!row) return core::Failure{row.error()};
    if (!*row) return core::fail(std::string(kEventCounterMissing));
    const int64_t last_id = counter.int64(0);
    auto finished = counter.run();
    if (!finished) return core::Failure{finished.error()};

    int64_t id = last_id - static_cast<int64_t>(events.size());
    const std::string sql =
        fmt::format("INSERT INTO event_log ({}) VALUES (?, ?, ?, ?, ?, ?)", kEventColumns);
    for (const deploy::DeploymentEvent& event : events) {
      auto insert = prepare(sql);
      insert.bind(++id).bind(service);
      if (deployment_id.empty()) {
        insert.bind(std::nullopt);
      } else {
        insert.bind(deployment_id);
      }
      insert.bind(micros(event.time)).bind(event.type).bind(event.message);
      auto inserted = insert.run();
      if (!inserted) return core::Failure{inserted.error()};
    }
    return last_id;
  }

  // Binds what the INSERT and the UPDATE of a deployment both write, in this order:
  // state, active, started_at_us, updated_at_us, body, then the id and service.
  static void bind_deployment(Statement& statement, const deploy::Deployment& deployment,
                              const std::string& body) {
    statement.bind(deploy::to_string(deployment.state))
        .bind(int64_t{deploy::is_active(deployment.state) ? 1 : 0})
        .bind(micros(deployment.started_at))
        .bind(micros(deployment.updated_at))
        .bind(body)
        .bind(deployment.id)
        .bind(deployment.spec.service);
  }

  // Runs the INSERT or UPDATE of `deployment`. A unique index can refuse it: the
  // one-active-per-service index (a new deployment, or a finished one made active again,
  // while another runs) or, on create, the primary key. The failed statement aborted the
  // transaction (on PostgreSQL), so the explaining read runs after it, and sees the winner,
  // which committed before the index refused this.
  core::Result<void> write_deployment(Statement& statement, Transaction& transaction,
                                      const deploy::Deployment& deployment,
                                      std::string_view context) {
    auto written = statement.run();
    if (written) return {};
    if (!backend_.violated(statement, Violation::unique)) {
      return store_error(context, written.error());
    }
    transaction.rollback();
    return explain_active_conflict(deployment, context);
  }

  // After a unique index refused a write of `deployment` (and the transaction was rolled
  // back): reads the service's active deployment, which active_conflict names (or else
  // reports a duplicate id).
  core::Failure explain_active_conflict(const deploy::Deployment& deployment,
                                        std::string_view context) {
    auto query = prepare("SELECT id, state FROM deployments WHERE service = ? AND active = 1");
    query.bind(deployment.spec.service);
    auto row = query.step();
    if (!row) return store_error(context, row.error());
    std::optional<ActiveDeployment> active;
    if (*row) active = ActiveDeployment{query.text(0), query.text(1)};
    return active_conflict(deployment, active);
  }

  // After an UPDATE guarded by id, service and revision changed nothing: reads what is
  // stored under the id, from which save_refusal says which failed.
  core::Failure explain_save_refusal(const deploy::Deployment& deployment,
                                     int64_t expected_revision, std::string_view context) {
    auto query = prepare("SELECT service, revision FROM deployments WHERE id = ?");
    query.bind(deployment.id);
    auto row = query.step();
    if (!row) return store_error(context, row.error());
    std::optional<StoredRevision> stored;
    if (*row) stored = StoredRevision{query.text(0), query.int64(1)};
    return save_refusal(deployment, expected_revision, stored, context);
  }

  // `column` is one of two fixed names, never a caller's value.
  core::Result<std::optional<ApiKeyRecord>> find_api_key(std::string_view column,
                                                         std::string_view value,
                                                         std::string_view context,
                                                         bool for_update) {
    auto query = prepare(fmt::format("SELECT {} FROM api_keys WHERE {} = ?{}", kApiKeyColumns,
                                     column, for_update ? kDialect.lock_rows : ""));
    query.bind(value);
    return read_one<ApiKeyRecord>(query, context, read_api_key);
  }

  std::mutex mutex_;  // held for each whole call: the connection is used by one thread
  Backend backend_;
};

}  // namespace glidepath::store::detail
