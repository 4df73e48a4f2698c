// A thin RAII layer over one SQLite connection: cached prepared statements, typed binding
// and reading, and transactions that roll back unless committed. Not thread-safe: the
// SqliteStore serializes every use of a Connection with its mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/result.h"
#include "store/transaction.h"

struct sqlite3;
struct sqlite3_stmt;

namespace glidepath::store::sqlite {

// One use of a cached prepared statement. Values are bound in parameter order; reading
// follows step(). On destruction the statement is reset for the next use. A statement that
// could not be prepared fails its first step() or run() with the reason.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind(int64_t value);
  Statement& bind(std::string_view value);
  Statement& bind(const std::string& value) { return bind(std::string_view(value)); }
  Statement& bind(const char* value) { return bind(std::string_view(value)); }
  Statement& bind(std::nullopt_t);
  Statement& bind(const std::optional<std::string>& value);
  Statement& bind(const std::optional<int64_t>& value);

  // true: a row is ready to read; false: the statement has finished.
  core::Result<bool> step();
  // Steps to the end, for statements that return no rows.
  core::Result<void> run();
  // The extended result code of the last step() (SQLITE_CONSTRAINT_UNIQUE, ...).
  int result_code() const { return result_code_; }
  // The rows the finished INSERT, UPDATE or DELETE changed.
  int64_t changes() const;

  bool is_null(int column) const;
  int64_t int64(int column) const;
  std::string text(int column) const;
  std::optional<int64_t> optional_int64(int column) const;
  std::optional<std::string> optional_text(int column) const;

 private:
  friend class Connection;
  Statement(sqlite3_stmt* statement, bool* in_use) : statement_(statement), in_use_(in_use) {}
  // A statement that was not prepared, with the result code and message that say why.
  Statement(int error_code, std::string error)
      : statement_(nullptr), in_use_(nullptr), error_code_(error_code), error_(std::move(error)) {}

  sqlite3_stmt* statement_;  // null once moved from, or when preparing failed
  bool* in_use_;
  int next_parameter_ = 1;
  int error_code_ = 0;  // the failed prepare or first failed bind, reported by step()
  std::string error_;   // the failed prepare's message
  int result_code_ = 0;
};

class Connection {
 public:
  // Opens (creating if needed) the database file at `path`, or ":memory:".
  static core::Result<std::unique_ptr<Connection>> open(const std::string& path);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // A prepared statement for `sql`, compiled on first use and kept for the connection's
  // life. A statement may not be used twice at once.
  Statement prepare(std::string_view sql);
  // Runs one or more statements without results (schema scripts, PRAGMAs, BEGIN...).
  core::Result<void> exec(const std::string& sql);
  // The message of the connection's most recent error.
  std::string error_message() const;
  sqlite3* handle() const { return db_; }

 private:
  friend class store::Transaction<Connection>;
  explicit Connection(sqlite3* db) : db_(db) {}

  // BEGIN IMMEDIATE takes the write lock up front, so a transaction that reads and then
  // writes waits for other writers (busy_timeout) instead of failing with SQLITE_BUSY when
  // it tries to upgrade.
  core::Result<void> begin_transaction();
  core::Result<void> commit_transaction();
  void rollback_transaction();

  struct CachedStatement {
    sqlite3_stmt* statement = nullptr;
    bool in_use = false;
  };
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<CachedStatement>> statements_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back on destruction unless committed.
using Transaction = store::Transaction<Connection>;

}  // namespace glidepath::store::sqlite
