// Usage recording on the request path (SPEC section 5): each worker counts its requests
// per consumer × series (service and version) × operation × status class × minute in a
// table of its own — no lock, no store access, an allocation only for a key it has not
// seen this flush interval. About once a second the control plane asks every worker for
// its table (Gateway::drain_usage), turns ids into names and adds the buckets to the
// store in one transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "access/records.h"
#include "metrics/series_id.h"
#include "metrics/series_registry.h"

namespace glidepath::access {

// "2xx".."5xx" → 2..5 (1xx and others: the class of their first digit, clamped to 1..5).
uint8_t status_class(int status);
std::string status_class_name(uint8_t cls);  // 2 → "2xx"

// A drained bucket: ids for what the control plane names (consumer, series), the
// operation as text (workers intern operations independently).
struct UsageDelta {
  uint32_t consumer_id = 0;
  metrics::SeriesId series = 0;
  std::string operation;
  uint8_t status_class = 2;
  int64_t minute = 0;  // epoch seconds of the minute's start
  uint64_t count = 0;
  int64_t first_seen_us = 0;  // epoch microseconds
  int64_t last_seen_us = 0;
};

// One worker's table. Single-threaded: only its worker touches it.
class UsageTable {
 public:
  // Operations a worker keeps apart; past this (a client inventing paths on a service
  // without a spec) new operations are counted as "<METHOD> (other)".
  static constexpr size_t kMaxOperations = 4096;

  // The id of an operation string, interned on first sight (bounded as above).
  uint32_t intern_operation(std::string_view operation);
  // One finished request. `now_epoch_us` is wall-clock UTC.
  void record(uint32_t consumer_id, metrics::SeriesId series, uint32_t operation_id, int status,
              int64_t now_epoch_us);
  // Everything recorded since the last drain, merged per bucket; the table is then empty
  // (interned operations stay).
  std::vector<UsageDelta> drain();
  bool empty() const { return buckets_.empty(); }

 private:
  struct Key {
    uint32_t consumer_id;
    metrics::SeriesId series;
    uint32_t operation;
    uint8_t status_class;
    int64_t minute;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Counts {
    uint64_t count = 0;
    int64_t first_seen_us = 0;
    int64_t last_seen_us = 0;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const;
  };
  std::unordered_map<Key, Counts, KeyHash> buckets_;
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> operation_ids_;
  std::vector<std::string> operations_;
};

// Merges several workers' deltas into store buckets, naming consumers and series through
// the callbacks (a delta whose names are unknown is dropped); counts of equal buckets add
// up, first/last seen widen. Pure.
std::vector<access::UsageBucket> to_buckets(
    const std::vector<UsageDelta>& deltas,
    const std::function<std::string(uint32_t)>& consumer_name,
    const std::function<std::optional<metrics::SeriesName>(metrics::SeriesId)>& series_name);

}  // namespace glidepath::access
