// The keys that encrypt TLS session tickets (RFC 5077 / RFC 8446 4.6.1), rotated on a
// schedule. A ticket is issued under the newest key and accepted under the newest and the
// one before it, so a client resumes for up to two rotation periods; a ticket under the
// previous key is accepted and renewed. The keys are random, kept in memory only and
// shared by every worker and every certificate reload of one listener, so reloading a
// certificate does not end resumption. Gateways of a fleet each have their own keys: a
// client that moves to another gateway does a full handshake there.
//
// Pure apart from the random bytes: rotation follows the time the caller passes in, so
// tests drive it with a simulated clock.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>

#include "core/clock.h"

namespace glidepath::tls {

struct TicketKey {
  std::array<unsigned char, 16> name{};  // sent in the clear in the ticket: which key
  std::array<unsigned char, 32> aes_key{};
  std::array<unsigned char, 32> hmac_key{};
};

class TicketKeys {
 public:
  explicit TicketKeys(core::Duration rotation);

  // The key to issue a ticket under at `now`, after rotating when the newest is older than
  // the rotation period.
  TicketKey issuing(core::TimePoint now);
  // The key named `name`, if it is still accepted at `now`; `renew` says it is not the
  // newest (the client should get a new ticket).
  struct Found {
    TicketKey key;
    bool renew = false;
  };
  std::optional<Found> find(const unsigned char* name, core::TimePoint now);

  core::Duration rotation() const { return rotation_; }
  uint64_t rotations() const;  // keys made so far, the first included

 private:
  void rotate_if_due(core::TimePoint now);  // with mutex_ held

  const core::Duration rotation_;
  mutable std::mutex mutex_;  // handshakes on every worker; never on the request path
  std::optional<TicketKey> current_;
  std::optional<TicketKey> previous_;
  core::TimePoint current_since_{};
  core::TimePoint previous_since_{};
  uint64_t rotations_ = 0;
};

}  // namespace glidepath::tls
