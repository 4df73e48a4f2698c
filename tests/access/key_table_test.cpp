// The key table (lookup by digest) and the registry that builds it from the store's
// records: state kept across rebuilds, limits parsed, quota counters seeded from and
// flushed to a real SQLite store.
#include "access/key_table.h"

#include <gtest/gtest.h>

#include <cctype>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/sqlite/sqlite_store.h"

namespace glidepath::access {
namespace {

// 2026-11-26T09:00:00Z.
constexpr int64_t kNowSeconds = 1'795'683'600;
constexpr int64_t kDayStart = 1'795'651'200;
const core::TimePoint kNow = core::from_epoch_micros(kNowSeconds * 1'000'000);

access::ApiKeyRecord make_record(std::string id, std::string consumer, std::string_view key,
                                 std::optional<std::string> rate = std::nullopt,
                                 std::optional<std::string> quota = std::nullopt) {
  access::ApiKeyRecord record;
  record.id = std::move(id);
  record.consumer = std::move(consumer);
  record.contact = "ops@example.com";
  record.key_hash = key_hash_hex(key);
  record.key_prefix = display_prefix(key);
  record.rate = std::move(rate);
  record.quota = std::move(quota);
  record.created_at = kNow;
  return record;
}

// A loader that answers from a map and remembers what it was asked.
struct RecordingLoader {
  std::map<std::pair<std::string, int64_t>, uint64_t> counts;
  std::vector<std::pair<std::string, int64_t>> calls;
  KeyRegistry::QuotaLoader loader() {
    return [this](std::string_view id, int64_t period_start) -> core::Result<uint64_t> {
      calls.emplace_back(std::string(id), period_start);
      const auto found = counts.find({std::string(id), period_start});
      return found == counts.end() ? uint64_t{0} : found->second;
    };
  }
};

core::Result<uint64_t> no_stored_counts(std::string_view, int64_t) {
  return uint64_t{0};
}

const KeyEntry* find_key(const KeyTable& table, std::string_view key) {
  return table.find(key_digest(key));
}

// ---- KeyTable ---------------------------------------------------------------------------

KeyTable table_of(const std::vector<KeyDigest>& digests) {
  std::vector<KeyEntry> entries;
  std::vector<std::shared_ptr<KeyState>> states;
  for (size_t i = 0; i < digests.size(); ++i) {
    auto state = std::make_shared<KeyState>();
    state->key_id = "key_" + std::to_string(i);
    KeyEntry entry;
    entry.digest = digests[i];
    entry.id = state->key_id;
    entry.consumer = "c" + std::to_string(i);
    entry.state = state.get();
    entries.push_back(std::move(entry));
    states.push_back(std::move(state));
  }
  return KeyTable(std::move(entries), std::move(states));
}

TEST(KeyTable, EmptyTableFindsNothing) {
  const KeyTable table;
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.find(key_digest("gp_anything")), nullptr);
  EXPECT_EQ(table_of({}).find(KeyDigest{}), nullptr);
}

TEST(KeyTable, FindsPresentKeysAndNothingElse) {
  const KeyTable table = table_of({key_digest("a"), key_digest("b"), key_digest("c")});
  ASSERT_EQ(table.size(), 3u);
  const std::pair<std::string_view, std::string_view> expected[] = {
      {"a", "key_0"}, {"b", "key_1"}, {"c", "key_2"}};
  for (const auto& [key, id] : expected) {
    const KeyEntry* entry = find_key(table, key);
    ASSERT_NE(entry, nullptr) << key;
    EXPECT_EQ(entry->id, id);
    EXPECT_EQ(entry->state->key_id, id);
  }
  EXPECT_EQ(find_key(table, "d"), nullptr);
  EXPECT_EQ(table.find(KeyDigest{}), nullptr);
}

TEST(KeyTable, ManyKeys) {
  std::vector<std::string> keys;
  std::vector<KeyDigest> digests;
  for (int i = 0; i < 5000; ++i) {
    keys.push_back(generate_key());
    digests.push_back(key_digest(keys.back()));
  }
  const KeyTable table = table_of(digests);
  for (size_t i = 0; i < keys.size(); ++i) {
    const KeyEntry* entry = find_key(table, keys[i]);
    ASSERT_NE(entry, nullptr) << i;
    ASSERT_EQ(entry->id, "key_" + std::to_string(i));
  }
  for (int i = 0; i < 5000; ++i)
    ASSERT_EQ(find_key(table, generate_key()), nullptr);
}

TEST(KeyTable, DigestsSharingTheirFirstEightBytesProbeOnAndWrapAround) {
  // Three entries use eight slots; these digests all hash to the last one.
  auto digest = [](uint8_t last) {
    KeyDigest d{};
    d.fill(0);
    d[0] = 0xff;
    d[31] = last;
    return d;
  };
  const KeyTable table = table_of({digest(1), digest(2), digest(3)});
  for (uint8_t last = 1; last <= 3; ++last) {
    const KeyEntry* entry = table.find(digest(last));
    ASSERT_NE(entry, nullptr);
    EXPECT_EQ(entry->id, "key_" + std::to_string(last - 1));
  }
  EXPECT_EQ(table.find(digest(4)), nullptr);
}

// ---- KeyRegistry: building ---------------------------------------------------------------

TEST(KeyRegistry, BuildsATableOfEveryParsableRecord) {
  KeyRegistry registry;
  std::vector<access::ApiKeyRecord> records = {
      make_record("key_a", "acme", "gp_a", "10/s", "1000/day"),
      make_record("key_b", "globex", "gp_b"),
      make_record("key_r", "acme", "gp_r", "10/s"),
      make_record("key_x", "initech", "gp_x"),
  };
  records[1].preview = true;
  records[2].revoked_at = kNow;
  records[3].key_hash = "not a hash";  // matches no key: skipped, not fatal

  auto table = registry.build(records, no_stored_counts, kNow);
  ASSERT_TRUE(table.ok()) << table.error().message;
  const KeyTable& keys = **table;
  EXPECT_EQ(keys.size(), 3u);

  const KeyEntry* a = find_key(keys, "gp_a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->id, "key_a");
  EXPECT_EQ(a->consumer, "acme");
  EXPECT_FALSE(a->preview);
  EXPECT_FALSE(a->revoked);
  ASSERT_NE(a->state, nullptr);
  ASSERT_TRUE(a->state->rate.has_value());
  EXPECT_EQ(a->state->rate->rate(), (core::Rate{10, std::chrono::seconds(1)}));
  ASSERT_TRUE(a->state->quota.has_value());
  EXPECT_EQ(a->state->quota->quota(), (core::Quota{1000, core::QuotaPeriod::day}));

  const KeyEntry* b = find_key(keys, "gp_b");
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->preview);
  ASSERT_NE(b->state, nullptr);
  EXPECT_FALSE(b->state->rate.has_value());
  EXPECT_FALSE(b->state->quota.has_value());

  const KeyEntry* r = find_key(keys, "gp_r");
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->revoked);
  EXPECT_NE(r->state, nullptr);
  EXPECT_EQ(r->consumer_id, a->consumer_id);

  EXPECT_EQ(find_key(keys, "gp_x"), nullptr);
  EXPECT_EQ(find_key(keys, "gp_unknown"), nullptr);
}

TEST(KeyRegistry, UpperCaseHashesAreFound) {
  KeyRegistry registry;
  auto record = make_record("key_a", "acme", "gp_a");
  for (char& c : record.key_hash)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto table = registry.build({record}, no_stored_counts, kNow);
  ASSERT_TRUE(table.ok());
  EXPECT_NE(find_key(**table, "gp_a"), nullptr);
}

TEST(KeyRegistry, AnUnparsableLimitFailsTheBuildNamingTheKey) {
  KeyRegistry registry;
  const std::vector<access::ApiKeyRecord> good = {make_record("key_a", "acme", "gp_a", "2/s")};
  auto first = registry.build(good, no_stored_counts, kNow);
  ASSERT_TRUE(first.ok());
  KeyState* state = find_key(**first, "gp_a")->state;

  const std::pair<std::optional<std::string>, std::optional<std::string>> bad_limits[] = {
      {"lots", std::nullopt}, {std::nullopt, "5/fortnight"}};
  for (const auto& [rate, quota] : bad_limits) {
    std::vector<access::ApiKeyRecord> records = good;
    records.push_back(make_record("key_bad", "acme", "gp_bad", rate, quota));
    auto failed = registry.build(records, no_stored_counts, kNow);
    ASSERT_FALSE(failed.ok());
    EXPECT_NE(failed.error().message.find("key_bad"), std::string::npos) << failed.error().message;
  }

  // A failed build changed nothing: the next one still finds key_a's state.
  auto again = registry.build(good, no_stored_counts, kNow);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(find_key(**again, "gp_a")->state, state);
}

TEST(KeyRegistry, ARevokedKeysLimitsAreNotLookedAt) {
  KeyRegistry registry;
  auto record = make_record("key_r", "acme", "gp_r", "lots", "5/fortnight");
  record.revoked_at = kNow;
  RecordingLoader loader;
  auto table = registry.build({record}, loader.loader(), kNow);
  ASSERT_TRUE(table.ok()) << table.error().message;
  EXPECT_TRUE(find_key(**table, "gp_r")->revoked);
  EXPECT_TRUE(loader.calls.empty());
}

TEST(KeyRegistry, KeepsStateAcrossRebuilds) {
  KeyRegistry registry;
  std::vector<access::ApiKeyRecord> records = {make_record("key_a", "acme", "gp_a", "2/s")};
  auto first = registry.build(records, no_stored_counts, kNow);
  ASSERT_TRUE(first.ok());
  KeyState* state = find_key(**first, "gp_a")->state;
  ASSERT_EQ(state->rate->try_acquire(0), 0);
  ASSERT_EQ(state->rate->try_acquire(0), 0);

  // Another key is created: a new table, the same state for key_a, its tokens still spent.
  records.push_back(make_record("key_b", "globex", "gp_b", "2/s"));
  auto second = registry.build(records, no_stored_counts, kNow);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->get(), first->get());
  const KeyEntry* a = find_key(**second, "gp_a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->state, state);
  EXPECT_GT(a->state->rate->try_acquire(0), 0);
  EXPECT_EQ(find_key(**second, "gp_b")->state->rate->try_acquire(0), 0);

  // Revoking keeps the state too (its unflushed counts still reach the store).
  records[0].revoked_at = kNow;
  auto third = registry.build(records, no_stored_counts, kNow);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(find_key(**third, "gp_a")->state, state);
  EXPECT_TRUE(find_key(**third, "gp_a")->revoked);

  // The old table keeps its states alive for workers still reading it.
  EXPECT_EQ(find_key(**first, "gp_a")->state->key_id, "key_a");
}

TEST(KeyRegistry, ReplacesStateWhenALimitChanges) {
  KeyRegistry registry;
  RecordingLoader loader;
  loader.counts[{"key_a", kDayStart}] = 40;
  std::vector<access::ApiKeyRecord> records = {
      make_record("key_a", "acme", "gp_a", "2/s", "100/day")};
  auto first = registry.build(records, loader.loader(), kNow);
  ASSERT_TRUE(first.ok());
  KeyState* state = find_key(**first, "gp_a")->state;
  EXPECT_EQ(state->quota->used(kNowSeconds), 40u);
  ASSERT_EQ(loader.calls.size(), 1u);
  EXPECT_EQ(loader.calls[0], (std::pair<std::string, int64_t>{"key_a", kDayStart}));

  // The same limits spelled differently are the same limits: the state stays.
  records[0].rate = "2/second";
  auto same = registry.build(records, loader.loader(), kNow);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(find_key(**same, "gp_a")->state, state);
  EXPECT_EQ(loader.calls.size(), 1u);

  // A new rate: a new state with a full bucket, its quota seeded again from the store.
  ASSERT_EQ(state->rate->try_acquire(0), 0);
  ASSERT_EQ(state->rate->try_acquire(0), 0);
  records[0].rate = "5/s";
  auto changed_rate = registry.build(records, loader.loader(), kNow);
  ASSERT_TRUE(changed_rate.ok());
  KeyState* by_rate = find_key(**changed_rate, "gp_a")->state;
  EXPECT_NE(by_rate, state);
  EXPECT_EQ(by_rate->rate->rate().count, 5u);
  EXPECT_EQ(by_rate->rate->try_acquire(0), 0);
  EXPECT_EQ(by_rate->quota->used(kNowSeconds), 40u);
  EXPECT_EQ(loader.calls.size(), 2u);

  // A new quota period: seeded for the period holding now.
  records[0].quota = "100/hour";
  loader.counts[{"key_a", kNowSeconds}] = 7;  // 09:00 is the hour's start
  auto changed_quota = registry.build(records, loader.loader(), kNow);
  ASSERT_TRUE(changed_quota.ok());
  KeyState* by_quota = find_key(**changed_quota, "gp_a")->state;
  EXPECT_NE(by_quota, by_rate);
  EXPECT_EQ(by_quota->quota->used(kNowSeconds), 7u);
  EXPECT_EQ(loader.calls.back(), (std::pair<std::string, int64_t>{"key_a", kNowSeconds}));

  // Limits removed: a state without limiters.
  records[0].rate.reset();
  records[0].quota.reset();
  auto unlimited = registry.build(records, loader.loader(), kNow);
  ASSERT_TRUE(unlimited.ok());
  const KeyState* none = find_key(**unlimited, "gp_a")->state;
  EXPECT_FALSE(none->rate.has_value());
  EXPECT_FALSE(none->quota.has_value());
}

TEST(KeyRegistry, ALoadErrorFailsTheBuild) {
  KeyRegistry registry;
  const std::vector<access::ApiKeyRecord> records = {
      make_record("key_a", "acme", "gp_a", std::nullopt, "100/day")};
  auto failed = registry.build(
      records,
      [](std::string_view, int64_t) -> core::Result<uint64_t> {
        return core::fail("database is locked");
      },
      kNow);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("key_a"), std::string::npos) << failed.error().message;
  EXPECT_NE(failed.error().message.find("database is locked"), std::string::npos);
}

TEST(KeyRegistry, ADeletedKeyComesBackWithAFreshState) {
  KeyRegistry registry;
  const auto a = make_record("key_a", "acme", "gp_a", "1/s");
  auto first = registry.build({a}, no_stored_counts, kNow);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(find_key(**first, "gp_a")->state->rate->try_acquire(0), 0);
  auto empty = registry.build({}, no_stored_counts, kNow);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ((*empty)->size(), 0u);
  auto back = registry.build({a}, no_stored_counts, kNow);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(find_key(**back, "gp_a")->state->rate->try_acquire(0), 0);
}

TEST(KeyRegistry, InternsConsumersToDenseStableIds) {
  KeyRegistry registry;
  EXPECT_EQ(registry.consumer_name(kAnonymousConsumer), "anonymous");
  EXPECT_EQ(registry.consumer_id("anonymous"), kAnonymousConsumer);

  auto table =
      registry.build({make_record("key_1", "acme", "gp_1"), make_record("key_2", "globex", "gp_2"),
                      make_record("key_3", "acme", "gp_3")},
                     no_stored_counts, kNow);
  ASSERT_TRUE(table.ok());
  const uint32_t acme = find_key(**table, "gp_1")->consumer_id;
  const uint32_t globex = find_key(**table, "gp_2")->consumer_id;
  EXPECT_EQ(acme, 1u);
  EXPECT_EQ(globex, 2u);
  EXPECT_EQ(find_key(**table, "gp_3")->consumer_id, acme);
  EXPECT_EQ(registry.consumer_id("acme"), acme);
  EXPECT_EQ(registry.consumer_id("initech"), 3u);
  EXPECT_EQ(registry.consumer_id("initech"), 3u);
  EXPECT_EQ(registry.consumer_name(acme), "acme");
  EXPECT_EQ(registry.consumer_name(3), "initech");
  EXPECT_EQ(registry.consumer_name(99), "anonymous");

  // Ids survive rebuilds, even of tables without the consumer.
  auto rebuilt = registry.build({make_record("key_2", "globex", "gp_2")}, no_stored_counts, kNow);
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_EQ(find_key(**rebuilt, "gp_2")->consumer_id, globex);
  EXPECT_EQ(registry.consumer_id("acme"), acme);
}

// ---- KeyRegistry: quota counts in a real store -------------------------------------------

class QuotaStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open_sqlite_store(":memory:");
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
  }

  void create(const access::ApiKeyRecord& record) {
    auto created = store_->create_api_key(record);
    ASSERT_TRUE(created.ok()) << created.error().message;
  }

  std::vector<access::ApiKeyRecord> stored_keys() {
    auto keys = store_->list_api_keys();
    EXPECT_TRUE(keys.ok());
    return keys.ok() ? *keys : std::vector<access::ApiKeyRecord>{};
  }

  KeyRegistry::QuotaLoader loader() {
    return [this](std::string_view id, int64_t period_start) {
      return store_->get_quota_usage(id, period_start);
    };
  }

  std::shared_ptr<const KeyTable> build(KeyRegistry& registry, core::TimePoint now) {
    auto table = registry.build(stored_keys(), loader(), now);
    EXPECT_TRUE(table.ok()) << table.error().message;
    return table.ok() ? *table : std::shared_ptr<const KeyTable>(std::make_shared<KeyTable>());
  }

  // Quota counts go to the real store, as the runtime's flusher sends them.
  KeyRegistry::QuotaWriter writer() {
    return [this](std::string_view id, int64_t period_start, uint64_t n) {
      return store_->add_quota_usage(id, period_start, n);
    };
  }

  uint64_t stored_count(std::string_view id, int64_t period_start) {
    auto count = store_->get_quota_usage(id, period_start);
    EXPECT_TRUE(count.ok());
    return count.value_or(0);
  }

  std::unique_ptr<store::Store> store_;
};

int consume(QuotaCounter& counter, int n, int64_t now) {
  int admitted = 0;
  for (int i = 0; i < n; ++i)
    admitted += counter.try_consume(now).admitted ? 1 : 0;
  return admitted;
}

TEST_F(QuotaStoreTest, CountsSurviveARestart) {
  create(make_record("key_a", "acme", "gp_a", std::nullopt, "10/day"));
  create(make_record("key_b", "globex", "gp_b"));  // no quota: nothing to flush

  {
    KeyRegistry gateway;
    auto table = build(gateway, kNow);
    QuotaCounter& counter = *find_key(*table, "gp_a")->state->quota;
    ASSERT_EQ(consume(counter, 4, kNowSeconds), 4);
    ASSERT_TRUE(gateway.flush_quotas(writer(), kNow).ok());
    EXPECT_EQ(stored_count("key_a", kDayStart), 4u);
    ASSERT_EQ(consume(counter, 2, kNowSeconds), 2);
    ASSERT_TRUE(gateway.flush_quotas(writer(), kNow).ok());
    ASSERT_TRUE(gateway.flush_quotas(writer(), kNow).ok());  // nothing new: nothing added
    EXPECT_EQ(stored_count("key_a", kDayStart), 6u);
  }

  // The process restarts: the new registry continues from the stored count.
  KeyRegistry restarted;
  auto table = build(restarted, kNow + std::chrono::minutes(5));
  QuotaCounter& counter = *find_key(*table, "gp_a")->state->quota;
  EXPECT_EQ(counter.used(kNowSeconds), 6u);
  EXPECT_EQ(consume(counter, 10, kNowSeconds + 300), 4);
  ASSERT_TRUE(restarted.flush_quotas(writer(), kNow).ok());
  EXPECT_EQ(stored_count("key_a", kDayStart), 10u);

  // The next day starts from zero, in the store too.
  const int64_t tomorrow = kDayStart + 86400;
  const core::TimePoint tomorrow_tp = core::from_epoch_micros(tomorrow * 1'000'000);
  EXPECT_EQ(consume(counter, 3, tomorrow), 3);
  ASSERT_TRUE(restarted.flush_quotas(writer(), tomorrow_tp).ok());
  EXPECT_EQ(stored_count("key_a", tomorrow), 3u);
  EXPECT_EQ(stored_count("key_a", kDayStart), 10u);
}

TEST_F(QuotaStoreTest, GatewaysSharingAStoreCountEachOthersRequests) {
  create(make_record("key_a", "acme", "gp_a", std::nullopt, "10/day"));
  KeyRegistry first;
  KeyRegistry second;
  auto first_table = build(first, kNow);
  auto second_table = build(second, kNow);
  QuotaCounter& here = *find_key(*first_table, "gp_a")->state->quota;
  QuotaCounter& there = *find_key(*second_table, "gp_a")->state->quota;

  ASSERT_EQ(consume(here, 3, kNowSeconds), 3);
  ASSERT_EQ(consume(there, 5, kNowSeconds), 5);
  ASSERT_TRUE(first.flush_quotas(writer(), kNow).ok());   // store 3
  ASSERT_TRUE(second.flush_quotas(writer(), kNow).ok());  // store 8: second absorbs 3
  EXPECT_EQ(there.used(kNowSeconds), 8u);
  ASSERT_EQ(consume(here, 1, kNowSeconds), 1);
  ASSERT_TRUE(first.flush_quotas(writer(), kNow).ok());  // store 9: first absorbs 5
  EXPECT_EQ(here.used(kNowSeconds), 9u);
  EXPECT_EQ(stored_count("key_a", kDayStart), 9u);

  EXPECT_EQ(consume(here, 5, kNowSeconds), 1);
  EXPECT_EQ(consume(there, 5, kNowSeconds), 2);  // it had not yet heard of the 10th
  ASSERT_TRUE(first.flush_quotas(writer(), kNow).ok());
  ASSERT_TRUE(second.flush_quotas(writer(), kNow).ok());
  EXPECT_EQ(stored_count("key_a", kDayStart), 12u);
  EXPECT_FALSE(here.try_consume(kNowSeconds).admitted);
  EXPECT_FALSE(there.try_consume(kNowSeconds).admitted);
}

TEST_F(QuotaStoreTest, CountsNotWrittenAreRetriedByTheNextFlush) {
  create(make_record("key_a", "acme", "gp_a", std::nullopt, "10/day"));
  auto records = stored_keys();
  // A key the table knows but the store does not (yet): its write fails.
  records.push_back(make_record("key_new", "acme", "gp_new", std::nullopt, "10/day"));
  KeyRegistry gateway;
  auto table = gateway.build(records, no_stored_counts, kNow);
  ASSERT_TRUE(table.ok());
  ASSERT_EQ(consume(*find_key(**table, "gp_a")->state->quota, 2, kNowSeconds), 2);
  ASSERT_EQ(consume(*find_key(**table, "gp_new")->state->quota, 3, kNowSeconds), 3);

  const core::Result<void> flushed = gateway.flush_quotas(writer(), kNow);
  ASSERT_FALSE(flushed.ok());
  EXPECT_NE(flushed.error().message.find("key_new"), std::string::npos) << flushed.error().message;
  EXPECT_EQ(stored_count("key_a", kDayStart), 2u);  // the other keys were still written

  create(records.back());
  ASSERT_TRUE(gateway.flush_quotas(writer(), kNow).ok());
  EXPECT_EQ(stored_count("key_new", kDayStart), 3u);
  EXPECT_EQ(stored_count("key_a", kDayStart), 2u);
}

}  // namespace
}  // namespace glidepath::access
