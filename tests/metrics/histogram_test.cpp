#include "metrics/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace glidepath::metrics {
namespace {

constexpr int64_t kOneMicro = 1;
constexpr int64_t kSixtySeconds = 60'000'000;

// The value of nearest rank ceil(q × n), as LatencyHistogram::percentile defines it.
int64_t exact_percentile(const std::vector<int64_t>& sorted, double q) {
  if (q <= 0.0) return sorted.front();
  if (q >= 1.0) return sorted.back();
  const auto n = static_cast<double>(sorted.size());
  const auto rank = std::clamp<size_t>(static_cast<size_t>(std::ceil(q * n)), 1, sorted.size());
  return sorted[rank - 1];
}

double relative_error(int64_t approx, int64_t exact) {
  if (exact == 0) return approx == 0 ? 0.0 : 1.0;
  return std::abs(static_cast<double>(approx - exact)) / static_cast<double>(exact);
}

TEST(BucketLayoutTest, CoversOneMicrosecondToSixtySecondsContiguously) {
  EXPECT_EQ(kBucketCount, 1344u);
  EXPECT_GE(kMaxTrackableMicros, kSixtySeconds);
  EXPECT_EQ(bucket_lower(0), 0);
  EXPECT_EQ(bucket_upper(kBucketCount - 1), kMaxTrackableMicros);
  for (size_t i = 0; i < kBucketCount; ++i) {
    SCOPED_TRACE(i);
    ASSERT_LE(bucket_lower(i), bucket_upper(i));
    ASSERT_EQ(bucket_index(bucket_lower(i)), i);
    ASSERT_EQ(bucket_index(bucket_upper(i)), i);
    ASSERT_EQ(bucket_index(bucket_midpoint(i)), i);
    if (i + 1 < kBucketCount) {
      ASSERT_EQ(bucket_lower(i + 1), bucket_upper(i) + 1);
    }
    // Each bucket is at most 1/64 of its values wide, so the midpoint is within 1/128.
    const int64_t width = bucket_upper(i) - bucket_lower(i) + 1;
    ASSERT_LE(width, std::max<int64_t>(1, bucket_lower(i) / 64));
    ASSERT_LE(relative_error(bucket_midpoint(i), bucket_lower(i)), 1.0 / 128);
    ASSERT_LE(relative_error(bucket_midpoint(i), bucket_upper(i)), 1.0 / 128);
  }
}

TEST(BucketLayoutTest, SmallValuesAreExactAndOutOfRangeValuesClamp) {
  for (int64_t v = 0; v < 128; ++v)
    EXPECT_EQ(bucket_midpoint(bucket_index(v)), v);
  EXPECT_EQ(bucket_index(-5), 0u);
  EXPECT_EQ(bucket_index(kMaxTrackableMicros + 1), kBucketCount - 1);
  EXPECT_EQ(bucket_index(std::numeric_limits<int64_t>::max()), kBucketCount - 1);
}

struct Distribution {
  std::string name;
  std::function<int64_t(std::mt19937_64&)> draw;
};

std::vector<Distribution> distributions() {
  auto clamp_us = [](double v) {
    return std::clamp<int64_t>(std::llround(v), kOneMicro, kSixtySeconds);
  };
  return {
      {"uniform_1us_60s",
       [](std::mt19937_64& rng) {
         return std::uniform_int_distribution<int64_t>(kOneMicro, kSixtySeconds)(rng);
       }},
      {"uniform_small",
       [](std::mt19937_64& rng) { return std::uniform_int_distribution<int64_t>(1, 5000)(rng); }},
      {"log_normal_around_20ms",
       [clamp_us](std::mt19937_64& rng) {
         return clamp_us(std::lognormal_distribution<double>(std::log(20'000.0), 1.0)(rng));
       }},
      {"bimodal_2ms_and_800ms",
       [clamp_us](std::mt19937_64& rng) {
         if (std::bernoulli_distribution(0.9)(rng)) {
           return clamp_us(std::normal_distribution<double>(2'000, 300)(rng));
         }
         return clamp_us(std::normal_distribution<double>(800'000, 100'000)(rng));
       }},
      {"extremes_1us_and_60s",
       [](std::mt19937_64& rng) {
         const auto pick = std::uniform_int_distribution<int>(0, 3)(rng);
         if (pick == 0) return kOneMicro;
         if (pick == 1) return kSixtySeconds;
         if (pick == 2) return std::uniform_int_distribution<int64_t>(1, 10)(rng);
         return std::uniform_int_distribution<int64_t>(59'000'000, kSixtySeconds)(rng);
       }},
  };
}

TEST(LatencyHistogramTest, PercentilesWithinOnePercentOfExactValues) {
  std::mt19937_64 rng(20240601);
  for (const Distribution& d : distributions()) {
    SCOPED_TRACE(d.name);
    std::vector<int64_t> values(50'000);
    for (int64_t& v : values)
      v = d.draw(rng);
    LatencyHistogram dense;
    for (int64_t v : values)
      dense.record(v);
    const SparseHistogram sparse = dense.to_sparse();
    std::sort(values.begin(), values.end());

    EXPECT_EQ(dense.count(), values.size());
    EXPECT_EQ(dense.min(), values.front());
    EXPECT_EQ(dense.max(), values.back());
    for (double q : {0.0, 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0}) {
      SCOPED_TRACE(q);
      const int64_t exact = exact_percentile(values, q);
      EXPECT_LE(relative_error(dense.percentile(q), exact), 0.01);
      EXPECT_LE(relative_error(dense.percentile(q), exact), 1.0 / 128);  // the layout's bound
      EXPECT_EQ(sparse.percentile(q), dense.percentile(q));
    }
    EXPECT_EQ(dense.percentile(0.0), values.front());
    EXPECT_EQ(dense.percentile(1.0), values.back());
  }
}

TEST(LatencyHistogramTest, EmptyHistogramAnswersZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(0.5), 0);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.mean(), 0.0);
  EXPECT_TRUE(h.to_sparse().buckets().empty());
  EXPECT_EQ(SparseHistogram().percentile(0.99), 0);
}

TEST(LatencyHistogramTest, SingleValueIsExactAtEveryPercentile) {
  LatencyHistogram h;
  h.record(123'456);
  for (double q : {0.0, 0.5, 0.99, 1.0})
    EXPECT_EQ(h.percentile(q), 123'456);
}

TEST(LatencyHistogramTest, OutOfRangeValuesKeepExactMinAndMax) {
  LatencyHistogram h;
  h.record(-7);          // counts as 0
  h.record(90'000'000);  // 90 s: beyond the layout, in the last bucket
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 90'000'000);
  EXPECT_EQ(h.bucket_count(0), 1u);
  EXPECT_EQ(h.bucket_count(kBucketCount - 1), 1u);
  EXPECT_EQ(h.percentile(1.0), 90'000'000);
  EXPECT_EQ(h.sum(), 90'000'000u);
}

TEST(LatencyHistogramTest, RecordWithMultiplicityEqualsRepeatedRecords) {
  LatencyHistogram once;
  LatencyHistogram repeated;
  once.record(2'500, 7);
  for (int i = 0; i < 7; ++i)
    repeated.record(2'500);
  EXPECT_EQ(once.to_sparse(), repeated.to_sparse());
  EXPECT_EQ(once.sum(), 17'500u);
}

TEST(LatencyHistogramTest, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 rng(7);
  for (const Distribution& d : distributions()) {
    SCOPED_TRACE(d.name);
    LatencyHistogram all;
    LatencyHistogram parts[3];
    for (int i = 0; i < 30'000; ++i) {
      const int64_t v = d.draw(rng);
      all.record(v);
      parts[i % 3].record(v);
    }
    LatencyHistogram merged;
    for (const LatencyHistogram& p : parts)
      merged.merge(p);
    EXPECT_EQ(merged.count(), all.count());
    EXPECT_EQ(merged.sum(), all.sum());
    EXPECT_EQ(merged.min(), all.min());
    EXPECT_EQ(merged.max(), all.max());
    for (size_t i = 0; i < kBucketCount; ++i)
      ASSERT_EQ(merged.bucket_count(i), all.bucket_count(i));

    // The same through the sparse form, both sparse + sparse and dense + sparse.
    SparseHistogram sparse_merged;
    LatencyHistogram dense_from_sparse;
    for (const LatencyHistogram& p : parts) {
      sparse_merged.merge(p.to_sparse());
      dense_from_sparse.merge(p.to_sparse());
    }
    EXPECT_EQ(sparse_merged, all.to_sparse());
    EXPECT_EQ(dense_from_sparse.to_sparse(), all.to_sparse());
    for (double q : {0.5, 0.9, 0.99})
      EXPECT_EQ(sparse_merged.percentile(q), all.percentile(q));
  }
}

TEST(LatencyHistogramTest, MergingEmptyChangesNothing) {
  LatencyHistogram h;
  h.record(10);
  h.merge(LatencyHistogram{});
  h.merge(SparseHistogram{});
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.min(), 10);
  LatencyHistogram empty;
  empty.merge(h);
  EXPECT_EQ(empty.min(), 10);
  EXPECT_EQ(empty.max(), 10);
}

TEST(LatencyHistogramTest, SparseDenseRoundTrip) {
  std::mt19937_64 rng(99);
  LatencyHistogram dense;
  for (int i = 0; i < 20'000; ++i) {
    dense.record(std::uniform_int_distribution<int64_t>(1, 2'000'000)(rng));
  }
  const SparseHistogram sparse = dense.to_sparse();
  ASSERT_FALSE(sparse.buckets().empty());
  for (size_t i = 1; i < sparse.buckets().size(); ++i) {
    ASSERT_LT(sparse.buckets()[i - 1].index, sparse.buckets()[i].index);
  }
  for (const SparseHistogram::Bucket& b : sparse.buckets())
    ASSERT_GT(b.count, 0u);
  const LatencyHistogram back = sparse.to_dense();
  for (size_t i = 0; i < kBucketCount; ++i)
    ASSERT_EQ(back.bucket_count(i), dense.bucket_count(i));
  EXPECT_EQ(back.count(), dense.count());
  EXPECT_EQ(back.sum(), dense.sum());
  EXPECT_EQ(back.min(), dense.min());
  EXPECT_EQ(back.max(), dense.max());
  EXPECT_EQ(back.to_sparse(), sparse);
  EXPECT_EQ(sparse.count(), dense.count());
}

TEST(LatencyHistogramTest, ClearAllowsReuse) {
  LatencyHistogram h;
  h.record(5);
  h.record(5'000'000);
  h.clear();
  EXPECT_EQ(h.count(), 0u);
  for (size_t i = 0; i < kBucketCount; ++i)
    ASSERT_EQ(h.bucket_count(i), 0u);
  h.record(300);
  EXPECT_EQ(h.min(), 300);
  EXPECT_EQ(h.max(), 300);
  EXPECT_EQ(h.to_sparse().buckets().size(), 1u);

  SparseHistogram s = h.to_sparse();
  s.clear();
  EXPECT_EQ(s, SparseHistogram{});
}

TEST(LatencyHistogramTest, SparseFormIsSmallForTypicalSeconds) {
  // A second of 1000 requests spread around 20 ms keeps far less than the dense form.
  std::mt19937_64 rng(3);
  LatencyHistogram dense;
  for (int i = 0; i < 1000; ++i) {
    dense.record(std::llround(std::lognormal_distribution<double>(std::log(20'000.0), 0.5)(rng)));
  }
  const SparseHistogram sparse = dense.to_sparse();
  EXPECT_LT(sparse.buckets().size() * sizeof(SparseHistogram::Bucket),
            sizeof(LatencyHistogram) / 4);
  EXPECT_EQ(sizeof(SparseHistogram::Bucket), 8u);
}

}  // namespace
}  // namespace glidepath::metrics
