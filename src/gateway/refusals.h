// Requests the gateway refused itself, by reason (SPEC section 4, /metrics): a caller
// without a key, over its rate, pinning a version it may not. Each service's counters
// live on the control plane across snapshots and travel in them, like the key table;
// the workers add to them with relaxed atomics, no lock.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace glidepath::gateway {

// Why a request was refused (glidepath_requests_refused_total's `reason` label).
enum class Refusal : uint8_t {
  none,
  bad_target,       // 400: the target does not normalise
  no_route,         // 404
  missing_key,      // 401: api_keys required and none presented
  invalid_key,      // 403: unknown or revoked key
  pin_not_allowed,  // 403: X-Glidepath-Version without permission
  unknown_version,  // 400: X-Glidepath-Version names no version
  rate_limited,     // 429: the key's rate
  quota_exceeded,   // 429: the key's quota for the period
};
inline constexpr size_t kRefusalKinds = 9;
const char* to_string(Refusal refusal);

// The refusals a service's route counts (the ones made once a service matched).
inline constexpr std::array<Refusal, 6> kServiceRefusals = {
    Refusal::missing_key,     Refusal::invalid_key,  Refusal::pin_not_allowed,
    Refusal::unknown_version, Refusal::rate_limited, Refusal::quota_exceeded};

class RefusalCounters {
 public:
  void count(Refusal refusal) {
    counts_[static_cast<size_t>(refusal)].fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t get(Refusal refusal) const {
    return counts_[static_cast<size_t>(refusal)].load(std::memory_order_relaxed);
  }

 private:
  std::array<std::atomic<uint64_t>, kRefusalKinds> counts_{};
};

}  // namespace glidepath::gateway
