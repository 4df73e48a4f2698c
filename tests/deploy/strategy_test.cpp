#include "deploy/strategy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace glidepath::deploy {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

WeightStep W(int w) {
  return WeightStep{w};
}
PauseStep P(core::Duration d) {
  return PauseStep{d};
}

struct NamedCase {
  std::string name;
  StrategyKind kind;
  std::vector<Step> steps;
};

std::vector<Step> linear(int percent, core::Duration every) {
  std::vector<Step> steps;
  for (int w = percent; w < 100; w += percent) {
    steps.emplace_back(W(w));
    steps.emplace_back(P(every));
  }
  steps.emplace_back(W(100));
  return steps;
}

class StrategyNames : public testing::TestWithParam<NamedCase> {};

TEST_P(StrategyNames, CompilesToPlan) {
  const NamedCase& c = GetParam();
  auto plan = plan_from_strategy(c.name);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->strategy, c.name);
  EXPECT_EQ(plan->kind, c.kind);
  EXPECT_EQ(plan->steps, c.steps);
}

INSTANTIATE_TEST_SUITE_P(
    CodeDeployNames, StrategyNames,
    testing::Values(
        NamedCase{"AllAtOnce", StrategyKind::all_at_once, {W(100)}},
        NamedCase{"Canary10Percent5Minutes", StrategyKind::canary, {W(10), P(minutes(5)), W(100)}},
        NamedCase{
            "Canary10Percent10Minutes", StrategyKind::canary, {W(10), P(minutes(10)), W(100)}},
        NamedCase{
            "Canary10Percent15Minutes", StrategyKind::canary, {W(10), P(minutes(15)), W(100)}},
        NamedCase{
            "Canary10Percent30Minutes", StrategyKind::canary, {W(10), P(minutes(30)), W(100)}},
        NamedCase{
            "Canary20Percent30Seconds", StrategyKind::canary, {W(20), P(seconds(30)), W(100)}},
        NamedCase{"Canary1Percent1Minute", StrategyKind::canary, {W(1), P(minutes(1)), W(100)}},
        NamedCase{"Canary99Percent1Second", StrategyKind::canary, {W(99), P(seconds(1)), W(100)}},
        NamedCase{"Linear10PercentEvery1Minute", StrategyKind::linear, linear(10, minutes(1))},
        NamedCase{"Linear10PercentEvery2Minutes", StrategyKind::linear, linear(10, minutes(2))},
        NamedCase{"Linear10PercentEvery3Minutes", StrategyKind::linear, linear(10, minutes(3))},
        NamedCase{"Linear10PercentEvery10Minutes", StrategyKind::linear, linear(10, minutes(10))},
        NamedCase{"Linear25PercentEvery30Seconds",
                  StrategyKind::linear,
                  {W(25), P(seconds(30)), W(50), P(seconds(30)), W(75), P(seconds(30)), W(100)}},
        NamedCase{"Linear33PercentEvery1Second",
                  StrategyKind::linear,
                  {W(33), P(seconds(1)), W(66), P(seconds(1)), W(99), P(seconds(1)), W(100)}},
        NamedCase{"CodeDeployDefault.LambdaCanary10Percent5Minutes",
                  StrategyKind::canary,
                  {W(10), P(minutes(5)), W(100)}},
        NamedCase{"CodeDeployDefault.ECSLinear10PercentEvery1Minutes", StrategyKind::linear,
                  linear(10, minutes(1))},
        NamedCase{"CodeDeployDefault.LambdaAllAtOnce", StrategyKind::all_at_once, {W(100)}}));

TEST(Strategy, LinearWeightsRiseEveryInterval) {
  auto plan = plan_from_strategy("Linear10PercentEvery1Minute");
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->steps.size(), 19u);  // 10..90 each followed by a pause, then 100
  EXPECT_EQ(planned_duration(*plan), minutes(9));
  EXPECT_FALSE(waits_for_promote(*plan));
}

TEST(Strategy, BlueGreenBakesThenSwitchesAndKeepsPreviousWarm) {
  auto plan = plan_from_strategy("BlueGreen", BlueGreenOptions{seconds(30), minutes(10)});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->kind, StrategyKind::blue_green);
  EXPECT_EQ(plan->steps, (std::vector<Step>{P(seconds(30)), W(100)}));
  EXPECT_EQ(plan->keep_previous_warm, minutes(10));

  auto no_bake = plan_from_strategy("BlueGreen", BlueGreenOptions{seconds(0), seconds(0)});
  ASSERT_TRUE(no_bake.ok());
  EXPECT_EQ(no_bake->steps, (std::vector<Step>{W(100)}));
  EXPECT_EQ(no_bake->keep_previous_warm, seconds(0));
}

TEST(Strategy, OnlyBlueGreenKeepsThePreviousVersionWarm) {
  for (const char* name : {"AllAtOnce", "Canary10Percent5Minutes", "Linear10PercentEvery1Minute"}) {
    auto plan = plan_from_strategy(name, BlueGreenOptions{seconds(30), minutes(10)});
    ASSERT_TRUE(plan.ok()) << name;
    EXPECT_EQ(plan->keep_previous_warm, seconds(0)) << name;
  }
}

class InvalidStrategyNames : public testing::TestWithParam<std::string> {};

TEST_P(InvalidStrategyNames, AreRejectedWithTheValidForms) {
  auto plan = plan_from_strategy(GetParam());
  ASSERT_FALSE(plan.ok()) << GetParam();
  EXPECT_NE(plan.error().message.find("valid strategies"), std::string::npos)
      << plan.error().message;
  EXPECT_NE(plan.error().message.find("Canary<P>Percent<N>Minutes"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Typos, InvalidStrategyNames,
                         testing::Values("", "Canary", "canary10percent5minutes", "Canary10Percent",
                                         "Canary10Percent5", "Canary0Percent5Minutes",
                                         "Canary100Percent5Minutes", "Canary10Percent0Minutes",
                                         "Canary10Percent5Hours", "Canary10Percent5Minutes ",
                                         " AllAtOnce", "Canary1234567Percent5Minutes",
                                         "Canary10Percent1234567Minutes", "Linear10PercentEvery1",
                                         "Linear0PercentEvery1Minute",
                                         "Linear100PercentEvery1Minute", "Linear10Percent1Minute",
                                         "Linear-10PercentEvery1Minute", "BlueGreenX", "AllAtOnce2",
                                         "CodeDeployDefault.", "CodeDeployDefault.Lambda"));

TEST(CustomSteps, KeepTheStepsAndEndAtFullTraffic) {
  auto plan = plan_from_steps({W(5), P(seconds(30)), W(25), P(minutes(1))});
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->kind, StrategyKind::custom);
  EXPECT_EQ(plan->strategy, "custom");
  EXPECT_EQ(plan->steps, (std::vector<Step>{W(5), P(seconds(30)), W(25), P(minutes(1)), W(100)}));
  EXPECT_EQ(planned_duration(*plan), seconds(90));
}

TEST(CustomSteps, IndefinitePauseWaitsForPromote) {
  auto plan = plan_from_steps({W(5), PauseStep{}, W(100)});
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(waits_for_promote(*plan));
  EXPECT_EQ(describe(plan->steps[1]), "pause until promoted");
  EXPECT_EQ(describe(plan->steps[0]), "weight 5%");
  EXPECT_EQ(describe(Step{P(minutes(5))}), "pause 5m");
}

TEST(CustomSteps, ABakeAtFullTrafficIsKept) {
  auto plan = plan_from_steps({W(50), W(100), P(minutes(2))});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->steps, (std::vector<Step>{W(50), W(100), P(minutes(2))}));
}

TEST(CustomSteps, RejectImpossibleSteps) {
  struct Case {
    std::vector<Step> steps;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{}, "at least one step"},
      {{W(120)}, "steps[0].weight: must be 0-100"},
      {{W(-1)}, "steps[0].weight: must be 0-100"},
      {{W(50), W(20)}, "steps[1].weight: must not decrease"},
      {{W(10), P(seconds(0))}, "steps[1].pause: must be a positive duration"},
      {{W(10), P(seconds(-5))}, "steps[1].pause"},
  };
  for (const Case& c : cases) {
    auto plan = plan_from_steps(c.steps);
    ASSERT_FALSE(plan.ok()) << c.expected;
    EXPECT_NE(plan.error().message.find(c.expected), std::string::npos) << plan.error().message;
  }
  std::vector<Step> too_many(1001, Step{W(1)});
  EXPECT_FALSE(plan_from_steps(too_many).ok());
}

}  // namespace
}  // namespace glidepath::deploy
