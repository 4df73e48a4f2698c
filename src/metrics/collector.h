// Moves finished seconds from every worker's WorkerRecorder into the MetricsHistory.
// One collector, called from one thread about once per second (a timer a few tens of
// milliseconds after each second boundary keeps alarm data fresh).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "metrics/history.h"
#include "metrics/second_stats.h"
#include "metrics/worker_recorder.h"

namespace glidepath::metrics {

class MetricsCollector {
 public:
  // A worker that has not declared a second final (advance()) is harvested anyway once
  // the second is max_lag_seconds old: a stalled or idle worker cannot hold the history
  // back. Records a worker makes for a second after that are lost, so a loop that calls
  // advance() on each tick never loses any. The recorders must outlive the collector.
  MetricsCollector(MetricsHistory& history, std::vector<const WorkerRecorder*> workers,
                   int max_lag_seconds = 2);

  // Harvests every second that is final for a worker, or older than
  // now_second - max_lag_seconds, and not harvested before; merges the workers per
  // (series, second) and adds the result to the history. Returns the number of
  // (series, second) entries added.
  size_t collect(int64_t now_second);

 private:
  MetricsHistory& history_;
  std::vector<const WorkerRecorder*> workers_;
  std::vector<int64_t> next_second_;  // per worker: the first second not yet harvested
  int max_lag_seconds_;
  PeriodAggregate scratch_;
};

}  // namespace glidepath::metrics
