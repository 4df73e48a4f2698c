// The per-request access decision (SPEC sections 4 and 5), pure: which key a request
// carries and whether it may pass. The gateway calls identify() once it knows the route,
// and admit() once it knows the version (a 429 is recorded as usage of that version).
#pragma once

#include <cstdint>
#include <string_view>

#include "access/key_table.h"
#include "config/config.h"
#include "http/message.h"

namespace glidepath::access {

struct Identity {
  int status = 0;                 // 0: may go on; else 401 (no key) or 403 (unknown or revoked)
  std::string_view error;         // for the error body; never contains the key
  const KeyEntry* key = nullptr;  // null: anonymous
};

// Where the key travels: X-Api-Key, or "Authorization: Bearer <key>" (scheme
// case-insensitive, RFC 9110 11.1) for ApiKeySource::bearer.
std::string_view presented_key(config::ApiKeySource source, const http::RequestHead& head);

// mode off: anonymous, whatever the request carries. optional: no key → anonymous; a key
// must be known and not revoked (403). required: no key → 401; else as optional.
Identity identify(config::ApiKeyMode mode, config::ApiKeySource source, const KeyTable& keys,
                  const http::RequestHead& head);

struct Admission {
  int status = 0;  // 0 admitted; 429 refused
  std::string_view error;
  int retry_after_seconds = 0;  // ceil, at least 1 when refused
  bool by_quota = false;        // refused by the quota; else, when refused, by the rate
};
// The key's rate first (a token is taken), then its quota (counted only when admitted: a
// request refused for its rate does not use up the day's quota). `now_us` is
// monotonic (the rate), `now_epoch_seconds` wall-clock UTC (the quota's period). A key
// without limits is always admitted.
Admission admit(const KeyEntry& key, int64_t now_us, int64_t now_epoch_seconds);

}  // namespace glidepath::access
