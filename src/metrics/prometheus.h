// Prometheus text exposition format 0.0.4 (GET /metrics on the admin port, SPEC section
// 4). Each family is written whole — HELP, TYPE, then every sample — as the format
// requires that a family's samples be contiguous.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "metrics/history.h"
#include "metrics/series_registry.h"

namespace glidepath::metrics {

// "# HELP name help\n# TYPE name type\n", with the help text escaped (\\ and \n).
void append_metric_header(std::string& out, std::string_view name, std::string_view help,
                          std::string_view type);
// A label value with \\, \" and \n escaped (no surrounding quotes).
void append_escaped_label_value(std::string& out, std::string_view value);

struct PrometheusSeries {
  std::string_view service;
  std::string_view version;
  const SeriesTotals* totals = nullptr;
};

// glidepath_requests_total{service,version,code} (code 2xx..5xx always, 1xx when seen)
// and glidepath_request_duration_seconds{service,version} (cumulative le buckets from
// kDurationBoundsMicros, +Inf, _sum in seconds, _count), in the order given.
void append_request_metrics(std::string& out, std::span<const PrometheusSeries> series);

// Both families for every series of the registry, from the history's totals.
std::string render_request_metrics(const SeriesRegistry& registry, const MetricsHistory& history);

}  // namespace glidepath::metrics
