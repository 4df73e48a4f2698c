#include "metrics/worker_recorder.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <limits>
#include <span>

namespace glidepath::metrics {

namespace {

constexpr int64_t kEmptySecond = std::numeric_limits<int64_t>::min();
constexpr int64_t kResetting = std::numeric_limits<int64_t>::min() + 1;
constexpr int64_t kNoMin = std::numeric_limits<int64_t>::max();
constexpr int64_t kNoMax = -1;

// The single writer adds without a read-modify-write instruction: nobody else writes.
// Release, so a reader that sees the value also sees the slot's preceding reset (the
// seqlock argument in the header). On x86 both are plain moves.
template <typename T>
inline void bump(std::atomic<T>& counter, T by) {
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_release);
}

}  // namespace

struct WorkerRecorder::Slot {
  std::atomic<int64_t> second{kEmptySecond};
  std::atomic<uint64_t> requests{0};
  std::array<std::atomic<uint64_t>, kStatusClassCount> status{};
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> bytes_out{0};
  std::atomic<uint64_t> latency_sum{0};
  std::atomic<int64_t> latency_min{kNoMin};
  std::atomic<int64_t> latency_max{kNoMax};
  std::array<std::atomic<uint32_t>, kBucketCount> buckets{};
};

WorkerRecorder::WorkerRecorder(size_t max_series, int ring_seconds)
    : max_series_(max_series),
      ring_seconds_(std::max(ring_seconds, 2)),
      current_second_(std::numeric_limits<int64_t>::min()),
      completed_before_(std::numeric_limits<int64_t>::min()),
      series_slots_(std::make_unique<std::atomic<Slot*>[]>(max_series)) {}

WorkerRecorder::~WorkerRecorder() {
  for (size_t i = 0; i < max_series_; ++i)
    delete[] series_slots_[i].load(std::memory_order_relaxed);
}

size_t WorkerRecorder::bytes_per_series(int ring_seconds) {
  return sizeof(Slot) * static_cast<size_t>(std::max(ring_seconds, 2));
}

WorkerRecorder::Slot* WorkerRecorder::slots_of(SeriesId series) {
  Slot* slots = series_slots_[series].load(std::memory_order_relaxed);
  if (slots == nullptr) [[unlikely]] {
    slots = new Slot[static_cast<size_t>(ring_seconds_)];
    series_slots_[series].store(slots, std::memory_order_release);
    if (series >= series_limit_.load(std::memory_order_relaxed)) {
      series_limit_.store(series + 1, std::memory_order_release);
    }
  }
  return slots;
}

void WorkerRecorder::prepare(SeriesId series) {
  if (series < max_series_) slots_of(series);
}

void WorkerRecorder::advance(int64_t now_second) {
  if (now_second <= current_second_) return;
  current_second_ = now_second;
  // Release: everything recorded for earlier seconds is visible to a collector that
  // reads this value.
  completed_before_.store(now_second, std::memory_order_release);
}

void WorkerRecorder::reset(Slot& slot, int64_t second) {
  const int64_t old_min = slot.latency_min.load(std::memory_order_relaxed);
  const int64_t old_max = slot.latency_max.load(std::memory_order_relaxed);
  slot.second.store(kResetting, std::memory_order_relaxed);
  constexpr auto release = std::memory_order_release;
  if (old_max != kNoMax) {
    // Only buckets between the old min and max can be non-zero.
    const size_t high = bucket_index(old_max);
    for (size_t i = bucket_index(old_min); i <= high; ++i)
      slot.buckets[i].store(0, release);
  }
  slot.requests.store(0, release);
  for (auto& s : slot.status)
    s.store(0, release);
  slot.bytes_in.store(0, release);
  slot.bytes_out.store(0, release);
  slot.latency_sum.store(0, release);
  slot.latency_min.store(kNoMin, release);
  slot.latency_max.store(kNoMax, release);
  slot.second.store(second, release);
}

void WorkerRecorder::record(SeriesId series, int64_t now_second, int status, int64_t latency_us,
                            uint64_t bytes_in, uint64_t bytes_out) {
  if (series >= max_series_) [[unlikely]]
    return;
  if (now_second > current_second_) advance(now_second);
  const int64_t second = current_second_;
  const int64_t ring = ring_seconds_;
  Slot& slot = slots_of(series)[static_cast<size_t>(((second % ring) + ring) % ring)];
  if (slot.second.load(std::memory_order_relaxed) != second) [[unlikely]]
    reset(slot, second);

  const int64_t latency = std::max<int64_t>(latency_us, 0);
  bump<uint64_t>(slot.requests, 1);
  bump<uint64_t>(slot.status[static_cast<size_t>(status_class(status))], 1);
  bump(slot.bytes_in, bytes_in);
  bump(slot.bytes_out, bytes_out);
  bump(slot.latency_sum, static_cast<uint64_t>(latency));
  bump<uint32_t>(slot.buckets[bucket_index(latency)], 1);
  if (latency < slot.latency_min.load(std::memory_order_relaxed)) {
    slot.latency_min.store(latency, std::memory_order_release);
  }
  if (latency > slot.latency_max.load(std::memory_order_relaxed)) {
    slot.latency_max.store(latency, std::memory_order_release);
  }
}

bool WorkerRecorder::add_second_to(SeriesId series, int64_t second, PeriodAggregate& into) const {
  if (series >= series_limit()) return false;
  const Slot* slots = series_slots_[series].load(std::memory_order_acquire);
  if (slots == nullptr) return false;
  const int64_t ring = ring_seconds_;
  const Slot& slot = slots[static_cast<size_t>(((second % ring) + ring) % ring)];

  constexpr auto acquire = std::memory_order_acquire;
  if (slot.second.load(acquire) != second) return false;
  RequestCounts counts;
  counts.requests = slot.requests.load(acquire);
  counts.status_1xx = slot.status[0].load(acquire);
  counts.status_2xx = slot.status[1].load(acquire);
  counts.status_3xx = slot.status[2].load(acquire);
  counts.status_4xx = slot.status[3].load(acquire);
  counts.status_5xx = slot.status[4].load(acquire);
  counts.bytes_in = slot.bytes_in.load(acquire);
  counts.bytes_out = slot.bytes_out.load(acquire);
  const uint64_t latency_sum = slot.latency_sum.load(acquire);
  const int64_t latency_min = slot.latency_min.load(acquire);
  const int64_t latency_max = slot.latency_max.load(acquire);
  std::array<uint32_t, kBucketCount> buckets;  // only [low, high] is written and read
  size_t low = 0;
  size_t high = 0;
  const bool has_latency = latency_max != kNoMax && latency_min <= latency_max;
  if (has_latency) {
    low = bucket_index(latency_min);
    high = bucket_index(latency_max);
    for (size_t i = low; i <= high; ++i)
      buckets[i] = slot.buckets[i].load(acquire);
  }
  // A changed tag means a reset for a newer second overlapped the read: drop it.
  if (slot.second.load(acquire) != second || counts.requests == 0) return false;

  into.add(counts);
  if (has_latency) {
    into.latency.add_buckets(low, std::span<const uint32_t>(buckets.data() + low, high - low + 1),
                             latency_sum, latency_min, latency_max);
  }
  return true;
}

}  // namespace glidepath::metrics
