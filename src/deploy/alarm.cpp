#include "deploy/alarm.h"

#include <fmt/format.h>

#include <chrono>

namespace glidepath::deploy {

AlarmRule default_alarm() {
  AlarmRule rule;
  rule.name = "canary-errors";
  rule.metric = Metric::error_rate;
  rule.version = AlarmTarget::canary;
  rule.comparison = Comparison::greater;
  rule.threshold = 0.05;
  rule.period = std::chrono::seconds(1);
  rule.evaluation_periods = 3;
  rule.datapoints_to_alarm = 2;
  rule.min_requests = 10;
  return rule;
}

const char* to_string(Metric m) {
  switch (m) {
    case Metric::error_rate:
      return "error_rate";
    case Metric::status_5xx:
      return "status_5xx";
    case Metric::request_rate:
      return "request_rate";
    case Metric::latency_p50:
      return "latency_p50";
    case Metric::latency_p90:
      return "latency_p90";
    case Metric::latency_p99:
      return "latency_p99";
  }
  return "error_rate";
}

const char* to_string(AlarmTarget t) {
  return t == AlarmTarget::canary ? "canary" : "stable";
}

const char* to_string(Comparison c) {
  switch (c) {
    case Comparison::greater:
      return ">";
    case Comparison::greater_or_equal:
      return ">=";
    case Comparison::less:
      return "<";
    case Comparison::less_or_equal:
      return "<=";
  }
  return ">";
}

const char* to_string(AlarmState s) {
  switch (s) {
    case AlarmState::ok:
      return "ok";
    case AlarmState::alarm:
      return "alarm";
    case AlarmState::insufficient_data:
      return "insufficient_data";
  }
  return "insufficient_data";
}

std::optional<Metric> metric_from_string(std::string_view s) {
  for (Metric m : {Metric::error_rate, Metric::status_5xx, Metric::request_rate,
                   Metric::latency_p50, Metric::latency_p90, Metric::latency_p99}) {
    if (s == to_string(m)) return m;
  }
  return std::nullopt;
}

std::optional<AlarmTarget> alarm_target_from_string(std::string_view s) {
  if (s == "canary") return AlarmTarget::canary;
  if (s == "stable") return AlarmTarget::stable;
  return std::nullopt;
}

std::optional<Comparison> comparison_from_string(std::string_view s) {
  for (Comparison c : {Comparison::greater, Comparison::greater_or_equal, Comparison::less,
                       Comparison::less_or_equal}) {
    if (s == to_string(c)) return c;
  }
  return std::nullopt;
}

std::optional<AlarmState> alarm_state_from_string(std::string_view s) {
  for (AlarmState a : {AlarmState::ok, AlarmState::alarm, AlarmState::insufficient_data}) {
    if (s == to_string(a)) return a;
  }
  return std::nullopt;
}

bool is_latency(Metric m) {
  return m == Metric::latency_p50 || m == Metric::latency_p90 || m == Metric::latency_p99;
}

bool breaches(Comparison comparison, double value, double threshold) {
  switch (comparison) {
    case Comparison::greater:
      return value > threshold;
    case Comparison::greater_or_equal:
      return value >= threshold;
    case Comparison::less:
      return value < threshold;
    case Comparison::less_or_equal:
      return value <= threshold;
  }
  return false;
}

std::vector<FieldError> validate_alarm_rule(const AlarmRule& rule) {
  std::vector<FieldError> errors;
  if (rule.name.empty()) errors.push_back({"name", "must not be empty"});
  if (rule.period.count() <= 0 || rule.period.count() % 1'000'000 != 0) {
    errors.push_back({"period",
                      "must be a positive whole number of seconds (metric windows "
                      "are one second long)"});
  } else if (rule.period > std::chrono::minutes(15)) {
    errors.push_back({"period", "must be at most 15m (the metric history kept in memory)"});
  }
  if (rule.evaluation_periods < 1) {
    errors.push_back({"evaluation_periods", "must be at least 1"});
  }
  if (rule.datapoints_to_alarm < 1) {
    errors.push_back({"datapoints_to_alarm", "must be at least 1"});
  } else if (rule.datapoints_to_alarm > rule.evaluation_periods && rule.evaluation_periods >= 1) {
    errors.push_back({"datapoints_to_alarm",
                      fmt::format("must be <= evaluation_periods ({})", rule.evaluation_periods)});
  }
  if (rule.evaluation_periods >= 1 && rule.period.count() > 0 &&
      rule.period * rule.evaluation_periods > std::chrono::minutes(15)) {
    errors.push_back({"evaluation_periods",
                      "period × evaluation_periods must be at most 15m (the metric history)"});
  }
  if (rule.threshold != rule.threshold) {  // NaN
    errors.push_back({"threshold", "must be a number"});
  } else if (rule.metric == Metric::error_rate && !rule.relative_to_stable &&
             (rule.threshold < 0 || rule.threshold > 1)) {
    errors.push_back({"threshold", "error_rate is a ratio: must be between 0 and 1 (0.05 = 5%)"});
  } else if (rule.metric == Metric::error_rate && (rule.threshold < -1 || rule.threshold > 1)) {
    errors.push_back({"threshold", "error_rate difference must be between -1 and 1"});
  } else if (!rule.relative_to_stable && rule.threshold < 0) {
    errors.push_back({"threshold", "must not be negative"});
  }
  if (rule.relative_to_stable && rule.version == AlarmTarget::stable) {
    errors.push_back({"relative_to_stable", "applies to canary alarms only"});
  }
  return errors;
}

}  // namespace glidepath::deploy
