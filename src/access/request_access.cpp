#include "access/request_access.h"

#include <algorithm>
#include <limits>

namespace glidepath::access {
namespace {

// Error texts are fixed strings: nothing from the request (least of all the key) reaches
// an error body.
constexpr std::string_view kMissingHeaderKey = "missing API key (send it in X-Api-Key)";
constexpr std::string_view kMissingBearerKey =
    "missing API key (send it as Authorization: Bearer <key>)";
constexpr std::string_view kInvalidKey = "invalid API key";
constexpr std::string_view kUnknownKey = "unknown API key";
constexpr std::string_view kRevokedKey = "revoked API key";
constexpr std::string_view kRateExceeded = "rate limit exceeded";

std::string_view quota_exceeded(core::QuotaPeriod period) {
  switch (period) {
    case core::QuotaPeriod::hour:
      return "quota exceeded for this hour";
    case core::QuotaPeriod::day:
      return "quota exceeded for this day";
    case core::QuotaPeriod::month:
      return "quota exceeded for this month";
  }
  return "quota exceeded";
}

int retry_seconds(int64_t seconds) {
  return static_cast<int>(std::clamp<int64_t>(seconds, 1, std::numeric_limits<int>::max()));
}

}  // namespace

std::string_view presented_key(config::ApiKeySource source, const http::RequestHead& head) {
  switch (source) {
    case config::ApiKeySource::header:
      return head.find("X-Api-Key");
    case config::ApiKeySource::bearer:
      return http::bearer_token(head.find("Authorization"));
  }
  return {};
}

Identity identify(config::ApiKeyMode mode, config::ApiKeySource source, const KeyTable& keys,
                  const http::RequestHead& head) {
  if (mode == config::ApiKeyMode::off) return Identity{};
  const std::string_view key = presented_key(source, head);
  if (key.empty()) {
    if (mode == config::ApiKeyMode::optional) return Identity{};
    return Identity{401,
                    source == config::ApiKeySource::bearer ? kMissingBearerKey : kMissingHeaderKey,
                    nullptr};
  }
  // Checked before hashing: a client cannot make the gateway hash header-sized junk.
  if (!plausible_key(key)) return Identity{403, kInvalidKey, nullptr};
  const KeyEntry* entry = keys.find(key_digest(key));
  if (entry == nullptr) return Identity{403, kUnknownKey, nullptr};
  if (entry->revoked) return Identity{403, kRevokedKey, nullptr};
  return Identity{0, {}, entry};
}

Admission admit(const KeyEntry& key, int64_t now_us, int64_t now_epoch_seconds) {
  KeyState* state = key.state;
  if (state == nullptr) return Admission{};
  if (state->rate) {
    const int64_t wait_us = state->rate->try_acquire(now_us);
    if (wait_us > 0) {
      return Admission{429, kRateExceeded, retry_seconds((wait_us + 999'999) / 1'000'000)};
    }
  }
  if (state->quota) {
    const QuotaCounter::Decision decision = state->quota->try_consume(now_epoch_seconds);
    if (!decision.admitted) {
      return Admission{429, quota_exceeded(state->quota->quota().period),
                       retry_seconds(decision.retry_after_seconds), true};
    }
  }
  return Admission{};
}

}  // namespace glidepath::access
