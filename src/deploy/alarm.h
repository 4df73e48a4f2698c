// What an alarm watches and when it fires (SPEC section 2, `alarms`). Evaluation against
// metric windows lives in alarm_evaluation.h; these are the plain value types shared by
// the config file, the admin API, the store and the controller.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace glidepath::deploy {

enum class Metric {
  error_rate,    // 5xx responses (gateway-made 502/504 included) / requests, a ratio 0..1
  status_5xx,    // count of 5xx responses in the period
  request_rate,  // requests per second over the period
  latency_p50,   // seconds
  latency_p90,   // seconds
  latency_p99,   // seconds
};
enum class AlarmTarget { canary, stable };
enum class Comparison { greater, greater_or_equal, less, less_or_equal };
enum class AlarmState { ok, alarm, insufficient_data };

struct AlarmRule {
  std::string name;
  Metric metric = Metric::error_rate;
  AlarmTarget version = AlarmTarget::canary;
  Comparison comparison = Comparison::greater;
  // A ratio for error_rate, a count for status_5xx, requests/s for request_rate, seconds
  // for latencies (the config file writes latencies as durations: 250ms).
  double threshold = 0.05;
  // When true the compared value is canary minus stable, period by period.
  bool relative_to_stable = false;
  core::Duration period = std::chrono::seconds(1);  // whole seconds
  int evaluation_periods = 3;                       // N
  int datapoints_to_alarm = 2;                      // M: M of N breaching periods fire
  uint64_t min_requests = 10;  // fewer requests in a period make it a missing datapoint
  friend bool operator==(const AlarmRule&, const AlarmRule&) = default;
};

// SPEC section 2: with no alarms configured, canary error_rate > 0.05, 2 of 3 one-second
// periods, min_requests 10.
AlarmRule default_alarm();

struct AlarmResult {
  std::string name;
  AlarmState state = AlarmState::insufficient_data;
  std::optional<double> value;  // the newest period's value, when it had data
  int breaching_periods = 0;    // of the last evaluation_periods
  friend bool operator==(const AlarmResult&, const AlarmResult&) = default;
};

const char* to_string(Metric m);
const char* to_string(AlarmTarget t);
const char* to_string(Comparison c);  // ">", ">=", "<", "<="
const char* to_string(AlarmState s);
std::optional<Metric> metric_from_string(std::string_view s);
std::optional<AlarmTarget> alarm_target_from_string(std::string_view s);
std::optional<Comparison> comparison_from_string(std::string_view s);
std::optional<AlarmState> alarm_state_from_string(std::string_view s);
bool is_latency(Metric m);

// Whether `value` breaches `threshold` under `comparison`.
bool breaches(Comparison comparison, double value, double threshold);

// A problem with one field of a value, for callers that add their own path prefix
// (the config file: "services[0].deployment.alarms[1]."; the admin API: "alarms[1].").
struct FieldError {
  std::string field;  // "datapoints_to_alarm"
  std::string message;
};
// Every impossible setting of a rule: M > N, a period that is not whole seconds, a
// ratio outside 0..1 for error_rate, a negative threshold, an empty name.
std::vector<FieldError> validate_alarm_rule(const AlarmRule& rule);

}  // namespace glidepath::deploy
