#include "tools/sample_backend/request_log.h"

#include <algorithm>

#include "tools/sample_backend/json_text.h"
#include "tools/sample_backend/routes.h"

namespace glidepath::sample_backend {

RequestLog::RequestLog() : ring_(kCapacity) {}

void RequestLog::record(std::uint64_t sequence, std::string_view method, std::string_view target) {
  const std::string_view prefix = path_prefix(target).substr(0, kMaxPrefixBytes);
  std::lock_guard lock(mutex_);
  LoggedRequest& slot = ring_[next_];
  next_ = (next_ + 1) % kCapacity;
  ++recorded_;
  slot.sequence = sequence;
  // assign() into the slot's existing capacity: no allocation once the ring is warm.
  slot.line.assign(method);
  slot.line += ' ';
  slot.line.append(target.substr(0, kMaxLineBytes));

  if (auto it = prefixes_.find(prefix); it != prefixes_.end()) {
    ++it->second;
  } else if (prefixes_.size() < kMaxPrefixes) {
    prefixes_.emplace(std::string(prefix), 1);
  } else {
    ++prefixes_[std::string(kOtherPrefixes)];
  }
}

void RequestLog::count_status(int status) {
  responses_.fetch_add(1, std::memory_order_relaxed);
  const int status_class = status / 100 - 1;
  if (status_class >= 0 && status_class < 5) {
    by_class_[static_cast<size_t>(status_class)].fetch_add(1, std::memory_order_relaxed);
  }
}

std::vector<LoggedRequest> RequestLog::recent() const {
  std::lock_guard lock(mutex_);
  std::vector<LoggedRequest> out;
  const size_t count = std::min<std::uint64_t>(recorded_, kCapacity);
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    out.push_back(ring_[(next_ + kCapacity - count + i) % kCapacity]);
  }
  return out;
}

std::map<std::string, std::uint64_t> RequestLog::prefix_counts() const {
  std::lock_guard lock(mutex_);
  return {prefixes_.begin(), prefixes_.end()};
}

std::uint64_t RequestLog::recorded() const {
  std::lock_guard lock(mutex_);
  return recorded_;
}

StatusCounts RequestLog::status_counts() const {
  StatusCounts counts;
  counts.total = responses_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < 5; ++i)
    counts.by_class[i] = by_class_[i].load(std::memory_order_relaxed);
  return counts;
}

std::string recent_requests_text(std::span<const RequestLog* const> logs) {
  std::vector<LoggedRequest> all;
  for (const RequestLog* log : logs) {
    auto recent = log->recent();
    all.insert(all.end(), std::make_move_iterator(recent.begin()),
               std::make_move_iterator(recent.end()));
  }
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a.sequence < b.sequence; });
  const size_t skip = all.size() > RequestLog::kCapacity ? all.size() - RequestLog::kCapacity : 0;
  std::string text;
  for (size_t i = skip; i < all.size(); ++i) {
    text += all[i].line;
    text += '\n';
  }
  return text;
}

std::string request_counts_json(std::span<const RequestLog* const> logs) {
  std::map<std::string, std::uint64_t> merged;
  std::uint64_t total = 0;
  for (const RequestLog* log : logs) {
    // The total is the sum of the prefixes (one lock per log) rather than recorded(), so
    // the two agree even while requests arrive.
    for (const auto& [prefix, count] : log->prefix_counts()) {
      merged[prefix] += count;
      total += count;
    }
  }
  std::string json = "{\"total\":" + std::to_string(total) + ",\"prefixes\":{";
  bool first = true;
  for (const auto& [prefix, count] : merged) {
    if (!first) json += ',';
    first = false;
    append_json_string(json, prefix);
    json += ':';
    json += std::to_string(count);
  }
  json += "}}";
  return json;
}

StatusCounts merged_status_counts(std::span<const RequestLog* const> logs) {
  StatusCounts merged;
  for (const RequestLog* log : logs) {
    const StatusCounts counts = log->status_counts();
    merged.total += counts.total;
    for (size_t i = 0; i < 5; ++i)
      merged.by_class[i] += counts.by_class[i];
  }
  return merged;
}

}  // namespace glidepath::sample_backend
