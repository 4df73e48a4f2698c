#include "tools/sample_backend/routes.h"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

namespace glidepath::sample_backend {

namespace {

constexpr std::string_view kTestPrefix = "/_test/";

bool parse_number(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return false;
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

Route bad_hook(int status, std::string message) {
  Route route;
  route.kind = RouteKind::bad_hook;
  route.error_status = status;
  route.error = std::move(message);
  return route;
}

bool query_has(std::string_view query, std::string_view pair) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    if (query.substr(0, amp) == pair) return true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

// `hook` is what follows "/_test/": "echo", "status/503", ...
Route classify_hook(std::string_view hook, std::string_view query) {
  const size_t slash = hook.find('/');
  const std::string_view name = hook.substr(0, slash);
  const bool has_argument = slash != std::string_view::npos;
  const std::string_view argument = has_argument ? hook.substr(slash + 1) : std::string_view{};

  struct Plain {
    std::string_view name;
    RouteKind kind;
  };
  static constexpr Plain kPlain[] = {
      {"echo", RouteKind::echo},    {"reset", RouteKind::reset}, {"garbage", RouteKind::garbage},
      {"close", RouteKind::close},  {"count", RouteKind::count}, {"requests", RouteKind::requests},
      {"ws", RouteKind::websocket},
  };
  for (const auto& plain : kPlain) {
    if (name != plain.name) continue;
    if (has_argument) return bad_hook(404, "/_test/" + std::string(name) + " takes no argument");
    Route route;
    route.kind = plain.kind;
    return route;
  }

  Route route;
  if (name == "status") {
    route.kind = RouteKind::status;
    // 1xx are interim answers, not something a hook can end a request with.
    if (!parse_number(argument, route.number) || route.number < 200 || route.number > 599) {
      return bad_hook(400, "/_test/status/{code} needs a code from 200 to 599");
    }
  } else if (name == "sleep") {
    route.kind = RouteKind::sleep;
    if (!parse_number(argument, route.number) || route.number > kMaxSleepMs) {
      return bad_hook(400,
                      "/_test/sleep/{ms} needs milliseconds up to " + std::to_string(kMaxSleepMs));
    }
  } else if (name == "bytes") {
    route.kind = RouteKind::bytes;
    if (!parse_number(argument, route.number)) {
      return bad_hook(400, "/_test/bytes/{n} needs a byte count");
    }
    route.chunked = query_has(query, "chunked=1");
  } else {
    return bad_hook(404, "no test hook /_test/" + std::string(name));
  }
  return route;
}

}  // namespace

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

std::string_view path_prefix(std::string_view target) {
  const std::string_view path = path_of(target);
  if (path.empty() || path.front() != '/') return path;  // "*" or absolute-form
  const size_t next = path.find('/', 1);
  if (next == 1) return path.substr(0, 1);  // "//x" groups under "/"
  return path.substr(0, next);
}

Route classify(std::string_view target) {
  const std::string_view path = path_of(target);
  const std::string_view query =
      path.size() < target.size() ? target.substr(path.size() + 1) : std::string_view{};
  if (path == "/_control") {
    Route route;
    route.kind = RouteKind::control;
    return route;
  }
  const size_t at = path.find(kTestPrefix);
  if (at == std::string_view::npos) return Route{};
  return classify_hook(path.substr(at + kTestPrefix.size()), query);
}

bool is_valid_version_name(std::string_view name) {
  constexpr size_t kMaxNameLength = 64;
  if (name.empty() || name.size() > kMaxNameLength) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(name.front())) return false;
  for (const char c : name) {
    if (!alnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

core::Result<ControlUpdate> parse_control_update(std::string_view body) {
  const auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return core::fail(R"(expected a JSON object like {"error_rate":0.5,"latency_ms":200})");
  }
  ControlUpdate update;
  for (const auto& [key, value] : json.items()) {
    if (key == "error_rate") {
      if (!value.is_number()) return core::fail("error_rate: expected a number from 0 to 1");
      const double rate = value.get<double>();
      if (!(rate >= 0.0 && rate <= 1.0)) {  // also rejects NaN
        return core::fail("error_rate: expected a number from 0 to 1");
      }
      update.has_error_rate = true;
      update.error_rate = rate;
    } else if (key == "latency_ms") {
      if (!value.is_number_unsigned() || value.get<std::uint64_t>() > kMaxLatencyMs) {
        return core::fail("latency_ms: expected whole milliseconds from 0 to " +
                          std::to_string(kMaxLatencyMs));
      }
      update.has_latency = true;
      update.latency_ms = value.get<std::uint64_t>();
    } else {
      return core::fail("unknown key '" + key + "' (expected error_rate, latency_ms)");
    }
  }
  return update;
}

}  // namespace glidepath::sample_backend
