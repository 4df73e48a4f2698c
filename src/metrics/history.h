// The in-memory metric history: per series, a ring of one-second SecondStats (SPEC
// section 4: at least the last 15 minutes at 1 s resolution), plus running totals for
// Prometheus. Written by the collector once per second; read by the alarm evaluation,
// the admin API and /metrics. Thread-safe: a reader-writer lock, never taken per request.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <shared_mutex>
#include <vector>

#include "metrics/second_stats.h"
#include "metrics/series_registry.h"

namespace glidepath::metrics {

inline constexpr size_t kDefaultHistorySeconds = 900;  // 15 minutes

// The fixed `le` bounds of glidepath_request_duration_seconds, in µs and as the label
// text. A log-linear bucket counts towards a bound when all its values are <= the bound
// (a bucket straddling a bound counts towards the next one): an observation counted
// under le="x" was never longer than x.
inline constexpr size_t kDurationBoundCount = 16;
inline constexpr std::array<int64_t, kDurationBoundCount> kDurationBoundsMicros = {
    500,     1'000,   2'500,     5'000,     10'000,    25'000,     50'000,     100'000,
    250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000, 30'000'000, 60'000'000};
inline constexpr std::array<const char*, kDurationBoundCount> kDurationBoundLabels = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
    "0.25",   "0.5",   "1",      "2.5",   "5",    "10",    "30",   "60"};

// Everything ever counted for a series since the process started (Prometheus counters).
struct SeriesTotals : RequestCounts {
  uint64_t latency_sum_us = 0;
  uint64_t latency_count = 0;
  // Observations per bound, not cumulative: [i] counts values in (bound[i-1], bound[i]];
  // the last entry counts those above the last bound (+Inf).
  std::array<uint64_t, kDurationBoundCount + 1> duration_buckets{};
  friend bool operator==(const SeriesTotals&, const SeriesTotals&) = default;
};

// One point of the admin API's per-second series (GET /v1/services/{s}/metrics).
struct SecondSummary {
  int64_t second = 0;
  RequestCounts counts;
  int64_t p50_us = 0;  // 0 when the second had no requests
  int64_t p90_us = 0;
  int64_t p99_us = 0;
  int64_t max_us = 0;
  friend bool operator==(const SecondSummary&, const SecondSummary&) = default;
};

enum class AggregateDetail { counts_only, with_latency };

class MetricsHistory {
 public:
  explicit MetricsHistory(size_t capacity_seconds = kDefaultHistorySeconds);

  // Merges `stats` into (series, second); a second already present (a late worker) adds
  // up. A second older than the ring still holds is dropped from the ring but counted in
  // the totals.
  void add(SeriesId series, int64_t second, const SecondStats& stats);
  // The same from a dense histogram (the collector's path: no intermediate copy).
  void add(SeriesId series, int64_t second, const RequestCounts& counts,
           const LatencyHistogram& latency);

  // [from_second, to_second), seconds missing from the history counting as zero
  // requests. Only the last capacity_seconds before to_second can contribute.
  PeriodAggregate aggregate(SeriesId series, int64_t from_second, int64_t to_second,
                            AggregateDetail detail = AggregateDetail::with_latency) const;
  // One point per second of [to_second - last_n_seconds, to_second), oldest first,
  // zeros where nothing was recorded; last_n_seconds is capped at capacity_seconds.
  std::vector<SecondSummary> series(SeriesId series, int64_t last_n_seconds,
                                    int64_t to_second) const;
  // The stored second exactly as kept; an empty SecondStats when missing.
  SecondStats at(SeriesId series, int64_t second) const;

  SeriesTotals totals(SeriesId series) const;
  std::vector<SeriesTotals> all_totals() const;  // index = SeriesId
  // The newest second added for any series (INT64_MIN when none).
  int64_t newest_second() const;
  size_t capacity_seconds() const { return capacity_; }

 private:
  struct Entry {
    int64_t second;
    SecondStats stats;
  };
  struct Series {
    std::vector<Entry> ring;  // allocated on the first add
    SeriesTotals totals;
  };
  Entry* entry_for_write(SeriesId series, int64_t second);  // nullptr: too old
  const Entry* entry_for_read(SeriesId series, int64_t second) const;
  void add_totals(SeriesId series, const RequestCounts& counts, const SparseHistogram& latency);

  const size_t capacity_;
  mutable std::shared_mutex mutex_;
  std::vector<Series> series_;
  int64_t newest_second_;
};

}  // namespace glidepath::metrics
