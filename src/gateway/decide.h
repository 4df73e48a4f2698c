// What the gateway does with a request head, decided without sockets (SPEC sections 4
// and 5): which service, whether the caller may pass, which version serves it and why,
// and, when refused, the status and the error the client gets. ClientConnection calls it
// once per request and then only does I/O with the answer.
//
// Pure apart from one thing it must change to decide: admitting a request takes a token
// from the caller's rate limiter and counts it against the key's quota (atomics shared by
// the workers, no lock). Its inputs are the snapshot, the head, and the connection's facts
// (time, random bits); its outputs point into the snapshot and into `scratch`, which the
// caller owns and reuses across requests, so a decision allocates nothing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "access/key_table.h"
#include "core/clock.h"
#include "gateway/refusals.h"
#include "gateway/routing.h"
#include "http/message.h"

namespace glidepath::gateway {

// What decide() needs from the connection besides the request.
struct ConnectionFacts {
  uint64_t random_bits = 0;  // draws the weighted choice
  int64_t now_us = 0;        // monotonic microseconds: rate limits
  // The wall clock, for a key's quota period; read only for a key that has a quota.
  const core::Clock* wall_clock = nullptr;
};

struct Decision {
  int status = 0;               // 0: forward to `version`; else answer with this status
  std::string_view error;       // the error body's message (static text; never a key)
  int retry_after_seconds = 0;  // with a 429
  Refusal refusal = Refusal::none;
  const ServiceRoute* route = nullptr;       // null when no service matched
  const access::KeyEntry* key = nullptr;     // null: anonymous
  const VersionRoute* version = nullptr;     // set when forwarded, and with a 429 (its usage)
  ChoiceKind reason = ChoiceKind::weighted;  // why `version`: pinned, sticky or weighted
  // The target as normalised and matched, and as forwarded (the route's prefix stripped
  // when it says so); both live in the scratch passed in.
  std::string_view target;
  std::string_view forward_target;
};

// Buffers decide() writes into; owned by the connection and reused.
struct DecisionScratch {
  std::string target;
  std::string forward_target;
};

// In order (DESIGN.md, "The request path"): normalise the target (400), match the route
// (404), identify the caller (401/403), choose the version (a pin, then stickiness, then
// weights; 403/400 for a pin that is refused), admit the caller's rate and quota (429).
Decision decide(const Snapshot& snapshot, const http::RequestHead& head,
                const ConnectionFacts& facts, DecisionScratch& scratch);

}  // namespace glidepath::gateway
