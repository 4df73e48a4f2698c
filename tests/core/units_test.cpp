// Tables for the small value languages of core/units.h. Each parser is also fuzzed
// (tests/fuzz/fuzz_units.cpp); these tables pin the meaning of the accepted spellings.
#include "core/units.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace glidepath::core {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr int64_t kMaxMicros = std::numeric_limits<int64_t>::max();

// ---- parse_duration ------------------------------------------------------------------

struct DurationCase {
  std::string_view text;
  Duration expected;
};

TEST(ParseDuration, AcceptsEveryUnitAndCompoundForms) {
  const DurationCase cases[] = {
      // every unit
      {"1us", microseconds(1)},
      {"1\xC2\xB5s", microseconds(1)},  // µs
      {"1ms", milliseconds(1)},
      {"1s", seconds(1)},
      {"1m", minutes(1)},
      {"1h", hours(1)},
      {"1d", hours(24)},
      // the config file's usual values
      {"250ms", milliseconds(250)},
      {"30s", seconds(30)},
      {"5m", minutes(5)},
      {"10m", minutes(10)},
      // compound
      {"1h30m", minutes(90)},
      {"1m30s", seconds(90)},
      {"1d1h", hours(25)},
      {"1h1m1s1ms1us", hours(1) + minutes(1) + seconds(1) + milliseconds(1) + microseconds(1)},
      {"30s1h", hours(1) + seconds(30)},  // any order, as Go
      {"1s1s", seconds(2)},               // repeated units add up, as Go
      // fractions
      {"1.5s", milliseconds(1500)},
      {"1.5h", minutes(90)},
      {"0.5ms", microseconds(500)},
      {"0.001ms", microseconds(1)},
      {".5s", milliseconds(500)},
      {"1.s", seconds(1)},
      {"1.25m", seconds(75)},
      {"2.5d", hours(60)},
      {"1.1s", milliseconds(1100)},  // exact, no floating point rounding
      {"0.000001s", microseconds(1)},
      {"0.0000001s", microseconds(0)},  // below a microsecond truncates
      {"1.9us", microseconds(1)},
      {"1.0000009h", hours(1) + microseconds(3240)},  // 7th fraction digit still counts
      {"0.0000001m", microseconds(6)},
      {"0.123456789123s", microseconds(123456)},  // digits past nanoseconds are ignored
      // zero
      {"0", Duration(0)},
      {"0s", Duration(0)},
      {"0.0s", Duration(0)},
      {"0h0m0s", Duration(0)},
      {"000s", Duration(0)},
      // leading zeros and surrounding whitespace
      {"007s", seconds(7)},
      {" 5s", seconds(5)},
      {"5s ", seconds(5)},
      {"\t1m\n", minutes(1)},
      {"  0  ", Duration(0)},
      // the limits of an int64 of microseconds
      {"9223372036854775807us", Duration(kMaxMicros)},
      {"2562047788h", hours(2562047788)},
      {"106751991d", hours(24) * 106751991},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string("input: '") + std::string(c.text) + "'");
    const auto parsed = parse_duration(c.text);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(parsed->count(), c.expected.count());
  }
}

TEST(ParseDuration, RejectsMalformedInputWithAMessage) {
  const std::string_view cases[] = {
      "",
      "   ",
      "5",     // no unit
      "00",    // only a bare "0" may omit the unit
      "1h30",  // the last number has no unit
      "ms",    // no number
      "s5",
      ".s",
      ".",
      "-1s",  // no sign
      "+1s",
      "-0",
      "5x",
      "5S",  // units are case-sensitive
      "5sec",
      "5 s",
      "1h 30m",
      "1..5s",
      "1.5.5s",
      "1e3s",
      "0x10s",
      "1,5s",
      "\xC2\xB5s",
      "1\xC2s",  // a broken UTF-8 sequence
      "99999999999999999999h",
      "99999999999999999999999999999999s",
      "9223372036854775808us",
      "2562047789h",
      "106751992d",
      "9223372036854775807us1us",  // each part fits, the sum does not
      "2562047788h1h",
      "2562047788.9h",
      std::string_view("1s\0", 3),
  };
  for (std::string_view text : cases) {
    SCOPED_TRACE(std::string("input: '") + std::string(text) + "'");
    const auto parsed = parse_duration(text);
    ASSERT_FALSE(parsed.ok()) << "parsed as " << parsed->count() << "us";
    EXPECT_NE(parsed.error().message.find("invalid duration"), std::string::npos)
        << parsed.error().message;
  }
}

TEST(ParseDuration, ErrorNamesTheInputAndTheProblem) {
  const auto unit = parse_duration("5x");
  ASSERT_FALSE(unit.ok());
  EXPECT_NE(unit.error().message.find("'5x'"), std::string::npos) << unit.error().message;
  EXPECT_NE(unit.error().message.find("unknown unit 'x'"), std::string::npos);

  const auto missing = parse_duration("5");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("missing unit"), std::string::npos);

  const auto large = parse_duration("99999999999999999999h");
  ASSERT_FALSE(large.ok());
  EXPECT_NE(large.error().message.find("too large"), std::string::npos) << large.error().message;
}

// ---- format_duration -----------------------------------------------------------------

TEST(FormatDuration, UsesTheShortestExactSpelling) {
  const struct {
    Duration value;
    std::string_view expected;
  } cases[] = {
      {Duration(0), "0s"},
      {microseconds(1), "1us"},
      {microseconds(1500), "1500us"},
      {milliseconds(1), "1ms"},
      {milliseconds(250), "250ms"},
      {milliseconds(1500), "1500ms"},
      {seconds(1), "1s"},
      {seconds(30), "30s"},
      {seconds(90), "1m30s"},
      {minutes(5), "5m"},
      {minutes(90), "1h30m"},
      {hours(1) + seconds(1), "1h1s"},
      {hours(48), "48h"},
      {hours(1) + minutes(1) + seconds(1), "1h1m1s"},
      {seconds(-5), "-5s"},
      {microseconds(-1), "-1us"},
      {Duration(kMaxMicros), "9223372036854775807us"},
      {Duration(std::numeric_limits<int64_t>::min()), "-9223372036854775808us"},
      {Duration(std::numeric_limits<int64_t>::min() + 1), "-9223372036854775807us"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("micros: " + std::to_string(c.value.count()));
    EXPECT_EQ(format_duration(c.value), c.expected);
  }
}

// Durations to round-trip: every power of two, each unit's multiples, and a
// deterministic spread over the whole non-negative range.
std::vector<Duration> round_trip_values() {
  std::vector<Duration> values;
  for (int bit = 0; bit < 63; ++bit) {
    const int64_t p = int64_t{1} << bit;
    values.emplace_back(p);
    values.emplace_back(p - 1);
    values.emplace_back(p + 1);
  }
  values.emplace_back(kMaxMicros);
  values.emplace_back(kMaxMicros - 1);
  const int64_t units[] = {1, 1'000, 1'000'000, 60'000'000, 3'600'000'000, 86'400'000'000};
  for (int64_t unit : units) {
    for (int64_t n : {1, 2, 7, 59, 60, 61, 999, 1000, 1001, 3600, 86400, 1'000'000}) {
      values.emplace_back(unit * n);
      values.emplace_back(unit * n + 1);
    }
  }
  uint64_t state = 0x9E3779B97F4A7C15u;  // splitmix64: a fixed, reproducible spread
  for (int i = 0; i < 2000; ++i) {
    state += 0x9E3779B97F4A7C15u;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    z ^= z >> 31;
    const auto magnitude = static_cast<int64_t>(z >> 1);
    values.emplace_back(magnitude);
    values.emplace_back(magnitude / 1000 * 1000);            // whole milliseconds
    values.emplace_back(magnitude / 1'000'000 * 1'000'000);  // whole seconds
    values.emplace_back(magnitude % (int64_t{1} << (i % 62 + 1)));
  }
  return values;
}

TEST(FormatDuration, RoundTripsThroughParse) {
  for (Duration d : round_trip_values()) {
    const std::string text = format_duration(d);
    const auto parsed = parse_duration(text);
    ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.error().message;
    ASSERT_EQ(parsed->count(), d.count()) << "formatted as " << text;
  }
}

TEST(FormatDuration, ParseThenFormatIsCanonical) {
  const struct {
    std::string_view text;
    std::string_view canonical;
  } cases[] = {
      {"0", "0s"},   {"90s", "1m30s"},  {"1.5h", "1h30m"}, {"1.5ms", "1500us"}, {"1d", "24h"},
      {"60m", "1h"}, {"0.5s", "500ms"}, {" 5m ", "5m"},    {"1000ms", "1s"},    {"3600s", "1h"},
  };
  for (const auto& c : cases) {
    const auto parsed = parse_duration(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text;
    EXPECT_EQ(format_duration(*parsed), c.canonical) << c.text;
  }
}

// ---- parse_rate / format_rate --------------------------------------------------------

TEST(ParseRate, AcceptsEverySpellingOfTheUnit) {
  const struct {
    std::string_view text;
    Rate expected;
  } cases[] = {
      {"100/s", {100, seconds(1)}},
      {"100/sec", {100, seconds(1)}},
      {"100/second", {100, seconds(1)}},
      {"6000/min", {6000, minutes(1)}},
      {"6000/m", {6000, minutes(1)}},
      {"6000/minute", {6000, minutes(1)}},
      {"100/h", {100, hours(1)}},
      {"100/hour", {100, hours(1)}},
      {"1/s", {1, seconds(1)}},
      {" 5 / s ", {5, seconds(1)}},
      {"0010/s", {10, seconds(1)}},
      {"18446744073709551615/s", {std::numeric_limits<uint64_t>::max(), seconds(1)}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string("input: '") + std::string(c.text) + "'");
    const auto parsed = parse_rate(c.text);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(*parsed, c.expected);
  }
}

TEST(ParseRate, RejectsMalformedInput) {
  const std::string_view cases[] = {
      "",
      "100",
      "/s",
      "100/",
      "0/s",
      "-1/s",
      "+1/s",
      "1.5/s",
      "1e3/s",
      "abc/s",
      "100/day",
      "100/S",
      "100/secs",
      "100/s/s",
      "1 0/s",
      "100/ms",
      "100/d",
      "100/month",
      "18446744073709551616/s",
      "99999999999999999999999/min",
  };
  for (std::string_view text : cases) {
    SCOPED_TRACE(std::string("input: '") + std::string(text) + "'");
    const auto parsed = parse_rate(text);
    ASSERT_FALSE(parsed.ok());
    EXPECT_NE(parsed.error().message.find("invalid rate"), std::string::npos)
        << parsed.error().message;
  }
}

TEST(FormatRate, RoundTripsAndReportsPerSecond) {
  const struct {
    Rate rate;
    std::string_view text;
    double per_second;
  } cases[] = {
      {{100, seconds(1)}, "100/s", 100.0},
      {{6000, minutes(1)}, "6000/min", 100.0},
      {{36, hours(1)}, "36/hour", 0.01},
      {{1, seconds(1)}, "1/s", 1.0},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_rate(c.rate), c.text);
    EXPECT_DOUBLE_EQ(c.rate.per_second(), c.per_second);
    const auto parsed = parse_rate(format_rate(c.rate));
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(*parsed, c.rate);
  }
  EXPECT_EQ(Rate{}.per_second(), 0.0);  // no division by a zero period
}

// ---- parse_quota / format_quota ------------------------------------------------------

TEST(ParseQuota, AcceptsEveryPeriod) {
  const struct {
    std::string_view text;
    Quota expected;
  } cases[] = {
      {"100000/day", {100000, QuotaPeriod::day}},
      {"100/d", {100, QuotaPeriod::day}},
      {"5000/hour", {5000, QuotaPeriod::hour}},
      {"5000/h", {5000, QuotaPeriod::hour}},
      {"1000000/month", {1000000, QuotaPeriod::month}},
      {" 7 / month ", {7, QuotaPeriod::month}},
      {"18446744073709551615/day", {std::numeric_limits<uint64_t>::max(), QuotaPeriod::day}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string("input: '") + std::string(c.text) + "'");
    const auto parsed = parse_quota(c.text);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(*parsed, c.expected);
  }
}

TEST(ParseQuota, RejectsMalformedInput) {
  const std::string_view cases[] = {
      "",       "100",     "/day",     "100/",
      "0/day",  "-5/day",  "100/week", "100/year",
      "100/s",  "100/min", "100/Day",  "1.5/day",
      "100day", "x/day",   "100/days", "18446744073709551616/day",
  };
  for (std::string_view text : cases) {
    SCOPED_TRACE(std::string("input: '") + std::string(text) + "'");
    const auto parsed = parse_quota(text);
    ASSERT_FALSE(parsed.ok());
    EXPECT_NE(parsed.error().message.find("invalid quota"), std::string::npos)
        << parsed.error().message;
  }
}

TEST(FormatQuota, RoundTrips) {
  const struct {
    Quota quota;
    std::string_view text;
  } cases[] = {
      {{100000, QuotaPeriod::day}, "100000/day"},
      {{5000, QuotaPeriod::hour}, "5000/hour"},
      {{1, QuotaPeriod::month}, "1/month"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_quota(c.quota), c.text);
    const auto parsed = parse_quota(format_quota(c.quota));
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(*parsed, c.quota);
  }
  EXPECT_STREQ(to_string(QuotaPeriod::hour), "hour");
  EXPECT_STREQ(to_string(QuotaPeriod::day), "day");
  EXPECT_STREQ(to_string(QuotaPeriod::month), "month");
}

// ---- parse_host_port -----------------------------------------------------------------

TEST(ParseHostPort, AcceptsAddressesAndNames) {
  const struct {
    std::string_view text;
    HostPort expected;
  } cases[] = {
      {"127.0.0.1:9001", {"127.0.0.1", 9001}},
      {"0.0.0.0:80", {"0.0.0.0", 80}},
      {"localhost:80", {"localhost", 80}},
      {"api.example.com:443", {"api.example.com", 443}},
      {"my-host_1:8080", {"my-host_1", 8080}},
      {"h:1", {"h", 1}},
      {"h:65535", {"h", 65535}},
      {"[::1]:8080", {"::1", 8080}},
      {"[::]:80", {"::", 80}},
      {"[2001:db8::1]:443", {"2001:db8::1", 443}},
      {"[fe80::1%eth0]:80", {"fe80::1%eth0", 80}},
      {" localhost:80 ", {"localhost", 80}},
      {"\t[::1]:9\n", {"::1", 9}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string("input: '") + std::string(c.text) + "'");
    const auto parsed = parse_host_port(c.text);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(*parsed, c.expected);
  }
}

TEST(ParseHostPort, RejectsMalformedInput) {
  const struct {
    std::string_view text;
    std::string_view why;  // a fragment the message must contain
  } cases[] = {
      {"", "missing port"},
      {"localhost", "missing port"},
      {"localhost:", "port must be 1-65535"},
      {":80", "missing host"},
      {"[]:80", "missing host"},
      {"host:0", "port must be 1-65535"},
      {"host:00000", "port must be 1-65535"},
      {"host:65536", "port must be 1-65535"},
      {"host:99999", "port must be 1-65535"},
      {"host:123456", "port must be 1-65535"},
      {"host:8o", "port must be a number"},
      {"host:http", "port must be"},
      {"host:-1", "port must be a number"},
      {"host:+80", "port must be a number"},
      {"host: 80", "port must be a number"},
      {"::1:80", "IPv6 addresses need [brackets]"},
      {"::1", "IPv6 addresses need [brackets]"},
      {"[::1]", "missing port"},
      {"[::1]80", "missing port"},
      {"[::1]:", "port must be 1-65535"},
      {"[::1:80", "unclosed '['"},
      {"ho st:80", "unexpected character ' ' in host"},
      {"host/x:80", "unexpected character '/' in host"},
      {"http://host:80", ""},  // rejected; the message is about the extra colon
      {"[a]b]:80", "missing port"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string("input: '") + std::string(c.text) + "'");
    const auto parsed = parse_host_port(c.text);
    ASSERT_FALSE(parsed.ok()) << "parsed as " << parsed->host << " port " << parsed->port;
    EXPECT_NE(parsed.error().message.find(c.why), std::string::npos) << parsed.error().message;
    EXPECT_NE(parsed.error().message.find("invalid address"), std::string::npos);
  }
}

TEST(FormatHostPort, BracketsIPv6AndRoundTrips) {
  const struct {
    HostPort value;
    std::string_view text;
  } cases[] = {
      {{"127.0.0.1", 9001}, "127.0.0.1:9001"},
      {{"localhost", 80}, "localhost:80"},
      {{"::1", 8080}, "[::1]:8080"},
      {{"fe80::1%eth0", 65535}, "[fe80::1%eth0]:65535"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(format_host_port(c.value), c.text);
    const auto parsed = parse_host_port(format_host_port(c.value));
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(*parsed, c.value);
  }
}

}  // namespace
}  // namespace glidepath::core
