// `glidepath promote|abort|pause|resume DEPLOYMENT_ID` (SPEC section 1): manual control
// of a running deployment through the admin API. `promote --full` skips every remaining
// step; `abort --reason TEXT` rolls back and records why. Each prints the state that
// results; exit 1 when the admin API refuses (the deployment has ended, say).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/admin_client.h"
#include "cli/commands.h"

namespace glidepath::cli {

namespace {

struct ControlOptions {
  AdminOptions admin;
  std::string id;
  bool full = false;   // promote
  std::string reason;  // abort
};

int run_control(const std::string& command, const ControlOptions& options) {
  AdminClient client(options.admin);
  if (auto url = client.check_url(); !url) {
    fmt::print(stderr, "error: {}\n", url.error().message);
    return kUsage;
  }
  if (options.id.empty() || options.id.find('/') != std::string::npos) {
    fmt::print(stderr, "error: '{}' is not a deployment id (they look like dep_01J...)\n",
               options.id);
    return kUsage;
  }
  nlohmann::json body = nlohmann::json::object();
  if (command == "promote" && options.full) body["full"] = true;
  if (command == "abort" && !options.reason.empty()) body["reason"] = options.reason;

  auto reply = client.post("/v1/deployments/" + options.id + "/" + command, body);
  const nlohmann::json* answered = answered_object(client, reply);
  if (answered == nullptr) return kFailed;
  const nlohmann::json& d = *answered;
  if (options.admin.json) {
    std::cout << d.dump(2) << '\n';
    return kOk;
  }
  const std::string state = d.value("state", "");
  std::string line = fmt::format("{}: {} → {}, {}", d.value("id", options.id),
                                 d.value("from_version", ""), d.value("to_version", ""), state);
  if (state != "succeeded" && state != "rolled_back" && state != "failed") {
    line += fmt::format(", {}% on {}", d.value("canary_weight", 0), d.value("to_version", ""));
    if (d.value("total_steps", 0) > 0) {
      const int64_t total = d.value("total_steps", int64_t{0});
      line += fmt::format(", step {}/{}", std::min(d.value("step", int64_t{0}) + 1, total), total);
    }
  }
  const auto reason = d.find("reason");
  if (reason != d.end() && reason->is_string())
    line += fmt::format(" ({})", reason->get<std::string>());
  fmt::print("{}\n", line);
  return kOk;
}

void add_control(CLI::App& app, int& exit_code, const std::string& name,
                 const std::string& description) {
  auto options = std::make_shared<ControlOptions>();
  CLI::App* cmd = app.add_subcommand(name, description);
  cmd->add_option("deployment", options->id, "The deployment's id (dep_...)")->required();
  if (name == "promote") {
    cmd->add_flag("--full", options->full, "Skip every remaining step: straight to 100%");
  }
  if (name == "abort") {
    cmd->add_option("--reason", options->reason, "Why, for the event log and the rollback reason");
  }
  add_admin_options(*cmd, options->admin);
  cmd->callback([options, name, &exit_code] { exit_code = run_control(name, *options); });
}

}  // namespace

void add_control_commands(CLI::App& app, int& exit_code) {
  add_control(app, exit_code, "promote",
              "Skip the current pause (or, with --full, every remaining step)");
  add_control(app, exit_code, "abort", "Roll a deployment back now");
  add_control(app, exit_code, "pause", "Hold a deployment at its current weight");
  add_control(app, exit_code, "resume", "Continue a paused deployment");
}

}  // namespace glidepath::cli
