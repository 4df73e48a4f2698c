// Rate limiter (GCRA) and quota counter in simulated time: every decision takes the time
// as an argument, so these tests never sleep.
#include "access/limits.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace glidepath::access {
namespace {

using core::QuotaPeriod;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr int64_t kSecond = 1'000'000;  // µs

// Epoch seconds of a UTC date and time, computed independently of the code under test by
// the days-from-civil algorithm (H. Hinnant).
int64_t utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
  y -= m <= 2 ? 1 : 0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = int64_t{era} * 146097 + static_cast<int64_t>(doe) - 719468;
  return days * 86400 + hh * 3600 + mm * 60 + ss;
}

core::Rate rate(uint64_t count, core::Duration per) {
  return core::Rate{count, per};
}

// ---- RateLimiter ------------------------------------------------------------------------

TEST(RateLimiter, AdmitsAFullBurstThenOneRequestPerInterval) {
  RateLimiter limiter(rate(10, seconds(1)));  // burst 10, one token per 100 ms
  const int64_t t0 = 5 * kSecond;
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(limiter.try_acquire(t0), 0) << i;
  EXPECT_EQ(limiter.try_acquire(t0), 100'000);
  EXPECT_EQ(limiter.try_acquire(t0 + 60'000), 40'000);
  EXPECT_EQ(limiter.try_acquire(t0 + 99'999), 1);
  EXPECT_EQ(limiter.try_acquire(t0 + 100'000), 0);
  EXPECT_EQ(limiter.try_acquire(t0 + 100'000), 100'000);
  // Exactly one request per interval while the client keeps asking.
  for (int i = 2; i < 20; ++i) {
    const int64_t at = t0 + i * 100'000;
    ASSERT_EQ(limiter.try_acquire(at - 1), 1) << i;
    ASSERT_EQ(limiter.try_acquire(at), 0) << i;
    ASSERT_EQ(limiter.try_acquire(at), 100'000) << i;
  }
}

TEST(RateLimiter, RefusalsTakeNoToken) {
  RateLimiter limiter(rate(2, seconds(1)));
  ASSERT_EQ(limiter.try_acquire(0), 0);
  ASSERT_EQ(limiter.try_acquire(0), 0);
  for (int i = 0; i < 100; ++i)
    ASSERT_GT(limiter.try_acquire(i * 1000), 0);
  // The first token is back after one interval as if nothing had been refused.
  EXPECT_EQ(limiter.try_acquire(500'000), 0);
}

TEST(RateLimiter, RefillsToTheBurstAndNoFurther) {
  RateLimiter limiter(rate(5, seconds(1)));  // 200 ms per token
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(limiter.try_acquire(0), 0);
  ASSERT_GT(limiter.try_acquire(0), 0);
  // 600 ms later: three tokens.
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(limiter.try_acquire(600'000), 0) << i;
  EXPECT_EQ(limiter.try_acquire(600'000), 200'000);
  // An hour idle refills only to the burst.
  const int64_t later = 3600 * kSecond;
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(limiter.try_acquire(later), 0) << i;
  EXPECT_EQ(limiter.try_acquire(later), 200'000);
}

TEST(RateLimiter, FirstUseAdmitsAFullBurstAtAnyTime) {
  for (const int64_t start : {int64_t{0}, int64_t{1}, 123 * kSecond, int64_t{1} << 55}) {
    RateLimiter limiter(rate(3, seconds(1)));
    for (int i = 0; i < 3; ++i)
      ASSERT_EQ(limiter.try_acquire(start), 0) << start;
    EXPECT_EQ(limiter.try_acquire(start), 333'333) << start;
  }
}

struct IntervalCase {
  core::Rate rate;
  int64_t interval_us;
};

TEST(RateLimiter, IntervalIsThePeriodOverTheCountAtLeastOneMicrosecond) {
  const IntervalCase cases[] = {
      {rate(1, seconds(1)), 1'000'000},   {rate(3, seconds(1)), 333'333},
      {rate(100, seconds(1)), 10'000},    {rate(6000, minutes(1)), 10'000},
      {rate(1, hours(1)), 3'600'000'000}, {rate(1'000'000, seconds(1)), 1},
      {rate(5'000'000, seconds(1)), 1},  // finer than 1 µs: capped at 1 µs
  };
  for (const IntervalCase& c : cases) {
    SCOPED_TRACE(core::format_rate(c.rate));
    RateLimiter limiter(c.rate);
    // The whole burst at once, then a refusal that names exactly one interval.
    uint64_t admitted = 0;
    while (admitted <= c.rate.count && limiter.try_acquire(0) == 0)
      ++admitted;
    EXPECT_EQ(admitted, c.rate.count);
    EXPECT_EQ(limiter.try_acquire(0), c.interval_us);
    EXPECT_EQ(limiter.try_acquire(c.interval_us), 0);
  }
}

TEST(RateLimiter, ManyThreadsAdmitExactlyTheBurst) {
  RateLimiter limiter(rate(1000, seconds(1)));
  constexpr int kThreads = 4;
  constexpr int kAttempts = 2000;  // each: 8000 attempts in all for 1000 tokens
  std::atomic<int> admitted{0};
  auto hammer = [&](int64_t now) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, now] {
        for (int i = 0; i < kAttempts; ++i) {
          if (limiter.try_acquire(now) == 0) admitted.fetch_add(1);
        }
      });
    }
    for (std::thread& thread : threads)
      thread.join();
  };
  hammer(10 * kSecond);
  EXPECT_EQ(admitted.load(), 1000);
  // Half a second later half the bucket is back, and no more.
  admitted = 0;
  hammer(10 * kSecond + 500'000);
  EXPECT_EQ(admitted.load(), 500);
}

// ---- Quota periods ----------------------------------------------------------------------

struct PeriodCase {
  QuotaPeriod period;
  int64_t at;
  int64_t start;
  int64_t end;
};

TEST(QuotaPeriod, BoundsHoldTheTimeForEveryPeriod) {
  const PeriodCase cases[] = {
      // hours
      {QuotaPeriod::hour, utc(2026, 11, 26, 11, 49, 46), utc(2026, 11, 26, 11),
       utc(2026, 11, 26, 12)},
      {QuotaPeriod::hour, utc(2026, 11, 26, 11), utc(2026, 11, 26, 11), utc(2026, 11, 26, 12)},
      {QuotaPeriod::hour, utc(2026, 12, 31, 23, 59, 59), utc(2026, 12, 31, 23), utc(2027, 1, 1)},
      // days
      {QuotaPeriod::day, utc(2026, 11, 26, 11, 49, 46), utc(2026, 11, 26), utc(2026, 11, 27)},
      {QuotaPeriod::day, utc(2026, 11, 26), utc(2026, 11, 26), utc(2026, 11, 27)},
      {QuotaPeriod::day, utc(2026, 11, 26, 23, 59, 59), utc(2026, 11, 26), utc(2026, 11, 27)},
      {QuotaPeriod::day, utc(2024, 2, 28, 12), utc(2024, 2, 28), utc(2024, 2, 29)},
      {QuotaPeriod::day, utc(2024, 2, 29, 12), utc(2024, 2, 29), utc(2024, 3, 1)},
      {QuotaPeriod::day, utc(2023, 12, 31, 23, 59, 59), utc(2023, 12, 31), utc(2024, 1, 1)},
      // months: lengths 31, 30, 28 and 29 (leap years, including 2000 but not 2100)
      {QuotaPeriod::month, utc(2026, 1, 15, 8), utc(2026, 1, 1), utc(2026, 2, 1)},
      {QuotaPeriod::month, utc(2026, 4, 30, 23, 59, 59), utc(2026, 4, 1), utc(2026, 5, 1)},
      {QuotaPeriod::month, utc(2026, 5, 1), utc(2026, 5, 1), utc(2026, 6, 1)},
      {QuotaPeriod::month, utc(2023, 2, 28, 23, 59, 59), utc(2023, 2, 1), utc(2023, 3, 1)},
      {QuotaPeriod::month, utc(2024, 2, 29, 23, 59, 59), utc(2024, 2, 1), utc(2024, 3, 1)},
      {QuotaPeriod::month, utc(2000, 2, 29), utc(2000, 2, 1), utc(2000, 3, 1)},
      {QuotaPeriod::month, utc(2100, 2, 28, 12), utc(2100, 2, 1), utc(2100, 3, 1)},
      {QuotaPeriod::month, utc(2023, 12, 31, 23, 59, 59), utc(2023, 12, 1), utc(2024, 1, 1)},
      {QuotaPeriod::month, utc(2024, 1, 1), utc(2024, 1, 1), utc(2024, 2, 1)},
      {QuotaPeriod::month, utc(1970, 1, 1), utc(1970, 1, 1), utc(1970, 2, 1)},
  };
  for (const PeriodCase& c : cases) {
    SCOPED_TRACE(testing::Message() << core::to_string(c.period) << " at " << c.at);
    const int64_t index = quota_period_index(c.period, c.at);
    EXPECT_EQ(quota_period_start(c.period, index), c.start);
    EXPECT_EQ(quota_period_end(c.period, index), c.end);
    EXPECT_EQ(quota_period_start(c.period, index + 1), c.end);
    EXPECT_EQ(quota_period_index(c.period, c.end), index + 1);
    EXPECT_EQ(quota_period_index(c.period, c.start - 1), index - 1);
  }
}

TEST(QuotaPeriod, IndexesCountFromTheEpoch) {
  EXPECT_EQ(quota_period_index(QuotaPeriod::hour, 0), 0);
  EXPECT_EQ(quota_period_index(QuotaPeriod::hour, 3599), 0);
  EXPECT_EQ(quota_period_index(QuotaPeriod::hour, 3600), 1);
  EXPECT_EQ(quota_period_index(QuotaPeriod::day, 86399), 0);
  EXPECT_EQ(quota_period_index(QuotaPeriod::day, 86400), 1);
  EXPECT_EQ(quota_period_index(QuotaPeriod::day, utc(2026, 11, 26)), 20783);
  EXPECT_EQ(quota_period_index(QuotaPeriod::month, 0), 0);
  EXPECT_EQ(quota_period_index(QuotaPeriod::month, utc(1970, 12, 31)), 11);
  EXPECT_EQ(quota_period_index(QuotaPeriod::month, utc(1971, 1, 1)), 12);
  EXPECT_EQ(quota_period_index(QuotaPeriod::month, utc(2024, 2, 10)), 54 * 12 + 1);
  // Before the epoch the index is floored, not truncated toward zero.
  EXPECT_EQ(quota_period_index(QuotaPeriod::hour, -1), -1);
  EXPECT_EQ(quota_period_index(QuotaPeriod::day, -1), -1);
  EXPECT_EQ(quota_period_index(QuotaPeriod::month, -1), -1);
  EXPECT_EQ(quota_period_start(QuotaPeriod::month, -1), utc(1969, 12, 1));
}

TEST(QuotaPeriod, EveryDayOfSeveralYearsLiesInItsMonth) {
  for (int64_t t = utc(2023, 1, 1, 12); t < utc(2029, 1, 1); t += 86400) {
    const int64_t index = quota_period_index(QuotaPeriod::month, t);
    const int64_t start = quota_period_start(QuotaPeriod::month, index);
    const int64_t end = quota_period_end(QuotaPeriod::month, index);
    ASSERT_LE(start, t);
    ASSERT_LT(t, end);
    ASSERT_GE(end - start, 28 * 86400);
    ASSERT_LE(end - start, 31 * 86400);
    ASSERT_EQ(start % 86400, 0);
  }
}

// ---- QuotaCounter -----------------------------------------------------------------------

core::Quota quota(uint64_t count, QuotaPeriod period) {
  return core::Quota{count, period};
}

TEST(QuotaCounter, RefusesPastTheCountUntilTheNextUtcMidnight) {
  QuotaCounter counter(quota(3, QuotaPeriod::day));
  const int64_t noon = utc(2026, 11, 26, 12);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(counter.try_consume(noon + i).admitted) << i;
  EXPECT_EQ(counter.used(noon), 3u);

  const QuotaCounter::Decision refused = counter.try_consume(noon + 10);
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.retry_after_seconds, utc(2026, 11, 27) - (noon + 10));
  EXPECT_EQ(counter.try_consume(utc(2026, 11, 26, 23, 59, 59)).retry_after_seconds, 1);
  EXPECT_EQ(counter.used(noon), 3u);  // refusals are not counted

  // The new day starts from zero.
  EXPECT_TRUE(counter.try_consume(utc(2026, 11, 27)).admitted);
  EXPECT_EQ(counter.used(utc(2026, 11, 27)), 1u);
}

TEST(QuotaCounter, RetryAfterRunsToTheEndOfHourAndMonth) {
  QuotaCounter hourly(quota(1, QuotaPeriod::hour));
  ASSERT_TRUE(hourly.try_consume(utc(2026, 11, 26, 11, 0, 0)).admitted);
  const auto by_hour = hourly.try_consume(utc(2026, 11, 26, 11, 59, 0));
  EXPECT_FALSE(by_hour.admitted);
  EXPECT_EQ(by_hour.retry_after_seconds, 60);
  EXPECT_TRUE(hourly.try_consume(utc(2026, 11, 26, 12)).admitted);

  QuotaCounter monthly(quota(1, QuotaPeriod::month));
  ASSERT_TRUE(monthly.try_consume(utc(2024, 2, 3)).admitted);
  const auto by_month = monthly.try_consume(utc(2024, 2, 28, 12));
  EXPECT_FALSE(by_month.admitted);
  EXPECT_EQ(by_month.retry_after_seconds, 36 * 3600);  // the 29th is in February in 2024
  EXPECT_FALSE(monthly.try_consume(utc(2024, 2, 29, 23, 59, 59)).admitted);
  EXPECT_TRUE(monthly.try_consume(utc(2024, 3, 1)).admitted);
}

TEST(QuotaCounter, AWorkerBehindTheBoundaryDoesNotResetTheNewPeriod) {
  // Workers read their own clocks: one may still be in the old day when another has
  // started the new one.
  QuotaCounter counter(quota(5, QuotaPeriod::day));
  const int64_t midnight = utc(2026, 11, 27);
  ASSERT_TRUE(counter.try_consume(midnight).admitted);
  ASSERT_TRUE(counter.try_consume(midnight - 1).admitted);
  EXPECT_EQ(counter.used(midnight), 2u);
}

TEST(QuotaCounter, SeedContinuesFromTheStoredCount) {
  QuotaCounter counter(quota(10, QuotaPeriod::day));
  const int64_t now = utc(2026, 11, 26, 9);
  counter.seed(now, 8);
  EXPECT_EQ(counter.used(now), 8u);
  EXPECT_TRUE(counter.try_consume(now).admitted);
  EXPECT_TRUE(counter.try_consume(now).admitted);
  EXPECT_FALSE(counter.try_consume(now).admitted);
  // The seed counts for its day only.
  EXPECT_EQ(counter.used(utc(2026, 11, 27)), 0u);
  EXPECT_TRUE(counter.try_consume(utc(2026, 11, 27)).admitted);
}

TEST(QuotaCounter, SeedAtOrOverTheQuotaRefusesAtOnce) {
  QuotaCounter counter(quota(10, QuotaPeriod::hour));
  const int64_t now = utc(2026, 11, 26, 9, 30);
  counter.seed(now, 25);  // other gateways overshot
  const auto refused = counter.try_consume(now);
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.retry_after_seconds, 1800);
}

TEST(QuotaCounter, ManyThreadsAdmitExactlyTheQuota) {
  QuotaCounter counter(quota(1000, QuotaPeriod::day));
  const int64_t now = utc(2026, 11, 26, 9);
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (counter.try_consume(now).admitted) admitted.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  EXPECT_EQ(admitted.load(), 1000);
  EXPECT_EQ(counter.used(now), 1000u);
}

// The store side of the flush protocol, for one period: add and return the total.
struct FakeStoreCounter {
  int64_t period_start = -1;
  uint64_t total = 0;
  uint64_t add(int64_t start, uint64_t n) {
    if (start != period_start) {
      period_start = start;
      total = 0;
    }
    total += n;
    return total;
  }
};

TEST(QuotaCounterFlush, SendsOnlyWhatWasAdmittedSinceTheLastFlush) {
  QuotaCounter counter(quota(100, QuotaPeriod::day));
  const int64_t now = utc(2026, 11, 26, 9);
  FakeStoreCounter store;

  EXPECT_EQ(counter.begin_flush(now).delta, 0u);  // nothing counted yet

  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(counter.try_consume(now).admitted);
  QuotaCounter::FlushPlan plan = counter.begin_flush(now);
  EXPECT_EQ(plan.delta, 3u);
  EXPECT_EQ(plan.local_count, 3u);
  EXPECT_EQ(plan.period_start, utc(2026, 11, 26));
  EXPECT_EQ(plan.period_index, quota_period_index(QuotaPeriod::day, now));
  counter.end_flush(plan, store.add(plan.period_start, plan.delta));
  EXPECT_EQ(counter.used(now), 3u);

  EXPECT_EQ(counter.begin_flush(now + 1).delta, 0u);

  for (int i = 0; i < 2; ++i)
    ASSERT_TRUE(counter.try_consume(now + 2).admitted);
  plan = counter.begin_flush(now + 2);
  EXPECT_EQ(plan.delta, 2u);
  EXPECT_EQ(plan.local_count, 5u);
  counter.end_flush(plan, store.add(plan.period_start, plan.delta));
  EXPECT_EQ(store.total, 5u);
  EXPECT_EQ(counter.used(now), 5u);
}

TEST(QuotaCounterFlush, AbsorbsOtherGatewaysCounts) {
  QuotaCounter counter(quota(10, QuotaPeriod::day));
  const int64_t now = utc(2026, 11, 26, 9);
  FakeStoreCounter store;

  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(counter.try_consume(now).admitted);
  QuotaCounter::FlushPlan plan = counter.begin_flush(now);
  store.add(plan.period_start, 4);  // another gateway's flush
  counter.end_flush(plan, store.add(plan.period_start, plan.delta));
  EXPECT_EQ(counter.used(now), 7u);

  // Admissions between begin_flush and end_flush are kept, and sent next time.
  ASSERT_TRUE(counter.try_consume(now).admitted);  // 8
  plan = counter.begin_flush(now);
  EXPECT_EQ(plan.delta, 1u);
  ASSERT_TRUE(counter.try_consume(now).admitted);  // 9, after the plan
  store.add(plan.period_start, 0);
  counter.end_flush(plan, store.add(plan.period_start, plan.delta));  // store: 8
  EXPECT_EQ(counter.used(now), 9u);
  plan = counter.begin_flush(now);
  EXPECT_EQ(plan.delta, 1u);
  counter.end_flush(plan, store.add(plan.period_start, plan.delta));
  EXPECT_EQ(store.total, 9u);

  // One left here; another gateway takes it: this one then refuses.
  ASSERT_TRUE(counter.try_consume(now).admitted);  // 10 here
  plan = counter.begin_flush(now);
  store.add(plan.period_start, 3);
  counter.end_flush(plan, store.add(plan.period_start, plan.delta));  // store: 13
  EXPECT_EQ(counter.used(now), 13u);
  EXPECT_FALSE(counter.try_consume(now).admitted);
  EXPECT_EQ(counter.begin_flush(now).delta, 0u);  // nothing new: the absorbed are not resent
}

TEST(QuotaCounterFlush, AFailedWriteIsRetriedByTheNextFlush) {
  QuotaCounter counter(quota(10, QuotaPeriod::day));
  const int64_t now = utc(2026, 11, 26, 9);
  for (int i = 0; i < 2; ++i)
    ASSERT_TRUE(counter.try_consume(now).admitted);
  EXPECT_EQ(counter.begin_flush(now).delta, 2u);  // the store call fails: no end_flush
  ASSERT_TRUE(counter.try_consume(now).admitted);
  const QuotaCounter::FlushPlan plan = counter.begin_flush(now);
  EXPECT_EQ(plan.delta, 3u);
  counter.end_flush(plan, 3);
  EXPECT_EQ(counter.begin_flush(now).delta, 0u);
}

TEST(QuotaCounterFlush, SeededCountsAreNotSentAgain) {
  QuotaCounter counter(quota(10, QuotaPeriod::day));
  const int64_t now = utc(2026, 11, 26, 9);
  counter.seed(now, 6);
  EXPECT_EQ(counter.begin_flush(now).delta, 0u);
  ASSERT_TRUE(counter.try_consume(now).admitted);
  const QuotaCounter::FlushPlan plan = counter.begin_flush(now);
  EXPECT_EQ(plan.delta, 1u);
  EXPECT_EQ(plan.local_count, 7u);
}

TEST(QuotaCounterFlush, ANewPeriodSendsEverythingCountedInIt) {
  QuotaCounter counter(quota(10, QuotaPeriod::day));
  const int64_t day1 = utc(2026, 11, 26, 9);
  const int64_t day2 = utc(2026, 11, 27, 0, 0, 1);
  FakeStoreCounter store;

  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(counter.try_consume(day1).admitted);
  QuotaCounter::FlushPlan plan = counter.begin_flush(day1);
  counter.end_flush(plan, store.add(plan.period_start, plan.delta));
  ASSERT_TRUE(counter.try_consume(day1 + 5).admitted);  // never flushed: its day is over

  // No request yet on the new day: the flush is still about the old day's count.
  plan = counter.begin_flush(day2);
  EXPECT_EQ(plan.period_start, utc(2026, 11, 26));
  EXPECT_EQ(plan.delta, 1u);

  for (int i = 0; i < 2; ++i)
    ASSERT_TRUE(counter.try_consume(day2).admitted);
  plan = counter.begin_flush(day2);
  EXPECT_EQ(plan.period_start, utc(2026, 11, 27));
  EXPECT_EQ(plan.delta, 2u);
  EXPECT_EQ(plan.local_count, 2u);
  counter.end_flush(plan, store.add(plan.period_start, plan.delta));
  EXPECT_EQ(store.total, 2u);
  EXPECT_EQ(counter.used(day2), 2u);
  EXPECT_EQ(counter.begin_flush(day2).delta, 0u);
}

TEST(QuotaCounterFlush, APeriodChangeDuringTheFlushIsNotPolluted) {
  QuotaCounter counter(quota(10, QuotaPeriod::hour));
  const int64_t hour1 = utc(2026, 11, 26, 9, 59, 59);
  const int64_t hour2 = utc(2026, 11, 26, 10);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(counter.try_consume(hour1).admitted);
  const QuotaCounter::FlushPlan plan = counter.begin_flush(hour1);
  ASSERT_TRUE(counter.try_consume(hour2).admitted);  // the new hour starts meanwhile
  counter.end_flush(plan, 9);                        // the old hour's total, others' included
  EXPECT_EQ(counter.used(hour2), 1u);
  const QuotaCounter::FlushPlan next = counter.begin_flush(hour2);
  EXPECT_EQ(next.period_start, hour2);
  EXPECT_EQ(next.delta, 1u);
}

}  // namespace
}  // namespace glidepath::access
