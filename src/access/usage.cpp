#include "access/usage.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <map>
#include <tuple>

#include "access/operations.h"
#include "core/clock.h"

namespace glidepath::access {
namespace {

constexpr int64_t kMicrosPerMinute = 60'000'000;

// Epoch seconds of the minute holding `epoch_us` (floored, so times before 1970 too).
int64_t minute_of(int64_t epoch_us) {
  int64_t minutes = epoch_us / kMicrosPerMinute;
  if (epoch_us % kMicrosPerMinute < 0) --minutes;
  return minutes * 60;
}

uint8_t clamp_class(int cls) {
  return static_cast<uint8_t>(std::clamp(cls, 1, 5));
}

size_t mix(size_t seed, uint64_t value) {
  // boost::hash_combine's mixing step, widened to 64 bits.
  return seed ^ (value + 0x9e3779b97f4a7c15ULL + (seed << 12) + (seed >> 4));
}

}  // namespace

uint8_t status_class(int status) {
  if (status < 0) return 1;
  while (status >= 10)
    status /= 10;  // the first decimal digit
  return clamp_class(status);
}

std::string status_class_name(uint8_t cls) {
  std::string name = "0xx";
  name[0] = static_cast<char>('0' + clamp_class(cls));
  return name;
}

// ---------------------------------------------------------------------------------------
// UsageTable

size_t UsageTable::KeyHash::operator()(const Key& k) const {
  size_t seed = std::hash<uint64_t>{}(static_cast<uint64_t>(k.minute));
  seed = mix(seed, k.consumer_id);
  seed = mix(seed, k.series);
  seed = mix(seed, k.operation);
  seed = mix(seed, k.status_class);
  return seed;
}

size_t UsageTable::StringHash::operator()(std::string_view s) const {
  return std::hash<std::string_view>{}(s);
}

uint32_t UsageTable::intern_operation(std::string_view operation) {
  if (const auto found = operation_ids_.find(operation); found != operation_ids_.end()) {
    return found->second;
  }
  std::array<char, 32> buffer{};  // outlives `operation` pointing into it
  if (operations_.size() >= kMaxOperations) {
    // Past the cap, one operation per method. The method goes through canonical_method so
    // these overflow names are bounded too (one per standard method, and OTHER), and the
    // name is built on the stack: this runs per request once a client invents paths.
    constexpr std::string_view kOther = " (other)";
    const std::string_view method = canonical_method(operation.substr(0, operation.find(' ')));
    std::copy(method.begin(), method.end(), buffer.begin());
    std::copy(kOther.begin(), kOther.end(), buffer.begin() + static_cast<ptrdiff_t>(method.size()));
    operation = std::string_view(buffer.data(), method.size() + kOther.size());
    if (const auto found = operation_ids_.find(operation); found != operation_ids_.end()) {
      return found->second;
    }
  }
  const auto id = static_cast<uint32_t>(operations_.size());
  operations_.emplace_back(operation);
  operation_ids_.emplace(operations_.back(), id);
  return id;
}

void UsageTable::record(uint32_t consumer_id, metrics::SeriesId series, uint32_t operation_id,
                        int status, int64_t now_epoch_us) {
  // An id this table never handed out has no name to drain under.
  if (operation_id >= operations_.size()) return;
  const Key key{consumer_id, series, operation_id, status_class(status), minute_of(now_epoch_us)};
  auto [at, inserted] = buckets_.try_emplace(key);
  Counts& counts = at->second;
  if (inserted) {
    counts.first_seen_us = now_epoch_us;
    counts.last_seen_us = now_epoch_us;
  } else {
    // Requests finish out of order across connections: widen both ends.
    counts.first_seen_us = std::min(counts.first_seen_us, now_epoch_us);
    counts.last_seen_us = std::max(counts.last_seen_us, now_epoch_us);
  }
  ++counts.count;
}

std::vector<UsageDelta> UsageTable::drain() {
  std::vector<UsageDelta> deltas;
  deltas.reserve(buckets_.size());
  for (const auto& [key, counts] : buckets_) {
    deltas.push_back(UsageDelta{key.consumer_id, key.series, operations_[key.operation],
                                key.status_class, key.minute, counts.count, counts.first_seen_us,
                                counts.last_seen_us});
  }
  buckets_.clear();
  // Hash order is not an order: sort, so that what a worker hands over is reproducible.
  std::sort(deltas.begin(), deltas.end(), [](const UsageDelta& a, const UsageDelta& b) {
    return std::tie(a.minute, a.consumer_id, a.series, a.operation, a.status_class) <
           std::tie(b.minute, b.consumer_id, b.series, b.operation, b.status_class);
  });
  return deltas;
}

// ---------------------------------------------------------------------------------------
// Merging

std::vector<access::UsageBucket> to_buckets(
    const std::vector<UsageDelta>& deltas,
    const std::function<std::string(uint32_t)>& consumer_name,
    const std::function<std::optional<metrics::SeriesName>(metrics::SeriesId)>& series_name) {
  // The order Store::query_usage returns: minute, consumer, service, operation, version,
  // status class.
  using BucketKey =
      std::tuple<int64_t, std::string, std::string, std::string, std::string, std::string>;
  std::map<BucketKey, access::UsageBucket> merged;
  // Each id is named once per call: the callbacks may take a lock.
  std::unordered_map<uint32_t, std::string> consumers;
  std::unordered_map<metrics::SeriesId, std::optional<metrics::SeriesName>> series;
  for (const UsageDelta& delta : deltas) {
    auto consumer = consumers.find(delta.consumer_id);
    if (consumer == consumers.end()) {
      consumer = consumers.emplace(delta.consumer_id, consumer_name(delta.consumer_id)).first;
    }
    auto names = series.find(delta.series);
    if (names == series.end())
      names = series.emplace(delta.series, series_name(delta.series)).first;
    if (consumer->second.empty() || !names->second) continue;  // unknown: dropped

    const std::string status = status_class_name(delta.status_class);
    BucketKey key{delta.minute,    consumer->second,       names->second->service,
                  delta.operation, names->second->version, status};
    const core::TimePoint first = core::from_epoch_micros(delta.first_seen_us);
    const core::TimePoint last = core::from_epoch_micros(delta.last_seen_us);
    auto [at, inserted] = merged.try_emplace(std::move(key));
    access::UsageBucket& bucket = at->second;
    if (inserted) {
      bucket.consumer = consumer->second;
      bucket.service = names->second->service;
      bucket.operation = delta.operation;
      bucket.version = names->second->version;
      bucket.status_class = status;
      bucket.minute = delta.minute;
      bucket.count = delta.count;
      bucket.first_seen = first;
      bucket.last_seen = last;
    } else {
      bucket.count += delta.count;
      bucket.first_seen = std::min(bucket.first_seen, first);
      bucket.last_seen = std::max(bucket.last_seen, last);
    }
  }
  std::vector<access::UsageBucket> buckets;
  buckets.reserve(merged.size());
  for (auto& entry : merged) {
    buckets.push_back(std::move(entry.second));
  }
  return buckets;
}

}  // namespace glidepath::access
