#include "store/postgres/pg_connection.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <iterator>
#include <thread>
#include <utility>

namespace glidepath::store::postgres {
namespace {

using Clock = std::chrono::steady_clock;

// libpq's messages end in a newline and may run to a hint on a second line; messages
// here are one line.
std::string first_line(const char* text) {
  if (text == nullptr) return {};
  std::string_view view(text);
  view = view.substr(0, view.find('\n'));
  while (!view.empty() && (view.back() == ' ' || view.back() == '\r'))
    view.remove_suffix(1);
  return std::string(view);
}

std::string connection_message(pg_conn* connection) {
  std::string message = first_line(connection != nullptr ? PQerrorMessage(connection) : nullptr);
  return message.empty() ? "the connection to PostgreSQL is lost" : message;
}

// Class 08 (connection exception) and the shutdown codes of class 57 (operator
// intervention: pg_terminate_backend, a server shutting down or starting up).
bool is_connection_sqlstate(std::string_view sqlstate) {
  return sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" ||
         sqlstate == "57P03";
}

// Failures retrying cannot help: the server answered and refused the login.
bool is_permanent_connect_failure(pg_conn* connection) {
  if (connection == nullptr) return false;
  if (PQconnectionNeedsPassword(connection) != 0) return true;
  const std::string message = connection_message(connection);
  return message.find("authentication failed") != std::string::npos ||
         (message.find("database") != std::string::npos &&
          message.find("does not exist") != std::string::npos) ||
         message.find("invalid") != std::string::npos;
}

void ignore_notice(void*, const char*) {
  // Notices ("relation already exists, skipping") are not errors; libpq would print
  // them to stderr.
}

}  // namespace

// --- Params ---

Params& Params::add(std::string_view value) {
  if (first_nul_ == 0 && value.find('\0') != std::string_view::npos) {
    first_nul_ = values_.size() + 1;
  }
  values_.emplace_back(std::string(value));
  return *this;
}

Params& Params::add(int64_t value) {
  values_.emplace_back(std::to_string(value));
  return *this;
}

Params& Params::add(std::nullopt_t) {
  values_.emplace_back(std::nullopt);
  return *this;
}

Params& Params::add(const std::optional<std::string>& value) {
  return value ? add(std::string_view(*value)) : add(std::nullopt);
}

Params& Params::add(const std::optional<int64_t>& value) {
  return value ? add(*value) : add(std::nullopt);
}

// --- Rows ---

void ResultDeleter::operator()(pg_result* result) const {
  PQclear(result);
}

void ConnectionDeleter::operator()(pg_conn* connection) const {
  PQfinish(connection);
}

int Rows::size() const {
  return PQntuples(result_.get());
}

int64_t Rows::affected() const {
  const char* text = PQcmdTuples(result_.get());
  int64_t value = 0;
  if (text != nullptr) std::from_chars(text, text + std::char_traits<char>::length(text), value);
  return value;
}

bool Rows::is_null(int row, int column) const {
  return PQgetisnull(result_.get(), row, column) != 0;
}

std::string Rows::text(int row, int column) const {
  const char* value = PQgetvalue(result_.get(), row, column);
  const int length = PQgetlength(result_.get(), row, column);
  if (value == nullptr || length <= 0) return {};
  return std::string(value, static_cast<std::size_t>(length));
}

int64_t Rows::int64(int row, int column) const {
  const char* value = PQgetvalue(result_.get(), row, column);
  const int length = PQgetlength(result_.get(), row, column);
  int64_t parsed = 0;
  if (value != nullptr && length > 0) std::from_chars(value, value + length, parsed);
  return parsed;
}

std::optional<std::string> Rows::optional_text(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return text(row, column);
}

std::optional<int64_t> Rows::optional_int64(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return int64(row, column);
}

// --- Connection ---

Connection::Connection(ConnectionOptions options)
    : options_(std::move(options)), where_(describe_server(options_.url)) {}

Connection::~Connection() = default;

core::Result<std::unique_ptr<Connection>> Connection::open(const ConnectionOptions& options) {
  std::unique_ptr<Connection> connection(new Connection(options));
  auto connected = connection->ensure_connected();
  if (!connected) return core::Failure{connected.error()};
  return connection;
}

bool Connection::healthy() const {
  return connection_ != nullptr && PQstatus(connection_.get()) == CONNECTION_OK;
}

core::Result<void> Connection::connect_once() {
  const std::string timeout =
      std::to_string(std::max<int64_t>(2, options_.connect_timeout.count()));
  // The URL comes last and is expanded in place, so what it says wins over these
  // defaults. Keepalives notice a peer that vanished without closing the socket.
  const char* const keywords[] = {"application_name",
                                  "connect_timeout",
                                  "keepalives",
                                  "keepalives_idle",
                                  "keepalives_interval",
                                  "keepalives_count",
                                  "client_encoding",
                                  "dbname",
                                  nullptr};
  const char* const values[] = {"glidepath", timeout.c_str(),      "1",    "10", "5", "3",
                                "UTF8",      options_.url.c_str(), nullptr};
  connection_.reset(PQconnectdbParams(keywords, values, 1));
  if (connection_ == nullptr) return core::fail("out of memory opening a PostgreSQL connection");
  if (PQstatus(connection_.get()) != CONNECTION_OK) {
    return core::fail(connection_message(connection_.get()));
  }
  PQsetNoticeProcessor(connection_.get(), ignore_notice, nullptr);
  return {};
}

core::Result<void> Connection::ensure_connected() {
  if (healthy()) return {};
  if (options_.url.find('\0') != std::string::npos) {
    return core::fail("the PostgreSQL URL contains a NUL byte");
  }
  const auto started = Clock::now();
  const auto deadline = started + options_.reconnect_timeout;
  auto backoff = std::max(options_.first_backoff, std::chrono::milliseconds(1));
  int attempts = 0;
  while (true) {
    ++attempts;
    auto connected = connect_once();
    if (connected) return {};
    const bool permanent = is_permanent_connect_failure(connection_.get());
    connection_.reset();
    const auto now = Clock::now();
    if (permanent || now >= deadline) {
      const auto waited =
          std::chrono::duration_cast<std::chrono::milliseconds>(now - started).count();
      return core::fail(
          fmt::format("cannot connect to PostgreSQL at {} ({} attempt{} in {} ms): {}", where_,
                      attempts, attempts == 1 ? "" : "s", waited, connected.error().message));
    }
    const auto pause = std::min<Clock::duration>(
        backoff, std::chrono::duration_cast<Clock::duration>(deadline - now));
    std::this_thread::sleep_for(pause);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

core::Result<void> Connection::record_failure(pg_result* result) {
  last_failure_ = Failure{};
  std::string message;
  if (result != nullptr) {
    if (const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE)) {
      last_failure_.sqlstate = sqlstate;
    }
    if (const char* constraint = PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME)) {
      last_failure_.constraint = constraint;
    }
    message = first_line(PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY));
    if (message.empty()) message = first_line(PQresultErrorMessage(result));
  }
  if (message.empty()) message = connection_message(connection_.get());
  last_failure_.connection_lost = !healthy() || is_connection_sqlstate(last_failure_.sqlstate);
  if (last_failure_.connection_lost) {
    lost_in_operation_ = true;
    // A half-dead connection is dropped, so ensure_connected() makes a new one.
    connection_.reset();
  }
  if (last_failure_.sqlstate == "40001" || last_failure_.sqlstate == "40P01") {
    must_serialize_again_ = true;
  }
  if (!last_failure_.sqlstate.empty() && !last_failure_.connection_lost) {
    return core::fail(fmt::format("{} (SQLSTATE {})", message, last_failure_.sqlstate));
  }
  return core::fail(std::move(message));
}

core::Result<Rows> Connection::exec(std::string_view sql, const Params& params) {
  if (params.first_nul_parameter() != 0) {
    last_failure_ = Failure{};
    return core::fail(
        fmt::format("value ${} contains a NUL byte, which PostgreSQL text cannot hold",
                    params.first_nul_parameter()));
  }
  if (!healthy()) {
    last_failure_ = Failure{};
    last_failure_.connection_lost = true;
    lost_in_operation_ = true;
    return core::fail(fmt::format("not connected to PostgreSQL at {}", where_));
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& value : params.values())
    values.push_back(value ? value->c_str() : nullptr);
  const std::string text(sql);
  std::unique_ptr<pg_result, ResultDeleter> result(
      PQexecParams(connection_.get(), text.c_str(), static_cast<int>(values.size()), nullptr,
                   values.data(), nullptr, nullptr, 0));
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Rows(std::move(result));
  auto failed = record_failure(result.get());
  return core::Failure{failed.error()};
}

core::Result<void> Connection::exec_script(std::string_view sql) {
  if (!healthy()) {
    last_failure_ = Failure{};
    last_failure_.connection_lost = true;
    lost_in_operation_ = true;
    return core::fail(fmt::format("not connected to PostgreSQL at {}", where_));
  }
  const std::string text(sql);
  std::unique_ptr<pg_result, ResultDeleter> result(PQexec(connection_.get(), text.c_str()));
  const ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return {};
  return record_failure(result.get());
}

void Connection::begin_operation() {
  lost_in_operation_ = false;
  must_serialize_again_ = false;
  outcome_unknown_ = false;
}

bool Connection::should_retry(int attempt) const {
  if (outcome_unknown_) return false;
  if (lost_in_operation_) return attempt == 0;
  if (must_serialize_again_) return attempt < 3;
  return false;
}

core::Result<std::string> Connection::quote_identifier(std::string_view name) {
  if (name.find('\0') != std::string_view::npos) {
    return core::fail("an identifier contains a NUL byte");
  }
  if (!healthy()) return core::fail(fmt::format("not connected to PostgreSQL at {}", where_));
  char* quoted = PQescapeIdentifier(connection_.get(), name.data(), name.size());
  if (quoted == nullptr) return core::fail(connection_message(connection_.get()));
  std::string text(quoted);
  PQfreemem(quoted);
  return text;
}

// --- Transactions ---

core::Result<void> Connection::begin_transaction() {
  auto begun = exec("BEGIN");
  if (!begun) return core::Failure{begun.error()};
  return {};
}

void Connection::rollback_transaction() {
  if (!healthy()) return;
  // A failed ROLLBACK leaves a broken connection, which the next operation replaces;
  // the server rolls back whatever a closed connection left open.
  (void)exec("ROLLBACK");
}

core::Result<void> Connection::commit_transaction() {
  // COMMIT of a transaction a failed statement aborted answers "ROLLBACK" without an
  // error; catch that here rather than report a write that did not happen.
  if (healthy() && PQtransactionStatus(handle()) == PQTRANS_INERROR) {
    (void)exec("ROLLBACK");
    return core::fail("the transaction was aborted by an earlier error");
  }
  auto committed = exec("COMMIT");
  if (committed) return {};
  if (last_failure().connection_lost) {
    mark_outcome_unknown();
    return core::fail(
        fmt::format("the connection was lost while committing, so whether the change was saved is "
                    "unknown: {}",
                    committed.error().message));
  }
  return core::Failure{committed.error()};
}

// --- Statement ---

Statement::Statement(Connection& connection, std::string_view sql)
    : connection_(&connection), sql_(number_placeholders(sql)) {}

core::Result<void> Statement::run() {
  if (rows_) return {};  // sent already: nothing is left to do
  auto sent = connection_->exec(sql_, params_);
  if (!sent) return core::Failure{sent.error()};
  rows_.emplace(std::move(*sent));
  return {};
}

core::Result<bool> Statement::step() {
  auto sent = run();
  if (!sent) return core::Failure{sent.error()};
  if (row_ < rows_->size()) ++row_;
  return row_ < rows_->size();
}

int64_t Statement::changes() const {
  return rows_ ? rows_->affected() : 0;
}

std::string number_placeholders(std::string_view sql) {
  std::string numbered;
  numbered.reserve(sql.size() + sql.size() / 8);
  int next = 1;
  char quote = 0;  // the quote character of the literal or identifier being read, if any
  for (char c : sql) {
    if (quote != 0) {
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: the same thing
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '?') {
      fmt::format_to(std::back_inserter(numbered), "${}", next++);
      continue;
    }
    numbered += c;
  }
  return numbered;
}

std::string describe_server(std::string_view url) {
  const std::string text(url.substr(0, url.find('\0')));
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(text.c_str(), &error);
  if (options == nullptr) {
    if (error != nullptr) PQfreemem(error);
    return "(an unreadable URL)";
  }
  std::string host;
  std::string port;
  std::string database;
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val == nullptr) continue;
    const std::string_view keyword(option->keyword);
    if (keyword == "host" || (keyword == "hostaddr" && host.empty())) host = option->val;
    if (keyword == "port") port = option->val;
    if (keyword == "dbname") database = option->val;
  }
  PQconninfoFree(options);
  std::string where = host.empty() ? "localhost" : host;
  if (!port.empty()) where += ":" + port;
  if (!database.empty()) where += "/" + database;
  return where;
}

}  // namespace glidepath::store::postgres
