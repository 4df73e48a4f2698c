#include "core/units.h"

#include <fmt/format.h>

#include <cctype>
#include <limits>
#include <utility>

namespace glidepath::core {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Micro-seconds per unit; the longest unit spellings first so "ms" is not read as "m".
constexpr std::pair<std::string_view, int64_t> kDurationUnits[] = {
    {"us", 1},     {"\xC2\xB5s", 1},  // µs
    {"ms", 1'000}, {"s", 1'000'000}, {"m", 60'000'000}, {"h", 3'600'000'000}, {"d", 86'400'000'000},
};

// Reads a decimal number "12" or "1.25" as a whole part and a fraction scaled to
// 10^-9, so no floating point rounding creeps into "1.1s".
// A whole part beyond uint64 still consumes its digits and sets `too_large`, so the
// error says "too large" rather than "expected a number".
struct Decimal {
  uint64_t whole = 0;
  uint64_t nano_fraction = 0;
  bool too_large = false;
};
bool read_decimal(std::string_view& text, Decimal& out) {
  size_t i = 0;
  bool any = false;
  while (i < text.size() && is_digit(text[i])) {
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (out.whole > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      out.too_large = true;
    } else {
      out.whole = out.whole * 10 + digit;
    }
    ++i;
    any = true;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    uint64_t scale = 100'000'000;
    while (i < text.size() && is_digit(text[i])) {
      out.nano_fraction += static_cast<uint64_t>(text[i] - '0') * scale;
      scale /= 10;
      ++i;
      any = true;
    }
  }
  text.remove_prefix(i);
  return any;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

}  // namespace

Result<Duration> parse_duration(std::string_view text) {
  const std::string original(text);
  text = trim(text);
  auto invalid = [&](std::string_view why) {
    return fail(fmt::format("invalid duration '{}': {} (expected e.g. 250ms, 30s, 5m, 1h30m)",
                            original, why));
  };
  if (text.empty()) return invalid("empty");
  if (text == "0") return Duration(0);
  int64_t total = 0;
  while (!text.empty()) {
    Decimal number;
    if (!read_decimal(text, number)) return invalid("expected a number");
    size_t unit_len = 0;
    while (unit_len < text.size() && !is_digit(text[unit_len]) && text[unit_len] != '.') {
      ++unit_len;
    }
    const std::string_view unit = text.substr(0, unit_len);
    text.remove_prefix(unit_len);
    if (unit.empty()) return invalid("missing unit (us, ms, s, m, h or d)");
    int64_t micros_per_unit = 0;
    for (const auto& [name, micros] : kDurationUnits) {
      if (unit == name) micros_per_unit = micros;
    }
    if (micros_per_unit == 0) return invalid(fmt::format("unknown unit '{}'", unit));
    const auto limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    const auto unit_micros = static_cast<uint64_t>(micros_per_unit);
    if (number.too_large || number.whole > limit / unit_micros) return invalid("too large");
    const int64_t whole = static_cast<int64_t>(number.whole) * micros_per_unit;
    // fraction * unit / 1e9, truncated, without overflow: nano_fraction < 1e9, and every
    // unit but "us" is a whole number of milliseconds (at most 8.64e7 of them for "d"),
    // so the product stays below 8.64e16. Dividing the fraction first would drop its 7th
    // digit onwards: "1.0000009h" is 3.24ms more than an hour.
    const uint64_t fraction_micros = unit_micros % 1000 == 0
                                         ? number.nano_fraction * (unit_micros / 1000) / 1'000'000
                                         : number.nano_fraction * unit_micros / 1'000'000'000;
    const auto fraction = static_cast<int64_t>(fraction_micros);
    if (total > std::numeric_limits<int64_t>::max() - whole - fraction) return invalid("too large");
    total += whole + fraction;
  }
  return Duration(total);
}

std::string format_duration(Duration d) {
  if (d.count() == 0) return "0s";
  std::string out;
  // The magnitude as unsigned: negating the most negative int64 would overflow.
  uint64_t us = static_cast<uint64_t>(d.count());
  if (d.count() < 0) {
    out = "-";
    us = 0 - us;
  }
  if (us % 1000 != 0) return out + fmt::format("{}us", us);
  const uint64_t ms = us / 1000;
  if (ms % 1000 != 0) return out + fmt::format("{}ms", ms);
  uint64_t s = ms / 1000;
  const uint64_t h = s / 3600;
  const uint64_t m = (s % 3600) / 60;
  s %= 60;
  if (h) out += fmt::format("{}h", h);
  if (m) out += fmt::format("{}m", m);
  if (s) out += fmt::format("{}s", s);
  return out;
}

double Rate::per_second() const {
  return per.count() == 0 ? 0.0
                          : static_cast<double>(count) * 1e6 / static_cast<double>(per.count());
}

namespace {
// Splits "N/unit" into the count and the unit, with a helpful error.
Result<std::pair<uint64_t, std::string_view>> split_count(std::string_view text,
                                                          std::string_view what,
                                                          std::string_view example) {
  const std::string original(text);
  text = trim(text);
  const size_t slash = text.find('/');
  auto invalid = [&](std::string_view why) {
    return fail(
        fmt::format("invalid {} '{}': {} (expected e.g. {})", what, original, why, example));
  };
  if (slash == std::string_view::npos) return invalid("missing '/'");
  std::string_view number = trim(text.substr(0, slash));
  if (number.empty()) return invalid("missing count");
  uint64_t count = 0;
  for (char c : number) {
    if (!is_digit(c)) return invalid("count must be a whole number");
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (count > (std::numeric_limits<uint64_t>::max() - digit) / 10) return invalid("too large");
    count = count * 10 + digit;
  }
  if (count == 0) return invalid("count must be at least 1");
  return std::pair{count, trim(text.substr(slash + 1))};
}
}  // namespace

Result<Rate> parse_rate(std::string_view text) {
  auto parts = split_count(text, "rate", "100/s, 6000/min");
  if (!parts) return Failure{parts.error()};
  const auto [count, unit] = *parts;
  Rate rate{count, Duration(0)};
  if (unit == "s" || unit == "sec" || unit == "second") {
    rate.per = std::chrono::seconds(1);
  } else if (unit == "m" || unit == "min" || unit == "minute") {
    rate.per = std::chrono::minutes(1);
  } else if (unit == "h" || unit == "hour") {
    rate.per = std::chrono::hours(1);
  } else {
    return fail(fmt::format("invalid rate '{}': unknown unit '{}' (use s, min or hour)",
                            std::string(text), unit));
  }
  return rate;
}

std::string format_rate(const Rate& rate) {
  if (rate.per == std::chrono::seconds(1)) return fmt::format("{}/s", rate.count);
  if (rate.per == std::chrono::minutes(1)) return fmt::format("{}/min", rate.count);
  if (rate.per == std::chrono::hours(1)) return fmt::format("{}/hour", rate.count);
  return fmt::format("{}/{}", rate.count, format_duration(rate.per));
}

const char* to_string(QuotaPeriod period) {
  switch (period) {
    case QuotaPeriod::hour:
      return "hour";
    case QuotaPeriod::day:
      return "day";
    case QuotaPeriod::month:
      return "month";
  }
  return "day";
}

Result<Quota> parse_quota(std::string_view text) {
  auto parts = split_count(text, "quota", "100000/day");
  if (!parts) return Failure{parts.error()};
  const auto [count, unit] = *parts;
  Quota quota{count, QuotaPeriod::day};
  if (unit == "hour" || unit == "h") {
    quota.period = QuotaPeriod::hour;
  } else if (unit == "day" || unit == "d") {
    quota.period = QuotaPeriod::day;
  } else if (unit == "month") {
    quota.period = QuotaPeriod::month;
  } else {
    return fail(fmt::format("invalid quota '{}': unknown period '{}' (use hour, day or month)",
                            std::string(text), unit));
  }
  return quota;
}

std::string format_quota(const Quota& quota) {
  return fmt::format("{}/{}", quota.count, to_string(quota.period));
}

Result<HostPort> parse_host_port(std::string_view text, bool allow_port_zero) {
  const std::string original(text);
  auto invalid = [&](std::string_view why) {
    return fail(fmt::format("invalid address '{}': {} (expected host:port, e.g. 127.0.0.1:9001)",
                            original, why));
  };
  text = trim(text);
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return invalid("unclosed '['");
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':') return invalid("missing port");
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return invalid("missing port");
    host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos) return invalid("IPv6 addresses need [brackets]");
    port = text.substr(colon + 1);
  }
  if (host.empty()) return invalid("missing host");
  for (char c : host) {
    const bool allowed = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                         c == '_' || c == ':' || c == '%';
    if (!allowed) return invalid(fmt::format("unexpected character '{}' in host", c));
  }
  if (port.empty() || port.size() > 5) return invalid("port must be 1-65535");
  uint32_t value = 0;
  for (char c : port) {
    if (!is_digit(c)) return invalid("port must be a number");
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if ((value == 0 && !allow_port_zero) || value > 65535) return invalid("port must be 1-65535");
  return HostPort{std::string(host), static_cast<uint16_t>(value)};
}

std::string format_host_port(const HostPort& hp) {
  if (hp.host.find(':') != std::string::npos) return fmt::format("[{}]:{}", hp.host, hp.port);
  return fmt::format("{}:{}", hp.host, hp.port);
}

}  // namespace glidepath::core
