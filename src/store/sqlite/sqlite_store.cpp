#include "store/sqlite/sqlite_store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "store/common.h"
#include "store/sql_store.h"
#include "store/sqlite/sqlite_connection.h"

namespace glidepath::store {
namespace {

using core::Result;
using namespace detail;  // the helpers every backend shares

// What SQLite brings to the shared operations (store/sql_store.h). Each call runs once:
// the connection is local, so there is nothing to reconnect, and a busy database is
// waited for (busy_timeout) rather than retried.
class SqliteBackend {
 public:
  using Statement = sqlite::Statement;
  using Transaction = sqlite::Transaction;
  static constexpr Dialect kDialect{
      .byte_order = "",  // the BINARY collation compares bytes
      .lock_rows = "",   // BEGIN IMMEDIATE took the write lock
      // One cached statement run per window: SQLite has no round trips to save, and a
      // failure names its window.
      .metric_windows_per_insert = 1,
  };

  explicit SqliteBackend(std::unique_ptr<sqlite::Connection> connection)
      : connection_(std::move(connection)) {}

  Statement prepare(std::string_view sql) { return connection_->prepare(sql); }
  Result<Transaction> begin() { return Transaction::begin(*connection_); }

  template <typename Operation>
  auto run(std::string_view, Operation& operation) -> std::invoke_result_t<Operation&> {
    return operation();
  }

  bool violated(const Statement& statement, Violation violation) const {
    const int code = statement.result_code();
    switch (violation) {
      case Violation::unique:
        return code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY;
      case Violation::foreign_key:
        return code == SQLITE_CONSTRAINT_FOREIGNKEY;
    }
    return false;
  }

  // Nothing listens: a single machine's processes share no notification channel.
  Result<void> announce(std::string_view, std::string_view) { return {}; }

  Result<void> exec_script(std::string_view sql) { return connection_->exec(std::string(sql)); }
  // BEGIN IMMEDIATE took the write lock, which keeps other migrating processes out.
  Result<void> lock_schema() { return {}; }

 private:
  std::unique_ptr<sqlite::Connection> connection_;
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
    auto connection = sqlite::Connection::open(path);
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

    auto store = std::make_unique<SqlStore<SqliteBackend>>(SqliteBackend(std::move(*connection)));
    auto migrated = store->migrate();
    if (!migrated) return store_error(context, migrated.error());
    return std::unique_ptr<Store>(std::move(store));
  });
}

}  // namespace glidepath::store
