// The Store contract on PostgreSQL (a fresh database per test on the cluster ctest starts,
// see CMakeLists.txt), and what only PostgreSQL has: several processes migrating at once,
// racing writers on separate connections, surviving a lost connection or a restarted
// server, bounded failure while the server is down, NUL bytes, LISTEN/NOTIFY.
//
// The cluster's URL is read from the file GLIDEPATH_PG_URL_FILE names (or from
// GLIDEPATH_PG_URL). Without either, every test here fails: a PostgreSQL store that went
// untested must not look green.
#include "store/postgres/postgres_store.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/migrations.h"
#include "store/open.h"
#include "store/postgres/leader_lock.h"
#include "store/postgres/pg_connection.h"
#include "store_contract.h"

namespace glidepath::store::testing {

using deploy::ServiceState;
using metrics::MetricWindow;
namespace {

using ::testing::HasSubstr;
using SteadyClock = std::chrono::steady_clock;

// The cluster's URL (its `postgres` database), or an error saying how to get one.
core::Result<std::string> cluster_url() {
  if (const char* url = std::getenv("GLIDEPATH_PG_URL"); url != nullptr && *url != '\0') {
    return std::string(url);
  }
  const char* file = std::getenv("GLIDEPATH_PG_URL_FILE");
  if (file == nullptr || *file == '\0') {
    return core::fail(
        "neither GLIDEPATH_PG_URL nor GLIDEPATH_PG_URL_FILE is set; run these tests with ctest "
        "(its postgres.cluster_start fixture starts a cluster) or start one with "
        "scripts/pg-cluster.sh start DIR and set GLIDEPATH_PG_URL_FILE=DIR/url");
  }
  std::ifstream in(file);
  std::string url;
  if (!std::getline(in, url) || url.empty()) {
    return core::fail(
        fmt::format("cannot read a URL from {} (did postgres.cluster_start fail?)", file));
  }
  return url;
}

// The directory scripts/pg-cluster.sh manages, for tests that stop or restart the server.
std::string cluster_dir() {
  const char* file = std::getenv("GLIDEPATH_PG_URL_FILE");
  if (file == nullptr) return {};
  return std::filesystem::path(file).parent_path().string();
}

std::string with_database(const std::string& url, const std::string& database) {
  // postgres://user@host:port/postgres → .../DATABASE
  const auto slash = url.rfind('/');
  if (slash == std::string::npos || slash < url.find("://") + 3) return url + "/" + database;
  const auto query = url.find('?', slash);
  return url.substr(0, slash + 1) + database +
         (query == std::string::npos ? "" : url.substr(query));
}

PostgresOptions fast_options() {
  PostgresOptions options;
  options.reconnect_timeout = std::chrono::milliseconds(5000);
  options.first_backoff = std::chrono::milliseconds(20);
  options.max_backoff = std::chrono::milliseconds(250);
  return options;
}

// An administrative connection to the cluster's `postgres` database.
class Admin {
 public:
  Admin() {
    auto url = cluster_url();
    if (!url) {
      error_ = url.error().message;
      return;
    }
    url_ = *url;
    postgres::ConnectionOptions options;
    options.url = url_;
    auto opened = postgres::Connection::open(options);
    if (!opened) {
      error_ = opened.error().message;
      return;
    }
    connection_ = std::move(*opened);
  }

  bool ok() const { return connection_ != nullptr; }
  const std::string& error() const { return error_; }
  const std::string& url() const { return url_; }

  core::Result<postgres::Rows> exec(const std::string& sql, const postgres::Params& params = {}) {
    if (!connection_) return core::fail(error_);
    // Once more after a lost connection: the outage tests restart the server under it.
    for (int attempt = 0;; ++attempt) {
      auto ready = connection_->ensure_connected();
      if (!ready) return core::Failure{ready.error()};
      auto rows = connection_->exec(sql, params);
      if (rows || attempt > 0 || !connection_->last_failure().connection_lost) return rows;
    }
  }

 private:
  std::string url_;
  std::string error_;
  std::unique_ptr<postgres::Connection> connection_;
};

// A database created for one test and dropped (with whatever still connects to it) when
// the last holder lets go.
class TestDatabase {
 public:
  static core::Result<std::shared_ptr<TestDatabase>> create() {
    auto database = std::shared_ptr<TestDatabase>(new TestDatabase());
    if (!database->admin_.ok()) return core::fail(database->admin_.error());
    static std::atomic<int> counter{0};
    database->name_ = fmt::format("gp_test_{}_{}_{}", ::getpid(), counter++,
                                  SteadyClock::now().time_since_epoch().count() % 1'000'000);
    // An identifier, not a value: the name is made here of [a-z0-9_] only.
    auto created = database->admin_.exec("CREATE DATABASE " + database->name_);
    if (!created) {
      return core::fail(
          fmt::format("CREATE DATABASE {}: {}", database->name_, created.error().message));
    }
    database->created_ = true;
    database->url_ = with_database(database->admin_.url(), database->name_);
    return database;
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;
  ~TestDatabase() {
    if (!created_) return;
    auto dropped = admin_.exec(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", name_));
    if (!dropped) ADD_FAILURE() << "DROP DATABASE " << name_ << ": " << dropped.error().message;
  }

  const std::string& name() const { return name_; }
  const std::string& url() const { return url_; }
  Admin& admin() { return admin_; }

  // Ends every session on this database but the admin's own: a lost connection.
  int terminate_sessions() {
    auto rows = admin_.exec(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> "
        "pg_backend_pid()",
        postgres::Params().add(name_));
    EXPECT_TRUE(rows.ok()) << rows.error().message;
    return rows ? rows->size() : 0;
  }

  // Runs SQL inside this database (not the admin's), over a connection of its own.
  core::Result<postgres::Rows> exec_inside(const std::string& sql,
                                           const postgres::Params& params = {}) {
    postgres::ConnectionOptions options;
    options.url = url_;
    auto connection = postgres::Connection::open(options);
    if (!connection) return core::Failure{connection.error()};
    return (*connection)->exec(sql, params);
  }

 private:
  TestDatabase() = default;
  Admin admin_;
  std::string name_;
  std::string url_;
  bool created_ = false;
};

StoreBackend postgres_backend() {
  return StoreBackend{
      "Postgres", [](const std::filesystem::path&) -> core::Result<StoreFactory> {
        auto database = TestDatabase::create();
        if (!database) return core::Failure{database.error()};
        // The factory owns the database: it is dropped with the fixture.
        std::shared_ptr<TestDatabase> owned = std::move(*database);
        return StoreFactory([owned] { return open_postgres_store(owned->url(), fast_options()); });
      }};
}

INSTANTIATE_TEST_SUITE_P(Postgres, StoreContractTest, ::testing::Values(postgres_backend()),
                         backend_name);

// --- What only PostgreSQL has ---

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = TestDatabase::create();
    ASSERT_TRUE(database.ok()) << database.error().message;
    database_ = std::move(*database);
  }

  std::unique_ptr<PostgresStore> open(const PostgresOptions& options = fast_options()) {
    auto opened = open_postgres(database_->url(), options);
    if (!opened.ok()) {
      ADD_FAILURE() << opened.error().message;
      return nullptr;
    }
    return std::move(*opened);
  }

  std::shared_ptr<TestDatabase> database_;
};

template <typename T>
T must(core::Result<T> result) {
  EXPECT_TRUE(result.ok()) << result.error().message;
  if (!result.ok()) throw std::runtime_error(result.error().message);
  return std::move(result).value();
}
void must(core::Result<void> result) {
  EXPECT_TRUE(result.ok()) << result.error().message;
  if (!result.ok()) throw std::runtime_error(result.error().message);
}

// Starts `n` threads that each run `body(i)` once all are ready, and joins them.
template <typename Body>
void run_together(int n, Body body) {
  std::mutex mutex;
  std::condition_variable ready;
  int waiting = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      {
        std::unique_lock lock(mutex);
        if (++waiting == n) ready.notify_all();
        ready.wait(lock, [&] { return waiting == n; });
      }
      body(i);
    });
  }
  for (auto& thread : threads)
    thread.join();
}

TEST_F(PostgresStoreTest, SeveralStoresMigratingAtOnceApplyEachMigrationOnce) {
  constexpr int kStores = 6;
  std::vector<std::unique_ptr<Store>> stores(kStores);
  std::vector<std::string> errors(kStores);
  run_together(kStores, [&](int i) {
    auto opened = open_postgres_store(database_->url(), fast_options());
    if (opened) {
      stores[static_cast<std::size_t>(i)] = std::move(*opened);
    } else {
      errors[static_cast<std::size_t>(i)] = opened.error().message;
    }
  });
  for (int i = 0; i < kStores; ++i) {
    ASSERT_NE(stores[static_cast<std::size_t>(i)], nullptr) << errors[static_cast<std::size_t>(i)];
    EXPECT_EQ(must(stores[static_cast<std::size_t>(i)]->schema_version()), latest_schema_version());
  }
  auto rows = database_->exec_inside(
      "SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), static_cast<int>(migrations().size()));
  for (int r = 0; r < rows->size(); ++r) {
    EXPECT_EQ(rows->int64(r, 0), migrations()[static_cast<std::size_t>(r)].version);
    EXPECT_EQ(rows->int64(r, 1), 1);
  }
}

TEST_F(PostgresStoreTest, DatabaseOfANewerBuildIsRefused) {
  ASSERT_NE(open(), nullptr);
  auto inserted = database_->exec_inside(
      "INSERT INTO schema_migrations (version, description, applied_at_us) VALUES ($1, 'future', "
      "0)",
      postgres::Params().add(int64_t{latest_schema_version() + 1}));
  ASSERT_TRUE(inserted.ok()) << inserted.error().message;
  auto opened = open_postgres_store(database_->url(), fast_options());
  ASSERT_FALSE(opened.ok());
  EXPECT_THAT(opened.error().message, HasSubstr("newer than this build knows"));
  EXPECT_THAT(opened.error().message, HasSubstr("127.0.0.1"));
}

TEST_F(PostgresStoreTest, TwoStoresRacingToCreateADeploymentAdmitExactlyOne) {
  auto first = open();
  auto second = open();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  constexpr int kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    const std::string service = fmt::format("svc_{}", round);
    std::vector<core::Result<StoredDeployment>> results;
    std::mutex mutex;
    run_together(2, [&](int i) {
      Store& store = i == 0 ? *first : *second;
      auto result = store.create_deployment(
          make_deployment(fmt::format("dep_{}_{}", round, i), service, at(round)));
      std::lock_guard lock(mutex);
      results.push_back(std::move(result));
    });
    ASSERT_EQ(results.size(), 2u);
    const int won = (results[0].ok() ? 1 : 0) + (results[1].ok() ? 1 : 0);
    ASSERT_EQ(won, 1) << "round " << round;
    const auto& winner = results[0].ok() ? results[0] : results[1];
    const auto& loser = results[0].ok() ? results[1] : results[0];
    EXPECT_TRUE(is_conflict(loser.error())) << loser.error().message;
    EXPECT_THAT(loser.error().message, HasSubstr(winner->deployment.id));
  }
  EXPECT_EQ(must(first->active_deployments()).size(), static_cast<std::size_t>(kRounds));
}

TEST_F(PostgresStoreTest, EventIdsBecomeVisibleInIdOrderUnderConcurrentWriters) {
  constexpr int kWriters = 3;
  constexpr int kEventsEach = 60;
  std::vector<std::unique_ptr<PostgresStore>> writers;
  for (int i = 0; i < kWriters; ++i) {
    writers.push_back(open());
    ASSERT_NE(writers.back(), nullptr);
  }
  auto reader = open();
  ASSERT_NE(reader, nullptr);

  std::atomic<int> writing{kWriters};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kEventsEach; ++i) {
        if (!writers[static_cast<std::size_t>(w)]
                 ->append_event("orders", "", {at(i), "test", std::to_string(w)})
                 .ok()) {
          ++failures;
        }
      }
      --writing;
    });
  }
  // A reader that has seen id N must next see N+1: never a gap that fills in later.
  int64_t last_seen = 0;
  int reads = 0;
  bool in_order = true;
  const auto deadline = SteadyClock::now() + std::chrono::seconds(20);
  while (SteadyClock::now() < deadline) {
    const bool done = writing.load() == 0;
    auto events = reader->events_after(last_seen, 1000);
    ASSERT_TRUE(events.ok()) << events.error().message;
    ++reads;
    for (const EventRecord& event : *events) {
      if (event.id != last_seen + 1) in_order = false;
      last_seen = event.id;
    }
    if (done && events->empty()) break;
  }
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(in_order);
  EXPECT_EQ(last_seen, kWriters * kEventsEach);
  EXPECT_EQ(must(reader->last_event_id()), kWriters * kEventsEach);
  EXPECT_GT(reads, 1);
}

TEST_F(PostgresStoreTest, ACallAfterTheConnectionWasKilledReconnectsAndSucceeds) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  must(store->upsert_service(ServiceState{"orders", "v1", {}, std::nullopt, at(0)}));

  EXPECT_GE(database_->terminate_sessions(), 1);
  // A read, then a write, each on a connection the server closed.
  auto read = store->get_service("orders");
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_TRUE(read->has_value());

  EXPECT_GE(database_->terminate_sessions(), 1);
  must(store->create_deployment(make_deployment("dep_1", "orders", at(1))));
  auto stored = must(store->get_deployment("dep_1"));
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->revision, 1);
  // Retried once, not twice: one `created` event.
  EXPECT_EQ(must(store->events_after(0, 10)).size(), 1u);
}

TEST_F(PostgresStoreTest, UnreachableServerFailsWithinTheBoundedWait) {
  PostgresOptions options = fast_options();
  options.reconnect_timeout = std::chrono::milliseconds(300);
  const auto started = SteadyClock::now();
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  auto opened = open_postgres_store("postgres://nobody@127.0.0.1:1/none", options);
  const auto took = SteadyClock::now() - started;
  ASSERT_FALSE(opened.ok());
  EXPECT_THAT(opened.error().message, HasSubstr("cannot connect to PostgreSQL at 127.0.0.1:1"));
  EXPECT_LT(took, std::chrono::seconds(3));
}

TEST_F(PostgresStoreTest, OpenStoreAtChoosesTheBackendByItsLocation) {
  auto pg = open_store_at(database_->url());
  ASSERT_TRUE(pg.ok()) << pg.error().message;
  EXPECT_EQ(must((*pg)->schema_version()), latest_schema_version());
  auto sqlite = open_store_at("sqlite::memory:");
  ASSERT_TRUE(sqlite.ok()) << sqlite.error().message;
  auto neither = open_store_at("mysql://root:secret@db/x");
  ASSERT_FALSE(neither.ok());
  EXPECT_THAT(neither.error().message, HasSubstr("neither sqlite:PATH nor"));
  EXPECT_THAT(neither.error().message, ::testing::Not(HasSubstr("secret")));
}

// --- Hostile values ---

// The shared operations write SQL with ? placeholders; PostgreSQL's are numbered, and a ?
// inside a quoted literal or identifier is text, not a placeholder.
TEST(PgPlaceholders, AreNumberedInOrderOutsideQuotes) {
  using postgres::number_placeholders;
  EXPECT_EQ(number_placeholders("SELECT 1"), "SELECT 1");
  EXPECT_EQ(number_placeholders("UPDATE t SET a = ?, b = ? WHERE id = ? LIMIT ?"),
            "UPDATE t SET a = $1, b = $2 WHERE id = $3 LIMIT $4");
  EXPECT_EQ(
      number_placeholders("SELECT '?', \"a?\" FROM t WHERE x = ? AND y = 'it''s ?' AND z = ?"),
      "SELECT '?', \"a?\" FROM t WHERE x = $1 AND y = 'it''s ?' AND z = $2");
  EXPECT_EQ(number_placeholders("ORDER BY name COLLATE \"C\" LIMIT ?"),
            "ORDER BY name COLLATE \"C\" LIMIT $1");
}

TEST_F(PostgresStoreTest, QuotesAndSqlInNamesAndJsonRoundTripAsData) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const std::string hostile = "o'rders\"; DROP TABLE deployments; -- \\ $1 ? ✓";
  ServiceState state{hostile,
                     "v'1",
                     {{"v\"2", {"h'ost:1"}, "spec's.yaml"}},
                     std::map<std::string, int>{{"v'1", 90}, {"v\"2", 10}},
                     at(5)};
  must(store->upsert_service(state));
  EXPECT_EQ(must(store->get_service(hostile)), state);

  auto deployment = make_rich_deployment("dep_'; SELECT 1; --", hostile, at(0));
  deployment.reason = "{\"json\": 'in' \"a\" reason}\t$$ E'\\x00' ";
  must(store->create_deployment(deployment));
  auto read = must(store->get_deployment(deployment.id));
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->deployment, deployment);

  auto key = make_api_key("key_'x'", "alice\"; --", 7, at(0));
  key.metadata["note"] = "it's \"quoted\" and {braced}";
  must(store->create_api_key(key));
  EXPECT_EQ(must(store->get_api_key(key.id)), key);
  EXPECT_EQ(must(store->list_deployments({})).size(), 1u);
}

TEST_F(PostgresStoreTest, TextWithANulByteIsRefusedNotTruncated) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const std::string with_nul("orders\0evil", 11);

  auto saved = store->upsert_service(ServiceState{with_nul, "v1", {}, std::nullopt, at(0)});
  ASSERT_FALSE(saved.ok());
  EXPECT_THAT(saved.error().message, HasSubstr("NUL"));
  EXPECT_THAT(saved.error().message, HasSubstr("saving service orders"));
  EXPECT_TRUE(must(store->list_services()).empty());

  auto created = store->create_deployment(make_deployment(with_nul, "orders", at(0)));
  ASSERT_FALSE(created.ok());
  EXPECT_THAT(created.error().message, HasSubstr("NUL"));
  EXPECT_TRUE(must(store->list_deployments({})).empty());
  EXPECT_EQ(must(store->get_deployment("orders")), std::nullopt);

  auto lookup = store->get_deployment(with_nul);
  ASSERT_FALSE(lookup.ok());
  EXPECT_THAT(lookup.error().message, HasSubstr("NUL"));

  auto key = make_api_key("key_a", std::string("al\0ice", 6), 1, at(0));
  auto key_created = store->create_api_key(key);
  ASSERT_FALSE(key_created.ok());
  EXPECT_TRUE(must(store->list_api_keys()).empty());
  // Nothing left the connection in a bad state.
  must(store->upsert_service(ServiceState{"orders", "v1", {}, std::nullopt, at(0)}));
}

// --- LISTEN/NOTIFY ---

// Collects what a listener delivers, for waiting on with a deadline.
class Inbox {
 public:
  void add(const PgNotification& notification) {
    std::lock_guard lock(mutex_);
    received_.push_back(notification);
    arrived_.notify_all();
  }
  // Waits (bounded) until `predicate` holds for what has arrived.
  template <typename Predicate>
  bool wait_for(Predicate predicate, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return arrived_.wait_for(lock, timeout, [&] { return predicate(received_); });
  }
  std::vector<PgNotification> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<PgNotification> received_;
};

bool has_payload(const std::vector<PgNotification>& received, const std::string& channel,
                 const std::string& payload) {
  for (const auto& n : received) {
    if (!n.reconnected && n.channel == channel && n.payload == payload) return true;
  }
  return false;
}

TEST_F(PostgresStoreTest, ListenerReceivesNotifyAndCommittedChangesOnly) {
  PostgresOptions options = fast_options();
  options.change_channel = "glidepath_changes";
  auto store = open(options);
  ASSERT_NE(store, nullptr);
  Inbox inbox;
  auto listener = PgListener::start(
      database_->url(), {"glidepath_changes", "weights"},
      [&](const PgNotification& n) { inbox.add(n); }, options);
  ASSERT_TRUE(listener.ok()) << listener.error().message;

  must(store->notify("weights", "orders 10"));
  must(store->create_deployment(make_deployment("dep_1", "orders", at(0))));
  // Refused: rolled back, so never announced.
  ASSERT_FALSE(store->create_deployment(make_deployment("dep_2", "orders", at(1))).ok());
  must(store->upsert_service(ServiceState{"billing", "v1", {}, std::nullopt, at(0)}));

  ASSERT_TRUE(inbox.wait_for([](const auto& received) {
    return has_payload(received, "weights", "orders 10") &&
           has_payload(received, "glidepath_changes", "deployment dep_1") &&
           has_payload(received, "glidepath_changes", "service billing");
  })) << inbox.received().size();
  EXPECT_FALSE(has_payload(inbox.received(), "glidepath_changes", "deployment dep_2"));
}

TEST_F(PostgresStoreTest, ListenerReListensAfterItsBackendIsTerminatedAndSaysSo) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  Inbox inbox;
  auto started = PgListener::start(
      database_->url(), {"weights"}, [&](const PgNotification& n) { inbox.add(n); },
      fast_options());
  ASSERT_TRUE(started.ok()) << started.error().message;
  PgListener& listener = **started;
  const int first_pid = listener.backend_pid();
  ASSERT_NE(first_pid, 0);

  auto killed = database_->admin().exec("SELECT pg_terminate_backend($1)",
                                        postgres::Params().add(int64_t{first_pid}));
  ASSERT_TRUE(killed.ok()) << killed.error().message;
  ASSERT_TRUE(inbox.wait_for([](const auto& received) {
    for (const auto& n : received)
      if (n.reconnected) return true;
    return false;
  }));
  EXPECT_NE(listener.backend_pid(), first_pid);

  must(store->notify("weights", "after"));
  EXPECT_TRUE(inbox.wait_for(
      [](const auto& received) { return has_payload(received, "weights", "after"); }));
}

TEST_F(PostgresStoreTest, ListenerRefusesBadChannelNames) {
  for (const std::string& bad :
       std::vector<std::string>{"", "a b", "x\"; DROP", std::string(64, 'a')}) {
    auto started = PgListener::start(database_->url(), {bad}, [](const PgNotification&) {});
    EXPECT_FALSE(started.ok()) << bad;
  }
}

// --- Metric windows ---

TEST_F(PostgresStoreTest, MetricWindowsAreNotAnnouncedOnTheChangeChannel) {
  PostgresOptions options = fast_options();
  options.change_channel = "glidepath_changes";
  auto store = open(options);
  ASSERT_NE(store, nullptr);
  Inbox inbox;
  auto listener = PgListener::start(
      database_->url(), {"glidepath_changes"}, [&](const PgNotification& n) { inbox.add(n); },
      options);
  ASSERT_TRUE(listener.ok()) << listener.error().message;

  const int64_t second = 1'767'225'600;
  must(store->put_metric_windows(
      std::vector<MetricWindow>{make_window("orders", "v1", second, "gw-a", 1),
                                make_window("orders", "v2", second, "gw-a", 2)}));
  EXPECT_EQ(must(store->prune_metric_windows(second + 1)), 2u);
  // Notifications arrive in commit order: once this one is in, any the windows' writes
  // had sent would be in too.
  must(store->upsert_service(ServiceState{"billing", "v1", {}, std::nullopt, at(0)}));
  ASSERT_TRUE(inbox.wait_for([](const auto& received) {
    return has_payload(received, "glidepath_changes", "service billing");
  }));
  const auto received = inbox.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].payload, "service billing");
}

TEST_F(PostgresStoreTest, DamagedWindowRowIsAnErrorNamingTheRow) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const int64_t second = 1'767'225'600;
  const std::vector<MetricWindow> windows = {make_window("orders", "v1", second, "gw-a", 1),
                                             make_window("orders", "v2", second, "gw-b", 2)};
  const struct {
    const char* damage;
    const char* message;
  } cases[] = {
      {"latency_buckets = '5:1,3:1'", "increasing order"},
      {"latency_buckets = '1:99999999999'", "count is above"},
      {"latency_buckets = ''", "without values"},
      {"bytes_out = -1", "bytes_out is negative"},
      {"latency_min_us = -5", "negative"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.damage);
    must(store->put_metric_windows(windows));  // whole again
    auto damaged = database_->exec_inside(std::string("UPDATE metric_windows SET ") + c.damage +
                                          " WHERE version = 'v2'");
    ASSERT_TRUE(damaged.ok()) << damaged.error().message;
    auto read = store->metric_windows(second, second + 1);
    ASSERT_FALSE(read.ok());
    EXPECT_THAT(read.error().message,
                HasSubstr("stored metric window orders/v2 at second 1767225600 from gateway gw-b"));
    EXPECT_THAT(read.error().message, HasSubstr(c.message));
  }
  must(store->put_metric_windows(windows));
  EXPECT_EQ(must(store->metric_windows(second, second + 1)), windows);
}

// A controller reads [now-3, now) every second from a table holding the retention period
// of every gateway's windows: the planner must find the rows through the primary key.
TEST_F(PostgresStoreTest, ReadingRecentWindowsUsesThePrimaryKey) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const int64_t now = 1'767'225'600;
  std::vector<MetricWindow> windows;
  for (int64_t s = 0; s < 300; ++s) {
    for (const char* gateway : {"gw-a", "gw-b", "gw-c", "gw-d"}) {
      for (const char* version : {"v1", "v2"})
        windows.push_back(make_window("orders", version, now - 300 + s, gateway, 1));
    }
  }
  must(store->put_metric_windows(windows));
  ASSERT_TRUE(database_->exec_inside("ANALYZE metric_windows").ok());

  auto plan_of = [&](const std::string& sql) {
    auto rows = database_->exec_inside("EXPLAIN " + sql);
    EXPECT_TRUE(rows.ok()) << rows.error().message;
    std::string plan;
    for (int r = 0; rows.ok() && r < rows->size(); ++r)
      plan += rows->text(r, 0) + "\n";
    return plan;
  };
  const std::string read_plan = plan_of(
      fmt::format("SELECT * FROM metric_windows WHERE epoch_second >= {} AND epoch_second < {} "
                  "ORDER BY epoch_second, service COLLATE \"C\", version COLLATE \"C\", "
                  "gateway COLLATE \"C\"",
                  now - 3, now));
  EXPECT_THAT(read_plan, HasSubstr("metric_windows_pkey")) << read_plan;
  EXPECT_THAT(read_plan, ::testing::Not(HasSubstr("Seq Scan"))) << read_plan;
  const std::string prune_plan =
      plan_of(fmt::format("DELETE FROM metric_windows WHERE epoch_second < {}", now - 297));
  EXPECT_THAT(prune_plan, HasSubstr("metric_windows_pkey")) << prune_plan;
  EXPECT_EQ(must(store->metric_windows(now - 3, now)).size(), 24u);
}

// --- The whole server going away (RUN_SERIAL in CMakeLists.txt: it disturbs every
// other test on the cluster) ---

int run_cluster_script(const std::string& subcommand) {
  const char* source = std::getenv("GLIDEPATH_SOURCE_DIR");
  const std::string dir = cluster_dir();
  if (source == nullptr || dir.empty()) return -1;
  const std::string command =
      fmt::format("'{}/scripts/pg-cluster.sh' {} '{}' >/dev/null", source, subcommand, dir);
  return std::system(command.c_str());
}

class PostgresServerOutageTest : public PostgresStoreTest {};

TEST_F(PostgresServerOutageTest, StoreSurvivesAServerRestart) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  must(store->create_deployment(make_deployment("dep_1", "orders", at(0))));
  ASSERT_EQ(run_cluster_script("restart"), 0);
  auto read = store->get_deployment("dep_1");
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_TRUE(read->has_value());
  must(store->append_event("orders", "dep_1", {at(1), "test", "after the restart"}));
  EXPECT_EQ(must(store->last_event_id()), 2);
}

TEST_F(PostgresServerOutageTest, CallWhileTheServerIsDownFailsInBoundedTimeThenRecovers) {
  PostgresOptions options = fast_options();
  options.reconnect_timeout = std::chrono::milliseconds(500);
  auto store = open(options);
  ASSERT_NE(store, nullptr);
  Inbox inbox;
  auto listener = PgListener::start(
      database_->url(), {"weights"}, [&](const PgNotification& n) { inbox.add(n); }, options);
  ASSERT_TRUE(listener.ok()) << listener.error().message;

  ASSERT_EQ(run_cluster_script("halt"), 0);
  const auto started = SteadyClock::now();
  auto failed = store->list_services();
  const auto took = SteadyClock::now() - started;
  const int restarted = run_cluster_script("start");
  ASSERT_EQ(restarted, 0);
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.error().message, HasSubstr("listing services"));
  EXPECT_THAT(failed.error().message, HasSubstr("cannot connect to PostgreSQL"));
  EXPECT_LT(took, std::chrono::seconds(4));

  must(store->upsert_service(ServiceState{"orders", "v1", {}, std::nullopt, at(0)}));
  EXPECT_EQ(must(store->list_services()).size(), 1u);
  EXPECT_TRUE(inbox.wait_for([](const auto& received) {
    for (const auto& n : received)
      if (n.reconnected) return true;
    return false;
  }));
}

// --- Leader election (store/postgres/leader_lock.h) ---

// Polls `lock` until it leads or a deadline passes (a terminated session takes the server
// a moment to end and release its locks).
bool eventually_leads(LeaderLock& lock) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (lock.poll()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST_F(PostgresStoreTest, ExactlyOneLeaderAndAStandbyTakesOverWhenItsSessionEnds) {
  LeaderLock a(database_->url(), "http://a.example:9090");
  LeaderLock b(database_->url(), "http://b.example:9090");
  EXPECT_TRUE(a.poll());
  EXPECT_FALSE(b.poll());
  EXPECT_TRUE(a.poll()) << "a leader that still holds its session keeps leading";
  EXPECT_FALSE(b.poll());
  EXPECT_EQ(b.current_leader(), "http://a.example:9090");

  // The leader's session ends (a crash, a network cut): the server releases the lock.
  auto killed = database_->admin().exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
      postgres::Params().add("glidepath leader http://a.example:9090"));
  ASSERT_TRUE(killed.ok()) << killed.error().message;
  ASSERT_EQ(killed->size(), 1);
  ASSERT_TRUE(eventually_leads(b));
  EXPECT_FALSE(a.poll()) << "the old leader must find out it lost the lock";
  EXPECT_FALSE(a.leading());
  EXPECT_FALSE(a.poll()) << "and must not take it back while the new leader holds it";
  EXPECT_EQ(a.current_leader(), "http://b.example:9090");

  // A graceful stop hands over at once.
  b.release();
  EXPECT_FALSE(b.leading());
  EXPECT_TRUE(eventually_leads(a));
}

TEST_F(PostgresStoreTest, AnUnreachableDatabaseMeansNotLeading) {
  LeaderLock lock("postgres://nobody@127.0.0.1:1/none", "http://x", std::chrono::milliseconds(200));
  EXPECT_FALSE(lock.poll());
  EXPECT_EQ(lock.current_leader(), "");
}

}  // namespace
}  // namespace glidepath::store::testing
