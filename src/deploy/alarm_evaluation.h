// Alarm evaluation: one-second metric history + an AlarmRule → ok | alarm |
// insufficient_data (SPEC sections 2 and 3). A pure function of the history and the time
// it is given (STYLE.md habit 1); the controller loop calls it every evaluation_interval.
//
// Semantics, after CloudWatch's "M out of N":
//  - Periods. P = rule.period in whole seconds (at least 1). The current second
//    (now_second) is still being filled, so the newest period is
//    [now_second - P, now_second), the one before [now_second - 2P, now_second - P), and
//    so on: N = evaluation_periods periods, newest first.
//  - Missing datapoints. A period is missing when it starts before since_second (the
//    deployment's start: data from before it describes another traffic split), or when
//    the evaluated series had fewer than rule.min_requests requests in it. Exactly
//    min_requests is enough. A latency metric is also missing for a period with no
//    requests at all (there is no latency to measure), even with min_requests 0.
//  - Values. error_rate = 5xx / requests (0 with no requests), status_5xx = the count of
//    5xx, request_rate = requests / P (per second), latency_pXX = that percentile of the
//    period's merged histogram, in seconds.
//  - Target. AlarmTarget::canary evaluates the canary series, ::stable the stable one.
//    relative_to_stable (canary alarms only; ignored on stable alarms, which validation
//    rejects) compares canary value minus stable value for the same period; the period is
//    missing when either side is.
//    min_requests applies exactly as written, also to request_rate: to alarm on traffic
//    that drops to nothing (request_rate < x), set min_requests: 0.
//  - Verdict. B = breaching datapoints (breaches(comparison, value, threshold)), D =
//    present datapoints, M = datapoints_to_alarm. No datapoint at all → insufficient_data;
//    B >= M → alarm; B + (N - D) >= M, so the missing periods could still make it an
//    alarm → insufficient_data; otherwise ok.
//  - Result. value = the newest present datapoint's value (nullopt when none);
//    breaching_periods = B.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "deploy/alarm.h"
#include "metrics/series_id.h"

namespace glidepath::metrics {
class MetricsHistory;
}

namespace glidepath::deploy {

// The two series a deployment's alarms read: the new version's and the previous one's.
struct AlarmSeries {
  metrics::SeriesId canary = 0;
  metrics::SeriesId stable = 0;
};

// The time an evaluation runs at, in epoch seconds.
struct AlarmClock {
  int64_t now_second = 0;    // the second in progress; the newest period ends before it
  int64_t since_second = 0;  // periods starting before this one are missing
};

// One datapoint per period, newest first (evaluation_periods entries); nullopt = missing.
std::vector<std::optional<double>> alarm_datapoints(const AlarmRule& rule,
                                                    const metrics::MetricsHistory& history,
                                                    const AlarmSeries& series,
                                                    const AlarmClock& clock);

// The M-of-N verdict from the counts above (datapoints_to_alarm below 1 counts as 1).
AlarmState alarm_verdict(int evaluation_periods, int datapoints_to_alarm, int present,
                         int breaching);

AlarmResult evaluate_alarm(const AlarmRule& rule, const metrics::MetricsHistory& history,
                           const AlarmSeries& series, const AlarmClock& clock);

// evaluate_alarm for each rule, in order (Observations::alarms for the reconcile loop).
std::vector<AlarmResult> evaluate_alarms(std::span<const AlarmRule> rules,
                                         const metrics::MetricsHistory& history,
                                         const AlarmSeries& series, const AlarmClock& clock);

}  // namespace glidepath::deploy
