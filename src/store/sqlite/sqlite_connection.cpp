#include "store/sqlite/sqlite_connection.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <utility>

namespace glidepath::store::sqlite {

Statement::Statement(Statement&& other) noexcept
    : statement_(std::exchange(other.statement_, nullptr)),
      in_use_(std::exchange(other.in_use_, nullptr)),
      next_parameter_(other.next_parameter_),
      error_code_(other.error_code_),
      error_(std::move(other.error_)),
      result_code_(other.result_code_) {}

Statement::~Statement() {
  if (statement_ == nullptr) return;
  // Ends the statement's implicit read transaction and frees its bound copies.
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);
  *in_use_ = false;
}

Statement& Statement::bind(int64_t value) {
  if (statement_ == nullptr) return *this;
  const int rc = sqlite3_bind_int64(statement_, next_parameter_++, value);
  if (rc != SQLITE_OK && error_code_ == 0) error_code_ = rc;
  return *this;
}

Statement& Statement::bind(std::string_view value) {
  if (statement_ == nullptr) return *this;
  // An empty view may have a null data(), which SQLite would bind as NULL.
  const char* data = value.empty() ? "" : value.data();
  const int rc = sqlite3_bind_text64(statement_, next_parameter_++, data, value.size(),
                                     SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && error_code_ == 0) error_code_ = rc;
  return *this;
}

Statement& Statement::bind(std::nullopt_t) {
  if (statement_ == nullptr) return *this;
  const int rc = sqlite3_bind_null(statement_, next_parameter_++);
  if (rc != SQLITE_OK && error_code_ == 0) error_code_ = rc;
  return *this;
}

Statement& Statement::bind(const std::optional<std::string>& value) {
  return value ? bind(std::string_view(*value)) : bind(std::nullopt);
}

Statement& Statement::bind(const std::optional<int64_t>& value) {
  return value ? bind(*value) : bind(std::nullopt);
}

core::Result<bool> Statement::step() {
  if (statement_ == nullptr) {
    result_code_ = error_code_;
    return core::fail(error_);
  }
  if (error_code_ != 0) {
    result_code_ = error_code_;
    return core::fail(fmt::format("binding a value failed: {}", sqlite3_errstr(error_code_)));
  }
  result_code_ = sqlite3_step(statement_);
  if (result_code_ == SQLITE_ROW) return true;
  if (result_code_ == SQLITE_DONE) return false;
  return core::fail(sqlite3_errmsg(sqlite3_db_handle(statement_)));
}

core::Result<void> Statement::run() {
  while (true) {
    auto row = step();
    if (!row) return core::Failure{row.error()};
    if (!*row) return {};
  }
}

int64_t Statement::changes() const {
  if (statement_ == nullptr) return 0;
  return sqlite3_changes64(sqlite3_db_handle(statement_));
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(statement_, column) == SQLITE_NULL;
}

int64_t Statement::int64(int column) const {
  return sqlite3_column_int64(statement_, column);
}

std::string Statement::text(int column) const {
  const unsigned char* data = sqlite3_column_text(statement_, column);
  const int size = sqlite3_column_bytes(statement_, column);
  if (data == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(data), static_cast<size_t>(size));
}

std::optional<int64_t> Statement::optional_int64(int column) const {
  if (is_null(column)) return std::nullopt;
  return int64(column);
}

std::optional<std::string> Statement::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

core::Result<std::unique_ptr<Connection>> Connection::open(const std::string& path) {
  sqlite3* db = nullptr;
  // NOMUTEX: SQLite's own per-connection lock is redundant, SqliteStore serializes.
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return core::fail(std::move(message));
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<Connection>(new Connection(db));
}

Connection::~Connection() {
  for (auto& [sql, cached] : statements_)
    sqlite3_finalize(cached->statement);
  sqlite3_close_v2(db_);
}

Statement Connection::prepare(std::string_view sql) {
  auto found = statements_.find(std::string(sql));
  if (found == statements_.end()) {
    sqlite3_stmt* statement = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
    if (rc != SQLITE_OK) {
      return Statement(rc, fmt::format("preparing a statement failed: {}", sqlite3_errmsg(db_)));
    }
    auto cached = std::make_unique<CachedStatement>();
    cached->statement = statement;
    found = statements_.emplace(std::string(sql), std::move(cached)).first;
  }
  CachedStatement& cached = *found->second;
  if (cached.in_use) {
    return Statement(SQLITE_MISUSE, "internal error: a prepared statement was used twice at once");
  }
  cached.in_use = true;
  return Statement(cached.statement, &cached.in_use);
}

core::Result<void> Connection::exec(const std::string& sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return {};
  std::string message = error != nullptr ? error : sqlite3_errstr(rc);
  sqlite3_free(error);
  return core::fail(std::move(message));
}

std::string Connection::error_message() const {
  return sqlite3_errmsg(db_);
}

core::Result<void> Connection::begin_transaction() {
  return exec("BEGIN IMMEDIATE");
}

core::Result<void> Connection::commit_transaction() {
  auto committed = exec("COMMIT");
  if (!committed) {
    // A failed COMMIT may leave the transaction open (SQLITE_BUSY); end it here.
    (void)exec("ROLLBACK");
    return committed;
  }
  return {};
}

void Connection::rollback_transaction() {
  // Nothing more can be done if the rollback fails; SQLite then rolls back when the
  // connection closes or the next transaction starts.
  (void)exec("ROLLBACK");
}

}  // namespace glidepath::store::sqlite
