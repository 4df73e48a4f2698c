#include "metrics/second_stats.h"

namespace glidepath::metrics {

StatusClass status_class(int status) {
  if (status >= 100 && status < 600) return static_cast<StatusClass>(status / 100 - 1);
  return StatusClass::server_error;
}

const char* to_string(StatusClass c) {
  switch (c) {
    case StatusClass::informational:
      return "1xx";
    case StatusClass::success:
      return "2xx";
    case StatusClass::redirection:
      return "3xx";
    case StatusClass::client_error:
      return "4xx";
    case StatusClass::server_error:
      return "5xx";
  }
  return "5xx";
}

void RequestCounts::add(const RequestCounts& other) {
  requests += other.requests;
  status_1xx += other.status_1xx;
  status_2xx += other.status_2xx;
  status_3xx += other.status_3xx;
  status_4xx += other.status_4xx;
  status_5xx += other.status_5xx;
  bytes_in += other.bytes_in;
  bytes_out += other.bytes_out;
}

void RequestCounts::count(int status, uint64_t request_bytes, uint64_t response_bytes) {
  ++requests;
  ++of(status_class(status));
  bytes_in += request_bytes;
  bytes_out += response_bytes;
}

namespace {
template <typename Counts>
auto& class_field(Counts& counts, StatusClass c) {
  switch (c) {
    case StatusClass::informational:
      return counts.status_1xx;
    case StatusClass::success:
      return counts.status_2xx;
    case StatusClass::redirection:
      return counts.status_3xx;
    case StatusClass::client_error:
      return counts.status_4xx;
    case StatusClass::server_error:
      return counts.status_5xx;
  }
  return counts.status_5xx;
}
}  // namespace

uint64_t& RequestCounts::of(StatusClass c) {
  return class_field(*this, c);
}
uint64_t RequestCounts::of(StatusClass c) const {
  return class_field(*this, c);
}

double RequestCounts::error_rate() const {
  return requests == 0 ? 0.0 : static_cast<double>(status_5xx) / static_cast<double>(requests);
}

}  // namespace glidepath::metrics
