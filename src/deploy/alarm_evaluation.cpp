#include "deploy/alarm_evaluation.h"

#include <algorithm>
#include <chrono>

#include "metrics/history.h"

namespace glidepath::deploy {

namespace {

int64_t period_seconds(const AlarmRule& rule) {
  return std::max<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(rule.period).count(),
                           1);
}

double latency_quantile(Metric metric) {
  switch (metric) {
    case Metric::latency_p50:
      return 0.50;
    case Metric::latency_p90:
      return 0.90;
    case Metric::latency_p99:
      return 0.99;
    case Metric::error_rate:
    case Metric::status_5xx:
    case Metric::request_rate:
      break;
  }
  return 0.99;
}

// The rule's metric for one series over [from, to), or nullopt when that is a missing
// datapoint.
std::optional<double> period_value(const AlarmRule& rule, const metrics::MetricsHistory& history,
                                   metrics::SeriesId series, int64_t from, int64_t to) {
  const bool latency = is_latency(rule.metric);
  const metrics::PeriodAggregate period = history.aggregate(
      series, from, to,
      latency ? metrics::AggregateDetail::with_latency : metrics::AggregateDetail::counts_only);
  if (period.requests < rule.min_requests) return std::nullopt;
  switch (rule.metric) {
    case Metric::error_rate:
      return period.error_rate();
    case Metric::status_5xx:
      return static_cast<double>(period.status_5xx);
    case Metric::request_rate:
      return static_cast<double>(period.requests) / static_cast<double>(to - from);
    case Metric::latency_p50:
    case Metric::latency_p90:
    case Metric::latency_p99:
      break;
  }
  if (period.latency.count() == 0) return std::nullopt;
  return static_cast<double>(period.latency.percentile(latency_quantile(rule.metric))) / 1e6;
}

}  // namespace

std::vector<std::optional<double>> alarm_datapoints(const AlarmRule& rule,
                                                    const metrics::MetricsHistory& history,
                                                    const AlarmSeries& series,
                                                    const AlarmClock& clock) {
  const int64_t period = period_seconds(rule);
  const int periods = std::max(rule.evaluation_periods, 0);
  const bool on_stable = rule.version == AlarmTarget::stable;
  const metrics::SeriesId target = on_stable ? series.stable : series.canary;
  const bool relative = rule.relative_to_stable && !on_stable;

  std::vector<std::optional<double>> datapoints;
  datapoints.reserve(static_cast<size_t>(periods));
  for (int k = 0; k < periods; ++k) {
    const int64_t to = clock.now_second - k * period;
    const int64_t from = to - period;
    if (from < clock.since_second) {
      datapoints.emplace_back();
      continue;
    }
    std::optional<double> value = period_value(rule, history, target, from, to);
    if (value && relative) {
      const std::optional<double> stable = period_value(rule, history, series.stable, from, to);
      value = stable ? std::optional<double>(*value - *stable) : std::nullopt;
    }
    datapoints.push_back(value);
  }
  return datapoints;
}

AlarmState alarm_verdict(int evaluation_periods, int datapoints_to_alarm, int present,
                         int breaching) {
  const int needed = std::max(datapoints_to_alarm, 1);
  if (present <= 0) return AlarmState::insufficient_data;
  if (breaching >= needed) return AlarmState::alarm;
  const int missing = std::max(evaluation_periods - present, 0);
  if (breaching + missing >= needed) return AlarmState::insufficient_data;
  return AlarmState::ok;
}

AlarmResult evaluate_alarm(const AlarmRule& rule, const metrics::MetricsHistory& history,
                           const AlarmSeries& series, const AlarmClock& clock) {
  const std::vector<std::optional<double>> datapoints =
      alarm_datapoints(rule, history, series, clock);
  AlarmResult result;
  result.name = rule.name;
  int present = 0;
  for (const std::optional<double>& d : datapoints) {
    if (!d) continue;
    if (!result.value) result.value = *d;  // newest first
    ++present;
    if (breaches(rule.comparison, *d, rule.threshold)) ++result.breaching_periods;
  }
  result.state = alarm_verdict(rule.evaluation_periods, rule.datapoints_to_alarm, present,
                               result.breaching_periods);
  return result;
}

std::vector<AlarmResult> evaluate_alarms(std::span<const AlarmRule> rules,
                                         const metrics::MetricsHistory& history,
                                         const AlarmSeries& series, const AlarmClock& clock) {
  std::vector<AlarmResult> results;
  results.reserve(rules.size());
  for (const AlarmRule& rule : rules) {
    results.push_back(evaluate_alarm(rule, history, series, clock));
  }
  return results;
}

}  // namespace glidepath::deploy
