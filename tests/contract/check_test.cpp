// The deployment gate below the controller: two documents on disk, usage and keys as
// values (tests/controller/contract_gate_test.cpp reads them from a real store), the
// verdict per policy.
#include "contract/check.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace glidepath::contract {
namespace {

constexpr const char* kV1 = R"(openapi: 3.0.3
info: {title: orders, version: "1"}
paths:
  /orders/{id}:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                required: [id, total]
                properties: {id: {type: string}, total: {type: number}}
)";
// `total` is gone from the response: breaking for whoever reads it.
constexpr const char* kV2 = R"(openapi: 3.0.3
info: {title: orders, version: "2"}
paths:
  /orders/{orderId}:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                required: [id]
                properties: {id: {type: string}}
)";

const core::TimePoint kNow = core::from_epoch_micros(1'795'683'600'000'000);

class CheckTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("glidepath-check-" + std::to_string(::getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "v1.yaml") << kV1;
    std::ofstream(dir_ / "v2.yaml") << kV2;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void used_by(const std::string& consumer, core::TimePoint at) {
    access::UsageBucket b;
    b.consumer = consumer;
    b.service = "orders";
    b.operation = "GET /orders/{id}";
    b.version = "v1";
    b.status_class = "2xx";
    b.minute = core::epoch_second(std::chrono::floor<std::chrono::minutes>(at));
    b.count = 12;
    b.first_seen = b.last_seen = at;
    usage_.push_back(b);
  }

  deploy::ContractObservation check(deploy::ContractPolicy policy, std::string v2 = "v2.yaml") {
    const ConsumerUsage usage{usage_since(kNow), usage_, {}};
    return check_deployment("orders", (dir_ / "v1.yaml").string(), (dir_ / v2).string(), policy,
                            usage, kNow);
  }

  std::filesystem::path dir_;
  std::vector<access::UsageBucket> usage_;
};

TEST_F(CheckTest, ABreakingChangeSomeoneUsesBlocksAndNamesThem) {
  used_by("acme", kNow - std::chrono::hours(24 * 3));
  const deploy::ContractObservation verdict = check(deploy::ContractPolicy::block_if_used);
  EXPECT_EQ(verdict.verdict, deploy::ContractVerdict::blocked) << verdict.summary;
  EXPECT_NE(verdict.summary.find("acme"), std::string::npos) << verdict.summary;
  EXPECT_NE(verdict.summary.find("GET /orders/{orderId}"), std::string::npos) << verdict.summary;
}

TEST_F(CheckTest, UsageOlderThanTheWindowDoesNotCount) {
  used_by("acme", kNow - std::chrono::hours(24 * 45));
  EXPECT_EQ(check(deploy::ContractPolicy::block_if_used).verdict, deploy::ContractVerdict::warned);
  EXPECT_EQ(check(deploy::ContractPolicy::block).verdict, deploy::ContractVerdict::blocked);
}

TEST_F(CheckTest, TheSameDocumentPasses) {
  used_by("acme", kNow);
  EXPECT_EQ(check(deploy::ContractPolicy::block, "v1.yaml").verdict,
            deploy::ContractVerdict::passed);
}

TEST_F(CheckTest, AnUnreadableDocumentIsNotAPass) {
  const deploy::ContractObservation verdict =
      check(deploy::ContractPolicy::block_if_used, "missing.yaml");
  EXPECT_EQ(verdict.verdict, deploy::ContractVerdict::blocked);
  EXPECT_NE(verdict.summary.find("could not be checked"), std::string::npos) << verdict.summary;
  EXPECT_EQ(check(deploy::ContractPolicy::warn, "missing.yaml").verdict,
            deploy::ContractVerdict::warned);
}

}  // namespace
}  // namespace glidepath::contract
