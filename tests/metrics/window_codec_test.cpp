// SparseHistogram::from_parts and the bucket text of metrics/window_codec.h: what a fleet's
// gateways write and its controllers read back (SPEC section 9).
#include "metrics/window_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "metrics/histogram.h"

namespace glidepath::metrics {
namespace {

using Bucket = SparseHistogram::Bucket;
using ::testing::HasSubstr;

constexpr uint32_t kMaxBucketCount = std::numeric_limits<uint32_t>::max();

SparseHistogram histogram_of(std::initializer_list<int64_t> micros) {
  LatencyHistogram dense;
  for (int64_t value : micros)
    dense.record(value);
  return dense.to_sparse();
}

// --- from_parts ---

TEST(SparseHistogramFromPartsTest, RebuildsWhatTheOtherMembersBuilt) {
  const SparseHistogram original = histogram_of({3, 3, 250, 90'000, 120'000'000});
  std::vector<Bucket> buckets(original.buckets().begin(), original.buckets().end());
  auto rebuilt =
      SparseHistogram::from_parts(buckets, original.sum(), original.min(), original.max());
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.error().message;
  EXPECT_EQ(*rebuilt, original);
  EXPECT_EQ(rebuilt->count(), 5u);
  EXPECT_EQ(rebuilt->percentile(1.0), 120'000'000);
}

TEST(SparseHistogramFromPartsTest, EmptyPartsMakeTheEmptyHistogram) {
  auto empty = SparseHistogram::from_parts({}, 0, 0, 0);
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_EQ(*empty, SparseHistogram());
}

TEST(SparseHistogramFromPartsTest, CountIsTheSumOfTheBucketCountsWithoutOverflow) {
  std::vector<Bucket> buckets;
  for (size_t i = 0; i < kBucketCount; ++i)
    buckets.push_back(Bucket{static_cast<uint16_t>(i), kMaxBucketCount});
  auto full = SparseHistogram::from_parts(buckets, 1, 0, kMaxTrackableMicros);
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(full->count(), uint64_t{kMaxBucketCount} * kBucketCount);
}

struct BadParts {
  const char* name;
  std::vector<Bucket> buckets;
  uint64_t sum;
  int64_t min;
  int64_t max;
  const char* message;
};

TEST(SparseHistogramFromPartsTest, RefusesPartsNoHistogramCouldHave) {
  const BadParts cases[] = {
      {"index beyond the layout", {{1344, 1}}, 1, 1, 1, "beyond the last bucket"},
      {"largest uint16 index", {{65535, 1}}, 1, 1, 1, "beyond the last bucket"},
      {"indices descending", {{5, 1}, {4, 1}}, 9, 4, 5, "increasing order"},
      {"index repeated", {{5, 1}, {5, 1}}, 10, 5, 5, "increasing order"},
      {"zero count", {{5, 0}}, 0, 5, 5, "count of 0"},
      {"negative min", {{0, 1}}, 0, -1, 0, "negative"},
      {"negative max", {{0, 1}}, 0, 0, -1, "negative"},
      {"min above max", {{5, 2}}, 10, 6, 5, "above max"},
      {"empty with a sum", {}, 1, 0, 0, "without values"},
      {"empty with a min and max", {}, 0, 3, 3, "without values"},
  };
  for (const BadParts& bad : cases) {
    SCOPED_TRACE(bad.name);
    auto made = SparseHistogram::from_parts(bad.buckets, bad.sum, bad.min, bad.max);
    ASSERT_FALSE(made.ok());
    EXPECT_THAT(made.error().message, HasSubstr(bad.message));
  }
}

// --- encode / decode ---

TEST(WindowCodecTest, EncodesIndexCountPairsInOrder) {
  EXPECT_EQ(encode_buckets(SparseHistogram()), "");
  const std::vector<Bucket> buckets = {{12, 3}, {40, 1}};
  EXPECT_EQ(encode_buckets(buckets), "12:3,40:1");
  EXPECT_EQ(encode_buckets(histogram_of({0, 127, 127})), "0:1,127:2");
}

TEST(WindowCodecTest, DecodesTheExtremes) {
  auto empty = decode_buckets("");
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_TRUE(empty->empty());

  auto widest = decode_buckets("0:1,1343:4294967295");
  ASSERT_TRUE(widest.ok()) << widest.error().message;
  EXPECT_EQ(*widest, (std::vector<Bucket>{{0, 1}, {1343, kMaxBucketCount}}));
}

TEST(WindowCodecTest, LongestHistogramFitsTheLengthLimit) {
  std::vector<Bucket> buckets;
  for (size_t i = 0; i < kBucketCount; ++i)
    buckets.push_back(Bucket{static_cast<uint16_t>(i), kMaxBucketCount});
  const std::string text = encode_buckets(buckets);
  EXPECT_LE(text.size(), kMaxEncodedBucketsLength);
  auto decoded = decode_buckets(text);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, buckets);
}

// Random histograms of every shape (empty, one value, exact small values, values beyond
// the layout) round-trip through the text exactly.
TEST(WindowCodecTest, RandomHistogramsRoundTrip) {
  std::mt19937_64 random(20260101);
  std::uniform_real_distribution<double> log_micros(0.0, std::log(300'000'000.0));
  std::uniform_int_distribution<int> value_count(0, 400);
  std::uniform_int_distribution<int> repeat(1, 5);
  for (int round = 0; round < 500; ++round) {
    LatencyHistogram dense;
    const int values = round == 0 ? 0 : value_count(random);
    for (int i = 0; i < values; ++i) {
      const auto micros = static_cast<int64_t>(std::exp(log_micros(random))) - 1;
      dense.record(micros, static_cast<uint64_t>(repeat(random)));
    }
    const SparseHistogram original = dense.to_sparse();
    const std::string text = encode_buckets(original);
    SCOPED_TRACE(text);
    auto decoded = decode_histogram(text, original.sum(), original.min(), original.max());
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    ASSERT_EQ(*decoded, original);
    ASSERT_EQ(encode_buckets(*decoded), text);
  }
}

TEST(WindowCodecTest, RefusesHostileText) {
  const std::string nul_inside("1:1\0", 4);
  const std::string too_long(kMaxEncodedBucketsLength + 1, '1');
  const std::string many_entries = [] {
    std::string text;
    for (int i = 0; i < 2000; ++i)
      text += (i == 0 ? "" : ",") + std::to_string(i) + ":1";
    return text;
  }();
  const std::string inputs[] = {
      ",",
      "1",
      "1:",
      ":1",
      "1:1,",
      ",1:1",
      "1:1,,2:1",
      "01:1",
      "00:1",
      "1:01",
      "1:0",
      "1344:1",
      "65536:1",
      "99999999999999999999:1",
      "1:4294967296",
      "1:18446744073709551617",
      "1:99999999999999999999999999999999",
      "-1:1",
      "+1:1",
      "1:-1",
      " 1:1",
      "1:1 ",
      "1 :1",
      "1:1\n",
      "2:1,1:1",
      "1:1,1:1",
      "1:1;2:1",
      "1:1:1",
      "0x1:1",
      "1e3:1",
      "\xef\xbc\x91:1",  // a full-width digit one
      nul_inside,
      std::string(1, '\0'),
      too_long,
      many_entries,  // indices beyond the layout long before the length limit
  };
  for (const std::string& input : inputs) {
    SCOPED_TRACE(input);
    auto decoded = decode_buckets(input);
    EXPECT_FALSE(decoded.ok());
    if (!decoded.ok()) {
      EXPECT_FALSE(decoded.error().message.empty());
    }
  }
}

TEST(WindowCodecTest, ErrorsSayWhereTheTextWentWrong) {
  auto unordered = decode_buckets("3:1,7:2,7:1");
  ASSERT_FALSE(unordered.ok());
  EXPECT_THAT(unordered.error().message, HasSubstr("entry 2"));
  EXPECT_THAT(unordered.error().message, HasSubstr("increasing"));

  auto garbage = decode_buckets("3:1,x");
  ASSERT_FALSE(garbage.ok());
  EXPECT_THAT(garbage.error().message, HasSubstr("'x'"));
  EXPECT_THAT(garbage.error().message, HasSubstr("offset 4"));

  auto control = decode_buckets(std::string("3:\x01", 3));
  ASSERT_FALSE(control.ok());
  EXPECT_THAT(control.error().message, HasSubstr("0x01"));

  auto too_long = decode_buckets(std::string(kMaxEncodedBucketsLength + 1, '1'));
  ASSERT_FALSE(too_long.ok());
  EXPECT_THAT(too_long.error().message, HasSubstr("bytes long"));
}

TEST(WindowCodecTest, DecodeHistogramChecksTheSummaryToo) {
  EXPECT_FALSE(decode_histogram("", 5, 0, 0).ok());
  EXPECT_FALSE(decode_histogram("3:1", 3, 4, 3).ok());
  EXPECT_FALSE(decode_histogram("3:x", 3, 3, 3).ok());
  auto one = decode_histogram("3:1", 3, 3, 3);
  ASSERT_TRUE(one.ok()) << one.error().message;
  EXPECT_EQ(*one, histogram_of({3}));
}

}  // namespace
}  // namespace glidepath::metrics
