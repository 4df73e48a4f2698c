// One gateway's counts for one series in one second (SPEC section 9): what a fleet's
// gateways report and its controllers merge. The metrics module owns the record; the
// store keeps it.
#pragma once

#include <cstdint>
#include <string>

#include "metrics/second_stats.h"

namespace glidepath::metrics {

// Service and version are names as the config file allows them (core::is_valid_name);
// the gateway id is 1-255 printable ASCII characters without spaces. Counts, bytes and
// the latency sum must not exceed INT64_MAX (the database's BIGINT), and the latency
// histogram must be one that SparseHistogram::from_parts accepts, with no bucket count
// saturated by a merge, so that what is read back equals what was written.
struct MetricWindow {
  std::string service;
  std::string version;
  int64_t second = 0;   // epoch second the counts belong to
  std::string gateway;  // the reporting gateway's id
  SecondStats stats;
  friend bool operator==(const MetricWindow&, const MetricWindow&) = default;
};

}  // namespace glidepath::metrics
