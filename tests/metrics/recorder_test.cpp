#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "metrics/collector.h"
#include "metrics/history.h"
#include "metrics/series_registry.h"
#include "metrics/worker_recorder.h"

namespace glidepath::metrics {
namespace {

TEST(SeriesRegistryTest, InternsStableIdsAndRefusesBeyondCapacity) {
  SeriesRegistry registry(3);
  const auto v1 = registry.intern("orders", "v1");
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(*v1, 0u);
  EXPECT_EQ(*registry.intern("orders", "v2"), 1u);
  EXPECT_EQ(*registry.intern("orders", "v1"), 0u);  // same pair, same id
  EXPECT_EQ(*registry.intern("users", "v1"), 2u);
  const auto full = registry.intern("users", "v2");
  ASSERT_FALSE(full.ok());
  EXPECT_NE(full.error().message.find("too many metric series"), std::string::npos);
  EXPECT_EQ(*registry.intern("users", "v1"), 2u);  // existing ones still resolve

  EXPECT_EQ(registry.find("orders", "v2"), std::optional<SeriesId>(1));
  EXPECT_EQ(registry.find("orders", "v9"), std::nullopt);
  EXPECT_EQ(registry.name(2), (SeriesName{"users", "v1"}));
  EXPECT_EQ(registry.name(3), std::nullopt);
  EXPECT_EQ(registry.size(), 3u);
  EXPECT_EQ(registry.names().size(), 3u);
  EXPECT_EQ(registry.max_series(), 3u);
}

TEST(WorkerRecorderTest, CompletedSecondIsHarvestedExactlyOnce) {
  WorkerRecorder worker(8);
  MetricsHistory history;
  MetricsCollector collector(history, {&worker});

  worker.record(1, 100, 200, 1'000, 10, 100);
  worker.record(1, 100, 201, 3'000, 10, 100);
  worker.record(1, 100, 302, 2'000, 10, 100);
  worker.record(1, 100, 404, 2'000, 10, 100);
  worker.record(1, 100, 502, 9'000, 10, 100);  // gateway-made: the version's error
  worker.record(1, 100, 101, 5, 10, 100);
  worker.record(3, 100, 200, 7, 1, 1);
  EXPECT_EQ(worker.completed_before(), 100);
  EXPECT_EQ(collector.collect(100), 0u);  // second 100 is still in progress

  worker.advance(101);
  EXPECT_EQ(collector.collect(101), 2u);
  const SecondStats s = history.at(1, 100);
  EXPECT_EQ(s.requests, 6u);
  EXPECT_EQ(s.status_1xx, 1u);
  EXPECT_EQ(s.status_2xx, 2u);
  EXPECT_EQ(s.status_3xx, 1u);
  EXPECT_EQ(s.status_4xx, 1u);
  EXPECT_EQ(s.status_5xx, 1u);
  EXPECT_EQ(s.bytes_in, 60u);
  EXPECT_EQ(s.bytes_out, 600u);
  EXPECT_EQ(s.latency.count(), 6u);
  EXPECT_EQ(s.latency.min(), 5);
  EXPECT_EQ(s.latency.max(), 9'000);
  EXPECT_EQ(s.latency.sum(), 17'005u);
  EXPECT_EQ(history.at(3, 100).requests, 1u);

  EXPECT_EQ(collector.collect(101), 0u);
  EXPECT_EQ(collector.collect(110), 0u);
  EXPECT_EQ(history.totals(1).requests, 6u);
}

TEST(WorkerRecorderTest, SlotIsResetWhenItsSecondComesAround) {
  WorkerRecorder worker(2, 2);
  MetricsHistory history;
  MetricsCollector collector(history, {&worker});
  for (int64_t second = 10; second < 16; ++second) {
    for (int i = 0; i <= second - 10; ++i)
      worker.record(0, second, 200, second * 1000, 1, 1);
    worker.advance(second + 1);
    collector.collect(second + 1);
  }
  for (int64_t second = 10; second < 16; ++second) {
    const SecondStats s = history.at(0, second);
    EXPECT_EQ(s.requests, static_cast<uint64_t>(second - 9)) << second;
    EXPECT_EQ(s.latency.min(), second * 1000);
    EXPECT_EQ(s.latency.max(), second * 1000);
    EXPECT_EQ(s.latency.count(), s.requests);
  }
}

TEST(WorkerRecorderTest, IdleWorkerIsHarvestedAfterMaxLag) {
  WorkerRecorder worker(4);
  MetricsHistory history;
  MetricsCollector collector(history, {&worker}, /*max_lag_seconds=*/2);
  worker.record(0, 100, 200, 50, 0, 0);  // and then nothing: no advance()
  EXPECT_EQ(collector.collect(101), 0u);
  EXPECT_EQ(collector.collect(102), 0u);
  EXPECT_EQ(collector.collect(103), 1u);  // 100 is now 2 s behind 102: taken anyway
  EXPECT_EQ(history.at(0, 100).requests, 1u);
}

TEST(WorkerRecorderTest, SecondsOverwrittenBeforeCollectionAreNotReported) {
  WorkerRecorder worker(1, 4);
  MetricsHistory history;
  for (int64_t second = 100; second < 106; ++second)
    worker.record(0, second, 200, 10, 0, 0);
  worker.advance(106);
  MetricsCollector collector(history, {&worker});
  // The ring holds 4 slots: 100 and 101 were overwritten by 104 and 105; 102 shares its
  // slot with the current second 106, which has no record yet, so it is still there.
  EXPECT_EQ(collector.collect(106), 4u);
  EXPECT_EQ(history.aggregate(0, 100, 106).requests, 4u);
  EXPECT_EQ(history.at(0, 102).requests, 1u);
  EXPECT_EQ(history.at(0, 101).requests, 0u);
}

TEST(WorkerRecorderTest, ClockGoingBackwardsRecordsIntoTheCurrentSecond) {
  WorkerRecorder worker(1);
  MetricsHistory history;
  MetricsCollector collector(history, {&worker});
  worker.record(0, 200, 200, 10, 0, 0);
  worker.record(0, 199, 500, 10, 0, 0);
  worker.advance(150);  // ignored: earlier than the current second
  EXPECT_EQ(worker.completed_before(), 200);
  worker.advance(201);
  collector.collect(201);
  EXPECT_EQ(history.at(0, 200).requests, 2u);
  EXPECT_EQ(history.at(0, 200).status_5xx, 1u);
  EXPECT_EQ(history.at(0, 199).requests, 0u);
}

TEST(WorkerRecorderTest, UnknownSeriesIsIgnoredAndPrepareAllocatesAhead) {
  WorkerRecorder worker(2);
  EXPECT_EQ(worker.series_limit(), 0u);
  worker.record(5, 10, 200, 1, 0, 0);  // beyond max_series
  EXPECT_EQ(worker.series_limit(), 0u);
  worker.prepare(1);
  EXPECT_EQ(worker.series_limit(), 2u);
  worker.prepare(9);
  EXPECT_EQ(worker.series_limit(), 2u);
  PeriodAggregate into;
  EXPECT_FALSE(worker.add_second_to(1, 10, into));
  EXPECT_FALSE(worker.add_second_to(7, 10, into));
  EXPECT_GT(WorkerRecorder::bytes_per_series(4), 4 * kBucketCount * sizeof(uint32_t));
}

TEST(MetricsCollectorTest, MergesAllWorkersPerSeriesAndSecond) {
  WorkerRecorder a(4);
  WorkerRecorder b(4);
  WorkerRecorder c(4);
  MetricsHistory history;
  MetricsCollector collector(history, {&a, &b, &c});
  a.record(0, 500, 200, 100, 0, 0);
  b.record(0, 500, 503, 200, 0, 0);
  b.record(2, 500, 200, 300, 0, 0);
  c.record(0, 501, 200, 400, 0, 0);  // c is already a second ahead
  a.advance(501);
  b.advance(501);
  EXPECT_EQ(collector.collect(501), 2u);  // (0, 500) and (2, 500)
  const SecondStats s = history.at(0, 500);
  EXPECT_EQ(s.requests, 2u);
  EXPECT_EQ(s.status_5xx, 1u);
  EXPECT_EQ(s.latency.min(), 100);
  EXPECT_EQ(s.latency.max(), 200);
  EXPECT_EQ(history.at(2, 500).requests, 1u);

  // a and b idle from here on, c finishes 501; a and b are harvested by max_lag later.
  c.advance(502);
  EXPECT_EQ(collector.collect(502), 1u);
  EXPECT_EQ(history.at(0, 501).requests, 1u);
  EXPECT_EQ(collector.collect(510), 0u);
  EXPECT_EQ(history.totals(0).requests, 3u);
}

// Four worker threads record 100k requests each over 10 simulated seconds while a
// collector thread harvests concurrently; the history must then hold exact totals.
TEST(MetricsCollectorTest, ConcurrentWorkersAndCollectorLoseNothing) {
  constexpr int kWorkers = 4;
  constexpr int kRecords = 100'000;
  constexpr int kPerSecond = 10'000;
  constexpr int64_t kStart = 1'700'000'000;
  constexpr SeriesId kSeries = 3;
  std::vector<std::unique_ptr<WorkerRecorder>> workers;
  std::vector<const WorkerRecorder*> views;
  for (int w = 0; w < kWorkers; ++w) {
    // 16 ring seconds > the 10 simulated: no slot is reused, whatever the scheduling.
    workers.push_back(std::make_unique<WorkerRecorder>(kSeries, 16));
    views.push_back(workers.back().get());
  }
  MetricsHistory history;
  MetricsCollector collector(history, views);
  std::array<std::atomic<int64_t>, kWorkers> progress;
  for (auto& p : progress)
    p.store(kStart);
  std::atomic<int> running{kWorkers};

  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      WorkerRecorder& recorder = *workers[static_cast<size_t>(w)];
      for (int i = 0; i < kRecords; ++i) {
        const int64_t second = kStart + i / kPerSecond;
        if (i % kPerSecond == 0) progress[static_cast<size_t>(w)].store(second);
        const int status = i % 20 == 0 ? 503 : (i % 20 == 1 ? 404 : 200);
        recorder.record(static_cast<SeriesId>(i % kSeries), second, status, 100 + i % 1000, 3, 7);
      }
      running.fetch_sub(1);
    });
  }
  std::thread collector_thread([&] {
    size_t passes = 0;
    while (running.load() > 0 || passes == 0) {
      // The slowest worker's second: nothing a worker still writes is taken by max_lag.
      int64_t now = std::numeric_limits<int64_t>::max();
      for (auto& p : progress)
        now = std::min(now, p.load());
      collector.collect(now);
      ++passes;
    }
  });
  for (auto& t : threads)
    t.join();
  collector_thread.join();
  for (auto& w : workers)
    w->advance(kStart + 10);  // after join: happens-after the records
  collector.collect(kStart + 10);

  const PeriodAggregate total = [&] {
    PeriodAggregate sum;
    for (SeriesId s = 0; s < kSeries; ++s) {
      const PeriodAggregate a = history.aggregate(s, kStart, kStart + 10);
      sum.add(a);
      sum.latency.merge(a.latency);
    }
    return sum;
  }();
  EXPECT_EQ(total.requests, uint64_t{kWorkers} * kRecords);
  EXPECT_EQ(total.status_5xx, uint64_t{kWorkers} * kRecords / 20);
  EXPECT_EQ(total.status_4xx, uint64_t{kWorkers} * kRecords / 20);
  EXPECT_EQ(total.status_2xx, uint64_t{kWorkers} * kRecords * 18 / 20);
  EXPECT_EQ(total.bytes_in, uint64_t{kWorkers} * kRecords * 3);
  EXPECT_EQ(total.bytes_out, uint64_t{kWorkers} * kRecords * 7);
  EXPECT_EQ(total.latency.count(), uint64_t{kWorkers} * kRecords);
  // Each worker records latencies 100..1099 100 times over: sum = 100 × 599'500.
  EXPECT_EQ(total.latency.sum(), uint64_t{kWorkers} * 100 * 599'500);
  EXPECT_EQ(total.latency.min(), 100);
  EXPECT_EQ(total.latency.max(), 1099);
  for (int64_t second = kStart; second < kStart + 10; ++second) {
    uint64_t in_second = 0;
    for (SeriesId s = 0; s < kSeries; ++s)
      in_second += history.at(s, second).requests;
    EXPECT_EQ(in_second, uint64_t{kWorkers} * kPerSecond) << second;
  }
}

// Two workers race through many seconds on a 2-slot ring while the collector reads:
// some seconds may be lost (the ring is overwritten before the collector gets there),
// but whatever is harvested must be a whole, consistent second, never a torn mix.
TEST(MetricsCollectorTest, ConcurrentSlotReuseNeverYieldsTornSeconds) {
  constexpr int kWorkers = 2;
  constexpr int kSeconds = 200;
  constexpr int kPerSecond = 500;
  constexpr int64_t kStart = 1000;
  std::vector<std::unique_ptr<WorkerRecorder>> workers;
  std::vector<const WorkerRecorder*> views;
  for (int w = 0; w < kWorkers; ++w) {
    workers.push_back(std::make_unique<WorkerRecorder>(1, 2));
    views.push_back(workers.back().get());
  }
  MetricsHistory history(kSeconds + 10);
  // No harvest by lag: only seconds a worker declared final, read under the seqlock.
  MetricsCollector collector(history, views, /*max_lag_seconds=*/1'000'000);
  std::atomic<int> running{kWorkers};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      WorkerRecorder& recorder = *workers[static_cast<size_t>(w)];
      for (int64_t second = kStart; second < kStart + kSeconds; ++second) {
        for (int i = 0; i < kPerSecond; ++i)
          recorder.record(0, second, 200, second, 1, 1);
      }
      recorder.advance(kStart + kSeconds);
      running.fetch_sub(1);
    });
  }
  while (running.load() > 0)
    collector.collect(kStart);
  for (auto& t : threads)
    t.join();
  collector.collect(kStart + kSeconds);

  for (int64_t second = kStart; second < kStart + kSeconds; ++second) {
    const SecondStats s = history.at(0, second);
    if (s.requests == 0) continue;
    SCOPED_TRACE(second);
    EXPECT_TRUE(s.requests == kPerSecond || s.requests == 2 * kPerSecond) << s.requests;
    EXPECT_EQ(s.latency.count(), s.requests);
    EXPECT_EQ(s.latency.min(), second);
    EXPECT_EQ(s.latency.max(), second);
    EXPECT_EQ(s.latency.sum(), s.requests * static_cast<uint64_t>(second));
    EXPECT_EQ(s.bytes_in, s.requests);
  }
  // The last second of each worker is always harvested after the threads finish.
  EXPECT_EQ(history.at(0, kStart + kSeconds - 1).requests, uint64_t{kWorkers} * kPerSecond);
}

}  // namespace
}  // namespace glidepath::metrics
