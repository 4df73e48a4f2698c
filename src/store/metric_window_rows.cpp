#include "store/metric_window_rows.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <tuple>
#include <utility>

#include "core/text.h"
#include "metrics/window_codec.h"

namespace glidepath::store {

using metrics::MetricWindow;
namespace {

constexpr uint64_t kMaxStorable = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

// The names of MetricWindowRow::numbers, for messages.
constexpr std::array<std::string_view, 11> kNumberNames = {
    "requests", "status_1xx", "status_2xx",     "status_3xx",     "status_4xx",    "status_5xx",
    "bytes_in", "bytes_out",  "latency_sum_us", "latency_min_us", "latency_max_us"};

bool is_valid_gateway_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxGatewayIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return c >= '!' && c <= '~'; });
}

auto key_of(const MetricWindowRow& row) {
  return std::tie(row.epoch_second, row.service, row.version, row.gateway);
}

std::string describe_window(std::size_t position, const MetricWindow& window) {
  return fmt::format("window {} ({}/{}, second {}, gateway {})", position, window.service,
                     window.version, window.second, window.gateway);
}

core::Result<MetricWindowRow> to_row(const MetricWindow& window) {
  if (!core::is_valid_name(window.service)) {
    return core::fail(fmt::format(
        "service '{}' is not a valid name (1-{} of [A-Za-z0-9._-], starting with a letter or "
        "digit)",
        window.service, core::kMaxNameLength));
  }
  if (!core::is_valid_name(window.version)) {
    return core::fail(fmt::format(
        "version '{}' is not a valid name (1-{} of [A-Za-z0-9._-], starting with a letter or "
        "digit)",
        window.version, core::kMaxNameLength));
  }
  if (!is_valid_gateway_id(window.gateway)) {
    return core::fail(
        fmt::format("gateway id '{}' is not 1-{} printable ASCII characters without spaces",
                    window.gateway, kMaxGatewayIdLength));
  }
  const metrics::SecondStats& stats = window.stats;
  const metrics::SparseHistogram& latency = stats.latency;
  const uint64_t unsigned_numbers[] = {stats.requests,   stats.status_1xx, stats.status_2xx,
                                       stats.status_3xx, stats.status_4xx, stats.status_5xx,
                                       stats.bytes_in,   stats.bytes_out,  latency.sum()};
  MetricWindowRow row;
  for (std::size_t i = 0; i < std::size(unsigned_numbers); ++i) {
    if (unsigned_numbers[i] > kMaxStorable) {
      return core::fail(fmt::format("{} {} is above the largest storable value ({})",
                                    kNumberNames[i], unsigned_numbers[i], kMaxStorable));
    }
    row.numbers[i] = static_cast<int64_t>(unsigned_numbers[i]);
  }
  row.numbers[9] = latency.min();
  row.numbers[10] = latency.max();
  // Rebuilt as a reader will rebuild it, the histogram shows whether it would read back
  // equal: not with a negative or inverted min/max, nor with a count that is not the sum
  // of its buckets (a saturated merge).
  const std::vector<metrics::SparseHistogram::Bucket> buckets(latency.buckets().begin(),
                                                              latency.buckets().end());
  auto rebuilt =
      metrics::SparseHistogram::from_parts(buckets, latency.sum(), latency.min(), latency.max());
  if (!rebuilt) return core::fail(fmt::format("latency: {}", rebuilt.error().message));
  if (*rebuilt != latency) {
    return core::fail(fmt::format(
        "latency: the count {} is not the sum of the bucket counts ({}), so it cannot be "
        "stored faithfully",
        latency.count(), rebuilt->count()));
  }
  row.service = window.service;
  row.version = window.version;
  row.epoch_second = window.second;
  row.gateway = window.gateway;
  row.latency_buckets = metrics::encode_buckets(latency);
  return row;
}

}  // namespace

std::string metric_windows_upsert_sql(std::size_t rows) {
  std::string sql = fmt::format("INSERT INTO metric_windows ({}) VALUES ", kMetricWindowColumns);
  for (std::size_t r = 0; r < rows; ++r) {
    sql += r == 0 ? "(" : ", (";
    for (int c = 0; c < kMetricWindowColumnCount; ++c)
      sql += c == 0 ? "?" : ", ?";
    sql += ')';
  }
  fmt::format_to(std::back_inserter(sql), " ON CONFLICT ({}) DO UPDATE SET {}", kMetricWindowKey,
                 kMetricWindowReplaceSet);
  return sql;
}

core::Result<std::vector<MetricWindowRow>> metric_window_rows(
    std::span<const MetricWindow> windows) {
  std::vector<MetricWindowRow> rows;
  rows.reserve(windows.size());
  for (std::size_t i = 0; i < windows.size(); ++i) {
    auto row = to_row(windows[i]);
    if (!row) {
      return core::fail(fmt::format("{}: {}", describe_window(i, windows[i]), row.error().message));
    }
    rows.push_back(std::move(*row));
  }
  // Stable, so among equal keys the batch's order survives and the last is the later.
  std::stable_sort(
      rows.begin(), rows.end(),
      [](const MetricWindowRow& a, const MetricWindowRow& b) { return key_of(a) < key_of(b); });
  std::vector<MetricWindowRow> unique;
  unique.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i + 1 < rows.size() && key_of(rows[i]) == key_of(rows[i + 1])) continue;
    unique.push_back(std::move(rows[i]));
  }
  return unique;
}

core::Result<MetricWindow> metric_window_from_row(MetricWindowRow row) {
  // Made only for an error: a controller reads every gateway's rows every second.
  auto context = [&row] {
    return fmt::format("stored metric window {}/{} at second {} from gateway {}", row.service,
                       row.version, row.epoch_second, row.gateway);
  };
  for (std::size_t i = 0; i < row.numbers.size(); ++i) {
    if (row.numbers[i] < 0) {
      return core::fail(
          fmt::format("{}: {} is negative ({})", context(), kNumberNames[i], row.numbers[i]));
    }
  }
  auto latency = metrics::decode_histogram(
      row.latency_buckets, static_cast<uint64_t>(row.numbers[8]), row.numbers[9], row.numbers[10]);
  if (!latency) {
    return core::fail(fmt::format("{}: latency: {}", context(), latency.error().message));
  }
  MetricWindow window;
  window.service = std::move(row.service);
  window.version = std::move(row.version);
  window.second = row.epoch_second;
  window.gateway = std::move(row.gateway);
  metrics::SecondStats& stats = window.stats;
  uint64_t* const counts[] = {&stats.requests,   &stats.status_1xx, &stats.status_2xx,
                              &stats.status_3xx, &stats.status_4xx, &stats.status_5xx,
                              &stats.bytes_in,   &stats.bytes_out};
  for (std::size_t i = 0; i < std::size(counts); ++i)
    *counts[i] = static_cast<uint64_t>(row.numbers[i]);
  stats.latency = std::move(*latency);
  return window;
}

}  // namespace glidepath::store
