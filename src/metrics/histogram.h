// Latency histograms with a fixed log-linear bucket layout (after HdrHistogram): each
// power-of-two range of microseconds is split into 64 linear sub-buckets, so a bucket is
// at most 1/64 of its values wide and its midpoint is within 1/128 (0.78%) of any value
// in it. Values 0..127 µs have one bucket each (exact). The layout covers 0 µs to
// 2^26-1 µs (67.1 s); longer values are counted in the last bucket, while min() and max()
// stay exact.
//
// Two forms share the layout and the bucket indices:
//  - LatencyHistogram: dense (one uint64 per bucket, ~10.8 KB); O(1) record, used to
//    accumulate (a period's aggregate, the collector's merge of all workers' second).
//  - SparseHistogram: the non-zero buckets only, sorted by index; the form kept per
//    series per second in MetricsHistory (a typical second has tens to a few hundred
//    non-zero buckets: 8 bytes each).
// Percentiles use the nearest-rank definition (the smallest recorded value with at least
// ceil(q × count) values at or below it) and answer that value's bucket midpoint, clamped
// to [min, max]; q = 0 answers min() and q = 1 answers max() exactly.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/result.h"

namespace glidepath::metrics {

inline constexpr int kSubBucketBits = 6;  // 64 sub-buckets per power of two
inline constexpr int kTrackedBits = 26;   // 2^26 µs = 67.1 s
inline constexpr int64_t kMaxTrackableMicros = (int64_t{1} << kTrackedBits) - 1;
inline constexpr size_t kBucketCount =  // 1344
    size_t{kTrackedBits - kSubBucketBits + 1} << kSubBucketBits;

// The bucket that counts `micros` (negative counts as 0, beyond the range as the last).
size_t bucket_index(int64_t micros);
// The smallest and largest value (inclusive) a bucket counts, and its representative.
int64_t bucket_lower(size_t index);
int64_t bucket_upper(size_t index);
int64_t bucket_midpoint(size_t index);

class SparseHistogram;

class LatencyHistogram {
 public:
  void record(int64_t micros) { record(micros, 1); }
  void record(int64_t micros, uint64_t times);
  // Adds `counts[i]` to bucket `first_index + i`, with the summary of those values (for
  // callers that hold raw bucket counts, such as a worker's per-second slot).
  void add_buckets(size_t first_index, std::span<const uint32_t> counts, uint64_t sum_micros,
                   int64_t min_micros, int64_t max_micros);
  void merge(const LatencyHistogram& other);
  void merge(const SparseHistogram& other);
  void clear();  // cost proportional to the range of non-zero buckets

  uint64_t count() const { return count_; }
  uint64_t sum() const { return sum_; }  // µs, of the values as recorded (not clamped)
  int64_t min() const { return count_ == 0 ? 0 : min_; }
  int64_t max() const { return count_ == 0 ? 0 : max_; }
  double mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_; }
  // µs; 0 for an empty histogram. q is clamped to [0, 1].
  int64_t percentile(double q) const;
  uint64_t bucket_count(size_t index) const { return counts_[index]; }

  SparseHistogram to_sparse() const;

 private:
  friend class SparseHistogram;
  void note_index(size_t index);

  std::array<uint64_t, kBucketCount> counts_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
  // The range of possibly non-zero buckets, so clear() and to_sparse() skip the rest.
  size_t low_index_ = kBucketCount;
  size_t high_index_ = 0;
};

class SparseHistogram {
 public:
  struct Bucket {
    uint16_t index = 0;
    uint32_t count = 0;  // one second of one series: far below 2^32 (merges saturate)
    friend bool operator==(const Bucket&, const Bucket&) = default;
  };

  SparseHistogram() = default;
  // A histogram from stored parts (a fleet's metric windows, SPEC section 9), checked so
  // that whatever it returns is one the other members could have built: indices strictly
  // increasing and below kBucketCount, every count positive, 0 <= min <= max, and an empty
  // histogram has sum, min and max 0. The count is the sum of the bucket counts.
  static core::Result<SparseHistogram> from_parts(std::vector<Bucket> buckets, uint64_t sum,
                                                  int64_t min, int64_t max);
  // Replaces the contents with `dense`, reusing this object's storage.
  void assign(const LatencyHistogram& dense);
  void merge(const SparseHistogram& other);
  void clear();

  uint64_t count() const { return count_; }
  uint64_t sum() const { return sum_; }
  int64_t min() const { return count_ == 0 ? 0 : min_; }
  int64_t max() const { return count_ == 0 ? 0 : max_; }
  int64_t percentile(double q) const;
  std::span<const Bucket> buckets() const { return buckets_; }
  // Heap bytes held (for capacity planning of the history).
  size_t heap_bytes() const { return buckets_.capacity() * sizeof(Bucket); }

  LatencyHistogram to_dense() const;

  friend bool operator==(const SparseHistogram&, const SparseHistogram&) = default;

 private:
  std::vector<Bucket> buckets_;  // sorted by index, counts > 0
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
};

}  // namespace glidepath::metrics
