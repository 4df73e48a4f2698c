// The join of breaking changes with recorded usage, and the deployment gate's verdict
// per policy (SPEC section 6).
#include "contract/impact.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace glidepath::contract {
namespace {

const core::TimePoint kT0 = core::from_epoch_micros(1'795'683'600'000'000);  // 2026-11-26T09Z

Change breaking(std::string method, std::string path, std::string rule) {
  Change c;
  c.level = Level::breaking;
  c.method = std::move(method);
  c.path = std::move(path);
  c.rule = std::move(rule);
  c.message = "something breaks";
  return c;
}

access::UsageBucket bucket(std::string consumer, std::string operation, std::string version,
                           uint64_t count, int minute_offset = 0, std::string service = "orders") {
  access::UsageBucket b;
  b.consumer = std::move(consumer);
  b.service = std::move(service);
  b.operation = std::move(operation);
  b.version = std::move(version);
  b.status_class = "2xx";
  b.minute = 1'795'683'600 + 60 * minute_offset;
  b.count = count;
  b.first_seen = kT0 + std::chrono::minutes(minute_offset);
  b.last_seen = b.first_seen + std::chrono::seconds(30);
  return b;
}

access::ApiKeyRecord key(std::string consumer, std::string contact, int created_offset) {
  access::ApiKeyRecord k;
  k.id = "key_" + consumer + std::to_string(created_offset);
  k.consumer = std::move(consumer);
  k.contact = std::move(contact);
  k.key_hash = std::string(64, 'a');
  k.created_at = kT0 + std::chrono::seconds(created_offset);
  return k;
}

TEST(Impact, BreakingChangesListWhoCalledTheOperationWithContactsAndCounts) {
  DiffReport diff;
  diff.changes = {breaking("GET", "/orders/{orderId}", "response-property-removed"),
                  breaking("DELETE", "/orders/{orderId}", "operation-removed")};
  Change warning;
  warning.level = Level::warning;
  warning.method = "GET";
  warning.path = "/orders";
  warning.rule = "response-enum-value-added";
  diff.changes.push_back(warning);
  Change info = warning;
  info.level = Level::info;
  diff.changes.push_back(info);

  // Recorded against the live version's template, whose parameter has another name.
  const std::vector<access::UsageBucket> usage = {
      bucket("acme", "GET /orders/{id}", "v1", 40),
      bucket("acme", "GET /orders/{id}", "v2", 2, 5),
      bucket("globex", "GET /orders/{id}", "v1", 90, 3),
      bucket("anonymous", "GET /orders/{id}", "v1", 1),
      bucket("initech", "GET /orders", "v1", 500),                     // another operation
      bucket("umbrella", "GET /orders/{id}", "v1", 7, 0, "payments"),  // another service
  };
  const std::vector<access::ApiKeyRecord> keys = {key("acme", "old@acme.example", 0),
                                                  key("acme", "api@acme.example", 10),
                                                  key("globex", "https://globex.example", 0)};
  const ImpactReport report = assess_impact(diff, "orders", kT0, usage, keys);

  ASSERT_EQ(report.breaking.size(), 2u);
  ASSERT_EQ(report.warnings.size(), 1u);
  const auto& hit = report.breaking[0].consumers;
  ASSERT_EQ(hit.size(), 3u);  // most requests first
  EXPECT_EQ(hit[0].name, "globex");
  EXPECT_EQ(hit[0].contact, "https://globex.example");
  EXPECT_EQ(hit[0].requests, 90u);
  EXPECT_EQ(hit[1].name, "acme");
  EXPECT_EQ(hit[1].contact, "api@acme.example");  // the newest key speaks for it
  EXPECT_EQ(hit[1].requests, 42u);
  EXPECT_EQ(hit[1].versions, (std::vector<std::string>{"v1", "v2"}));
  EXPECT_EQ(hit[1].last_seen, kT0 + std::chrono::minutes(5) + std::chrono::seconds(30));
  EXPECT_EQ(hit[2].name, "anonymous");
  EXPECT_EQ(hit[2].contact, "");
  EXPECT_TRUE(report.breaking[1].consumers.empty());  // nobody deletes orders
  EXPECT_EQ(report.affected_consumers(), (std::vector<std::string>{"acme", "anonymous", "globex"}));
  EXPECT_TRUE(report.used());
}

TEST(Impact, FoldedLiteralPathsMeetTemplatesOfTheSameShape) {
  DiffReport diff;
  diff.changes = {breaking("GET", "/orders/{id}/items", "response-type-changed")};
  const std::vector<access::UsageBucket> usage = {
      bucket("acme", "GET /orders/{id}/items", "v1", 3),
      bucket("acme", "POST /orders/{id}/items", "v1", 3)};
  const ImpactReport report = assess_impact(diff, "orders", kT0, usage, {});
  ASSERT_EQ(report.breaking[0].consumers.size(), 1u);
  EXPECT_EQ(report.breaking[0].consumers[0].requests, 3u);
}

TEST(Impact, TheGateFollowsThePolicy) {
  DiffReport diff;
  diff.changes = {breaking("GET", "/orders/{id}", "response-property-removed")};
  const std::vector<access::UsageBucket> used = {bucket("acme", "GET /orders/{id}", "v1", 3)};
  const ImpactReport hit = assess_impact(diff, "orders", kT0, used, {});
  const ImpactReport unused = assess_impact(diff, "orders", kT0, {}, {});
  const ImpactReport clean = assess_impact(DiffReport{}, "orders", kT0, used, {});

  using Kind = deploy::ContractVerdict;
  using deploy::ContractPolicy;
  EXPECT_EQ(gate_verdict(hit, ContractPolicy::block).verdict, Kind::blocked);
  EXPECT_EQ(gate_verdict(unused, ContractPolicy::block).verdict, Kind::blocked);
  EXPECT_EQ(gate_verdict(hit, ContractPolicy::block_if_used).verdict, Kind::blocked);
  EXPECT_EQ(gate_verdict(unused, ContractPolicy::block_if_used).verdict, Kind::warned);
  EXPECT_EQ(gate_verdict(hit, ContractPolicy::warn).verdict, Kind::warned);
  EXPECT_EQ(gate_verdict(clean, ContractPolicy::block).verdict, Kind::passed);

  const std::string summary = gate_verdict(hit, ContractPolicy::block_if_used).summary;
  EXPECT_NE(summary.find("GET /orders/{id} response-property-removed"), std::string::npos);
  EXPECT_NE(summary.find("1 consumer(s) affected: acme"), std::string::npos);
  EXPECT_NE(summary.find("new major version"), std::string::npos) << summary;
  EXPECT_EQ(gate_verdict(unused, ContractPolicy::block_if_used).summary.find("new major"),
            std::string::npos);
}

}  // namespace
}  // namespace glidepath::contract
