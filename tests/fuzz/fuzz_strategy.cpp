// Fuzz target for strategy names (SPEC section 3, STYLE.md habit 5): any input either
// fails with a message or compiles to a plan the reconcile loop can walk. A plan that
// breaks its promises traps, so libFuzzer keeps the input as a reproducer.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <variant>

#include "deploy/strategy.h"

namespace {

using namespace glidepath;

void require(bool holds, const char* what) {
  if (holds) return;
  std::fprintf(stderr, "fuzz_strategy: invariant broken: %s\n", what);
  __builtin_trap();
}

void check_plan(std::string_view name, const deploy::BlueGreenOptions& options) {
  const auto plan = deploy::plan_from_strategy(name, options);
  if (!plan) {
    require(!plan.error().message.empty(), "a refused strategy says why");
    return;
  }
  require(plan->strategy == name, "the plan keeps the name as given");
  require(plan->kind != deploy::StrategyKind::custom, "a named strategy is not custom");
  require(!plan->steps.empty(), "a plan has steps");
  const auto* last = std::get_if<deploy::WeightStep>(&plan->steps.back());
  require(last != nullptr && last->weight == 100, "a plan ends with WeightStep{100}");

  int previous = 0;
  for (const deploy::Step& step : plan->steps) {
    if (const auto* weight = std::get_if<deploy::WeightStep>(&step)) {
      require(weight->weight >= 0 && weight->weight <= 100, "weights are 0..100");
      require(weight->weight >= previous, "weights never decrease");
      previous = weight->weight;
    } else {
      const auto& pause = std::get<deploy::PauseStep>(step);
      require(!pause.duration || pause.duration->count() > 0, "timed pauses are positive");
    }
    require(!deploy::describe(step).empty(), "every step can be described");
  }
  require(deploy::planned_duration(*plan).count() >= 0, "a plan takes no negative time");
  require(!deploy::waits_for_promote(*plan), "a named strategy never waits for promote");

  // A named plan is also a valid custom plan with the same steps.
  const auto custom = deploy::plan_from_steps(plan->steps);
  require(custom.ok(), "a named plan's steps are a valid custom plan");
  require(custom.ok() && custom->steps == plan->steps, "plan_from_steps keeps valid steps");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view name(reinterpret_cast<const char*>(data), size);
  check_plan(name, {});
  // Blue/green options vary with the input so both the baked and unbaked forms are seen.
  const deploy::BlueGreenOptions options{std::chrono::seconds(size % 3 * 30),
                                         std::chrono::minutes(size % 11)};
  check_plan(name, options);
  return 0;
}
