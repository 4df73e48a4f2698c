// The row form of a metrics::MetricWindow (store.h) in the metric_windows table, shared by both
// backends so they check and convert alike: the column list, the checks a window passes
// before it is written, and the checks a stored row passes before it is handed out (other
// processes write the table, so a row is not trusted to decode).
//
// Counts are uint64 in C++ and BIGINT in SQL: a value above INT64_MAX is refused rather
// than wrapped, and a negative stored value is reported rather than wrapped back.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/store.h"

namespace glidepath::store {

// Every INSERT and SELECT of metric_windows lists these, in this order.
inline constexpr std::string_view kMetricWindowColumns =
    "service, version, epoch_second, gateway, requests, status_1xx, status_2xx, status_3xx, "
    "status_4xx, status_5xx, bytes_in, bytes_out, latency_sum_us, latency_min_us, "
    "latency_max_us, latency_buckets";
inline constexpr int kMetricWindowColumnCount = 16;
// The key, and what an upsert replaces: every column but the key.
inline constexpr std::string_view kMetricWindowKey = "epoch_second, service, version, gateway";
inline constexpr std::string_view kMetricWindowReplaceSet =
    "requests = excluded.requests, status_1xx = excluded.status_1xx, "
    "status_2xx = excluded.status_2xx, status_3xx = excluded.status_3xx, "
    "status_4xx = excluded.status_4xx, status_5xx = excluded.status_5xx, "
    "bytes_in = excluded.bytes_in, bytes_out = excluded.bytes_out, "
    "latency_sum_us = excluded.latency_sum_us, latency_min_us = excluded.latency_min_us, "
    "latency_max_us = excluded.latency_max_us, latency_buckets = excluded.latency_buckets";

// The longest gateway id a window may carry.
inline constexpr std::size_t kMaxGatewayIdLength = 255;

struct MetricWindowRow {
  std::string service;
  std::string version;
  int64_t epoch_second = 0;
  std::string gateway;
  // requests, status_1xx .. status_5xx, bytes_in, bytes_out, latency_sum_us,
  // latency_min_us, latency_max_us: the columns between gateway and latency_buckets.
  std::array<int64_t, 11> numbers{};
  std::string latency_buckets;
};

// The rows to write for a batch: every window checked (the first bad one refuses the
// batch, named by its position and key), sorted by key so concurrent writers lock rows
// in one order, and of windows with the same key only the last kept.
core::Result<std::vector<MetricWindowRow>> metric_window_rows(
    std::span<const metrics::MetricWindow> windows);

// The window a stored row holds, or an error naming the row and what is wrong with it.
core::Result<metrics::MetricWindow> metric_window_from_row(MetricWindowRow row);

// INSERT of `rows` windows (`?` placeholders, kMetricWindowColumns each) that replaces a
// window already stored under the same key. Its rows must have distinct keys: ON CONFLICT
// DO UPDATE may not touch one row twice in a statement.
std::string metric_windows_upsert_sql(std::size_t rows);

}  // namespace glidepath::store
