#include "deploy/strategy.h"

#include <fmt/format.h>

#include <charconv>

#include "core/units.h"

namespace glidepath::deploy {
namespace {

constexpr size_t kMaxSteps = 1000;
constexpr const char* kValidForms =
    "valid strategies: AllAtOnce; BlueGreen; Canary<P>Percent<N>Minutes or ...Seconds "
    "(e.g. Canary10Percent5Minutes, Canary20Percent30Seconds); "
    "Linear<P>PercentEvery<N>Minutes or ...Seconds (e.g. Linear10PercentEvery1Minute); "
    "or custom steps";

// Consumes a run of decimal digits from the front of `text`; false when there is none or
// it does not fit.
bool take_number(std::string_view& text, int& out) {
  size_t n = 0;
  while (n < text.size() && text[n] >= '0' && text[n] <= '9')
    ++n;
  if (n == 0 || n > 6) return false;
  std::from_chars(text.data(), text.data() + n, out);
  text.remove_prefix(n);
  return true;
}

bool take_literal(std::string_view& text, std::string_view literal) {
  if (text.substr(0, literal.size()) != literal) return false;
  text.remove_prefix(literal.size());
  return true;
}

// "Minutes", "Minute", "Seconds" or "Second" after <N>, exactly to the end of the name.
bool take_interval(std::string_view text, int amount, core::Duration& out) {
  if (text == "Minutes" || text == "Minute") {
    out = std::chrono::minutes(amount);
    return true;
  }
  if (text == "Seconds" || text == "Second") {
    out = std::chrono::seconds(amount);
    return true;
  }
  return false;
}

core::Failure invalid_name(std::string_view name, std::string_view why) {
  return core::fail(fmt::format("unknown strategy '{}'{}{}; {}", name, why.empty() ? "" : ": ", why,
                                kValidForms));
}

// "Canary10Percent5Minutes": P% for N, then 100%.
core::Result<Plan> parse_canary(std::string_view name, std::string_view rest) {
  int percent = 0;
  int amount = 0;
  core::Duration interval{};
  if (!take_number(rest, percent) || !take_literal(rest, "Percent") || !take_number(rest, amount) ||
      !take_interval(rest, amount, interval)) {
    return invalid_name(name, "");
  }
  if (percent < 1 || percent > 99) return invalid_name(name, "the canary percentage must be 1-99");
  if (amount < 1) return invalid_name(name, "the canary interval must be at least 1");
  Plan plan{std::string(name), StrategyKind::canary, {}, core::Duration(0)};
  plan.steps = {WeightStep{percent}, PauseStep{interval}, WeightStep{100}};
  return plan;
}

// "Linear10PercentEvery1Minute": +P% every N until 100%.
core::Result<Plan> parse_linear(std::string_view name, std::string_view rest) {
  int percent = 0;
  int amount = 0;
  core::Duration interval{};
  if (!take_number(rest, percent) || !take_literal(rest, "PercentEvery") ||
      !take_number(rest, amount) || !take_interval(rest, amount, interval)) {
    return invalid_name(name, "");
  }
  if (percent < 1 || percent > 99) return invalid_name(name, "the increment must be 1-99 percent");
  if (amount < 1) return invalid_name(name, "the interval must be at least 1");
  Plan plan{std::string(name), StrategyKind::linear, {}, core::Duration(0)};
  for (int weight = percent; weight < 100; weight += percent) {
    plan.steps.emplace_back(WeightStep{weight});
    plan.steps.emplace_back(PauseStep{interval});
  }
  plan.steps.emplace_back(WeightStep{100});
  return plan;
}

}  // namespace

core::Result<Plan> plan_from_strategy(std::string_view name, const BlueGreenOptions& options) {
  std::string_view rest = name;
  // CodeDeploy's own names: CodeDeployDefault.LambdaCanary10Percent5Minutes,
  // CodeDeployDefault.ECSLinear10PercentEvery1Minutes, CodeDeployDefault.AllAtOnce.
  take_literal(rest, "CodeDeployDefault.");
  if (!take_literal(rest, "Lambda")) take_literal(rest, "ECS");

  if (rest == "AllAtOnce") {
    return Plan{std::string(name), StrategyKind::all_at_once, {WeightStep{100}}, core::Duration(0)};
  }
  if (rest == "BlueGreen") {
    if (options.bake.count() < 0 || options.keep_previous_warm.count() < 0) {
      return core::fail("BlueGreen: bake and keep_previous_warm must not be negative");
    }
    Plan plan{std::string(name), StrategyKind::blue_green, {}, options.keep_previous_warm};
    if (options.bake.count() > 0) plan.steps.emplace_back(PauseStep{options.bake});
    plan.steps.emplace_back(WeightStep{100});
    return plan;
  }
  if (take_literal(rest, "Canary")) return parse_canary(name, rest);
  if (take_literal(rest, "Linear")) return parse_linear(name, rest);
  return invalid_name(name, "");
}

core::Result<Plan> plan_from_steps(std::vector<Step> steps) {
  if (steps.empty()) return core::fail("steps: must list at least one step");
  if (steps.size() > kMaxSteps) {
    return core::fail(fmt::format("steps: at most {} steps", kMaxSteps));
  }
  int previous = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (const auto* weight = std::get_if<WeightStep>(&steps[i])) {
      if (weight->weight < 0 || weight->weight > 100) {
        return core::fail(
            fmt::format("steps[{}].weight: must be 0-100, got {}", i, weight->weight));
      }
      if (weight->weight < previous) {
        return core::fail(fmt::format(
            "steps[{}].weight: must not decrease ({} after {}); a rollback is what lowers traffic",
            i, weight->weight, previous));
      }
      previous = weight->weight;
    } else {
      const auto& pause = std::get<PauseStep>(steps[i]);
      if (pause.duration && pause.duration->count() <= 0) {
        return core::fail(
            fmt::format("steps[{}].pause: must be a positive duration, or {{}} to "
                        "wait for promote",
                        i));
      }
    }
  }
  if (previous < 100) steps.emplace_back(WeightStep{100});
  return Plan{"custom", StrategyKind::custom, std::move(steps), core::Duration(0)};
}

core::Duration planned_duration(const Plan& plan) {
  core::Duration total{0};
  for (const Step& step : plan.steps) {
    if (const auto* pause = std::get_if<PauseStep>(&step); pause && pause->duration) {
      total += *pause->duration;
    }
  }
  return total;
}

bool waits_for_promote(const Plan& plan) {
  for (const Step& step : plan.steps) {
    if (const auto* pause = std::get_if<PauseStep>(&step); pause && !pause->duration) return true;
  }
  return false;
}

const char* to_string(StrategyKind kind) {
  switch (kind) {
    case StrategyKind::all_at_once:
      return "all_at_once";
    case StrategyKind::canary:
      return "canary";
    case StrategyKind::linear:
      return "linear";
    case StrategyKind::blue_green:
      return "blue_green";
    case StrategyKind::custom:
      return "custom";
  }
  return "custom";
}

std::string describe(const Step& step) {
  if (const auto* weight = std::get_if<WeightStep>(&step)) {
    return fmt::format("weight {}%", weight->weight);
  }
  const auto& pause = std::get<PauseStep>(step);
  if (!pause.duration) return "pause until promoted";
  return fmt::format("pause {}", core::format_duration(*pause.duration));
}

}  // namespace glidepath::deploy
