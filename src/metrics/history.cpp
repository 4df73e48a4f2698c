#include "metrics/history.h"

#include <algorithm>
#include <limits>
#include <mutex>

namespace glidepath::metrics {

namespace {

constexpr int64_t kNoSecond = std::numeric_limits<int64_t>::min();
// A guard against a corrupt id growing the table without bound; registries hand out
// far fewer (kDefaultMaxSeries).
constexpr SeriesId kSeriesIdLimit = SeriesId{1} << 20;

// Which entry of SeriesTotals::duration_buckets a log-linear bucket counts towards.
const std::array<uint8_t, kBucketCount>& duration_bound_of_bucket() {
  static const std::array<uint8_t, kBucketCount> table = [] {
    std::array<uint8_t, kBucketCount> t{};
    for (size_t i = 0; i < kBucketCount; ++i) {
      size_t bound = 0;
      while (bound < kDurationBoundCount && bucket_upper(i) > kDurationBoundsMicros[bound])
        ++bound;
      t[i] = static_cast<uint8_t>(bound);
    }
    return t;
  }();
  return table;
}

}  // namespace

MetricsHistory::MetricsHistory(size_t capacity_seconds)
    : capacity_(std::max<size_t>(capacity_seconds, 1)), newest_second_(kNoSecond) {}

MetricsHistory::Entry* MetricsHistory::entry_for_write(SeriesId series, int64_t second) {
  Series& s = series_[series];
  if (s.ring.empty()) s.ring.resize(capacity_, Entry{kNoSecond, {}});
  const auto cap = static_cast<int64_t>(capacity_);
  Entry& e = s.ring[static_cast<size_t>(((second % cap) + cap) % cap)];
  if (e.second == second) return &e;
  if (e.second > second) return nullptr;  // the ring has moved past this second
  // Reuse the entry for the newer second, keeping its histogram's storage.
  e.second = second;
  static_cast<RequestCounts&>(e.stats) = RequestCounts{};
  e.stats.latency.clear();
  return &e;
}

const MetricsHistory::Entry* MetricsHistory::entry_for_read(SeriesId series, int64_t second) const {
  if (series >= series_.size()) return nullptr;
  const Series& s = series_[series];
  if (s.ring.empty()) return nullptr;
  const auto cap = static_cast<int64_t>(capacity_);
  const Entry& e = s.ring[static_cast<size_t>(((second % cap) + cap) % cap)];
  return e.second == second ? &e : nullptr;
}

void MetricsHistory::add_totals(SeriesId series, const RequestCounts& counts,
                                const SparseHistogram& latency) {
  SeriesTotals& t = series_[series].totals;
  t.add(counts);
  t.latency_sum_us += latency.sum();
  t.latency_count += latency.count();
  const auto& bound_of = duration_bound_of_bucket();
  for (const SparseHistogram::Bucket& b : latency.buckets()) {
    t.duration_buckets[bound_of[b.index]] += b.count;
  }
}

void MetricsHistory::add(SeriesId series, int64_t second, const SecondStats& stats) {
  if (series >= kSeriesIdLimit) return;
  std::unique_lock lock(mutex_);
  if (series >= series_.size()) series_.resize(series + 1);
  newest_second_ = std::max(newest_second_, second);
  if (Entry* e = entry_for_write(series, second)) {
    e->stats.add(stats);
    e->stats.latency.merge(stats.latency);
  }
  add_totals(series, stats, stats.latency);
}

void MetricsHistory::add(SeriesId series, int64_t second, const RequestCounts& counts,
                         const LatencyHistogram& latency) {
  if (series >= kSeriesIdLimit) return;
  std::unique_lock lock(mutex_);
  if (series >= series_.size()) series_.resize(series + 1);
  newest_second_ = std::max(newest_second_, second);
  Entry* e = entry_for_write(series, second);
  if (e != nullptr && e->stats.requests == 0 && e->stats.latency.count() == 0) {
    // The usual case: the collector delivers a second once, merged over all workers.
    static_cast<RequestCounts&>(e->stats) = counts;
    e->stats.latency.assign(latency);
    add_totals(series, counts, e->stats.latency);
    return;
  }
  SparseHistogram sparse;
  sparse.assign(latency);
  if (e != nullptr) {
    e->stats.add(counts);
    e->stats.latency.merge(sparse);
  }
  add_totals(series, counts, sparse);
}

PeriodAggregate MetricsHistory::aggregate(SeriesId series, int64_t from_second, int64_t to_second,
                                          AggregateDetail detail) const {
  PeriodAggregate result;
  result.from_second = from_second;
  result.to_second = to_second;
  std::shared_lock lock(mutex_);
  const int64_t first = std::max(from_second, to_second - static_cast<int64_t>(capacity_));
  for (int64_t second = first; second < to_second; ++second) {
    const Entry* e = entry_for_read(series, second);
    if (e == nullptr || e->stats.requests == 0) continue;
    result.add(e->stats);
    ++result.seconds_with_data;
    if (detail == AggregateDetail::with_latency) result.latency.merge(e->stats.latency);
  }
  return result;
}

std::vector<SecondSummary> MetricsHistory::series(SeriesId series, int64_t last_n_seconds,
                                                  int64_t to_second) const {
  const int64_t n = std::clamp<int64_t>(last_n_seconds, 0, static_cast<int64_t>(capacity_));
  std::vector<SecondSummary> points;
  points.reserve(static_cast<size_t>(n));
  std::shared_lock lock(mutex_);
  for (int64_t second = to_second - n; second < to_second; ++second) {
    SecondSummary& p = points.emplace_back();
    p.second = second;
    const Entry* e = entry_for_read(series, second);
    if (e == nullptr) continue;
    p.counts = e->stats;
    p.p50_us = e->stats.latency.percentile(0.50);
    p.p90_us = e->stats.latency.percentile(0.90);
    p.p99_us = e->stats.latency.percentile(0.99);
    p.max_us = e->stats.latency.max();
  }
  return points;
}

SecondStats MetricsHistory::at(SeriesId series, int64_t second) const {
  std::shared_lock lock(mutex_);
  const Entry* e = entry_for_read(series, second);
  return e == nullptr ? SecondStats{} : e->stats;
}

SeriesTotals MetricsHistory::totals(SeriesId series) const {
  std::shared_lock lock(mutex_);
  return series < series_.size() ? series_[series].totals : SeriesTotals{};
}

std::vector<SeriesTotals> MetricsHistory::all_totals() const {
  std::shared_lock lock(mutex_);
  std::vector<SeriesTotals> totals;
  totals.reserve(series_.size());
  for (const Series& s : series_)
    totals.push_back(s.totals);
  return totals;
}

int64_t MetricsHistory::newest_second() const {
  std::shared_lock lock(mutex_);
  return newest_second_;
}

}  // namespace glidepath::metrics
