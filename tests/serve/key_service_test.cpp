// Keys from a real (SQLite) store to the routing publisher, and the workers' counts back
// (serve/key_service.h).
#include "serve/key_service.h"

#include <gtest/gtest.h>

#include "access/key_material.h"
#include "config/loader.h"
#include "metrics/series_registry.h"
#include "routing/publisher.h"
#include "store/sqlite/sqlite_store.h"

namespace glidepath::serve {
namespace {

const core::TimePoint kNow = core::from_epoch_micros(1'795'683'600'000'000);

class KeyServiceTest : public testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open_sqlite_store(":memory:");
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
    auto loaded = config::load_config(
        "services:\n"
        "  - name: orders\n"
        "    match: {path_prefix: /orders}\n"
        "    api_keys: required\n"
        "    versions:\n"
        "      - {name: v1, upstreams: [127.0.0.1:9001]}\n"
        "    live: v1\n");
    ASSERT_TRUE(loaded.ok());
    config_ = loaded.config;
    keys_ = std::make_unique<KeyService>(*store_, clock_);
  }

  std::string create_key(const std::string& id, const std::string& consumer,
                         std::optional<std::string> quota = std::nullopt) {
    const std::string key = access::generate_key();
    access::ApiKeyRecord record;
    record.id = id;
    record.consumer = consumer;
    record.contact = consumer + "@example.test";
    record.key_hash = access::key_hash_hex(key);
    record.key_prefix = access::display_prefix(key);
    record.quota = std::move(quota);
    record.created_at = kNow;
    EXPECT_TRUE(store_->create_api_key(record).ok());
    return key;
  }

  core::ManualClock clock_{kNow};
  std::unique_ptr<store::Store> store_;
  std::shared_ptr<const config::Config> config_;
  std::unique_ptr<KeyService> keys_;
};

TEST_F(KeyServiceTest, ACreatedKeyReachesThePublishedSnapshot) {
  metrics::SeriesRegistry registry;
  auto publisher = routing::RoutingPublisher::create({config_, &registry, nullptr}, {}, nullptr);
  ASSERT_TRUE(publisher.ok());
  const std::string key = create_key("key_1", "acme");
  ASSERT_TRUE(keys_->refresh(**publisher).ok());
  const auto snapshot = (*publisher)->snapshot();
  ASSERT_NE(snapshot->keys, nullptr);
  EXPECT_EQ(snapshot->keys->size(), 1u);
}

TEST_F(KeyServiceTest, WorkerCountsAndQuotaAdmissionsReachTheStore) {
  create_key("key_q", "acme", "100/day");
  auto table = keys_->load();
  ASSERT_TRUE(table.ok()) << table.error().message;
  ASSERT_EQ((*table)->size(), 1u);
  access::KeyState& state = *(*table)->entries().front().state;
  ASSERT_TRUE(state.quota.has_value());
  ASSERT_TRUE(state.quota->try_consume(core::epoch_second(kNow)).admitted);
  ASSERT_TRUE(state.quota->try_consume(core::epoch_second(kNow)).admitted);

  metrics::SeriesRegistry registry;
  const auto series = registry.intern("orders", "v1");
  ASSERT_TRUE(series.ok());
  access::UsageDelta delta;
  delta.consumer_id = keys_->registry().consumer_id("acme");
  delta.series = *series;
  delta.operation = "GET /orders/{id}";
  delta.status_class = 2;
  delta.minute = core::epoch_second(kNow) / 60 * 60;
  delta.count = 3;
  delta.first_seen_us = delta.last_seen_us = core::to_epoch_micros(kNow);
  keys_->flush({delta}, registry);

  auto usage = store_->query_usage({});
  ASSERT_TRUE(usage.ok());
  ASSERT_EQ(usage->size(), 1u);
  EXPECT_EQ((*usage)[0].consumer, "acme");
  EXPECT_EQ((*usage)[0].version, "v1");
  EXPECT_EQ((*usage)[0].count, 3u);
  const int64_t day = core::epoch_second(kNow) / 86400 * 86400;
  auto quota = store_->get_quota_usage("key_q", day);
  ASSERT_TRUE(quota.ok()) << quota.error().message;
  EXPECT_EQ(*quota, 2u);
}

}  // namespace
}  // namespace glidepath::serve
