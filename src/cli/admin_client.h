// The CLI's side of the admin API (SPEC sections 1 and 7): the flags every command that
// talks to a running glidepath shares (--admin, --token, --ca-file, --json, with
// GLIDEPATH_ADMIN, GLIDEPATH_TOKEN and GLIDEPATH_CA_FILE), and a client that sends JSON and
// reads JSON back, over http:// or https://.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/result.h"

namespace CLI {
class App;
}

namespace glidepath::cli {

inline constexpr const char* kDefaultAdminUrl = "http://127.0.0.1:9090";

struct AdminOptions {
  std::string url = kDefaultAdminUrl;
  std::string token;
  // For an https:// admin URL: a PEM file of the CAs to trust instead of the system's.
  std::string ca_file;
  bool json = false;
};

// Adds --admin URL, --token TOKEN, --ca-file FILE and --json to `command`.
void add_admin_options(CLI::App& command, AdminOptions& options);

struct AdminReply {
  int status = 0;
  nlohmann::json body;  // null when the answer was not JSON
  std::string text;     // the raw body
  bool ok() const { return status >= 200 && status < 300; }
  // The admin API's {"error": ...}, or a description of the status.
  std::string error_message() const;
};

class AdminClient {
 public:
  explicit AdminClient(AdminOptions options);

  // A usage error when the URL is not one the client can use (exit 2).
  core::Result<void> check_url() const;

  // An error only when no answer came (unreachable, timed out, malformed); a 4xx or 5xx
  // answer is a reply.
  core::Result<AdminReply> get(std::string_view path) const;
  core::Result<AdminReply> post(std::string_view path, const nlohmann::json& body) const;
  core::Result<AdminReply> put(std::string_view path, const nlohmann::json& body) const;
  // DELETE, without a body.
  core::Result<AdminReply> del(std::string_view path) const;

  const AdminOptions& options() const { return options_; }

 private:
  core::Result<AdminReply> send(std::string_view method, std::string_view path,
                                std::string body) const;
  AdminOptions options_;
  std::chrono::milliseconds timeout_{10'000};
};

// "cannot reach the admin API at URL: ...", and a hint on a second line.
std::string unreachable_message(const AdminClient& client, const core::Error& error);
// "error: " + unreachable_message(...), on stderr.
void print_unreachable(const AdminClient& client, const core::Error& error);
// "error: <message> (HTTP <status>)" on stderr.
void print_refused(const AdminReply& reply);
// The reply's JSON object when the call was answered 2xx with one; otherwise says why on
// stderr (print_unreachable or print_refused) and returns null, and the command exits
// kFailed. The object lives as long as `reply`.
const nlohmann::json* answered_object(const AdminClient& client,
                                      const core::Result<AdminReply>& reply);

// "; did you mean 'orders'?" when `typed` is close to the name of a service the admin API
// lists (GET /v1/services), for a 404 on a service; "" otherwise (also when the list
// cannot be read).
std::string service_suggestion(const AdminClient& client, const std::string& typed);

// Whether standard output is a terminal (colour and live redraws only there).
bool stdout_is_tty();
// The columns the live view may use, 0 for "do not cut": on a terminal its width (the
// TIOCGWINSZ answer `tty_columns` when positive, else $COLUMNS `columns_env` when it is
// a positive number, else 80); not on a terminal (a pipe, a file, a CI log) no limit.
int output_width(bool tty, int tty_columns, const char* columns_env);
// output_width for this process's standard output.
int stdout_width();

}  // namespace glidepath::cli
