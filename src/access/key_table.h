// The gateway's view of the API keys (SPEC section 5): an immutable table, delivered to
// every worker inside the routing snapshot, that answers "which key is this?" from the
// presented key's SHA-256 without a lock or a store access. Creating or revoking a key
// builds a new table on the control plane and publishes it; each key's rate and quota
// state lives in a KeyState that outlives tables, so a rebuild keeps the counts.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "access/key_material.h"
#include "access/limits.h"
#include "access/records.h"
#include "core/clock.h"
#include "core/result.h"

namespace glidepath::access {

// Consumer id 0 is every request without a key ("anonymous" in reports).
inline constexpr uint32_t kAnonymousConsumer = 0;
inline constexpr std::string_view kAnonymousName = "anonymous";

// What the request path mutates for a key; shared by all workers.
struct KeyState {
  std::string key_id;
  std::optional<RateLimiter> rate;
  std::optional<QuotaCounter> quota;
};

struct KeyEntry {
  KeyDigest digest{};
  std::string id;        // "key_01J..."
  std::string consumer;  // the consumer's name (stickiness by api_key hashes it)
  uint32_t consumer_id = kAnonymousConsumer;
  bool preview = false;       // may pin a version with X-Glidepath-Version
  bool revoked = false;       // known, but answered 403
  KeyState* state = nullptr;  // never null in a built table
};

class KeyTable {
 public:
  KeyTable() = default;
  // Entries with distinct digests; `states` keeps their KeyStates alive.
  KeyTable(std::vector<KeyEntry> entries, std::vector<std::shared_ptr<KeyState>> states);

  // Open addressing on the digest's first eight bytes (a digest is uniformly random).
  const KeyEntry* find(const KeyDigest& digest) const;
  size_t size() const { return entries_.size(); }
  const std::vector<KeyEntry>& entries() const { return entries_; }

 private:
  std::vector<KeyEntry> entries_;
  std::vector<uint32_t> slots_;  // entry index + 1; 0 = empty; size a power of two
  std::vector<std::shared_ptr<KeyState>> states_;
};

// The control plane's side: builds tables from the store's records, keeps each key's
// KeyState (by key id) across rebuilds, interns consumer names to dense ids for usage
// recording, and flushes quota counters to the store. Thread-safe (one mutex; never on
// the request path).
class KeyRegistry {
 public:
  // Reads the stored quota count of a key for a period: (key id, period start) → count.
  using QuotaLoader = std::function<core::Result<uint64_t>(std::string_view, int64_t)>;

  // A table of `records` (revoked ones included, marked). A key seen for the first time
  // gets a new KeyState whose quota counter is seeded through `load_quota` for the period
  // holding `now`; a key whose rate or quota changed gets a new state. A load error fails
  // the whole build (the previous table stays in force).
  core::Result<std::shared_ptr<const KeyTable>> build(
      const std::vector<access::ApiKeyRecord>& records, const QuotaLoader& load_quota,
      core::TimePoint now);

  // Dense, stable id of a consumer name (1, 2, ...); kAnonymousConsumer is "anonymous".
  uint32_t consumer_id(std::string_view name);
  // The name of an id handed out; "anonymous" for 0 and for unknown ids.
  std::string consumer_name(uint32_t id) const;

  // Adds n admissions to a key's stored count for a period and returns the new total:
  // (key id, period start, n) → total (the store's add_quota_usage).
  using QuotaWriter = std::function<core::Result<uint64_t>(std::string_view, int64_t, uint64_t)>;

  // Writes every quota counter's new admissions through `add` (QuotaCounter's flush
  // protocol). Errors are returned after trying every key; counts not written are
  // retried by the next flush.
  core::Result<void> flush_quotas(const QuotaWriter& add, core::TimePoint now);

 private:
  uint32_t intern_consumer(std::string_view name);  // with mutex_ held

  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<KeyState>, std::less<>> states_;  // by key id
  std::map<std::string, uint32_t, std::less<>> consumer_ids_;
  std::vector<std::string> consumer_names_{std::string(kAnonymousName)};
};

}  // namespace glidepath::access
