// `glidepath plan STRATEGY`: shows the steps a strategy name compiles to, so a user can
// see what Canary10Percent5Minutes or Linear25PercentEvery1Minute will do before a
// deployment uses it.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/units.h"
#include "deploy/deployment_json.h"
#include "deploy/strategy.h"

namespace glidepath::cli {

namespace {

struct PlanOptions {
  std::string strategy;
  std::string bake = "0s";
  std::string keep_previous_warm = "10m";
  bool json = false;
};

int run_plan(const PlanOptions& options) {
  deploy::BlueGreenOptions blue_green;
  for (auto [text, slot] :
       {std::pair{&options.bake, &blue_green.bake},
        std::pair{&options.keep_previous_warm, &blue_green.keep_previous_warm}}) {
    auto d = core::parse_duration(*text);
    if (!d) {
      fmt::print(stderr, "error: {}\n", d.error().message);
      return kUsage;
    }
    *slot = *d;
  }
  auto plan = deploy::plan_from_strategy(options.strategy, blue_green);
  if (!plan) {
    fmt::print(stderr, "error: {}\n", plan.error().message);
    return kUsage;
  }
  if (options.json) {
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& step : plan->steps)
      steps.push_back(deploy::to_json(step));
    nlohmann::json out{{"strategy", plan->strategy},
                       {"kind", deploy::to_string(plan->kind)},
                       {"steps", steps},
                       {"duration", core::format_duration(deploy::planned_duration(*plan))},
                       {"keep_previous_warm", core::format_duration(plan->keep_previous_warm)}};
    std::cout << out.dump(2) << '\n';
    return kOk;
  }
  fmt::print("{} ({})\n", plan->strategy, deploy::to_string(plan->kind));
  core::Duration at{0};
  for (size_t i = 0; i < plan->steps.size(); ++i) {
    fmt::print("  {:>3}. at +{:<8} {}\n", i + 1, core::format_duration(at),
               deploy::describe(plan->steps[i]));
    if (const auto* pause = std::get_if<deploy::PauseStep>(&plan->steps[i]);
        pause && pause->duration) {
      at += *pause->duration;
    }
  }
  fmt::print("full traffic after {} without alarms", core::format_duration(at));
  if (plan->keep_previous_warm.count() > 0) {
    fmt::print("; the previous version then stays warm for {}",
               core::format_duration(plan->keep_previous_warm));
  }
  fmt::print("\n");
  return kOk;
}

}  // namespace

void add_plan_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<PlanOptions>();
  CLI::App* cmd = app.add_subcommand("plan", "Show the steps a deployment strategy takes");
  cmd->add_option("strategy", options->strategy,
                  "AllAtOnce, BlueGreen, Canary10Percent5Minutes, Linear10PercentEvery1Minute, ...")
      ->required();
  cmd->add_option("--bake", options->bake,
                  "BlueGreen: preview-only time after the pre-traffic hook");
  cmd->add_option("--keep-previous-warm", options->keep_previous_warm,
                  "BlueGreen: how long the old version stays routable after the switch");
  cmd->add_flag("--json", options->json, "Machine-readable output");
  cmd->callback([options, &exit_code] { exit_code = run_plan(*options); });
}

}  // namespace glidepath::cli
