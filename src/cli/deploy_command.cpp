// `glidepath deploy SERVICE --version V --upstream HOST:PORT[,HOST:PORT] [--strategy S]
// [--spec FILE] [--allow-breaking] [--wait]` (SPEC section 1): starts a deployment through
// the admin API and, with --wait, follows it to its end: exit 0 when it succeeded, 1 when
// it rolled back or failed. Extensions: --steps JSON (custom steps), --alarms JSON and
// --hooks JSON (replacing the service's defaults for this deployment).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/admin_client.h"
#include "cli/commands.h"
#include "cli/follow.h"
#include "cli/text_output.h"
#include "core/units.h"
#include "deploy/deployment_json.h"
#include "deploy/strategy.h"

namespace glidepath::cli {

namespace {

struct DeployOptions {
  AdminOptions admin;
  std::string service;
  std::string version;
  std::vector<std::string> upstreams;
  std::string strategy;
  std::string steps;
  std::string alarms;
  std::string hooks;
  std::string spec;
  bool allow_breaking = false;
  bool replace_upstreams = false;
  bool wait = false;
};

// The request body, or a usage error for anything the admin API would refuse anyway
// (caught here so a typo is exit 2, not 1).
core::Result<nlohmann::json> build_request(const DeployOptions& o) {
  nlohmann::json body{{"version", o.version}};
  if (o.version.empty()) return core::fail("--version: must not be empty");
  if (!o.upstreams.empty()) {
    nlohmann::json list = nlohmann::json::array();
    for (const std::string& upstream : o.upstreams) {
      auto hp = core::parse_host_port(upstream);
      if (!hp) return core::fail(fmt::format("--upstream '{}': {}", upstream, hp.error().message));
      list.push_back(core::format_host_port(*hp));
    }
    body["upstreams"] = std::move(list);
  }
  if (!o.strategy.empty() && !o.steps.empty()) {
    return core::fail("give either --strategy or --steps, not both");
  }
  if (!o.strategy.empty()) {
    if (auto plan = deploy::plan_from_strategy(o.strategy); !plan) {
      return core::fail("--strategy: " + plan.error().message);
    }
    body["strategy"] = o.strategy;
  }
  auto parse_json = [](const std::string& flag, const std::string& text,
                       bool array) -> core::Result<nlohmann::json> {
    auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return core::fail(fmt::format("{}: not valid JSON", flag));
    if (array ? !j.is_array() : !j.is_object()) {
      return core::fail(fmt::format("{}: must be a JSON {}", flag, array ? "list" : "object"));
    }
    return j;
  };
  if (!o.steps.empty()) {
    auto steps = parse_json("--steps", o.steps, true);
    if (!steps) return core::Failure{steps.error()};
    std::vector<deploy::Step> parsed;
    for (size_t i = 0; i < steps->size(); ++i) {
      auto step = deploy::step_from_json((*steps)[i]);
      if (!step) return core::fail(fmt::format("--steps[{}]: {}", i, step.error().message));
      parsed.push_back(*step);
    }
    if (auto plan = deploy::plan_from_steps(parsed); !plan) {
      return core::fail("--steps: " + plan.error().message);
    }
    body["steps"] = std::move(*steps);
  }
  if (!o.alarms.empty()) {
    auto alarms = parse_json("--alarms", o.alarms, true);
    if (!alarms) return core::Failure{alarms.error()};
    body["alarms"] = std::move(*alarms);
  }
  if (!o.hooks.empty()) {
    auto hooks = parse_json("--hooks", o.hooks, false);
    if (!hooks) return core::Failure{hooks.error()};
    body["hooks"] = std::move(*hooks);
  }
  if (!o.spec.empty()) {
    // The server reads the document: give it a path that does not depend on our cwd.
    std::error_code ec;
    if (!std::filesystem::is_regular_file(o.spec, ec)) {
      return core::fail(fmt::format("--spec: no such file '{}'", o.spec));
    }
    body["spec"] = std::filesystem::absolute(o.spec, ec).string();
  }
  if (o.allow_breaking) body["allow_breaking"] = true;
  if (o.replace_upstreams) body["replace_upstreams"] = true;
  return body;
}

std::string text_of(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

int run_deploy(const DeployOptions& options) {
  AdminClient client(options.admin);
  if (auto url = client.check_url(); !url) return usage_error(url.error().message);
  auto body = build_request(options);
  if (!body) return usage_error(body.error().message);

  auto reply = client.post("/v1/services/" + options.service + "/deployments", *body);
  const nlohmann::json* answered = answered_object(client, reply);
  if (answered == nullptr) return kFailed;
  const nlohmann::json& created = *answered;
  const std::string id = text_of(created, "id");
  if (!options.wait) {
    if (options.admin.json) {
      std::cout << created.dump(2) << '\n';
    } else {
      fmt::print("started {}: {} {} → {} with {} ({})\n", id, text_of(created, "service"),
                 text_of(created, "from_version"), text_of(created, "to_version"),
                 text_of(created, "strategy"), text_of(created, "state"));
      fmt::print("follow it with: glidepath status {} --watch\n", id);
    }
    return kOk;
  }

  const bool tty = stdout_is_tty();
  FollowOptions follow;
  follow.live = tty && !options.admin.json;
  follow.quiet = options.admin.json;
  follow.view.color = tty;
  follow.view.width = stdout_width();  // the terminal's width; not a terminal: no cut
  if (!options.admin.json && !follow.live) {
    fmt::print("following {}: {} {} → {} with {}\n", id, text_of(created, "service"),
               text_of(created, "from_version"), text_of(created, "to_version"),
               text_of(created, "strategy"));
  }
  // --json --wait prints the final object only: one document for a script to read.
  const FollowResult result = follow_deployment(client, id, follow);
  switch (result.end) {
    case FollowEnd::failed:
      return kFailed;
    case FollowEnd::interrupted:
      fmt::print(stderr, "stopped following; {} goes on (glidepath status {} --watch)\n", id, id);
      return 130;  // as a shell reports Ctrl-C
    case FollowEnd::finished:
      break;
  }
  const std::string state = text_of(result.deployment, "state");
  if (options.admin.json) {
    std::cout << result.deployment.dump(2) << '\n';
  } else if (state == "succeeded") {
    fmt::print("{} succeeded: {} is live on {}\n", id, text_of(result.deployment, "to_version"),
               text_of(result.deployment, "service"));
  } else {
    fmt::print("{} {}: {}\n", id, state == "failed" ? "failed" : "rolled back",
               text_of(result.deployment, "reason"));
  }
  return state == "succeeded" ? kOk : kFailed;
}

}  // namespace

void add_deploy_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<DeployOptions>();
  CLI::App* cmd = app.add_subcommand("deploy", "Start a deployment of a new version");
  cmd->add_option("service", options->service, "The service to deploy")->required();
  cmd->add_option("--version", options->version, "The new version's name")->required();
  cmd->add_option("--upstream", options->upstreams,
                  "The new version's upstreams: HOST:PORT[,HOST:PORT] (repeatable)")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_option("--strategy", options->strategy,
                  "AllAtOnce, BlueGreen, Canary10Percent5Minutes, Linear10PercentEvery1Minute, "
                  "... (default: the service's)");
  cmd->add_option("--steps", options->steps,
                  R"(Custom steps as JSON: '[{"weight":10},{"pause":"30s"},{"weight":100}]')");
  cmd->add_option("--alarms", options->alarms, "Alarm rules as JSON (replace the service's)");
  cmd->add_option("--hooks", options->hooks,
                  "Hooks as JSON: {\"pre_traffic\": {...}, \"post_traffic\": {...}}");
  cmd->add_option("--spec", options->spec, "The new version's OpenAPI document");
  cmd->add_flag("--allow-breaking", options->allow_breaking,
                "Deploy even if the contract check finds breaking changes in use");
  cmd->add_flag("--replace-upstreams", options->replace_upstreams,
                "Point a version an earlier deployment added at new upstreams (refused otherwise)");
  cmd->add_flag("--wait", options->wait,
                "Follow the deployment to its end: exit 0 on success, 1 on rollback or failure");
  add_admin_options(*cmd, options->admin);
  cmd->callback([options, &exit_code] { exit_code = run_deploy(*options); });
}

}  // namespace glidepath::cli
