#include "access/consumers.h"

namespace glidepath::access {
namespace {

bool replaces(const store::ApiKeyRecord& candidate, const store::ApiKeyRecord& current) {
  if (candidate.revoked() != current.revoked()) return !candidate.revoked();
  return candidate.created_at >= current.created_at;
}

}  // namespace

std::map<std::string, ConsumerKeys, std::less<>> keys_by_consumer(
    std::span<const store::ApiKeyRecord> keys) {
  std::map<std::string, ConsumerKeys, std::less<>> out;
  for (const store::ApiKeyRecord& key : keys) {
    ConsumerKeys& c = out[key.consumer];
    if (!key.revoked()) ++c.active;
    if (c.newest == nullptr || replaces(key, *c.newest)) c.newest = &key;
  }
  return out;
}

}  // namespace glidepath::access
