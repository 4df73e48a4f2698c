#include "core/ids.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>

namespace glidepath::core {
namespace {

constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr size_t kUlidLength = 26;

const TimePoint kTime = from_epoch_micros(1'469'918'176'385'000);  // the ULID spec's example

// The 48-bit millisecond timestamp in the first 10 characters of a ULID.
uint64_t ulid_millis(std::string_view ulid) {
  uint64_t value = 0;
  for (char c : ulid.substr(0, 10))
    value = value * 32 + kCrockford.find(c);
  return value;
}

TEST(MakeId, HasThePrefixAndAULID) {
  for (std::string_view prefix : {"dep", "key", "evt", "x"}) {
    const std::string id = make_id(prefix, kTime);
    SCOPED_TRACE(id);
    ASSERT_EQ(id.size(), prefix.size() + 1 + kUlidLength);
    EXPECT_EQ(id.substr(0, prefix.size()), prefix);
    EXPECT_EQ(id[prefix.size()], '_');
    const std::string_view ulid = std::string_view(id).substr(prefix.size() + 1);
    for (char c : ulid)
      EXPECT_NE(kCrockford.find(c), std::string_view::npos) << c;
    // 26 characters hold 130 bits; the 2 spare bits lead, so a ULID starts with 0-7.
    EXPECT_LE(ulid[0], '7');
  }
}

TEST(MakeId, EncodesTheMillisecondsAsULIDDoes) {
  // The ULID specification's example: 1469918176385 ms is "01ARYZ6S41".
  const std::string id = make_id("dep", kTime);
  EXPECT_EQ(id.substr(4, 10), "01ARYZ6S41");
  const struct {
    int64_t millis;
  } cases[] = {{0}, {1}, {1'700'000'000'000}, {1'469'918'176'385}, {(int64_t{1} << 48) - 1}};
  for (const auto& c : cases) {
    const std::string made = make_id("t", from_epoch_micros(c.millis * 1000 + 999));
    EXPECT_EQ(ulid_millis(std::string_view(made).substr(2)), static_cast<uint64_t>(c.millis))
        << made;
  }
}

TEST(MakeId, IsUniqueWithinTheSameMillisecond) {
  std::unordered_set<std::string> seen;
  for (int i = 0; i < 10'000; ++i) {
    EXPECT_TRUE(seen.insert(make_id("dep", kTime)).second);
  }
  EXPECT_EQ(seen.size(), 10'000u);
}

TEST(MakeId, SortsByTimeForIncreasingTimes) {
  const int64_t steps_us[] = {1'000, 7'000, 1'000'000, 3'600'000'000, 86'400'000'000};
  for (int64_t step : steps_us) {
    TimePoint t = from_epoch_micros(1'700'000'000'000'000);
    std::string previous = make_id("dep", t);
    for (int i = 0; i < 500; ++i) {
      t += Duration(step);
      std::string next = make_id("dep", t);
      ASSERT_LT(previous, next) << "step " << step << "us at " << i;
      previous = std::move(next);
    }
  }
  // Across a carry into a higher character, and from the epoch to far in the future.
  EXPECT_LT(make_id("dep", from_epoch_micros(31'999'000)),
            make_id("dep", from_epoch_micros(32'000'000)));
  EXPECT_LT(make_id("dep", from_epoch_micros(0)), make_id("dep", from_epoch_micros(1'000)));
  EXPECT_LT(make_id("dep", from_epoch_micros(1'000)),
            make_id("dep", from_epoch_micros(4'000'000'000'000'000)));
}

TEST(RandomToken, HasTheBase32LengthAndAlphabet) {
  const struct {
    size_t bytes;
    size_t length;
  } cases[] = {{0, 0}, {1, 2}, {4, 7}, {5, 8}, {16, 26}, {20, 32}, {32, 52}};
  constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";
  for (const auto& c : cases) {
    const std::string token = random_token(c.bytes);
    SCOPED_TRACE(token);
    EXPECT_EQ(token.size(), c.length);
    for (char ch : token)
      EXPECT_NE(kAlphabet.find(ch), std::string_view::npos) << ch;
  }
}

TEST(RandomToken, DiffersEachTime) {
  std::unordered_set<std::string> seen;
  for (int i = 0; i < 1'000; ++i)
    EXPECT_TRUE(seen.insert(random_token(16)).second);
}

}  // namespace
}  // namespace glidepath::core
