#include "store/postgres/postgres_store.h"

#include <fmt/format.h>

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "store/common.h"
#include "store/postgres/pg_connection.h"
#include "store/sql_store.h"

namespace glidepath::store {
namespace {

using core::Result;
using namespace detail;  // the helpers every backend shares
using postgres::Connection;
using postgres::Params;

// Any two processes that migrate take this lock first: CREATE TABLE IF NOT EXISTS is not
// safe against a concurrent CREATE of the same table in PostgreSQL. The number is
// arbitrary but fixed ("glidepath" in ASCII, as a 64-bit integer).
constexpr int64_t kMigrationLock = 0x676c69646570;

// What PostgreSQL brings to the shared operations (store/sql_store.h): a connection that
// may be lost and is re-established, operations run again when the server certainly
// rolled them back, and notifications of each write.
class PgBackend {
 public:
  using Statement = postgres::Statement;
  using Transaction = postgres::Transaction;
  static constexpr Dialect kDialect{
      // Byte order, as SQLite sorts, whatever the database's locale.
      .byte_order = " COLLATE \"C\"",
      // Of two racing revocations, the second reads the first's revoked_at and is refused,
      // as SQLite's write lock makes it there.
      .lock_rows = " FOR UPDATE",
      // Many windows per INSERT, so a batch costs a round trip or two, not one per window:
      // 16 parameters each, well inside the protocol's limit of 65535 per statement.
      .metric_windows_per_insert = 1000,
  };

  PgBackend(std::unique_ptr<Connection> connection, std::string change_channel)
      : connection_(std::move(connection)), change_channel_(std::move(change_channel)) {}

  Statement prepare(std::string_view sql) { return Statement(*connection_, sql); }
  Result<Transaction> begin() { return Transaction::begin(*connection_); }

  // (Re)connects first, and runs the operation again when Connection::should_retry says
  // the failed attempt was certainly rolled back.
  template <typename Operation>
  auto run(std::string_view context, Operation& operation) -> std::invoke_result_t<Operation&> {
    for (int attempt = 0;; ++attempt) {
      auto connected = connection_->ensure_connected();
      if (!connected) return store_error(context, connected.error());
      connection_->begin_operation();
      auto result = operation();
      if (result.ok() || !connection_->should_retry(attempt)) return result;
    }
  }

  bool violated(const Statement&, Violation violation) const {
    const std::string& sqlstate = connection_->last_failure().sqlstate;
    switch (violation) {
      case Violation::unique:
        return sqlstate == postgres::kUniqueViolation;
      case Violation::foreign_key:
        return sqlstate == postgres::kForeignKeyViolation;
    }
    return false;
  }

  // Inside the caller's transaction: delivered to listeners when it commits, never for a
  // write that rolled back.
  Result<void> announce(std::string_view kind, std::string_view id) {
    if (change_channel_.empty()) return {};
    return notify(change_channel_, fmt::format("{} {}", kind, id));
  }

  Result<void> notify(std::string_view channel, std::string_view payload) {
    auto sent = connection_->exec("SELECT pg_notify($1, $2)", Params().add(channel).add(payload));
    if (!sent) return core::Failure{sent.error()};
    return {};
  }

  Result<void> exec_script(std::string_view sql) { return connection_->exec_script(sql); }

  Result<void> lock_schema() {
    auto locked =
        connection_->exec("SELECT pg_advisory_xact_lock($1)", Params().add(kMigrationLock));
    if (!locked) return core::Failure{locked.error()};
    return {};
  }

 private:
  std::unique_ptr<Connection> connection_;
  std::string change_channel_;
};

class PostgresStoreImpl final : public SqlStore<PgBackend, PostgresStore> {
 public:
  using SqlStore::SqlStore;

  Result<void> notify(std::string_view channel, std::string_view payload) override {
    const std::string context = fmt::format("notifying channel {}", channel);
    return exclusive(context, [&]() -> Result<void> {
      auto sent = backend().notify(channel, payload);
      if (!sent) return store_error(context, sent.error());
      return {};
    });
  }
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
    auto store = std::make_unique<PostgresStoreImpl>(
        PgBackend(std::move(*connection), options.change_channel));
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
