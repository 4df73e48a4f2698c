// What is counted per (service, version) series: request counts by status class, bytes
// and latency (SPEC section 4, "Metrics"). The same counters serve one second of one
// worker, one second of the whole process, a period of seconds and the running totals.
#pragma once

#include <cstdint>

#include "metrics/histogram.h"

namespace glidepath::metrics {

// Status classes 1xx..5xx as indices 0..4. A status outside 100..599 cannot come from a
// valid response, so it counts as a server error. Gateway-made 502/504 are ordinary 5xx:
// they count against the version the request was routed to (SPEC section 4).
enum class StatusClass : uint8_t {
  informational,
  success,
  redirection,
  client_error,
  server_error
};
inline constexpr int kStatusClassCount = 5;
StatusClass status_class(int status);
const char* to_string(StatusClass c);  // "1xx" .. "5xx", the Prometheus `code` label

struct RequestCounts {
  uint64_t requests = 0;
  uint64_t status_1xx = 0;  // 101 Switching Protocols: the only final 1xx
  uint64_t status_2xx = 0;
  uint64_t status_3xx = 0;
  uint64_t status_4xx = 0;
  uint64_t status_5xx = 0;
  uint64_t bytes_in = 0;   // request bytes received from the client
  uint64_t bytes_out = 0;  // response bytes sent to the client

  void add(const RequestCounts& other);
  // Counts one response with `status`.
  void count(int status, uint64_t request_bytes, uint64_t response_bytes);
  uint64_t& of(StatusClass c);
  uint64_t of(StatusClass c) const;
  // 5xx / requests; 0 when there were no requests.
  double error_rate() const;
  friend bool operator==(const RequestCounts&, const RequestCounts&) = default;
};

// One series, one second: the unit MetricsHistory keeps (and a fleet's gateways report).
struct SecondStats : RequestCounts {
  SparseHistogram latency;  // µs
  friend bool operator==(const SecondStats&, const SecondStats&) = default;
};

// One series over [from_second, to_second): seconds merged, latency in a dense histogram.
struct PeriodAggregate : RequestCounts {
  int64_t from_second = 0;
  int64_t to_second = 0;
  int64_t seconds_with_data = 0;  // seconds in the range with at least one request
  LatencyHistogram latency;       // µs; empty when aggregated without latency
};

}  // namespace glidepath::metrics
