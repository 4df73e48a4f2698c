// The Store contract on SQLite (a real file per test), and what only SQLite has: its
// settings, how it treats damaged or foreign files, and transactions checked by making a
// statement fail halfway with a trigger.
#include "store/sqlite/sqlite_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <string>
#include <vector>

#include "store/migrations.h"
#include "store_contract.h"

namespace glidepath::store::testing {

using access::UsageBucket;
using deploy::ServiceState;
using metrics::MetricWindow;
namespace {

using ::testing::HasSubstr;

StoreBackend sqlite_file_backend() {
  return StoreBackend{"SqliteFile",
                      [](const std::filesystem::path& scratch_dir) -> core::Result<StoreFactory> {
                        const std::string path = (scratch_dir / "glidepath.db").string();
                        return StoreFactory([path] { return open_sqlite_store(path); });
                      }};
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest, ::testing::Values(sqlite_file_backend()),
                         backend_name);

// Direct access to the file, to look at and damage what the store wrote.
class RawDatabase {
 public:
  explicit RawDatabase(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db_);
    }
  }
  RawDatabase(const RawDatabase&) = delete;
  RawDatabase& operator=(const RawDatabase&) = delete;
  ~RawDatabase() { sqlite3_close(db_); }

  void exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << (error != nullptr ? error : "?");
    }
    sqlite3_free(error);
  }

  // The first (or the `index`th) column of each row, as text.
  std::vector<std::string> column(const std::string& sql, int index = 0) {
    std::vector<std::string> values;
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return values;
    }
    while (sqlite3_step(statement) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(statement, index);
      values.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "NULL");
    }
    sqlite3_finalize(statement);
    return values;
  }

 private:
  sqlite3* db_ = nullptr;
};

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> open() {
    auto opened = open_sqlite_store(path_);
    if (!opened.ok()) {
      ADD_FAILURE() << opened.error().message;
      return nullptr;
    }
    return std::move(*opened);
  }

  ScratchDirectory scratch_;
  std::string path_ = (scratch_.path() / "glidepath.db").string();
};

TEST_F(SqliteStoreTest, UsesWalModeAndRecordsAppliedMigrations) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  RawDatabase raw(path_);
  EXPECT_THAT(raw.column("PRAGMA journal_mode"), ::testing::ElementsAre("wal"));
  std::vector<std::string> versions;
  for (const Migration& migration : migrations())
    versions.push_back(std::to_string(migration.version));
  EXPECT_EQ(raw.column("SELECT version FROM schema_migrations ORDER BY version"), versions);

  store.reset();
  store = open();  // applies nothing twice
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(raw.column("SELECT version FROM schema_migrations ORDER BY version"), versions);
}

TEST_F(SqliteStoreTest, InMemoryDatabaseWorks) {
  auto opened = open_sqlite_store(":memory:");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  Store& store = **opened;
  auto schema = store.schema_version();
  ASSERT_TRUE(schema.ok());
  EXPECT_EQ(*schema, latest_schema_version());
  ASSERT_TRUE(store.create_deployment(make_deployment("dep_1", "orders", at(0))).ok());
  auto read = store.get_deployment("dep_1");
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->has_value());
}

TEST_F(SqliteStoreTest, MissingDirectoryIsAClearError) {
  const std::string path = (scratch_.path() / "no" / "such" / "dir" / "glidepath.db").string();
  auto opened = open_sqlite_store(path);
  ASSERT_FALSE(opened.ok());
  EXPECT_THAT(opened.error().message, HasSubstr(path));
  EXPECT_THAT(opened.error().message, HasSubstr("does not exist"));
  EXPECT_FALSE(std::filesystem::exists(scratch_.path() / "no"));
}

TEST_F(SqliteStoreTest, EmptyPathIsAnError) {
  auto opened = open_sqlite_store("");
  ASSERT_FALSE(opened.ok());
  EXPECT_THAT(opened.error().message, HasSubstr("no path"));
}

TEST_F(SqliteStoreTest, FileThatIsNotADatabaseIsAnError) {
  std::ofstream(path_) << "this is a config file, not a database\n" << std::string(4096, 'x');
  auto opened = open_sqlite_store(path_);
  ASSERT_FALSE(opened.ok());
  EXPECT_THAT(opened.error().message, HasSubstr(path_));
  EXPECT_THAT(opened.error().message, HasSubstr("not a database"));
}

TEST_F(SqliteStoreTest, DatabaseFromANewerBuildIsRefused) {
  ASSERT_NE(open(), nullptr);
  RawDatabase(path_).exec(
      "INSERT INTO schema_migrations (version, description, applied_at_us) "
      "VALUES (999, 'from the future', 0)");
  auto opened = open_sqlite_store(path_);
  ASSERT_FALSE(opened.ok());
  EXPECT_THAT(opened.error().message, HasSubstr("schema version 999"));
  EXPECT_THAT(opened.error().message, HasSubstr("newer"));
}

TEST_F(SqliteStoreTest, CorruptedDeploymentJsonIsAnErrorValue) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->create_deployment(make_deployment("dep_bad", "orders", at(0))).ok());
  ASSERT_TRUE(store->create_deployment(make_deployment("dep_odd", "billing", at(1))).ok());
  RawDatabase raw(path_);
  raw.exec(
      "UPDATE deployments SET body = '{\"id\": \"dep_bad\", \"state\": ' WHERE id = 'dep_bad'");
  raw.exec("UPDATE deployments SET body = '[1, 2, 3]' WHERE id = 'dep_odd'");

  for (const char* id : {"dep_bad", "dep_odd"}) {
    auto read = store->get_deployment(id);
    ASSERT_FALSE(read.ok()) << id;
    EXPECT_THAT(read.error().message, HasSubstr(id));
    EXPECT_THAT(read.error().message, HasSubstr("unreadable"));
  }
  auto listed = store->list_deployments({});
  ASSERT_FALSE(listed.ok());
  EXPECT_THAT(listed.error().message, HasSubstr("unreadable"));
  EXPECT_FALSE(store->active_deployments().ok());
}

TEST_F(SqliteStoreTest, DeploymentJsonNamingAnotherIdIsAnError) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->create_deployment(make_deployment("dep_a", "orders", at(0))).ok());
  ASSERT_TRUE(store->create_deployment(make_deployment("dep_b", "billing", at(0))).ok());
  RawDatabase(path_).exec(
      "UPDATE deployments SET body = (SELECT body FROM deployments WHERE id = 'dep_b') "
      "WHERE id = 'dep_a'");
  auto read = store->get_deployment("dep_a");
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.error().message, HasSubstr("another id"));
}

TEST_F(SqliteStoreTest, CorruptedRecordJsonIsAnErrorValue) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->upsert_service(ServiceState{"orders", "v1", {}, std::nullopt, at(0)}).ok());
  ASSERT_TRUE(store->upsert_service(ServiceState{"billing", "v1", {}, std::nullopt, at(0)}).ok());
  ASSERT_TRUE(store->create_api_key(make_api_key("key_a", "alice", 1, at(0))).ok());
  RawDatabase raw(path_);
  raw.exec("UPDATE service_state SET versions_json = '{oops' WHERE name = 'orders'");
  raw.exec("UPDATE service_state SET traffic_json = '{\"v1\": 150}' WHERE name = 'billing'");
  raw.exec("UPDATE api_keys SET metadata_json = '{\"team\": 7}'");

  auto orders = store->get_service("orders");
  ASSERT_FALSE(orders.ok());
  EXPECT_THAT(orders.error().message, HasSubstr("service orders"));
  auto billing = store->get_service("billing");
  ASSERT_FALSE(billing.ok());
  EXPECT_THAT(billing.error().message, HasSubstr("traffic split"));
  EXPECT_FALSE(store->list_services().ok());
  auto key = store->get_api_key("key_a");
  ASSERT_FALSE(key.ok());
  EXPECT_THAT(key.error().message, HasSubstr("API key key_a"));
  EXPECT_FALSE(store->list_api_keys().ok());
}

// A trigger makes the event insert fail after the deployment row was updated: the
// deployment must be left exactly as it was.
TEST_F(SqliteStoreTest, FailingEventInsertRollsBackTheDeploymentWrite) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto created = store->create_deployment(make_deployment("dep_1", "orders", at(0)));
  ASSERT_TRUE(created.ok());
  RawDatabase(path_).exec(
      "CREATE TRIGGER poison BEFORE INSERT ON event_log WHEN NEW.type = 'poison' "
      "BEGIN SELECT RAISE(ABORT, 'poisoned event'); END");

  deploy::Deployment changed = created->deployment;
  changed.state = deploy::DeploymentState::shifting;
  changed.canary_weight = 10;
  const std::vector<deploy::DeploymentEvent> events = {{at(1), "weight", "canary weight 10%"},
                                                       {at(1), "poison", "fails"}};
  const ServiceState service{"orders", "v2", {}, std::nullopt, at(1)};
  auto saved = store->save_deployment(changed, created->revision, events, &service);
  ASSERT_FALSE(saved.ok());
  EXPECT_THAT(saved.error().message, HasSubstr("poisoned event"));

  auto read = store->get_deployment("dep_1");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(**read, *created);
  auto log = store->events_after(0, 100);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->size(), 1u);  // the created event only
  auto service_read = store->get_service("orders");
  ASSERT_TRUE(service_read.ok());
  EXPECT_EQ(*service_read, std::nullopt);

  // The store is still usable, and the counter did not skip.
  changed.events.clear();
  auto retried = store->save_deployment(changed, created->revision, std::span(events.data(), 1));
  ASSERT_TRUE(retried.ok()) << retried.error().message;
  auto last = store->last_event_id();
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, 2);
}

TEST_F(SqliteStoreTest, FailingRowRollsBackTheWholeUsageBatch) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  RawDatabase(path_).exec(
      "CREATE TRIGGER poison BEFORE INSERT ON usage_buckets WHEN NEW.consumer = 'poison' "
      "BEGIN SELECT RAISE(ABORT, 'poisoned bucket'); END");
  const int64_t m0 = 1'767'225'600;
  ASSERT_TRUE(store
                  ->add_usage(std::vector<UsageBucket>{
                      make_bucket("alice", "orders", "GET /orders", "2xx", m0, 1, at(0), at(0))})
                  .ok());

  auto added = store->add_usage(std::vector<UsageBucket>{
      make_bucket("alice", "orders", "GET /orders", "2xx", m0, 5, at(1), at(1)),
      make_bucket("bob", "orders", "GET /orders", "2xx", m0, 5, at(1), at(1)),
      make_bucket("poison", "orders", "GET /orders", "2xx", m0, 5, at(1), at(1))});
  ASSERT_FALSE(added.ok());
  EXPECT_THAT(added.error().message, HasSubstr("poisoned bucket"));

  auto buckets = store->query_usage({});
  ASSERT_TRUE(buckets.ok());
  ASSERT_EQ(buckets->size(), 1u);
  EXPECT_EQ((*buckets)[0].count, 1u);
}

// --- Metric windows ---

TEST_F(SqliteStoreTest, FailingRowRollsBackTheWholeWindowBatch) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  RawDatabase(path_).exec(
      "CREATE TRIGGER poison BEFORE INSERT ON metric_windows WHEN NEW.gateway = 'poison' "
      "BEGIN SELECT RAISE(ABORT, 'poisoned window'); END");
  const int64_t second = 1'767'225'600;
  auto written = store->put_metric_windows(
      std::vector<MetricWindow>{make_window("orders", "v1", second, "gw-a", 1),
                                make_window("orders", "v1", second, "poison", 2)});
  ASSERT_FALSE(written.ok());
  EXPECT_THAT(written.error().message, HasSubstr("poisoned window"));
  EXPECT_THAT(written.error().message, HasSubstr("orders/v1, second 1767225600, gateway poison"));
  auto read = store->metric_windows(second, second + 1);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_TRUE(read->empty());
}

TEST_F(SqliteStoreTest, DamagedWindowRowIsAnErrorNamingTheRow) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const int64_t second = 1'767'225'600;
  const std::vector<MetricWindow> windows = {make_window("orders", "v1", second, "gw-a", 1),
                                             make_window("orders", "v2", second, "gw-b", 2)};
  RawDatabase raw(path_);
  const struct {
    const char* damage;
    const char* message;
  } cases[] = {
      {"latency_buckets = '5:1,3:1'", "increasing order"},
      {"latency_buckets = 'garbage'", "'g' where the index was expected"},
      {"latency_buckets = ''", "without values"},
      {"requests = -1", "requests is negative"},
      {"latency_min_us = latency_max_us + 1", "above max"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.damage);
    ASSERT_TRUE(store->put_metric_windows(windows).ok());  // whole again
    raw.exec(std::string("UPDATE metric_windows SET ") + c.damage + " WHERE version = 'v2'");
    auto read = store->metric_windows(second, second + 1);
    ASSERT_FALSE(read.ok());
    EXPECT_THAT(read.error().message,
                HasSubstr("stored metric window orders/v2 at second 1767225600 from gateway gw-b"));
    EXPECT_THAT(read.error().message, HasSubstr(c.message));
  }
  ASSERT_TRUE(store->put_metric_windows(windows).ok());
  auto read = store->metric_windows(second, second + 1);
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(*read, windows);
}

// A controller reads [now-3, now) every second: a range on the key's first column, which
// must be an index search that also gives the order, not a scan and a sort.
TEST_F(SqliteStoreTest, ReadingRecentWindowsSearchesThePrimaryKey) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  RawDatabase raw(path_);
  const auto plan = raw.column(
      "EXPLAIN QUERY PLAN SELECT service, version, epoch_second, gateway, requests, status_1xx, "
      "status_2xx, status_3xx, status_4xx, status_5xx, bytes_in, bytes_out, latency_sum_us, "
      "latency_min_us, latency_max_us, latency_buckets FROM metric_windows WHERE epoch_second "
      ">= ? AND epoch_second < ? ORDER BY epoch_second, service, version, gateway",
      3);
  ASSERT_EQ(plan.size(), 1u) << ::testing::PrintToString(plan);
  EXPECT_THAT(plan[0], HasSubstr("SEARCH metric_windows USING INDEX"));
  EXPECT_THAT(plan[0], HasSubstr("epoch_second>? AND epoch_second<?"));
  EXPECT_THAT(raw.column("EXPLAIN QUERY PLAN DELETE FROM metric_windows WHERE epoch_second < ?", 3),
              ::testing::Contains(HasSubstr("SEARCH metric_windows USING")));
}

}  // namespace
}  // namespace glidepath::store::testing
