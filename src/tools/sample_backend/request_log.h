// What one worker of the sample backend has received: a bounded ring of the last
// requests' method and target, counts per path prefix and per status class. Tests read
// it through /_test/requests, /_test/count and GET /_control to prove what did (or never
// did) reach the backend, for example a smuggled request.
//
// Each worker owns one log and is the only writer; readers (any worker answering a
// /_test/ hook) merge all logs. The lock is therefore uncontended on the request path.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace glidepath::sample_backend {

// Responses by status class: [0] 1xx ... [4] 5xx.
struct StatusCounts {
  std::uint64_t total = 0;
  std::array<std::uint64_t, 5> by_class{};
};

struct LoggedRequest {
  std::uint64_t sequence = 0;  // process-wide arrival order
  std::string line;            // "GET /orders/1"
};

class RequestLog {
 public:
  static constexpr size_t kCapacity = 1000;
  // Keeps memory bounded whatever clients send.
  static constexpr size_t kMaxLineBytes = 4096;
  static constexpr size_t kMaxPrefixBytes = 256;
  static constexpr size_t kMaxPrefixes = 10000;
  static constexpr std::string_view kOtherPrefixes = "(other)";

  RequestLog();

  void record(std::uint64_t sequence, std::string_view method, std::string_view target);
  void count_status(int status);

  // Readers: safe from any thread.
  std::vector<LoggedRequest> recent() const;
  std::map<std::string, std::uint64_t> prefix_counts() const;
  std::uint64_t recorded() const;
  StatusCounts status_counts() const;

 private:
  struct TransparentHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  mutable std::mutex mutex_;
  std::vector<LoggedRequest> ring_;  // kCapacity slots, reused
  size_t next_ = 0;
  std::uint64_t recorded_ = 0;
  std::unordered_map<std::string, std::uint64_t, TransparentHash, std::equal_to<>> prefixes_;

  std::atomic<std::uint64_t> responses_{0};
  std::array<std::atomic<std::uint64_t>, 5> by_class_{};
};

// Merges the logs of all workers: the last kCapacity requests in arrival order, one
// "METHOD target" per line.
std::string recent_requests_text(std::span<const RequestLog* const> logs);
// {"total":N,"prefixes":{"/orders":3,...}}
std::string request_counts_json(std::span<const RequestLog* const> logs);
StatusCounts merged_status_counts(std::span<const RequestLog* const> logs);

}  // namespace glidepath::sample_backend
