// A key's rate and quota (SPEC section 5), enforced on the request path by every worker
// at once without a lock: each limiter is one atomic word updated by compare-and-swap.
// Decisions take the time as an argument (an injected clock), so tests run in simulated
// time.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/clock.h"
#include "core/units.h"

namespace glidepath::access {

// A token bucket with a burst of rate.count tokens that refills at rate.count per
// rate.per, as the generic cell rate algorithm (GCRA, ITU-T I.371): one atomic
// "theoretical arrival time" instead of a token count and a timestamp, so a decision is a
// single compare-and-swap. A full bucket admits rate.count requests at once; after that
// one request per rate.per / rate.count.
class RateLimiter {
 public:
  explicit RateLimiter(const core::Rate& rate);

  // 0 when the request is admitted (and takes a token); otherwise the microseconds until
  // a token will be available, and nothing is taken. `now_us` is a monotonic time.
  int64_t try_acquire(int64_t now_us);

  const core::Rate& rate() const { return rate_; }

 private:
  core::Rate rate_;
  int64_t interval_us_ = 1;   // rate.per / rate.count, at least 1 µs
  int64_t tolerance_us_ = 0;  // (burst - 1) * interval
  std::atomic<int64_t> tat_us_{INT64_MIN};
};

// The period a quota counts over, in UTC: its index (days, hours or months since the
// epoch) and its bounds in epoch seconds.
int64_t quota_period_index(core::QuotaPeriod period, int64_t epoch_seconds);
int64_t quota_period_start(core::QuotaPeriod period, int64_t index);  // epoch seconds
int64_t quota_period_end(core::QuotaPeriod period, int64_t index);    // = next start

// Requests admitted in the current calendar period, against the quota's count. The count
// lives in one atomic word with the period's index, so the first request of a new period
// starts it from zero on whichever worker sees it first.
//
// Persistence (the quota survives a restart, and in a fleet counts every gateway's
// requests): the control plane seeds the counter from the store and, about once a second,
// writes what was admitted since the last flush:
//   auto plan = counter.begin_flush();            // nothing to do when plan.delta == 0
//   total = store.add_quota_usage(id, plan.period_start, plan.delta);
//   counter.end_flush(plan, total);               // absorbs other gateways' requests
// begin_flush/end_flush/seed are called from one thread only.
class QuotaCounter {
 public:
  explicit QuotaCounter(const core::Quota& quota);

  struct Decision {
    bool admitted = false;
    int64_t retry_after_seconds = 0;  // when refused: until the period ends (at least 1)
  };
  // Admits and counts the request if the period's count is below the quota.
  Decision try_consume(int64_t now_epoch_seconds);

  // The count stored for the period holding `now` (read at start-up or when the key
  // appears): the counter continues from it.
  void seed(int64_t now_epoch_seconds, uint64_t stored_count);

  struct FlushPlan {
    int64_t period_start = 0;  // epoch seconds; the store's period_start
    uint64_t delta = 0;        // admitted here since the last flush of this period
    uint64_t local_count = 0;  // the counter's value the delta was taken from
    int64_t period_index = 0;
  };
  // What to add to the store for the period in the counter now. With a new period since
  // the last flush, the delta is everything counted in it (a few requests of the old
  // period's last second may then never reach the store: they no longer matter for it).
  FlushPlan begin_flush(int64_t now_epoch_seconds);
  // The store's total for the plan's period after adding the delta: requests that other
  // gateways admitted are added to this counter so they count against the quota here too.
  void end_flush(const FlushPlan& plan, uint64_t store_total);

  // The current period's count (tests, reports).
  uint64_t used(int64_t now_epoch_seconds) const;
  const core::Quota& quota() const { return quota_; }

 private:
  core::Quota quota_;
  // period index << 40 | count (the count saturates at 2^40 - 1).
  std::atomic<uint64_t> state_{0};
  // Flush bookkeeping, control-plane thread only.
  int64_t flushed_period_ = -1;
  uint64_t flushed_count_ = 0;
};

}  // namespace glidepath::access
