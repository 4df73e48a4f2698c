#include "access/key_table.h"

#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <set>
#include <utility>

#include "core/units.h"

namespace glidepath::access {
namespace {

uint64_t slot_hash(const KeyDigest& digest) {
  uint64_t hash = 0;
  std::memcpy(&hash, digest.data(), sizeof hash);
  return hash;
}

}  // namespace

// ---- KeyTable ---------------------------------------------------------------------------

KeyTable::KeyTable(std::vector<KeyEntry> entries, std::vector<std::shared_ptr<KeyState>> states)
    : entries_(std::move(entries)), states_(std::move(states)) {
  if (entries_.empty()) return;
  // At most half the slots used: a miss (the common case of an unknown key) ends after
  // about two probes.
  slots_.assign(std::bit_ceil(entries_.size() * 2), 0);
  const size_t mask = slots_.size() - 1;
  for (size_t i = 0; i < entries_.size(); ++i) {
    size_t slot = static_cast<size_t>(slot_hash(entries_[i].digest)) & mask;
    while (slots_[slot] != 0)
      slot = (slot + 1) & mask;
    slots_[slot] = static_cast<uint32_t>(i + 1);
  }
}

const KeyEntry* KeyTable::find(const KeyDigest& digest) const {
  if (slots_.empty()) return nullptr;
  const size_t mask = slots_.size() - 1;
  size_t slot = static_cast<size_t>(slot_hash(digest)) & mask;
  while (const uint32_t index = slots_[slot]) {
    const KeyEntry& entry = entries_[index - 1];
    if (entry.digest == digest) return &entry;
    slot = (slot + 1) & mask;
  }
  return nullptr;
}

// ---- KeyRegistry ------------------------------------------------------------------------

namespace {

struct Limits {
  std::optional<core::Rate> rate;
  std::optional<core::Quota> quota;
};

core::Result<Limits> parse_limits(const access::ApiKeyRecord& record) {
  Limits limits;
  if (record.rate) {
    auto rate = core::parse_rate(*record.rate);
    if (!rate) return core::fail(fmt::format("API key {}: {}", record.id, rate.error().message));
    limits.rate = *rate;
  }
  if (record.quota) {
    auto quota = core::parse_quota(*record.quota);
    if (!quota) {
      return core::fail(fmt::format("API key {}: {}", record.id, quota.error().message));
    }
    limits.quota = *quota;
  }
  return limits;
}

bool same_limits(const KeyState& state, const Limits& limits) {
  const bool same_rate = state.rate.has_value() == limits.rate.has_value() &&
                         (!limits.rate || state.rate->rate() == *limits.rate);
  const bool same_quota = state.quota.has_value() == limits.quota.has_value() &&
                          (!limits.quota || state.quota->quota() == *limits.quota);
  return same_rate && same_quota;
}

}  // namespace

core::Result<std::shared_ptr<const KeyTable>> KeyRegistry::build(
    const std::vector<access::ApiKeyRecord>& records, const QuotaLoader& load_quota,
    core::TimePoint now) {
  const int64_t now_seconds = core::epoch_second(now);
  std::lock_guard lock(mutex_);
  // Built aside and swapped in at the end, so a failed build changes nothing.
  std::map<std::string, std::shared_ptr<KeyState>, std::less<>> states;
  std::vector<KeyEntry> entries;
  std::vector<std::shared_ptr<KeyState>> table_states;
  entries.reserve(records.size());
  table_states.reserve(records.size());
  std::set<KeyDigest> seen;

  for (const access::ApiKeyRecord& record : records) {
    // The store checks hashes on the way in; a record that still does not parse (edited by
    // hand, a newer format) can match no key, and must not take the other keys down.
    const std::optional<KeyDigest> digest = parse_digest_hex(record.key_hash);
    if (!digest || seen.contains(*digest) || states.contains(record.id)) continue;

    const auto existing = states_.find(record.id);
    std::shared_ptr<KeyState> state;
    if (record.revoked()) {
      // Answered 403 before any limit is looked at: its limits need neither parsing nor
      // seeding. An existing state stays, so its last counts still reach the store.
      state = existing != states_.end() ? existing->second : nullptr;
      if (!state) {
        state = std::make_shared<KeyState>();
        state->key_id = record.id;
      }
    } else {
      auto limits = parse_limits(record);
      if (!limits) return core::Failure{limits.error()};
      if (existing != states_.end() && same_limits(*existing->second, *limits)) {
        state = existing->second;
      } else {
        state = std::make_shared<KeyState>();
        state->key_id = record.id;
        if (limits->rate) state->rate.emplace(*limits->rate);
        if (limits->quota) {
          state->quota.emplace(*limits->quota);
          const core::QuotaPeriod period = limits->quota->period;
          const int64_t period_start =
              quota_period_start(period, quota_period_index(period, now_seconds));
          auto stored = load_quota(record.id, period_start);
          if (!stored) {
            return core::fail(fmt::format("reading the quota count of API key {}: {}", record.id,
                                          stored.error().message));
          }
          state->quota->seed(now_seconds, *stored);
        }
      }
    }

    KeyEntry entry;
    entry.digest = *digest;
    entry.id = record.id;
    entry.consumer = record.consumer;
    entry.consumer_id = intern_consumer(record.consumer);
    entry.preview = record.preview;
    entry.revoked = record.revoked();
    entry.state = state.get();
    seen.insert(*digest);
    entries.push_back(std::move(entry));
    table_states.push_back(state);
    states.emplace(record.id, std::move(state));
  }

  states_ = std::move(states);
  return std::shared_ptr<const KeyTable>(
      std::make_shared<KeyTable>(std::move(entries), std::move(table_states)));
}

uint32_t KeyRegistry::intern_consumer(std::string_view name) {
  if (name == kAnonymousName) return kAnonymousConsumer;
  const auto found = consumer_ids_.find(name);
  if (found != consumer_ids_.end()) return found->second;
  const auto id = static_cast<uint32_t>(consumer_names_.size());
  consumer_names_.emplace_back(name);
  consumer_ids_.emplace(std::string(name), id);
  return id;
}

uint32_t KeyRegistry::consumer_id(std::string_view name) {
  std::lock_guard lock(mutex_);
  return intern_consumer(name);
}

std::string KeyRegistry::consumer_name(uint32_t id) const {
  std::lock_guard lock(mutex_);
  if (id >= consumer_names_.size()) return std::string(kAnonymousName);
  return consumer_names_[id];
}

core::Result<void> KeyRegistry::flush_quotas(const QuotaWriter& add, core::TimePoint now) {
  const int64_t now_seconds = core::epoch_second(now);
  // Held throughout: begin_flush/end_flush/seed must not run on two threads at once.
  std::lock_guard lock(mutex_);
  std::string errors;
  for (const auto& [key_id, state] : states_) {
    if (!state->quota) continue;
    QuotaCounter& counter = *state->quota;
    const QuotaCounter::FlushPlan plan = counter.begin_flush(now_seconds);
    if (plan.delta == 0) continue;
    auto total = add(key_id, plan.period_start, plan.delta);
    if (!total) {
      if (!errors.empty()) errors += "; ";
      errors += total.error().message;
      continue;
    }
    counter.end_flush(plan, *total);
  }
  if (!errors.empty()) return core::fail("flushing quota counters: " + errors);
  return {};
}

}  // namespace glidepath::access
