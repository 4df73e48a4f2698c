#include "metrics/history.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "metrics/second_stats.h"

namespace glidepath::metrics {
namespace {

// One second of `requests` requests, `errors` of them 5xx, all taking `latency_us`.
SecondStats second_of(uint64_t requests, uint64_t errors, int64_t latency_us) {
  SecondStats s;
  for (uint64_t i = 0; i < requests; ++i)
    s.count(i < errors ? 503 : 200, 100, 1000);
  LatencyHistogram h;
  h.record(latency_us, requests);
  s.latency.assign(h);
  return s;
}

TEST(StatusClassTest, ClassifiesByHundreds) {
  EXPECT_EQ(status_class(101), StatusClass::informational);
  EXPECT_EQ(status_class(200), StatusClass::success);
  EXPECT_EQ(status_class(204), StatusClass::success);
  EXPECT_EQ(status_class(304), StatusClass::redirection);
  EXPECT_EQ(status_class(404), StatusClass::client_error);
  EXPECT_EQ(status_class(429), StatusClass::client_error);
  EXPECT_EQ(status_class(500), StatusClass::server_error);
  EXPECT_EQ(status_class(502), StatusClass::server_error);  // gateway-made
  EXPECT_EQ(status_class(504), StatusClass::server_error);  // gateway-made
  EXPECT_EQ(status_class(0), StatusClass::server_error);
  EXPECT_EQ(status_class(99), StatusClass::server_error);
  EXPECT_EQ(status_class(600), StatusClass::server_error);
  EXPECT_STREQ(to_string(StatusClass::redirection), "3xx");
}

TEST(RequestCountsTest, CountsAndAdds) {
  RequestCounts a;
  a.count(200, 10, 20);
  a.count(503, 1, 2);
  RequestCounts b;
  b.count(404, 5, 5);
  a.add(b);
  EXPECT_EQ(a.requests, 3u);
  EXPECT_EQ(a.status_2xx, 1u);
  EXPECT_EQ(a.status_4xx, 1u);
  EXPECT_EQ(a.status_5xx, 1u);
  EXPECT_EQ(a.bytes_in, 16u);
  EXPECT_EQ(a.bytes_out, 27u);
  EXPECT_DOUBLE_EQ(a.error_rate(), 1.0 / 3);
  EXPECT_EQ(RequestCounts{}.error_rate(), 0.0);
}

TEST(MetricsHistoryTest, AggregateIsHalfOpenAndMissingSecondsAreZero) {
  MetricsHistory history(900);
  history.add(0, 100, second_of(10, 1, 1'000));
  history.add(0, 101, second_of(20, 2, 3'000));
  // 102 missing
  history.add(0, 103, second_of(30, 0, 5'000));
  history.add(1, 101, second_of(99, 99, 9));  // another series does not leak in

  const PeriodAggregate all = history.aggregate(0, 100, 104);
  EXPECT_EQ(all.requests, 60u);
  EXPECT_EQ(all.status_5xx, 3u);
  EXPECT_EQ(all.status_2xx, 57u);
  EXPECT_EQ(all.bytes_in, 6000u);
  EXPECT_EQ(all.bytes_out, 60'000u);
  EXPECT_EQ(all.seconds_with_data, 3);
  EXPECT_EQ(all.latency.count(), 60u);
  EXPECT_EQ(all.latency.min(), 1'000);
  EXPECT_EQ(all.latency.max(), 5'000);
  EXPECT_EQ(all.from_second, 100);
  EXPECT_EQ(all.to_second, 104);

  EXPECT_EQ(history.aggregate(0, 100, 103).requests, 30u);  // 103 excluded
  EXPECT_EQ(history.aggregate(0, 102, 103).requests, 0u);   // the missing second
  EXPECT_EQ(history.aggregate(0, 102, 103).seconds_with_data, 0);
  EXPECT_EQ(history.aggregate(0, 104, 200).requests, 0u);
  EXPECT_EQ(history.aggregate(0, 101, 101).requests, 0u);  // empty range
  EXPECT_EQ(history.aggregate(7, 0, 1000).requests, 0u);   // unknown series

  const PeriodAggregate counts_only = history.aggregate(0, 100, 104, AggregateDetail::counts_only);
  EXPECT_EQ(counts_only.requests, 60u);
  EXPECT_EQ(counts_only.latency.count(), 0u);
}

TEST(MetricsHistoryTest, SameSecondAddedTwiceAddsUp) {
  // A late worker's contribution to a second the collector already delivered.
  MetricsHistory history;
  history.add(0, 50, second_of(10, 0, 100));
  LatencyHistogram late;
  late.record(200, 5);
  RequestCounts late_counts;
  for (int i = 0; i < 5; ++i)
    late_counts.count(500, 0, 0);
  history.add(0, 50, late_counts, late);
  const SecondStats s = history.at(0, 50);
  EXPECT_EQ(s.requests, 15u);
  EXPECT_EQ(s.status_5xx, 5u);
  EXPECT_EQ(s.latency.count(), 15u);
  EXPECT_EQ(s.latency.max(), 200);
  EXPECT_EQ(history.totals(0).requests, 15u);
}

TEST(MetricsHistoryTest, RingWrapsAroundAndOverwritesOldSeconds) {
  MetricsHistory history(10);
  for (int64_t second = 0; second < 25; ++second) {
    history.add(0, second, second_of(static_cast<uint64_t>(second + 1), 0, 100));
  }
  EXPECT_EQ(history.newest_second(), 24);
  for (int64_t second = 0; second < 15; ++second)
    EXPECT_EQ(history.at(0, second).requests, 0u);
  for (int64_t second = 15; second < 25; ++second) {
    EXPECT_EQ(history.at(0, second).requests, static_cast<uint64_t>(second + 1));
  }
  // Only 15..24 are still there: 16 + 17 + ... + 25.
  const PeriodAggregate all = history.aggregate(0, 0, 25);
  EXPECT_EQ(all.requests, 205u);
  EXPECT_EQ(all.seconds_with_data, 10);
  // Far-future ranges see nothing, even where the ring index would match.
  EXPECT_EQ(history.aggregate(0, 30, 35).requests, 0u);

  // A second older than the ring holds does not overwrite newer data, but still counts
  // in the totals (Prometheus counters never lose a request).
  history.add(0, 5, second_of(1000, 0, 100));
  EXPECT_EQ(history.at(0, 15).requests, 16u);
  EXPECT_EQ(history.at(0, 5).requests, 0u);
  EXPECT_EQ(history.totals(0).requests, 325u + 1000u);
}

TEST(MetricsHistoryTest, NegativeSecondsIndexTheRing) {
  MetricsHistory history(4);
  history.add(0, -3, second_of(3, 0, 1));
  history.add(0, -2, second_of(2, 0, 1));
  EXPECT_EQ(history.at(0, -3).requests, 3u);
  EXPECT_EQ(history.aggregate(0, -5, 0).requests, 5u);
}

TEST(MetricsHistoryTest, SeriesGivesOnePointPerSecondWithZerosForGaps) {
  MetricsHistory history(900);
  SecondStats busy;
  LatencyHistogram h;
  for (int i = 1; i <= 100; ++i) {
    busy.count(i <= 3 ? 502 : 200, 0, 0);
    h.record(i * 1000);
  }
  busy.latency.assign(h);
  history.add(2, 1000, busy);

  const std::vector<SecondSummary> points = history.series(2, 3, 1001);
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[0].second, 998);
  EXPECT_EQ(points[0].counts.requests, 0u);
  EXPECT_EQ(points[0].p99_us, 0);
  EXPECT_EQ(points[1].second, 999);
  EXPECT_EQ(points[2].second, 1000);
  EXPECT_EQ(points[2].counts.requests, 100u);
  EXPECT_EQ(points[2].counts.status_5xx, 3u);
  EXPECT_NEAR(points[2].p50_us, 50'000, 50'000 / 128.0);
  EXPECT_NEAR(points[2].p90_us, 90'000, 90'000 / 128.0);
  EXPECT_NEAR(points[2].p99_us, 99'000, 99'000 / 128.0);
  EXPECT_EQ(points[2].max_us, 100'000);

  EXPECT_EQ(history.series(2, 5000, 1001).size(), 900u);  // capped at the capacity
  EXPECT_TRUE(history.series(2, 0, 1001).empty());
  EXPECT_TRUE(history.series(2, -4, 1001).empty());
}

TEST(MetricsHistoryTest, TotalsCountDurationsUnderConservativeBounds) {
  MetricsHistory history;
  SecondStats s;
  LatencyHistogram h;
  for (int64_t latency : {400, 999, 1'000, 70'000'000}) {
    s.count(200, 0, 0);
    h.record(latency);
  }
  s.latency.assign(h);
  history.add(0, 1, s);
  const SeriesTotals t = history.totals(0);
  EXPECT_EQ(t.requests, 4u);
  EXPECT_EQ(t.latency_count, 4u);
  EXPECT_EQ(t.latency_sum_us, 70'002'399u);
  EXPECT_EQ(t.duration_buckets[0], 1u);  // 400 µs <= 0.0005
  EXPECT_EQ(t.duration_buckets[1], 1u);  // 999 µs: bucket [992, 999] <= 0.001
  EXPECT_EQ(t.duration_buckets[2], 1u);  // 1000 µs: bucket [1000, 1007] straddles 0.001
  EXPECT_EQ(t.duration_buckets[kDurationBoundCount], 1u);  // 70 s: +Inf
  EXPECT_EQ(history.all_totals().size(), 1u);
  EXPECT_EQ(history.totals(5), SeriesTotals{});
}

TEST(MetricsHistoryTest, EmptyHistory) {
  MetricsHistory history;
  EXPECT_EQ(history.newest_second(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(history.capacity_seconds(), 900u);
  EXPECT_EQ(history.at(0, 0), SecondStats{});
  EXPECT_TRUE(history.all_totals().empty());
}

}  // namespace
}  // namespace glidepath::metrics
