// `glidepath impact SERVICE --spec FILE [--since 30d] [--json]` (SPEC sections 1 and 6):
// which consumers a new document would break. The running glidepath compares its live
// version's document with FILE and joins each breaking change with recorded usage
// (POST /v1/services/{s}/impact). Exit 0 when the service's deployment gate would let a
// deployment with this document through (no breaking change, or only unused ones under
// block_if_used, or on_breaking: warn); 1 when the gate would block it or the call
// failed; 2 for a usage error.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/admin_client.h"
#include "cli/commands.h"
#include "cli/text_output.h"
#include "core/text.h"
#include "core/units.h"

namespace glidepath::cli {

namespace {

struct ImpactOptions {
  AdminOptions admin;
  std::string service;
  std::string spec;
  std::string since = "30d";
};

void print_impact(const nlohmann::json& r, bool color) {
  const nlohmann::json summary = r.value("summary", nlohmann::json::object());
  fmt::print("{}: {} (live {}) → {}, usage since {}\n",
             paint(json_text(r, "service"), kBold, color), json_text(r, "base"),
             json_text(r, "live_version"), json_text(r, "revision"), json_text(r, "since"));
  const nlohmann::json breaking = r.value("breaking", nlohmann::json::array());
  for (const nlohmann::json& change : breaking) {
    fmt::print("\n{} {}  {}\n  {}\n", paint("breaking", kRed, color),
               paint(json_text(change, "operation"), kBold, color), json_text(change, "rule"),
               json_text(change, "message"));
    const nlohmann::json consumers = change.value("consumers", nlohmann::json::array());
    if (consumers.empty()) {
      fmt::print("  {}\n", paint("no consumer called it in the window", kDim, color));
      continue;
    }
    for (const nlohmann::json& c : consumers) {
      std::string versions;
      for (const auto& v : c.value("versions", nlohmann::json::array())) {
        if (v.is_string()) versions += (versions.empty() ? "" : ",") + v.get<std::string>();
      }
      fmt::print("  → {:<20} {:<32} {:>8} requests, last {} (on {})\n", json_text(c, "name"),
                 json_text(c, "contact", "-"), c.value("requests", uint64_t{0}),
                 json_text(c, "last_seen"), versions);
    }
  }
  const nlohmann::json warnings = r.value("warnings", nlohmann::json::array());
  for (const nlohmann::json& change : warnings) {
    fmt::print("\n{} {}  {}\n  {}\n", paint("warning", kYellow, color),
               json_text(change, "operation"), json_text(change, "rule"),
               json_text(change, "message"));
  }
  const nlohmann::json gate = r.value("gate", nlohmann::json::object());
  fmt::print("\n{} breaking, {} warning(s), {} consumer(s) affected\n",
             summary.value("breaking", 0), summary.value("warning", 0),
             summary.value("affected_consumers", 0));
  const std::string verdict = json_text(gate, "verdict");
  fmt::print("deployment gate (on_breaking: {}): {}\n", json_text(gate, "policy"),
             paint(verdict,
                   verdict == "block"  ? kRed
                   : verdict == "warn" ? kYellow
                                       : kGreen,
                   color));
  if (const std::string advice = json_text(r, "advice"); !advice.empty()) {
    fmt::print("advice: {}\n", advice);
  }
}

int run_impact(const ImpactOptions& options) {
  AdminClient client(options.admin);
  if (auto url = client.check_url(); !url) return usage_error(url.error().message);
  if (!core::is_valid_name(options.service)) {
    return usage_error(fmt::format("'{}' is not a service name", options.service));
  }
  if (auto since = core::parse_duration(options.since); !since) {
    return usage_error("--since: " + since.error().message);
  }
  std::ifstream file(options.spec, std::ios::binary);
  if (!file) return usage_error(fmt::format("--spec: cannot read '{}'", options.spec));
  std::ostringstream text;
  text << file.rdbuf();
  const nlohmann::json body{{"spec", text.str()}, {"since", options.since}};
  auto reply = client.post("/v1/services/" + options.service + "/impact", body);
  const nlohmann::json* answered = answered_object(client, reply);
  if (answered == nullptr) return kFailed;
  if (options.admin.json) {
    std::cout << answered->dump(2) << '\n';
  } else {
    print_impact(*answered, stdout_is_tty());
  }
  const nlohmann::json gate = answered->value("gate", nlohmann::json::object());
  return json_text(gate, "verdict") == "block" ? kFailed : kOk;
}

}  // namespace

void add_impact_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ImpactOptions>();
  CLI::App* cmd = app.add_subcommand(
      "impact", "Which consumers a new OpenAPI document would break, from recorded usage");
  cmd->add_option("service", options->service, "The service")->required();
  cmd->add_option("--spec", options->spec, "The new version's OpenAPI document")->required();
  cmd->add_option("--since", options->since, "How far back usage counts (default 30d)");
  add_admin_options(*cmd, options->admin);
  cmd->callback([options, &exit_code] { exit_code = run_impact(*options); });
}

}  // namespace glidepath::cli
