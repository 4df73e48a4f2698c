#include "deploy/alarm_evaluation.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "metrics/history.h"

namespace glidepath::deploy {
namespace {

using std::chrono::seconds;

constexpr metrics::SeriesId kCanary = 0;
constexpr metrics::SeriesId kStable = 1;
constexpr AlarmSeries kSeries{kCanary, kStable};
constexpr int64_t kNow = 1000;  // the second in progress: the newest period is [999, 1000)
constexpr AlarmClock kClock{kNow, 0};

// What one series did in one second.
struct Traffic {
  uint64_t requests = 0;
  uint64_t errors = 0;  // 5xx among them
  int64_t latency_us = 1'000;
};

void put(metrics::MetricsHistory& history, metrics::SeriesId series, int64_t second,
         Traffic traffic) {
  metrics::SecondStats stats;
  for (uint64_t i = 0; i < traffic.requests; ++i)
    stats.count(i < traffic.errors ? 500 : 200, 0, 0);
  metrics::LatencyHistogram latency;
  latency.record(traffic.latency_us, traffic.requests);
  stats.latency.assign(latency);
  history.add(series, second, stats);
}

// Puts `newest_first[k]` into the one-second period k back from kNow.
void put_periods(metrics::MetricsHistory& history, metrics::SeriesId series,
                 const std::vector<std::optional<Traffic>>& newest_first) {
  for (size_t k = 0; k < newest_first.size(); ++k) {
    if (newest_first[k]) put(history, series, kNow - 1 - static_cast<int64_t>(k), *newest_first[k]);
  }
}

AlarmRule rule_with(Metric metric, Comparison comparison, double threshold) {
  AlarmRule rule = default_alarm();
  rule.name = "test";
  rule.metric = metric;
  rule.comparison = comparison;
  rule.threshold = threshold;
  return rule;
}

// ---- the M-of-N verdict ----

TEST(AlarmVerdictTest, Table) {
  struct Case {
    int n, m, present, breaching;
    AlarmState expected;
  };
  const Case cases[] = {
      {3, 2, 3, 2, AlarmState::alarm},  // exactly M
      {3, 2, 3, 3, AlarmState::alarm},
      {3, 2, 2, 2, AlarmState::alarm},              // M breaching even with one missing
      {3, 2, 3, 1, AlarmState::ok},                 // M-1, nothing missing
      {3, 2, 2, 1, AlarmState::insufficient_data},  // M-1, the missing one could be M
      {3, 2, 2, 0, AlarmState::ok},                 // 0 + 1 missing < 2
      {3, 2, 1, 0, AlarmState::insufficient_data},  // 0 + 2 missing >= 2
      {3, 2, 0, 0, AlarmState::insufficient_data},  // nothing at all
      {3, 1, 0, 0, AlarmState::insufficient_data},
      {1, 1, 1, 1, AlarmState::alarm},
      {1, 1, 1, 0, AlarmState::ok},
      {1, 1, 0, 0, AlarmState::insufficient_data},
      {5, 5, 4, 4, AlarmState::insufficient_data},
      {5, 5, 5, 4, AlarmState::ok},
      {5, 3, 5, 3, AlarmState::alarm},
      {3, 0, 3, 0, AlarmState::ok},  // M < 1 counts as 1
  };
  for (const Case& c : cases) {
    EXPECT_EQ(alarm_verdict(c.n, c.m, c.present, c.breaching), c.expected)
        << "N=" << c.n << " M=" << c.m << " present=" << c.present << " breaching=" << c.breaching;
  }
}

// ---- M of N on the default rule: canary error_rate > 0.05, 2 of 3, min_requests 10 ----

TEST(EvaluateAlarmTest, ErrorRateMofNTable) {
  struct Case {
    std::string name;
    std::vector<std::optional<Traffic>> canary;  // per one-second period, newest first
    int64_t since = 0;
    AlarmState state;
    int breaching;
    std::optional<double> value;
  };
  const Case cases[] = {
      {"exactly M breaching",
       {Traffic{100, 10}, Traffic{100, 10}, Traffic{100, 0}},
       0,
       AlarmState::alarm,
       2,
       0.1},
      {"all breaching",
       {Traffic{100, 50}, Traffic{100, 10}, Traffic{100, 6}},
       0,
       AlarmState::alarm,
       3,
       0.5},
      {"breaching oldest two",
       {Traffic{100, 0}, Traffic{100, 10}, Traffic{100, 10}},
       0,
       AlarmState::alarm,
       2,
       0.0},
      {"M-1 breaching, none missing",
       {Traffic{100, 10}, Traffic{100, 0}, Traffic{100, 0}},
       0,
       AlarmState::ok,
       1,
       0.1},
      {"M-1 breaching, one below min_requests",
       {Traffic{100, 10}, Traffic{5, 5}, Traffic{100, 0}},
       0,
       AlarmState::insufficient_data,
       1,
       0.1},
      {"M-1 breaching, one with no data",
       {Traffic{100, 10}, std::nullopt, Traffic{100, 0}},
       0,
       AlarmState::insufficient_data,
       1,
       0.1},
      {"healthy with one missing",
       {std::nullopt, Traffic{100, 0}, Traffic{100, 1}},
       0,
       AlarmState::ok,
       0,
       0.0},
      {"all missing", {}, 0, AlarmState::insufficient_data, 0, std::nullopt},
      {"zero traffic",
       {Traffic{0, 0}, Traffic{0, 0}, Traffic{0, 0}},
       0,
       AlarmState::insufficient_data,
       0,
       std::nullopt},
      {"exactly min_requests counts as present",
       {Traffic{10, 1}, Traffic{10, 1}, Traffic{9, 9}},
       0,
       AlarmState::alarm,
       2,
       0.1},
      {"one below min_requests is missing",
       {Traffic{9, 9}, Traffic{9, 9}, Traffic{100, 0}},
       0,
       AlarmState::insufficient_data,
       0,
       0.0},
      {"threshold itself does not breach '>'",
       {Traffic{100, 5}, Traffic{100, 5}, Traffic{100, 5}},
       0,
       AlarmState::ok,
       0,
       0.05},
      {"since excludes all but the newest",
       {Traffic{100, 10}, Traffic{100, 10}, Traffic{100, 10}},
       999,
       AlarmState::insufficient_data,
       1,
       0.1},
      {"since excludes the oldest",
       {Traffic{100, 10}, Traffic{100, 10}, Traffic{100, 10}},
       998,
       AlarmState::alarm,
       2,
       0.1},
      {"errors before the deployment do not count",
       {Traffic{100, 0}, Traffic{100, 0}, Traffic{100, 90}},
       998,
       AlarmState::ok,
       0,
       0.0},
      {"since in the future excludes everything",
       {Traffic{100, 10}, Traffic{100, 10}, Traffic{100, 10}},
       1000,
       AlarmState::insufficient_data,
       0,
       std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    metrics::MetricsHistory history;
    put_periods(history, kCanary, c.canary);
    put(history, kStable, kNow - 1, Traffic{100, 100});  // the stable series never leaks in
    const AlarmResult result =
        evaluate_alarm(default_alarm(), history, kSeries, AlarmClock{kNow, c.since});
    EXPECT_EQ(result.name, "canary-errors");
    EXPECT_EQ(result.state, c.state);
    EXPECT_EQ(result.breaching_periods, c.breaching);
    ASSERT_EQ(result.value.has_value(), c.value.has_value());
    if (c.value) {
      EXPECT_DOUBLE_EQ(*result.value, *c.value);
    }
  }
}

TEST(EvaluateAlarmTest, TheSecondInProgressIsNotEvaluated) {
  metrics::MetricsHistory history;
  put(history, kCanary, kNow, {100, 100});
  const AlarmResult result = evaluate_alarm(default_alarm(), history, kSeries, kClock);
  EXPECT_EQ(result.state, AlarmState::insufficient_data);
  EXPECT_EQ(result.value, std::nullopt);
  // One second later it is the newest complete period.
  EXPECT_EQ(evaluate_alarm(default_alarm(), history, kSeries, AlarmClock{kNow + 1, 0}).value, 1.0);
}

TEST(EvaluateAlarmTest, DatapointsAreNewestFirstWithMissingOnes) {
  metrics::MetricsHistory history;
  put_periods(history, kCanary, {Traffic{100, 20}, std::nullopt, Traffic{50, 5}});
  const auto points = alarm_datapoints(default_alarm(), history, kSeries, kClock);
  ASSERT_EQ(points.size(), 3u);
  EXPECT_DOUBLE_EQ(points[0].value(), 0.2);
  EXPECT_FALSE(points[1].has_value());
  EXPECT_DOUBLE_EQ(points[2].value(), 0.1);
}

TEST(EvaluateAlarmTest, LongerPeriodsAggregateTheirSeconds) {
  // period 5 s, 2 of 2: periods [995, 1000) and [990, 995). No single second has
  // min_requests, but each period has.
  AlarmRule rule = default_alarm();
  rule.period = seconds(5);
  rule.evaluation_periods = 2;
  rule.datapoints_to_alarm = 2;
  metrics::MetricsHistory history;
  for (int64_t s = 995; s < 1000; ++s)
    put(history, kCanary, s, {4, 1});  // 20 requests, 25%
  for (int64_t s = 990; s < 995; ++s)
    put(history, kCanary, s, {3, 0});       // 15 requests, 0%
  put(history, kCanary, 989, {100, 100});   // before both periods
  put(history, kCanary, 1000, {100, 100});  // the second in progress

  const auto points = alarm_datapoints(rule, history, kSeries, kClock);
  ASSERT_EQ(points.size(), 2u);
  EXPECT_DOUBLE_EQ(points[0].value(), 0.25);
  EXPECT_DOUBLE_EQ(points[1].value(), 0.0);
  AlarmResult result = evaluate_alarm(rule, history, kSeries, kClock);
  EXPECT_EQ(result.state, AlarmState::ok);
  EXPECT_EQ(result.breaching_periods, 1);

  // A deployment that started at 992 has only the newest period.
  result = evaluate_alarm(rule, history, kSeries, AlarmClock{kNow, 992});
  EXPECT_EQ(result.state, AlarmState::insufficient_data);
  EXPECT_EQ(result.breaching_periods, 1);

  // With min_requests 16 the older period (15 requests) is missing.
  rule.min_requests = 16;
  rule.datapoints_to_alarm = 1;
  result = evaluate_alarm(rule, history, kSeries, kClock);
  EXPECT_EQ(result.state, AlarmState::alarm);
  EXPECT_EQ(alarm_datapoints(rule, history, kSeries, kClock)[1], std::nullopt);
}

TEST(EvaluateAlarmTest, Status5xxCountsErrors) {
  AlarmRule rule = rule_with(Metric::status_5xx, Comparison::greater_or_equal, 5);
  metrics::MetricsHistory history;
  put_periods(history, kCanary, {Traffic{100, 5}, Traffic{100, 4}, Traffic{1000, 6}});
  const AlarmResult result = evaluate_alarm(rule, history, kSeries, kClock);
  EXPECT_EQ(result.state, AlarmState::alarm);
  EXPECT_EQ(result.breaching_periods, 2);
  EXPECT_EQ(result.value, 5.0);
}

TEST(EvaluateAlarmTest, RequestRateIsPerSecondOverThePeriod) {
  AlarmRule rule = rule_with(Metric::request_rate, Comparison::greater, 30);
  rule.period = seconds(2);
  rule.evaluation_periods = 1;
  rule.datapoints_to_alarm = 1;
  metrics::MetricsHistory history;
  put(history, kCanary, 998, {40, 0});
  put(history, kCanary, 999, {30, 0});
  const AlarmResult result = evaluate_alarm(rule, history, kSeries, kClock);
  EXPECT_EQ(result.value, 35.0);
  EXPECT_EQ(result.state, AlarmState::alarm);
}

TEST(EvaluateAlarmTest, RequestRateDropNeedsMinRequestsZero) {
  // "canary traffic dropped": request_rate < 1 with min_requests as the user wrote it.
  AlarmRule rule = rule_with(Metric::request_rate, Comparison::less, 1);
  metrics::MetricsHistory history;
  put_periods(history, kCanary, {Traffic{0, 0}, std::nullopt, Traffic{100, 0}});

  rule.min_requests = 10;  // empty periods are missing: cannot alarm on silence
  AlarmResult result = evaluate_alarm(rule, history, kSeries, kClock);
  EXPECT_EQ(result.state, AlarmState::insufficient_data);
  EXPECT_EQ(result.breaching_periods, 0);
  EXPECT_EQ(result.value, 100.0);

  rule.min_requests = 0;  // every period is present; silence is a value of 0
  result = evaluate_alarm(rule, history, kSeries, kClock);
  EXPECT_EQ(result.state, AlarmState::alarm);
  EXPECT_EQ(result.breaching_periods, 2);
  EXPECT_EQ(result.value, 0.0);
}

TEST(EvaluateAlarmTest, ErrorRateWithNoRequestsAndMinRequestsZeroIsZero) {
  AlarmRule rule = default_alarm();
  rule.min_requests = 0;
  metrics::MetricsHistory history;
  const AlarmResult result = evaluate_alarm(rule, history, kSeries, kClock);
  EXPECT_EQ(result.state, AlarmState::ok);
  EXPECT_EQ(result.value, 0.0);
}

TEST(EvaluateAlarmTest, LatencyPercentilesInSeconds) {
  // One period of 100 requests: 50 at 10 ms, 40 at 100 ms, 10 at 1 s.
  metrics::MetricsHistory history;
  metrics::SecondStats stats;
  metrics::LatencyHistogram latency;
  for (int i = 0; i < 100; ++i) {
    stats.count(200, 0, 0);
    latency.record(i < 50 ? 10'000 : (i < 90 ? 100'000 : 1'000'000));
  }
  stats.latency.assign(latency);
  history.add(kCanary, kNow - 1, stats);

  struct Case {
    Metric metric;
    double expected_seconds;
  };
  for (const Case& c : {Case{Metric::latency_p50, 0.010}, Case{Metric::latency_p90, 0.100},
                        Case{Metric::latency_p99, 1.0}}) {
    SCOPED_TRACE(to_string(c.metric));
    AlarmRule rule = rule_with(c.metric, Comparison::greater, c.expected_seconds * 0.9);
    rule.evaluation_periods = 1;
    rule.datapoints_to_alarm = 1;
    AlarmResult result = evaluate_alarm(rule, history, kSeries, kClock);
    ASSERT_TRUE(result.value.has_value());
    EXPECT_NEAR(*result.value, c.expected_seconds, c.expected_seconds / 100);
    EXPECT_EQ(result.state, AlarmState::alarm);
    rule.threshold = c.expected_seconds * 1.1;
    EXPECT_EQ(evaluate_alarm(rule, history, kSeries, kClock).state, AlarmState::ok);
  }
}

TEST(EvaluateAlarmTest, LatencyWithoutRequestsIsMissingEvenWithMinRequestsZero) {
  AlarmRule rule = rule_with(Metric::latency_p99, Comparison::less, 1.0);
  rule.min_requests = 0;
  metrics::MetricsHistory history;
  const AlarmResult result = evaluate_alarm(rule, history, kSeries, kClock);
  EXPECT_EQ(result.state, AlarmState::insufficient_data);
  EXPECT_EQ(result.value, std::nullopt);
}

TEST(EvaluateAlarmTest, RelativeToStableComparesTheDifference) {
  AlarmRule rule = default_alarm();  // error_rate > 0.05, 2 of 3, min 10
  rule.relative_to_stable = true;
  {
    SCOPED_TRACE("canary 12% vs stable 10%: +2 points");
    metrics::MetricsHistory history;
    put_periods(history, kCanary, {Traffic{100, 12}, Traffic{100, 12}, Traffic{100, 12}});
    put_periods(history, kStable, {Traffic{1000, 100}, Traffic{1000, 100}, Traffic{1000, 100}});
    const AlarmResult result = evaluate_alarm(rule, history, kSeries, kClock);
    EXPECT_EQ(result.state, AlarmState::ok);
    EXPECT_NEAR(result.value.value(), 0.02, 1e-12);
  }
  {
    SCOPED_TRACE("canary 12% vs stable 0%");
    metrics::MetricsHistory history;
    put_periods(history, kCanary, {Traffic{100, 12}, Traffic{100, 12}, Traffic{100, 0}});
    put_periods(history, kStable, {Traffic{1000, 0}, Traffic{1000, 0}, Traffic{1000, 0}});
    const AlarmResult result = evaluate_alarm(rule, history, kSeries, kClock);
    EXPECT_EQ(result.state, AlarmState::alarm);
    EXPECT_EQ(result.breaching_periods, 2);
    EXPECT_NEAR(result.value.value(), 0.12, 1e-12);
  }
  {
    SCOPED_TRACE("stable below min_requests: missing");
    metrics::MetricsHistory history;
    put_periods(history, kCanary, {Traffic{100, 50}, Traffic{100, 50}, Traffic{100, 50}});
    put_periods(history, kStable, {Traffic{9, 0}, Traffic{1000, 0}, Traffic{9, 0}});
    const AlarmResult result = evaluate_alarm(rule, history, kSeries, kClock);
    EXPECT_EQ(result.state, AlarmState::insufficient_data);
    EXPECT_EQ(result.breaching_periods, 1);
    EXPECT_EQ(alarm_datapoints(rule, history, kSeries, kClock)[0], std::nullopt);
  }
  {
    SCOPED_TRACE("latency difference in seconds");
    AlarmRule latency_rule = rule_with(Metric::latency_p99, Comparison::greater, 0.1);
    latency_rule.relative_to_stable = true;
    metrics::MetricsHistory history;
    put_periods(history, kCanary, {Traffic{100, 0, 300'000}, Traffic{100, 0, 300'000}});
    put_periods(history, kStable, {Traffic{100, 0, 100'000}, Traffic{100, 0, 250'000}});
    const AlarmResult result = evaluate_alarm(latency_rule, history, kSeries, kClock);
    EXPECT_EQ(result.breaching_periods, 1);
    EXPECT_EQ(result.state, AlarmState::insufficient_data);  // 1 + 1 missing >= 2
    EXPECT_NEAR(result.value.value(), 0.2, 0.2 * 0.01);
  }
}

TEST(EvaluateAlarmTest, StableTargetEvaluatesTheStableSeries) {
  AlarmRule rule = default_alarm();
  rule.version = AlarmTarget::stable;
  {
    metrics::MetricsHistory history;
    put_periods(history, kStable, {Traffic{100, 10}, Traffic{100, 10}, Traffic{100, 10}});
    put_periods(history, kCanary, {Traffic{100, 0}, Traffic{100, 0}, Traffic{100, 0}});
    EXPECT_EQ(evaluate_alarm(rule, history, kSeries, kClock).state, AlarmState::alarm);
  }
  {
    metrics::MetricsHistory history;
    put_periods(history, kStable, {Traffic{100, 0}, Traffic{100, 0}, Traffic{100, 0}});
    put_periods(history, kCanary, {Traffic{100, 90}, Traffic{100, 90}, Traffic{100, 90}});
    EXPECT_EQ(evaluate_alarm(rule, history, kSeries, kClock).state, AlarmState::ok);
    rule.relative_to_stable = true;  // not meaningful on a stable alarm: ignored
    EXPECT_EQ(evaluate_alarm(rule, history, kSeries, kClock).state, AlarmState::ok);
  }
}

TEST(EvaluateAlarmTest, EveryComparisonAtItsBoundary) {
  // status_5xx values 4, 5, 6 against threshold 5, one period each, 1 of 1.
  struct Case {
    Comparison comparison;
    uint64_t errors;
    bool breaching;
  };
  const Case cases[] = {
      {Comparison::greater, 4, false},
      {Comparison::greater, 5, false},
      {Comparison::greater, 6, true},
      {Comparison::greater_or_equal, 4, false},
      {Comparison::greater_or_equal, 5, true},
      {Comparison::greater_or_equal, 6, true},
      {Comparison::less, 4, true},
      {Comparison::less, 5, false},
      {Comparison::less, 6, false},
      {Comparison::less_or_equal, 4, true},
      {Comparison::less_or_equal, 5, true},
      {Comparison::less_or_equal, 6, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(to_string(c.comparison)) + " errors=" + std::to_string(c.errors));
    AlarmRule rule = rule_with(Metric::status_5xx, c.comparison, 5);
    rule.evaluation_periods = 1;
    rule.datapoints_to_alarm = 1;
    metrics::MetricsHistory history;
    put(history, kCanary, kNow - 1, {100, c.errors});
    const AlarmResult result = evaluate_alarm(rule, history, kSeries, kClock);
    EXPECT_EQ(result.state, c.breaching ? AlarmState::alarm : AlarmState::ok);
    EXPECT_EQ(result.breaching_periods, c.breaching ? 1 : 0);
  }
}

TEST(EvaluateAlarmTest, EvaluatesEveryRuleInOrder) {
  AlarmRule errors = default_alarm();
  AlarmRule slow = rule_with(Metric::latency_p99, Comparison::greater, 0.5);
  slow.name = "slow";
  const AlarmRule rules[] = {errors, slow};
  metrics::MetricsHistory history;
  put_periods(history, kCanary,
              {Traffic{100, 0, 800'000}, Traffic{100, 0, 800'000}, Traffic{100, 0, 800'000}});
  const std::vector<AlarmResult> results = evaluate_alarms(rules, history, kSeries, kClock);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].name, "canary-errors");
  EXPECT_EQ(results[0].state, AlarmState::ok);
  EXPECT_EQ(results[1].name, "slow");
  EXPECT_EQ(results[1].state, AlarmState::alarm);
  EXPECT_EQ(results[1].breaching_periods, 3);
}

}  // namespace
}  // namespace glidepath::deploy
