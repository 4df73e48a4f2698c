#include "core/clock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string_view>

namespace glidepath::core {
namespace {

using namespace std::chrono;

TimePoint at(sys_days day, Duration time_of_day) {
  return TimePoint(day) + time_of_day;
}

TEST(FormatRfc3339, KnownValues) {
  const struct {
    TimePoint t;
    std::string_view expected;
  } cases[] = {
      {TimePoint{}, "1970-01-01T00:00:00.000Z"},
      {at(sys_days{2026y / 11 / 26}, hours(11) + minutes(49) + seconds(46) + milliseconds(123)),
       "2026-11-26T11:49:46.123Z"},
      {from_epoch_micros(1'469'918'176'385'000), "2016-07-30T22:36:16.385Z"},
      {at(sys_days{2024y / 2 / 29}, hours(23) + minutes(59) + seconds(59) + microseconds(999'999)),
       "2024-02-29T23:59:59.999Z"},  // leap day; sub-millisecond digits truncate
      {at(sys_days{2000y / 1 / 1}, microseconds(1)), "2000-01-01T00:00:00.000Z"},
      {at(sys_days{9999y / 12 / 31}, hours(23) + minutes(59) + seconds(59) + milliseconds(999)),
       "9999-12-31T23:59:59.999Z"},
      {from_epoch_micros(-1'000), "1969-12-31T23:59:59.999Z"},  // before the epoch
      {from_epoch_micros(-1), "1969-12-31T23:59:59.999Z"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("micros: " + std::to_string(to_epoch_micros(c.t)));
    EXPECT_EQ(format_rfc3339(c.t), c.expected);
  }
}

TEST(EpochSecond, FloorsTowardsThePast) {
  EXPECT_EQ(epoch_second(from_epoch_micros(0)), 0);
  EXPECT_EQ(epoch_second(from_epoch_micros(999'999)), 0);
  EXPECT_EQ(epoch_second(from_epoch_micros(1'000'000)), 1);
  EXPECT_EQ(epoch_second(from_epoch_micros(-1)), -1);  // a window starts at its second
  EXPECT_EQ(epoch_second(from_epoch_micros(1'469'918'176'385'000)), 1'469'918'176);
}

TEST(EpochMicros, RoundTrips) {
  for (int64_t micros : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{1'469'918'176'385'123}}) {
    EXPECT_EQ(to_epoch_micros(from_epoch_micros(micros)), micros);
  }
}

TEST(ManualClock, MovesOnlyWhenTold) {
  const TimePoint start = from_epoch_micros(1'700'000'000'000'000);
  ManualClock clock(start);
  const Clock& as_clock = clock;  // decision code sees only the interface
  EXPECT_EQ(as_clock.now(), start);
  EXPECT_EQ(as_clock.now(), start);

  clock.advance(seconds(1));
  EXPECT_EQ(as_clock.now(), start + seconds(1));
  clock.advance(microseconds(1));
  EXPECT_EQ(as_clock.now(), start + seconds(1) + microseconds(1));
  clock.advance(Duration(0));
  EXPECT_EQ(as_clock.now(), start + seconds(1) + microseconds(1));

  const TimePoint later = start + hours(24);
  clock.set(later);
  EXPECT_EQ(as_clock.now(), later);
  clock.set(start);  // set may move backwards: simulations rewind
  EXPECT_EQ(as_clock.now(), start);
}

TEST(SystemClock, ReadsTheSystemTime) {
  const SystemClock clock;
  const auto before = time_point_cast<Duration>(system_clock::now());
  const TimePoint now = clock.now();
  const auto after = time_point_cast<Duration>(system_clock::now());
  EXPECT_LE(before, now);
  EXPECT_LE(now, after);
}

}  // namespace
}  // namespace glidepath::core
