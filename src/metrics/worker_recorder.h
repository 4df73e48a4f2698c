// Per-worker recording of request metrics, for the gateway's hot path.
//
// Design (SPEC section 4; STYLE.md habit 2: no lock, no allocation, no contended atomic
// per request):
//
//  - Each worker thread owns one WorkerRecorder and is its only writer. For every series
//    it has a small ring of per-second slots (ring_seconds, default 4), indexed by
//    second mod ring_seconds. A slot holds the counters and a dense bucket array of the
//    latency histogram (same layout as LatencyHistogram, uint32 counts: ~5.5 KB).
//  - record() adds to the slot of the worker's current second with plain load + store
//    on std::atomic (single writer: no read-modify-write, no lock prefix; on x86 these
//    are ordinary moves). Nothing else writes the slot, so no cache line bounces.
//  - A slot carries the second it holds. Reusing it for a newer second is a seqlock
//    write: the tag goes to "resetting", the counters are zeroed, then the tag is set to
//    the new second. The collector reads tag, counters, tag again and drops the read
//    when the tag moved, so it never merges a half-reset slot. Every shared access is an
//    atomic (release stores, acquire loads, no standalone fences), so the reader is
//    race-free in the C++ memory model and under ThreadSanitizer.
//  - The worker publishes the second its event loop is in (`completed_before`, a release
//    store once per second, from record() or advance()). Every second before it is
//    final: the collector (MetricsCollector, another thread) harvests it exactly, with
//    no lost increments. A worker's loop should call advance(now) on every tick, so that
//    an idle worker does not hold back its last busy second; the collector also takes a
//    second that is `max_lag` seconds old even if the worker never said it was done.
//  - Series ids come from SeriesRegistry (capacity max_series). A series' slots are
//    allocated once per worker, by prepare() when the worker adopts a routing snapshot
//    or, failing that, on the series' first record(); never freed before the recorder.
//
// The time of a record is the worker loop's cached `now` in whole epoch seconds. If it
// goes backwards (the wall clock was stepped back), records go to the current second.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "metrics/second_stats.h"
#include "metrics/series_registry.h"

namespace glidepath::metrics {

inline constexpr int kDefaultRingSeconds = 4;

class WorkerRecorder {
 public:
  explicit WorkerRecorder(size_t max_series = kDefaultMaxSeries,
                          int ring_seconds = kDefaultRingSeconds);
  ~WorkerRecorder();
  WorkerRecorder(const WorkerRecorder&) = delete;
  WorkerRecorder& operator=(const WorkerRecorder&) = delete;

  // ---- worker thread only ----

  // Counts one finished request. `latency_us` from the first request byte to the last
  // response byte; `status` as sent to the client (gateway-made 502/504 included). An id
  // beyond max_series is ignored.
  void record(SeriesId series, int64_t now_second, int status, int64_t latency_us,
              uint64_t bytes_in, uint64_t bytes_out);
  // The loop is at `now_second`: earlier seconds are final.
  void advance(int64_t now_second);
  // Allocates the slots of `series` now rather than on its first request.
  void prepare(SeriesId series);

  // ---- any thread (the collector) ----

  // Every second before this one is final (INT64_MIN before the first record/advance).
  int64_t completed_before() const { return completed_before_.load(std::memory_order_acquire); }
  // Ids below this may have data.
  SeriesId series_limit() const { return series_limit_.load(std::memory_order_acquire); }
  int ring_seconds() const { return ring_seconds_; }
  size_t max_series() const { return max_series_; }
  // Adds this worker's data for (series, second) to `into`, if the slot still holds
  // that second and the read was not torn by a concurrent reset. Returns whether it did.
  bool add_second_to(SeriesId series, int64_t second, PeriodAggregate& into) const;

  // Bytes of slot memory per series per worker.
  static size_t bytes_per_series(int ring_seconds);

 private:
  struct Slot;
  Slot* slots_of(SeriesId series);
  void reset(Slot& slot, int64_t second);

  const size_t max_series_;
  const int ring_seconds_;
  int64_t current_second_;  // worker-private
  std::atomic<int64_t> completed_before_;
  std::atomic<SeriesId> series_limit_{0};
  std::unique_ptr<std::atomic<Slot*>[]> series_slots_;  // [max_series], each Slot[ring]
};

}  // namespace glidepath::metrics
