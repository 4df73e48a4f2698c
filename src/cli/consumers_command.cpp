// `glidepath consumers [--service S] [--since 7d] [--json]` (SPEC section 1): who calls
// what, on which version, and when they were last seen — one row per consumer from
// GET /v1/consumers. With --service only that service's callers are listed; without it,
// key holders that made no request in the window are listed too, with zeros.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "access/consumer_rules.h"
#include "cli/admin_client.h"
#include "cli/commands.h"
#include "cli/text_output.h"
#include "core/clock.h"
#include "core/text.h"

namespace glidepath::cli {

namespace {

struct ConsumersOptions {
  AdminOptions admin;
  std::string service;
  std::string since = "7d";
};

// The operations column lists them while they fit in this many columns; past it, a count.
constexpr size_t kMaxListedOperations = 40;

uint64_t count_of(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

std::string joined(const nlohmann::json& list, std::string_view separator) {
  std::string out;
  if (!list.is_array()) return out;
  for (const nlohmann::json& item : list) {
    if (!item.is_string()) continue;
    if (!out.empty()) out += separator;
    out += item.get<std::string>();
  }
  return out;
}

// "GET /orders, POST /orders" when short, else "7".
std::string operations_cell(const nlohmann::json& operations) {
  if (!operations.is_array() || operations.empty()) return "-";
  std::string list = joined(operations, ", ");
  if (display_columns(list) <= kMaxListedOperations) return list;
  return std::to_string(operations.size());
}

// "just now", "42s ago", "5m ago", "3h ago", "12d ago"; "never" without a time.
std::string ago(const nlohmann::json& time, core::TimePoint now) {
  if (!time.is_string()) return "never";
  auto at = core::parse_rfc3339(time.get<std::string>());
  if (!at) return time.get<std::string>();
  const int64_t s = std::chrono::duration_cast<std::chrono::seconds>(now - *at).count();
  if (s < 1) return "just now";
  if (s < 60) return fmt::format("{}s ago", s);
  if (s < 3600) return fmt::format("{}m ago", s / 60);
  if (s < 86400) return fmt::format("{}h ago", s / 3600);
  return fmt::format("{}d ago", s / 86400);
}

int run_consumers(const ConsumersOptions& options) {
  AdminClient client(options.admin);
  if (auto url = client.check_url(); !url) return usage_error(url.error().message);
  // Caught here so a typo is exit 2, not the admin API's 400 (exit 1).
  if (auto window = access::report_window_start(options.since, core::SystemClock().now());
      !window) {
    return usage_error("--" + window.error().message);
  }
  // Durations and names need no escaping in a query string.
  std::string path = "/v1/consumers?since=" + options.since;
  if (!options.service.empty()) {
    if (!core::is_valid_name(options.service)) {
      return usage_error(fmt::format("--service: '{}' is not a service name", options.service));
    }
    path += "&service=" + options.service;
  }
  auto reply = client.get(path);
  const nlohmann::json* answered = answered_object(client, reply);
  if (answered == nullptr) return kFailed;
  const nlohmann::json& body = *answered;
  if (options.admin.json) {
    std::cout << body.dump(2) << '\n';
    return kOk;
  }

  const bool tty = stdout_is_tty();
  const std::string scope = fmt::format(
      "{}since {} ({})", options.service.empty() ? "" : fmt::format("of {} ", options.service),
      json_text(body, "since"), options.since);
  const nlohmann::json consumers = body.value("consumers", nlohmann::json::array());
  if (!consumers.is_array() || consumers.empty()) {
    fmt::print("no consumers {}\n", scope);
    return kOk;
  }
  fmt::print("consumers {}\n", scope);
  const core::TimePoint now = core::SystemClock().now();
  std::vector<std::vector<std::string>> rows = {
      {"CONSUMER", "CONTACT", "OPERATIONS", "VERSIONS", "REQUESTS", "ERRORS", "LAST SEEN"}};
  std::vector<bool> has_errors = {false};
  for (const nlohmann::json& c : consumers) {
    const uint64_t requests = count_of(c, "requests");
    const uint64_t errors = count_of(c, "errors");
    std::string error_cell = std::to_string(errors);
    if (errors > 0 && requests > 0) {
      error_cell += fmt::format(
          " ({:.1f}%)", 100.0 * static_cast<double>(errors) / static_cast<double>(requests));
    }
    const std::string contact = json_text(c, "contact");
    const std::string versions = joined(c.value("versions", nlohmann::json::array()), ",");
    rows.push_back({json_text(c, "name"), contact.empty() ? "-" : contact,
                    operations_cell(c.value("operations", nlohmann::json::array())),
                    versions.empty() ? "-" : versions, std::to_string(requests), error_cell,
                    ago(c.value("last_seen", nlohmann::json()), now)});
    has_errors.push_back(errors > 0);
  }
  constexpr size_t kErrorsColumn = 5;
  print_table(rows, tty, [&](size_t row, size_t column, const std::string&) -> const char* {
    return column == kErrorsColumn && has_errors[row] ? kRed : nullptr;
  });
  return kOk;
}

}  // namespace

void add_consumers_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ConsumersOptions>();
  CLI::App* cmd = app.add_subcommand(
      "consumers", "Who calls which operations, on which version, and when they were last seen");
  cmd->add_option("--service", options->service, "Only this service's callers");
  cmd->add_option("--since", options->since, "How far back to count (default 7d)");
  add_admin_options(*cmd, options->admin);
  cmd->callback([options, &exit_code] { exit_code = run_consumers(*options); });
}

}  // namespace glidepath::cli
