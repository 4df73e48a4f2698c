#include "access/consumers.h"

namespace glidepath::access {
namespace {

bool replaces(const access::ApiKeyRecord& candidate, const access::ApiKeyRecord& current) {
  if (candidate.revoked() != current.revoked()) return !candidate.revoked();
  return candidate.created_at >= current.created_at;
}

}  // namespace

std::map<std::string, ConsumerKeys, std::less<>> keys_by_consumer(
    std::span<const access::ApiKeyRecord> keys) {
  std::map<std::string, ConsumerKeys, std::less<>> out;
  for (const access::ApiKeyRecord& key : keys) {
    ConsumerKeys& c = out[key.consumer];
    if (!key.revoked()) ++c.active;
    if (c.newest == nullptr || replaces(key, *c.newest)) c.newest = &key;
  }
  return out;
}

}  // namespace glidepath::access
