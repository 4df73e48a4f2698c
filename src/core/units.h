// Parsers for the small value languages of the config file and the CLI: durations
// ("250ms", "1m30s"), rates ("100/s"), quotas ("100000/day") and host:port. Each returns
// an error that says what was expected, never throws, and has a fuzz target.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"

namespace glidepath::core {

// A sequence of <number><unit> with units us (or µs), ms, s, m, h, d, as Go's
// time.ParseDuration: "250ms", "30s", "1m30s", "1.5h". A bare "0" is zero. No sign.
Result<Duration> parse_duration(std::string_view text);

// The shortest exact spelling: "0s", "250ms", "30s", "5m", "1h30m", "1.5ms" → "1500us".
std::string format_duration(Duration d);

// A request rate for a token bucket: `count` tokens per `per`; burst defaults to count.
struct Rate {
  uint64_t count = 0;
  Duration per{};
  double per_second() const;
  friend bool operator==(const Rate&, const Rate&) = default;
};
// "100/s", "100/second", "6000/min", "6000/m", "100/h", "100/hour".
Result<Rate> parse_rate(std::string_view text);
std::string format_rate(const Rate& rate);

enum class QuotaPeriod { hour, day, month };
// A hard cap per calendar period in UTC.
struct Quota {
  uint64_t count = 0;
  QuotaPeriod period = QuotaPeriod::day;
  friend bool operator==(const Quota&, const Quota&) = default;
};
// "100000/day", "5000/hour", "1000000/month".
Result<Quota> parse_quota(std::string_view text);
std::string format_quota(const Quota& quota);
const char* to_string(QuotaPeriod period);

struct HostPort {
  std::string host;  // a name or an address; IPv6 without the brackets
  uint16_t port = 0;
  friend bool operator==(const HostPort&, const HostPort&) = default;
};
// "127.0.0.1:9001", "localhost:80", "[::1]:8080". The port is required (1-65535); a
// listening address may allow port 0, which asks the kernel for a free port (tests).
Result<HostPort> parse_host_port(std::string_view text, bool allow_port_zero = false);
std::string format_host_port(const HostPort& hp);

}  // namespace glidepath::core
