#include "metrics/collector.h"

#include <algorithm>
#include <limits>

namespace glidepath::metrics {

MetricsCollector::MetricsCollector(MetricsHistory& history,
                                   std::vector<const WorkerRecorder*> workers, int max_lag_seconds)
    : history_(history),
      workers_(std::move(workers)),
      next_second_(workers_.size(), std::numeric_limits<int64_t>::min()),
      max_lag_seconds_(std::max(max_lag_seconds, 0)) {}

size_t MetricsCollector::collect(int64_t now_second) {
  struct Range {
    int64_t from = 0;
    int64_t to = 0;  // exclusive; empty when from == to
  };
  std::vector<Range> ranges(workers_.size());
  std::vector<int64_t> seconds;
  SeriesId series_limit = 0;
  for (size_t w = 0; w < workers_.size(); ++w) {
    const WorkerRecorder& worker = *workers_[w];
    const int64_t limit = std::max(worker.completed_before(), now_second - max_lag_seconds_);
    // Older seconds cannot be in the ring any more. (The oldest one shares its slot with
    // the worker's current second; the slot's tag tells whether it still holds it.)
    const int64_t from = std::max(next_second_[w], limit - worker.ring_seconds());
    if (from >= limit) continue;
    ranges[w] = Range{from, limit};
    next_second_[w] = limit;
    for (int64_t s = from; s < limit; ++s)
      seconds.push_back(s);
    series_limit = std::max(series_limit, worker.series_limit());
  }
  std::sort(seconds.begin(), seconds.end());
  seconds.erase(std::unique(seconds.begin(), seconds.end()), seconds.end());

  size_t added = 0;
  for (int64_t second : seconds) {
    for (SeriesId series = 0; series < series_limit; ++series) {
      static_cast<RequestCounts&>(scratch_) = RequestCounts{};
      scratch_.latency.clear();
      bool any = false;
      for (size_t w = 0; w < workers_.size(); ++w) {
        if (second < ranges[w].from || second >= ranges[w].to) continue;
        any = workers_[w]->add_second_to(series, second, scratch_) || any;
      }
      if (!any) continue;
      history_.add(series, second, scratch_, scratch_.latency);
      ++added;
    }
  }
  return added;
}

}  // namespace glidepath::metrics
