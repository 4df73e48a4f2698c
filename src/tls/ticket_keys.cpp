#include "tls/ticket_keys.h"

#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

namespace glidepath::tls {
namespace {

template <size_t N>
void fill_random(std::array<unsigned char, N>& bytes) {
  if (RAND_bytes(bytes.data(), static_cast<int>(N)) != 1) {
    // Without randomness no ticket can be safe; the handshake goes on without one.
    throw std::runtime_error("RAND_bytes failed");
  }
}

TicketKey new_key() {
  TicketKey key;
  fill_random(key.name);
  fill_random(key.aes_key);
  fill_random(key.hmac_key);
  return key;
}

}  // namespace

TicketKeys::TicketKeys(core::Duration rotation) : rotation_(rotation) {}

void TicketKeys::rotate_if_due(core::TimePoint now) {
  if (current_ && now - current_since_ < rotation_) return;
  // After a long quiet spell both keys are too old: the previous one must not outlive two
  // periods, so it goes too.
  if (current_ && now - current_since_ < 2 * rotation_) {
    previous_ = current_;
    previous_since_ = current_since_;
  } else {
    previous_.reset();
  }
  current_ = new_key();
  current_since_ = now;
  ++rotations_;
}

TicketKey TicketKeys::issuing(core::TimePoint now) {
  std::lock_guard lock(mutex_);
  rotate_if_due(now);
  return *current_;
}

std::optional<TicketKeys::Found> TicketKeys::find(const unsigned char* name, core::TimePoint now) {
  std::lock_guard lock(mutex_);
  rotate_if_due(now);
  const auto named = [&](const std::optional<TicketKey>& key) {
    return key && std::equal(key->name.begin(), key->name.end(), name);
  };
  if (named(current_)) return Found{*current_, false};
  // A key is accepted for two periods from when it began issuing, however late the
  // rotation that retired it came.
  if (named(previous_) && now - previous_since_ < 2 * rotation_) return Found{*previous_, true};
  return std::nullopt;
}

uint64_t TicketKeys::rotations() const {
  std::lock_guard lock(mutex_);
  return rotations_;
}

}  // namespace glidepath::tls
