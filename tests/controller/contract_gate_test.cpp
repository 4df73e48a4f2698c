// The contract gate as the controller asks it: usage and keys read from a real (SQLite)
// store, within the window, then the check on a thread of its own.
#include "controller/contract_gate.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "store/sqlite/sqlite_store.h"

namespace glidepath::controller {
namespace {

constexpr const char* kV1 = R"(openapi: 3.0.3
info: {title: orders, version: "1"}
paths:
  /orders/{id}:
    get:
      responses:
        "200": {description: ok}
)";
// GET /orders/{id} is gone: breaking for whoever calls it.
constexpr const char* kV2 = R"(openapi: 3.0.3
info: {title: orders, version: "2"}
paths:
  /receipts/{id}:
    get:
      responses:
        "200": {description: ok}
)";

const core::TimePoint kNow = core::from_epoch_micros(1'795'683'600'000'000);

class ContractGateTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("glidepath-gate-" + std::to_string(::getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "v1.yaml") << kV1;
    std::ofstream(dir_ / "v2.yaml") << kV2;
    auto opened = store::open_sqlite_store(":memory:");
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void used_by(const std::string& consumer, const std::string& service, core::TimePoint at) {
    access::UsageBucket b;
    b.consumer = consumer;
    b.service = service;
    b.operation = "GET /orders/{id}";
    b.version = "v1";
    b.status_class = "2xx";
    b.minute = core::epoch_second(std::chrono::floor<std::chrono::minutes>(at));
    b.count = 7;
    b.first_seen = b.last_seen = at;
    ASSERT_TRUE(store_->add_usage(std::vector<access::UsageBucket>{b}).ok());
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(ContractGateTest, ReadsTheServicesUsageWithinTheWindowAndEveryKey) {
  used_by("acme", "orders", kNow - std::chrono::hours(24));
  used_by("old-co", "orders", kNow - std::chrono::hours(24 * 45));
  used_by("billing-co", "billing", kNow - std::chrono::hours(1));
  access::ApiKeyRecord key;
  key.id = "key_1";
  key.consumer = "acme";
  key.contact = "dev@acme.test";
  key.key_hash = std::string(64, 'a');
  key.key_prefix = "gp_aaaa";
  key.created_at = kNow;
  ASSERT_TRUE(store_->create_api_key(key).ok());

  const auto usage = read_consumer_usage(*store_, "orders", contract::usage_since(kNow));
  ASSERT_TRUE(usage.ok()) << usage.error().message;
  ASSERT_EQ(usage->usage.size(), 1u);
  EXPECT_EQ(usage->usage[0].consumer, "acme");
  ASSERT_EQ(usage->keys.size(), 1u);
  EXPECT_EQ(usage->keys[0].contact, "dev@acme.test");
  EXPECT_EQ(usage->since, contract::usage_since(kNow));
}

TEST_F(ContractGateTest, TheVerdictNamesWhoTheBreakingChangeHits) {
  used_by("acme", "orders", kNow - std::chrono::hours(2));
  auto verdict = check_contract_async(*store_, "orders", (dir_ / "v1.yaml").string(),
                                      (dir_ / "v2.yaml").string(),
                                      deploy::ContractPolicy::block_if_used, kNow);
  const deploy::ContractObservation observed = verdict.get();
  EXPECT_EQ(observed.verdict, deploy::ContractVerdict::blocked) << observed.summary;
  EXPECT_NE(observed.summary.find("acme"), std::string::npos) << observed.summary;
}

TEST_F(ContractGateTest, NobodyCallingItOnlyWarnsUnderBlockIfUsed) {
  used_by("acme", "orders", kNow - std::chrono::hours(24 * 60));  // outside the window
  auto verdict = check_contract_async(*store_, "orders", (dir_ / "v1.yaml").string(),
                                      (dir_ / "v2.yaml").string(),
                                      deploy::ContractPolicy::block_if_used, kNow);
  EXPECT_EQ(verdict.get().verdict, deploy::ContractVerdict::warned);
}

}  // namespace
}  // namespace glidepath::controller
