// Time as an input. Decision logic never calls now() itself: the loop around it passes
// the time in, and tests drive a ManualClock in simulated time.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace glidepath::core {

// Microseconds: fine enough for latency, and an int64 of them spans ±292,000 years.
using Duration = std::chrono::microseconds;
using TimePoint = std::chrono::sys_time<Duration>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override;
};

// A clock that moves only when told to: for tests and simulations.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_(start) {}
  TimePoint now() const override { return now_; }
  void advance(Duration by) { now_ += by; }
  void set(TimePoint to) { now_ = to; }

 private:
  TimePoint now_;
};

// Whole seconds since the Unix epoch: the key of every one-second metric window.
inline int64_t epoch_second(TimePoint t) {
  return std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
}
inline TimePoint from_epoch_micros(int64_t micros) {
  return TimePoint(Duration(micros));
}
inline int64_t to_epoch_micros(TimePoint t) {
  return t.time_since_epoch().count();
}

// RFC 3339 in UTC with millisecond precision: "2026-11-26T11:49:46.123Z".
std::string format_rfc3339(TimePoint t);
// The same with microseconds, which round-trips exactly: "2026-11-26T11:49:46.123456Z".
std::string format_rfc3339_micros(TimePoint t);
// Reads "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)"; the fraction is kept to microseconds.
Result<TimePoint> parse_rfc3339(std::string_view text);

}  // namespace glidepath::core
