// Fuzz target for the value parsers of core/units.h (STYLE.md habit 5) and the text
// helpers beside them. Besides "no crash, no sanitizer report", it checks what the
// parsers promise: whatever parses formats back to a spelling that parses to the same
// value. A broken promise traps, so libFuzzer keeps the input as a reproducer.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "core/text.h"
#include "core/units.h"

namespace {

using namespace glidepath::core;

void require(bool holds, const char* what) {
  if (holds) return;
  std::fprintf(stderr, "fuzz_units: invariant broken: %s\n", what);
  __builtin_trap();
}

void check_duration(std::string_view text) {
  const auto parsed = parse_duration(text);
  if (!parsed) {
    require(!parsed.error().message.empty(), "duration error has a message");
    return;
  }
  require(parsed->count() >= 0, "a parsed duration is not negative");
  const auto again = parse_duration(format_duration(*parsed));
  require(again.ok(), "a formatted duration parses");
  require(again.ok() && *again == *parsed, "parse(format(d)) == d");
}

// Any int64 of microseconds formats without overflow; a non-negative one round-trips.
void check_format_duration(const uint8_t* data, size_t size) {
  if (size < sizeof(int64_t)) return;
  int64_t micros = 0;
  std::memcpy(&micros, data, sizeof micros);
  const std::string text = format_duration(Duration(micros));
  require(!text.empty(), "format_duration is never empty");
  if (micros < 0) {
    require(text.front() == '-', "a negative duration formats with a sign");
    return;
  }
  const auto parsed = parse_duration(text);
  require(parsed.ok() && parsed->count() == micros, "parse(format(d)) == d for any d >= 0");
}

void check_rate(std::string_view text) {
  const auto parsed = parse_rate(text);
  if (!parsed) return;
  require(parsed->count >= 1, "a rate counts at least 1");
  require(parsed->per == std::chrono::seconds(1) || parsed->per == std::chrono::minutes(1) ||
              parsed->per == std::chrono::hours(1),
          "a rate is per second, minute or hour");
  require(parsed->per_second() > 0.0, "a parsed rate is positive");
  const auto again = parse_rate(format_rate(*parsed));
  require(again.ok() && *again == *parsed, "parse_rate(format_rate(r)) == r");
}

void check_quota(std::string_view text) {
  const auto parsed = parse_quota(text);
  if (!parsed) return;
  require(parsed->count >= 1, "a quota counts at least 1");
  const auto again = parse_quota(format_quota(*parsed));
  require(again.ok() && *again == *parsed, "parse_quota(format_quota(q)) == q");
}

void check_host_port(std::string_view text) {
  const auto parsed = parse_host_port(text);
  if (!parsed) return;
  require(!parsed->host.empty(), "a parsed host is not empty");
  require(parsed->port != 0, "a parsed port is 1-65535");
  const auto again = parse_host_port(format_host_port(*parsed));
  require(again.ok() && *again == *parsed, "parse_host_port(format_host_port(a)) == a");
}

// The input split in two: Levenshtein is a metric, bounded by the longer length.
void check_edit_distance(std::string_view text) {
  if (text.size() > 32) return;  // quadratic; longer inputs only slow the fuzzer down
  const std::string_view a = text.substr(0, text.size() / 2);
  const std::string_view b = text.substr(text.size() / 2);
  const size_t d = edit_distance(a, b);
  require(d == edit_distance(b, a), "edit_distance is symmetric");
  require(d <= std::max(a.size(), b.size()), "edit_distance <= the longer length");
  require(d >= std::max(a.size(), b.size()) - std::min(a.size(), b.size()),
          "edit_distance >= the difference in length");
  require(edit_distance(a, a) == 0, "edit_distance(a, a) == 0");

  static constexpr std::string_view kCandidates[] = {"name",    "versions",           "live",
                                                     "traffic", "evaluation_periods", "Canary"};
  if (const auto match = closest_match(text, kCandidates)) {
    const size_t distance = edit_distance(text, *match);
    require(distance <= 3 && distance <= std::max<size_t>(text.size() / 3, 1),
            "closest_match stays within its limit");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_duration(text);
  check_format_duration(data, size);
  check_rate(text);
  check_quota(text);
  check_host_port(text);
  check_edit_distance(text);
  return 0;
}
