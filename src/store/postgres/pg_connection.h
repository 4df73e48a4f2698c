// A thin RAII layer over one libpq connection for the PostgreSQL store and listener.
//
// What it promises:
// - Values only ever travel as parameters (PQexecParams, text format); SQL text is fixed.
//   A text value holding a NUL byte, which PostgreSQL text cannot carry and libpq would
//   silently cut short, is refused before anything is sent.
// - Every failure is an error value naming what PostgreSQL said; last_failure() tells the
//   caller its SQLSTATE and whether the connection was lost, to map unique violations to
//   conflicts and to decide whether retrying is safe.
// - A lost connection is re-established by ensure_connected() with exponential backoff,
//   bounded by ConnectionOptions::reconnect_timeout, so a call made while the server is
//   down fails in bounded time instead of hanging.
// - Operation bookkeeping (begin_operation / should_retry) lets the store retry a whole
//   operation when the server certainly rolled it back: a lost connection before COMMIT
//   was sent (once), a serialization failure or deadlock (40001, 40P01; a few times).
//   A connection lost while COMMIT was in flight is never retried: its outcome is unknown.
// Not thread-safe: PostgresStore serializes every use with its mutex, and PgListener uses
// its own connection from its own thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/transaction.h"

struct pg_conn;
struct pg_result;

namespace glidepath::store::postgres {

struct ConnectionOptions {
  std::string url;  // postgres://user@host:port/db?... or a libpq key=value string
  // One connection attempt's limit (libpq counts whole seconds, at least 2).
  std::chrono::seconds connect_timeout{5};
  // The longest ensure_connected() keeps retrying, in total, before it gives up.
  std::chrono::milliseconds reconnect_timeout{5000};
  std::chrono::milliseconds first_backoff{50};  // doubled after each failed attempt...
  std::chrono::milliseconds max_backoff{2000};  // ...up to this
};

// The values of one statement's $1, $2, ... in order.
class Params {
 public:
  Params& add(std::string_view value);
  Params& add(const std::string& value) { return add(std::string_view(value)); }
  Params& add(const char* value) { return add(std::string_view(value)); }
  Params& add(int64_t value);
  Params& add(std::nullopt_t);
  Params& add(const std::optional<std::string>& value);
  Params& add(const std::optional<int64_t>& value);

  std::size_t size() const { return values_.size(); }
  const std::vector<std::optional<std::string>>& values() const { return values_; }
  // The 1-based position of the first text value with a NUL byte, 0 when there is none.
  std::size_t first_nul_parameter() const { return first_nul_; }

 private:
  std::vector<std::optional<std::string>> values_;
  std::size_t first_nul_ = 0;
};

struct ResultDeleter {
  void operator()(pg_result* result) const;
};
struct ConnectionDeleter {
  void operator()(pg_conn* connection) const;
};

// The rows of a finished statement, read as text and converted on demand.
class Rows {
 public:
  explicit Rows(std::unique_ptr<pg_result, ResultDeleter> result) : result_(std::move(result)) {}

  int size() const;
  bool empty() const { return size() == 0; }
  // Rows an INSERT/UPDATE/DELETE changed.
  int64_t affected() const;

  bool is_null(int row, int column) const;
  std::string text(int row, int column) const;
  int64_t int64(int row, int column) const;  // 0 for NULL or a value that is not a number
  std::optional<std::string> optional_text(int row, int column) const;
  std::optional<int64_t> optional_int64(int row, int column) const;

 private:
  std::unique_ptr<pg_result, ResultDeleter> result_;
};

// What the most recent failed statement or connection attempt was.
struct Failure {
  std::string sqlstate;    // "23505"; empty when the failure was not the server's answer
  std::string constraint;  // the constraint a 23xxx violation names, if any
  bool connection_lost = false;
};

inline constexpr std::string_view kUniqueViolation = "23505";
inline constexpr std::string_view kForeignKeyViolation = "23503";

class Connection {
 public:
  // Connects, waiting at most options.reconnect_timeout for the server to accept.
  static core::Result<std::unique_ptr<Connection>> open(const ConnectionOptions& options);
  // Not connected until ensure_connected().
  explicit Connection(ConnectionOptions options);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Reconnects when the connection is known to be broken, with backoff; fails when the
  // server has not accepted within reconnect_timeout. Cheap when the connection is fine
  // (no round trip: a connection that died quietly is found by the next statement).
  core::Result<void> ensure_connected();
  bool healthy() const;
  // Drops the connection (a listener that saw it fail); ensure_connected() makes another.
  void disconnect() { connection_.reset(); }

  // One statement with parameters.
  core::Result<Rows> exec(std::string_view sql, const Params& params = {});
  // A script of statements without parameters (migrations only: fixed text, no values).
  core::Result<void> exec_script(std::string_view sql);

  const Failure& last_failure() const { return last_failure_; }

  // Starts one store operation's bookkeeping for should_retry().
  void begin_operation();
  // After the operation failed on its attempt `attempt` (0 first): whether running it
  // again is both safe and useful.
  bool should_retry(int attempt) const;
  // Marks that COMMIT was sent and its answer lost: the operation must not be retried.
  void mark_outcome_unknown() { outcome_unknown_ = true; }

  // The server's name for the text of an identifier ("LISTEN" needs one, not a value).
  core::Result<std::string> quote_identifier(std::string_view name);

  pg_conn* handle() const { return connection_.get(); }
  // The "host:port" part of the URL without credentials, for messages.
  const std::string& where() const { return where_; }

 private:
  friend class store::Transaction<Connection>;
  core::Result<void> begin_transaction();
  // A connection lost while COMMIT is in flight leaves the outcome unknown: the error
  // says so and the connection is marked so the operation is not retried.
  core::Result<void> commit_transaction();
  void rollback_transaction();

  core::Result<void> connect_once();
  core::Result<void> record_failure(pg_result* result);

  ConnectionOptions options_;
  std::string where_;
  std::unique_ptr<pg_conn, ConnectionDeleter> connection_;
  Failure last_failure_;
  bool lost_in_operation_ = false;
  bool must_serialize_again_ = false;
  bool outcome_unknown_ = false;
};

// BEGIN ... COMMIT at READ COMMITTED. Rolls back on destruction unless committed; the
// store's concurrency rests on row locks (the `counters` row, SELECT ... FOR UPDATE, the
// unique indexes), which READ COMMITTED re-checks after each wait.
using Transaction = store::Transaction<Connection>;

// One statement of the store's shared operations (store/sql_store.h), whose SQL is written
// with `?` placeholders: they are numbered $1, $2, ... here, in order (a `?` inside a quoted
// literal or identifier is left alone). The values are bound in that order, and the
// statement is sent on the first step() or run(); its rows are then read one at a time.
class Statement {
 public:
  Statement(Connection& connection, std::string_view sql);

  template <typename Value>
  Statement& bind(const Value& value) {
    params_.add(value);
    return *this;
  }

  // true: a row is ready to read; false: there are no more.
  core::Result<bool> step();
  // Sends the statement unless step() did, for those whose rows are not read.
  core::Result<void> run();
  // The rows the INSERT, UPDATE or DELETE changed.
  int64_t changes() const;

  bool is_null(int column) const { return rows_->is_null(row_, column); }
  int64_t int64(int column) const { return rows_->int64(row_, column); }
  std::string text(int column) const { return rows_->text(row_, column); }
  std::optional<int64_t> optional_int64(int column) const {
    return rows_->optional_int64(row_, column);
  }
  std::optional<std::string> optional_text(int column) const {
    return rows_->optional_text(row_, column);
  }

 private:
  Connection* connection_;
  std::string sql_;
  Params params_;
  std::optional<Rows> rows_;  // once sent
  int row_ = -1;              // the row step() reached
};

// `sql` with each `?` outside quotes replaced by $1, $2, ... in order.
std::string number_placeholders(std::string_view sql);

// "host:port" of a URL or key=value string, without user or password, for messages.
std::string describe_server(std::string_view url);

}  // namespace glidepath::store::postgres
