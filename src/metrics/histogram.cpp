#include "metrics/histogram.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <limits>
#include <utility>

namespace glidepath::metrics {

namespace {

constexpr int64_t kSubBucketCount = int64_t{1} << kSubBucketBits;

// The nearest rank (1-based) of quantile q among `count` values.
uint64_t nearest_rank(double q, uint64_t count) {
  if (!(q > 0.0)) return 1;  // also NaN
  if (q >= 1.0) return count;
  const double rank = std::ceil(q * static_cast<double>(count));
  if (rank < 1.0) return 1;
  if (rank >= static_cast<double>(count)) return count;
  return static_cast<uint64_t>(rank);
}

// The bucket midpoint for the value of rank ceil(q × count), walking buckets in order.
// `for_each` calls its argument with (index, count) for each non-zero bucket, ascending,
// and stops when it returns true.
template <typename ForEach>
int64_t percentile_of(double q, uint64_t count, int64_t min, int64_t max, ForEach for_each) {
  if (count == 0) return 0;
  if (!(q > 0.0)) return min;
  if (q >= 1.0) return max;
  const uint64_t rank = nearest_rank(q, count);
  uint64_t seen = 0;
  int64_t answer = max;
  for_each([&](size_t index, uint64_t bucket_count) {
    seen += bucket_count;
    if (seen >= rank) {
      answer = bucket_midpoint(index);
      return true;
    }
    return false;
  });
  return std::clamp(answer, min, max);
}

}  // namespace

size_t bucket_index(int64_t micros) {
  if (micros < 2 * kSubBucketCount) return micros < 0 ? 0 : static_cast<size_t>(micros);
  const uint64_t value = static_cast<uint64_t>(std::min(micros, kMaxTrackableMicros));
  // value is in [2^e, 2^(e+1)) with e >= kSubBucketBits + 1; its top kSubBucketBits + 1
  // bits (64..127) pick the sub-bucket, and each power of two adds 64 buckets.
  const int exponent = std::bit_width(value) - 1;
  const int shift = exponent - kSubBucketBits;
  return static_cast<size_t>((static_cast<int64_t>(shift) << kSubBucketBits) +
                             static_cast<int64_t>(value >> shift));
}

int64_t bucket_lower(size_t index) {
  const auto i = static_cast<int64_t>(index);
  if (i < 2 * kSubBucketCount) return i;
  const int64_t shift = (i >> kSubBucketBits) - 1;
  const int64_t mantissa = (i & (kSubBucketCount - 1)) + kSubBucketCount;
  return mantissa << shift;
}

int64_t bucket_upper(size_t index) {
  const auto i = static_cast<int64_t>(index);
  if (i < 2 * kSubBucketCount) return i;
  const int64_t shift = (i >> kSubBucketBits) - 1;
  return bucket_lower(index) + (int64_t{1} << shift) - 1;
}

int64_t bucket_midpoint(size_t index) {
  const int64_t lower = bucket_lower(index);
  return lower + (bucket_upper(index) - lower) / 2;
}

// ---- LatencyHistogram ----

void LatencyHistogram::note_index(size_t index) {
  low_index_ = std::min(low_index_, index);
  high_index_ = std::max(high_index_, index);
}

void LatencyHistogram::record(int64_t micros, uint64_t times) {
  if (times == 0) return;
  const int64_t value = std::max<int64_t>(micros, 0);
  const size_t index = bucket_index(value);
  counts_[index] += times;
  note_index(index);
  if (count_ == 0) {
    min_ = value;
    max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  count_ += times;
  sum_ += static_cast<uint64_t>(value) * times;
}

void LatencyHistogram::add_buckets(size_t first_index, std::span<const uint32_t> counts,
                                   uint64_t sum_micros, int64_t min_micros, int64_t max_micros) {
  assert(first_index + counts.size() <= kBucketCount);
  uint64_t added = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0) continue;
    counts_[first_index + i] += counts[i];
    note_index(first_index + i);
    added += counts[i];
  }
  if (added == 0) return;
  if (count_ == 0) {
    min_ = min_micros;
    max_ = max_micros;
  } else {
    min_ = std::min(min_, min_micros);
    max_ = std::max(max_, max_micros);
  }
  count_ += added;
  sum_ += sum_micros;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = other.low_index_; i <= other.high_index_; ++i)
    counts_[i] += other.counts_[i];
  note_index(other.low_index_);
  note_index(other.high_index_);
  if (count_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  count_ += other.count_;
  sum_ += other.sum_;
}

void LatencyHistogram::merge(const SparseHistogram& other) {
  if (other.count() == 0) return;
  for (const SparseHistogram::Bucket& b : other.buckets()) {
    counts_[b.index] += b.count;
    note_index(b.index);
  }
  if (count_ == 0) {
    min_ = other.min();
    max_ = other.max();
  } else {
    min_ = std::min(min_, other.min());
    max_ = std::max(max_, other.max());
  }
  count_ += other.count();
  sum_ += other.sum();
}

void LatencyHistogram::clear() {
  if (low_index_ <= high_index_) {
    std::fill(counts_.begin() + static_cast<std::ptrdiff_t>(low_index_),
              counts_.begin() + static_cast<std::ptrdiff_t>(high_index_) + 1, uint64_t{0});
  }
  low_index_ = kBucketCount;
  high_index_ = 0;
  count_ = 0;
  sum_ = 0;
  min_ = 0;
  max_ = 0;
}

int64_t LatencyHistogram::percentile(double q) const {
  return percentile_of(q, count_, min_, max_, [this](auto visit) {
    for (size_t i = low_index_; i <= high_index_ && i < kBucketCount; ++i) {
      if (counts_[i] != 0 && visit(i, counts_[i])) return;
    }
  });
}

SparseHistogram LatencyHistogram::to_sparse() const {
  SparseHistogram sparse;
  sparse.assign(*this);
  return sparse;
}

// ---- SparseHistogram ----

core::Result<SparseHistogram> SparseHistogram::from_parts(std::vector<Bucket> buckets, uint64_t sum,
                                                          int64_t min, int64_t max) {
  uint64_t count = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    const Bucket& b = buckets[i];
    if (b.index >= kBucketCount) {
      return core::fail(fmt::format("bucket {}: index {} is beyond the last bucket ({})", i,
                                    b.index, kBucketCount - 1));
    }
    if (i > 0 && b.index <= buckets[i - 1].index) {
      return core::fail(fmt::format("bucket {}: index {} does not follow {} in increasing order", i,
                                    b.index, buckets[i - 1].index));
    }
    if (b.count == 0) {
      return core::fail(fmt::format(
          "bucket {} (index {}) has a count of 0; only non-zero buckets are kept", i, b.index));
    }
    count += b.count;  // at most kBucketCount × 2^32: no overflow
  }
  if (min < 0 || max < 0) {
    return core::fail(fmt::format("min {} and max {} must not be negative", min, max));
  }
  if (min > max) return core::fail(fmt::format("min {} is above max {}", min, max));
  if (count == 0 && (sum != 0 || min != 0 || max != 0)) {
    return core::fail(fmt::format(
        "a histogram without values must have sum, min and max 0 (sum {}, min {}, max {})", sum,
        min, max));
  }
  SparseHistogram histogram;
  histogram.buckets_ = std::move(buckets);
  histogram.count_ = count;
  histogram.sum_ = sum;
  histogram.min_ = min;
  histogram.max_ = max;
  return histogram;
}

void SparseHistogram::assign(const LatencyHistogram& dense) {
  buckets_.clear();
  if (dense.count_ != 0) {
    for (size_t i = dense.low_index_; i <= dense.high_index_; ++i) {
      const uint64_t c = dense.counts_[i];
      if (c == 0) continue;
      buckets_.push_back(Bucket{
          static_cast<uint16_t>(i),
          static_cast<uint32_t>(std::min<uint64_t>(c, std::numeric_limits<uint32_t>::max()))});
    }
  }
  count_ = dense.count_;
  sum_ = dense.sum_;
  min_ = dense.min_;
  max_ = dense.max_;
}

void SparseHistogram::merge(const SparseHistogram& other) {
  if (other.count_ == 0) return;
  if (count_ == 0) {
    *this = other;
    return;
  }
  std::vector<Bucket> merged;
  merged.reserve(buckets_.size() + other.buckets_.size());
  auto a = buckets_.begin();
  auto b = other.buckets_.begin();
  while (a != buckets_.end() || b != other.buckets_.end()) {
    if (b == other.buckets_.end() || (a != buckets_.end() && a->index < b->index)) {
      merged.push_back(*a++);
    } else if (a == buckets_.end() || b->index < a->index) {
      merged.push_back(*b++);
    } else {
      const uint64_t sum = uint64_t{a->count} + b->count;
      merged.push_back(Bucket{a->index, static_cast<uint32_t>(std::min<uint64_t>(
                                            sum, std::numeric_limits<uint32_t>::max()))});
      ++a;
      ++b;
    }
  }
  buckets_ = std::move(merged);
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void SparseHistogram::clear() {
  buckets_.clear();
  count_ = 0;
  sum_ = 0;
  min_ = 0;
  max_ = 0;
}

int64_t SparseHistogram::percentile(double q) const {
  return percentile_of(q, count_, min_, max_, [this](auto visit) {
    for (const Bucket& b : buckets_) {
      if (visit(b.index, b.count)) return;
    }
  });
}

LatencyHistogram SparseHistogram::to_dense() const {
  LatencyHistogram dense;
  dense.merge(*this);
  return dense;
}

}  // namespace glidepath::metrics
