// Consumers as their keys describe them (SPEC section 5): a consumer is the name its keys
// share, and its newest key speaks for it (contact, metadata). Pure; used by the consumer
// reports and by the contract impact report.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <span>
#include <string>

#include "access/records.h"

namespace glidepath::access {

struct ConsumerKeys {
  size_t active = 0;  // keys not revoked
  // The newest active key, or the newest revoked one when all are revoked ("newest": the
  // later created_at, then the later in the list). Points into the span given.
  const access::ApiKeyRecord* newest = nullptr;
};

// By consumer name.
std::map<std::string, ConsumerKeys, std::less<>> keys_by_consumer(
    std::span<const access::ApiKeyRecord> keys);

}  // namespace glidepath::access
