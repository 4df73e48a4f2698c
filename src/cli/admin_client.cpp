#include "cli/admin_client.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdlib>
#include <string_view>
#include <system_error>
#include <vector>

#include "cli/text_output.h"
#include "core/text.h"
#include "http/client.h"

namespace glidepath::cli {

void add_admin_options(CLI::App& command, AdminOptions& options) {
  command
      .add_option("--admin", options.url,
                  "The admin API's URL (default $GLIDEPATH_ADMIN, else " +
                      std::string(kDefaultAdminUrl) + ")")
      ->envname("GLIDEPATH_ADMIN");
  command.add_option("--token", options.token, "The admin API's bearer token")
      ->envname("GLIDEPATH_TOKEN");
  command
      .add_option("--ca-file", options.ca_file,
                  "With an https:// --admin: a PEM file of the CAs to trust instead of the "
                  "system's (default $GLIDEPATH_CA_FILE)")
      ->envname("GLIDEPATH_CA_FILE")
      ->type_name("FILE");
  command.add_flag("--json", options.json, "Print the admin API's JSON");
}

std::string AdminReply::error_message() const {
  if (body.is_object()) {
    const auto it = body.find("error");
    if (it != body.end() && it->is_string()) return it->get<std::string>();
  }
  if (!text.empty() && text.size() < 500) return text;
  return fmt::format("the admin API answered HTTP {}", status);
}

AdminClient::AdminClient(AdminOptions options) : options_(std::move(options)) {
  // "http://host:9090/" and "http://host:9090" name the same API.
  while (!options_.url.empty() && options_.url.back() == '/')
    options_.url.pop_back();
}

core::Result<void> AdminClient::check_url() const {
  auto url = http::parse_url(options_.url);
  if (!url) return core::fail(fmt::format("--admin: {}", url.error().message));
  if (url->target != "/") {
    return core::fail(fmt::format("--admin: '{}' must be the API's root, like {}", options_.url,
                                  kDefaultAdminUrl));
  }
  return {};
}

core::Result<AdminReply> AdminClient::get(std::string_view path) const {
  return send("GET", path, "");
}

core::Result<AdminReply> AdminClient::post(std::string_view path,
                                           const nlohmann::json& body) const {
  return send("POST", path, body.dump());
}

core::Result<AdminReply> AdminClient::put(std::string_view path, const nlohmann::json& body) const {
  return send("PUT", path, body.dump());
}

core::Result<AdminReply> AdminClient::del(std::string_view path) const {
  return send("DELETE", path, "");
}

core::Result<AdminReply> AdminClient::send(std::string_view method, std::string_view path,
                                           std::string body) const {
  http::ClientRequest request;
  request.method = std::string(method);
  request.url = options_.url + std::string(path);
  request.body = std::move(body);
  request.timeout = timeout_;
  request.tls.ca_file = options_.ca_file;
  request.headers.emplace_back("Accept", "application/json");
  if (!options_.token.empty()) {
    request.headers.emplace_back("Authorization", "Bearer " + options_.token);
  }
  auto response = http::send_request(request);
  if (!response) return core::Failure{response.error()};
  AdminReply reply;
  reply.status = response->status;
  reply.text = std::move(response->body);
  reply.body = nlohmann::json::parse(reply.text, nullptr, /*allow_exceptions=*/false);
  if (reply.body.is_discarded()) reply.body = nullptr;
  return reply;
}

std::string unreachable_message(const AdminClient& client, const core::Error& error) {
  return fmt::format(
      "cannot reach the admin API at {}: {}\n"
      "hint: {}",
      client.options().url, http::without_server(error.message, client.options().url),
      error.message.find("certificate is not trusted") != std::string::npos
          ? "the admin API's certificate is signed by a CA this machine does not trust: pass "
            "that CA with --ca-file (or GLIDEPATH_CA_FILE)."
          : "is `glidepath serve` running? Point --admin (or GLIDEPATH_ADMIN) at its admin "
            "listener.");
}

void print_unreachable(const AdminClient& client, const core::Error& error) {
  fmt::print(stderr, "error: {}\n", unreachable_message(client, error));
}

void print_refused(const AdminReply& reply) {
  fmt::print(stderr, "error: {} (HTTP {})\n", reply.error_message(), reply.status);
  if (reply.status == 401) {
    fmt::print(stderr, "hint: pass the admin token with --token or GLIDEPATH_TOKEN\n");
  }
}

const nlohmann::json* answered_object(const AdminClient& client,
                                      const core::Result<AdminReply>& reply) {
  if (!reply) {
    print_unreachable(client, reply.error());
    return nullptr;
  }
  if (!reply->ok() || !reply->body.is_object()) {
    print_refused(*reply);
    return nullptr;
  }
  return &reply->body;
}

bool stdout_is_tty() {
  return isatty(STDOUT_FILENO) == 1;
}

namespace {
int tty_columns() {
  winsize size{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 0;
}
}  // namespace

int output_width(bool tty, int tty_columns, const char* columns_env) {
  if (!tty) return 0;
  if (tty_columns > 0) return tty_columns;
  if (columns_env != nullptr) {
    const std::string_view text = columns_env;
    int columns = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), columns);
    if (error == std::errc() && end == text.data() + text.size() && columns > 0) return columns;
  }
  return 80;
}

int stdout_width() {
  const bool tty = stdout_is_tty();
  return output_width(tty, tty ? tty_columns() : 0, std::getenv("COLUMNS"));
}

std::string service_suggestion(const AdminClient& client, const std::string& typed) {
  auto reply = client.get("/v1/services");
  if (!reply || !reply->ok()) return "";
  const nlohmann::json& body = reply->body;
  const nlohmann::json* list = &body;
  if (body.is_object()) {
    const auto it = body.find("services");
    if (it == body.end()) return "";
    list = &*it;
  }
  if (!list->is_array()) return "";
  std::vector<std::string> names;
  for (const nlohmann::json& service : *list) {
    const std::string name = json_text(service, "name");
    if (!name.empty()) names.push_back(name);
  }
  const auto nearest = core::nearest_name(names, typed);
  return nearest ? fmt::format("; did you mean '{}'?", *nearest) : "";
}

}  // namespace glidepath::cli
