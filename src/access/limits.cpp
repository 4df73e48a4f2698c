#include "access/limits.h"

#include <algorithm>
#include <chrono>
#include <limits>

namespace glidepath::access {
namespace {

// Caps that keep `tat + interval` and `tat - now` far from overflow for any monotonic
// time a process sees (a rate's period is at most an hour; a burst of more than 2^60 µs
// worth of requests is no limit at all).
constexpr int64_t kMaxIntervalUs = int64_t{1} << 50;
constexpr int64_t kMaxToleranceUs = int64_t{1} << 60;

constexpr int kCountBits = 40;
constexpr uint64_t kCountMask = (uint64_t{1} << kCountBits) - 1;
// The period index has the remaining 24 bits: 16.7 million hours, about 1900 years from
// 1970. Times before the epoch count as period 0.
constexpr uint64_t kIndexMask = (uint64_t{1} << (64 - kCountBits)) - 1;

constexpr int64_t kSecondsPerHour = 3600;
constexpr int64_t kSecondsPerDay = 86400;

int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

uint64_t packed_index(int64_t index) {
  return static_cast<uint64_t>(std::max<int64_t>(index, 0)) & kIndexMask;
}
int64_t index_of(uint64_t state) {
  return static_cast<int64_t>(state >> kCountBits);
}
uint64_t count_of(uint64_t state) {
  return state & kCountMask;
}
uint64_t pack(int64_t index, uint64_t count) {
  return packed_index(index) << kCountBits | std::min(count, kCountMask);
}

// The period a decision counts in: the one holding `now`, or the counter's own when it is
// later (another worker's clock already crossed the boundary: its count must not be reset
// by a worker whose clock is a few microseconds behind).
struct Current {
  int64_t index;
  uint64_t count;
};
Current current(uint64_t state, int64_t now_index) {
  const int64_t stored = index_of(state);
  const int64_t now_packed = static_cast<int64_t>(packed_index(now_index));
  if (stored >= now_packed) return {stored, count_of(state)};
  return {now_packed, 0};
}

}  // namespace

// ---- RateLimiter ------------------------------------------------------------------------

RateLimiter::RateLimiter(const core::Rate& rate) : rate_(rate) {
  const int64_t per_us = std::max<int64_t>(rate.per.count(), 1);
  if (rate.count == 0) {
    // Nothing is ever admitted; a refusal says "try again in a period".
    interval_us_ = std::min(per_us, kMaxIntervalUs);
    tolerance_us_ = -1;
    return;
  }
  const auto count = rate.count;
  interval_us_ = count > static_cast<uint64_t>(per_us) ? 1 : per_us / static_cast<int64_t>(count);
  interval_us_ = std::clamp<int64_t>(interval_us_, 1, kMaxIntervalUs);
  const uint64_t extra = count - 1;
  tolerance_us_ = extra > static_cast<uint64_t>(kMaxToleranceUs / interval_us_)
                      ? kMaxToleranceUs
                      : static_cast<int64_t>(extra) * interval_us_;
}

int64_t RateLimiter::try_acquire(int64_t now_us) {
  if (tolerance_us_ < 0) return interval_us_;
  // GCRA: the theoretical arrival time (TAT) is when the bucket would be full again. A
  // request conforms when TAT lies at most `tolerance` (burst - 1 intervals) ahead of now;
  // it then pushes TAT one interval further. INT64_MIN: never used, a full bucket.
  int64_t tat = tat_us_.load(std::memory_order_relaxed);
  while (true) {
    const int64_t base = std::max(tat, now_us);
    const int64_t ahead = base - now_us;
    if (ahead > tolerance_us_) return ahead - tolerance_us_;
    if (tat_us_.compare_exchange_weak(tat, base + interval_us_, std::memory_order_relaxed)) {
      return 0;
    }
  }
}

// ---- Quota periods ----------------------------------------------------------------------

int64_t quota_period_index(core::QuotaPeriod period, int64_t epoch_seconds) {
  using namespace std::chrono;
  switch (period) {
    case core::QuotaPeriod::hour:
      return floor_div(epoch_seconds, kSecondsPerHour);
    case core::QuotaPeriod::day:
      return floor_div(epoch_seconds, kSecondsPerDay);
    case core::QuotaPeriod::month: {
      const year_month_day date{sys_days{days{floor_div(epoch_seconds, kSecondsPerDay)}}};
      return (static_cast<int64_t>(static_cast<int>(date.year())) - 1970) * 12 +
             static_cast<int64_t>(static_cast<unsigned>(date.month())) - 1;
    }
  }
  return 0;
}

int64_t quota_period_start(core::QuotaPeriod period, int64_t index) {
  using namespace std::chrono;
  switch (period) {
    case core::QuotaPeriod::hour:
      return index * kSecondsPerHour;
    case core::QuotaPeriod::day:
      return index * kSecondsPerDay;
    case core::QuotaPeriod::month: {
      const int64_t years = floor_div(index, 12);
      const int64_t month_of_year = index - years * 12;  // 0..11
      const sys_days first{year{static_cast<int>(1970 + years)} /
                           month{static_cast<unsigned>(month_of_year + 1)} / day{1}};
      return static_cast<int64_t>(first.time_since_epoch().count()) * kSecondsPerDay;
    }
  }
  return 0;
}

int64_t quota_period_end(core::QuotaPeriod period, int64_t index) {
  return quota_period_start(period, index + 1);
}

// ---- QuotaCounter -----------------------------------------------------------------------

QuotaCounter::QuotaCounter(const core::Quota& quota) : quota_(quota) {}

QuotaCounter::Decision QuotaCounter::try_consume(int64_t now_epoch_seconds) {
  const int64_t now_index = quota_period_index(quota_.period, now_epoch_seconds);
  uint64_t state = state_.load(std::memory_order_relaxed);
  while (true) {
    const Current cur = current(state, now_index);
    if (cur.count >= quota_.count) {
      const int64_t end = quota_period_end(quota_.period, cur.index);
      return Decision{false, std::max<int64_t>(end - now_epoch_seconds, 1)};
    }
    if (state_.compare_exchange_weak(state, pack(cur.index, cur.count + 1),
                                     std::memory_order_relaxed)) {
      return Decision{true, 0};
    }
  }
}

void QuotaCounter::seed(int64_t now_epoch_seconds, uint64_t stored_count) {
  const int64_t index =
      static_cast<int64_t>(packed_index(quota_period_index(quota_.period, now_epoch_seconds)));
  const uint64_t count = std::min(stored_count, kCountMask);
  state_.store(pack(index, count), std::memory_order_relaxed);
  flushed_period_ = index;
  flushed_count_ = count;
}

QuotaCounter::FlushPlan QuotaCounter::begin_flush(int64_t now_epoch_seconds) {
  // The plan is for the period in the counter, even when `now` is already in a later one:
  // the requests counted in it still belong to it.
  (void)now_epoch_seconds;
  const uint64_t state = state_.load(std::memory_order_relaxed);
  FlushPlan plan;
  plan.period_index = index_of(state);
  plan.period_start = quota_period_start(quota_.period, plan.period_index);
  plan.local_count = count_of(state);
  const uint64_t already = plan.period_index == flushed_period_ ? flushed_count_ : 0;
  plan.delta = plan.local_count > already ? plan.local_count - already : 0;
  return plan;
}

void QuotaCounter::end_flush(const FlushPlan& plan, uint64_t store_total) {
  // The store holds everything this counter sent plus what other gateways sent; the
  // counter holds what it sent plus what it admitted since the plan. Adding the others'
  // share makes the counter equal to store_total + the admissions since the plan.
  const uint64_t others = store_total > plan.local_count ? store_total - plan.local_count : 0;
  if (others > 0) {
    uint64_t state = state_.load(std::memory_order_relaxed);
    while (index_of(state) == plan.period_index) {
      const uint64_t count = count_of(state);
      if (state_.compare_exchange_weak(state, pack(plan.period_index, count + others),
                                       std::memory_order_relaxed)) {
        break;
      }
    }
    // A new period started meanwhile: the others' requests no longer count against it.
  }
  flushed_period_ = plan.period_index;
  flushed_count_ = std::min(std::max(store_total, plan.local_count), kCountMask);
}

uint64_t QuotaCounter::used(int64_t now_epoch_seconds) const {
  const int64_t now_index = quota_period_index(quota_.period, now_epoch_seconds);
  return current(state_.load(std::memory_order_relaxed), now_index).count;
}

}  // namespace glidepath::access
