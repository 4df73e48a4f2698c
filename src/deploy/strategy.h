// Deployment strategies (SPEC section 3). Every strategy — a CodeDeploy-style name, a
// blue/green switch or a custom step list — compiles to the same Plan: a list of steps
// that is pure data, so the reconcile loop has one way to walk them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace glidepath::deploy {

// Send `weight` percent (0..100) of public traffic to the new version.
struct WeightStep {
  int weight = 0;
  friend bool operator==(const WeightStep&, const WeightStep&) = default;
};
// Hold the current weight for `duration`; without one, until someone promotes.
struct PauseStep {
  std::optional<core::Duration> duration;
  friend bool operator==(const PauseStep&, const PauseStep&) = default;
};
using Step = std::variant<WeightStep, PauseStep>;

enum class StrategyKind { all_at_once, canary, linear, blue_green, custom };

struct BlueGreenOptions {
  // After the pre-traffic hook passes, the new version keeps only preview traffic this
  // long before the switch.
  core::Duration bake{0};
  // After the switch the old version stays routable this long, for instant rollback.
  core::Duration keep_previous_warm = std::chrono::minutes(10);
  friend bool operator==(const BlueGreenOptions&, const BlueGreenOptions&) = default;
};

struct Plan {
  std::string strategy;  // as given: "Canary10Percent5Minutes", "BlueGreen", "custom"
  StrategyKind kind = StrategyKind::all_at_once;
  std::vector<Step> steps;  // always reaches WeightStep{100}
  // Blue/green only: the old version stays routable this long after the switch.
  core::Duration keep_previous_warm{0};
  friend bool operator==(const Plan&, const Plan&) = default;
};

// "AllAtOnce", "Canary<P>Percent<N>Minutes|Minute|Seconds|Second",
// "Linear<P>PercentEvery<N>Minutes|Minute|Seconds|Second", "BlueGreen"; CodeDeploy's own
// spellings ("CodeDeployDefault.LambdaCanary10Percent5Minutes") are accepted too. Unknown
// names get an error that lists the valid forms.
core::Result<Plan> plan_from_strategy(std::string_view name, const BlueGreenOptions& options = {});

// A custom plan: weights 0..100 that never decrease (so sticky consumers move to the new
// version once and never back), pauses of positive duration or none (wait for promote);
// a final WeightStep{100} is added when the steps never reach 100, since every deployment
// ends fully shifted. Steps after 100 may only pause (a bake at full traffic).
core::Result<Plan> plan_from_steps(std::vector<Step> steps);

// The sum of the timed pauses: how long the plan takes when nobody intervenes, and
// whether it waits for a promote.
core::Duration planned_duration(const Plan& plan);
bool waits_for_promote(const Plan& plan);

const char* to_string(StrategyKind kind);
std::string describe(const Step& step);  // "weight 10%", "pause 5m", "pause until promoted"

}  // namespace glidepath::deploy
