// What the sample backend does with a request target: the ordinary answer, the run-time
// control endpoint or one of the test hooks. Pure functions, so the rules are table-tested
// without sockets (tests/backend/routes_test.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace glidepath::sample_backend {

enum class RouteKind {
  application,  // any other path: the JSON description of the request (200, or 500 by error rate)
  control,      // /_control: GET reads, POST changes error rate and latency
  echo,         // /_test/echo: the request body streamed back
  status,       // /_test/status/{code}
  sleep,        // /_test/sleep/{ms}
  bytes,        // /_test/bytes/{n}[?chunked=1]
  reset,        // /_test/reset: TCP reset, no answer
  garbage,      // /_test/garbage: bytes that are not HTTP, then close
  close,        // /_test/close: an answer, then close
  count,        // /_test/count: requests received per path prefix
  requests,     // /_test/requests: the last requests' method and target
  websocket,    // /_test/ws: a WebSocket echo (RFC 6455); 426 without an upgrade
  bad_hook,     // /_test/... that names no hook or has a bad argument: 404 or 400
};

struct Route {
  RouteKind kind = RouteKind::application;
  std::uint64_t number = 0;  // the code, milliseconds or byte count of status, sleep, bytes
  bool chunked = false;      // bytes: ?chunked=1
  int error_status = 0;      // bad_hook: 404 (unknown hook) or 400 (bad argument)
  std::string error;         // bad_hook: why
};

// Upper bounds on hook arguments, so a typo cannot park a connection for a day.
inline constexpr std::uint64_t kMaxSleepMs = 10 * 60 * 1000;
inline constexpr std::uint64_t kMaxLatencyMs = 60 * 60 * 1000;

// Test hooks live under /_test/, either at the root or after any prefix
// (/orders/_test/echo), so a gateway route with a path_prefix can reach them too.
// /_control is recognised at the root only.
Route classify(std::string_view target);

// The target without its query string.
std::string_view path_of(std::string_view target);

// The first path segment, by which /_test/count groups requests: "/orders/1" -> "/orders",
// "/" -> "/", "/a?x" -> "/a"; a target that is not origin-form counts under itself.
std::string_view path_prefix(std::string_view target);

// Version names follow the config's rule (letters, digits, '.', '_', '-'; up to 64; first
// an alphanumeric): they travel in a response header and in JSON.
bool is_valid_version_name(std::string_view name);

// A change of behaviour posted to /_control: {"error_rate":0.5,"latency_ms":200}; both
// keys are optional, anything else is an error.
struct ControlUpdate {
  bool has_error_rate = false;
  double error_rate = 0.0;
  bool has_latency = false;
  std::uint64_t latency_ms = 0;
};
core::Result<ControlUpdate> parse_control_update(std::string_view body);

}  // namespace glidepath::sample_backend
