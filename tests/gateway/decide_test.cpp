// The request decision as a table (gateway/decide.h): every way a request is refused, and
// every reason a version is chosen, without a socket. Time is simulated: the rate limiter
// reads ConnectionFacts::now_us and the quota an injected ManualClock.
#include "gateway/decide.h"

#include <gtest/gtest.h>

#include "access/key_material.h"
#include "config/loader.h"
#include "metrics/series_registry.h"

namespace glidepath::gateway {
namespace {

constexpr int64_t kNowSeconds = 1'795'683'600;  // 2026-11-26T09:00:00Z
const core::TimePoint kNow = core::from_epoch_micros(kNowSeconds * 1'000'000);
constexpr std::string_view kPartnerKey = "gp_partnerpartnerpartnerpartnerpartnerpartnerpartnerpa";
constexpr std::string_view kPreviewKey = "gp_previewpreviewpreviewpreviewpreviewpreviewpreviewpr";
constexpr std::string_view kRevokedKey = "gp_revokedrevokedrevokedrevokedrevokedrevokedrevokedre";
constexpr std::string_view kLimitedKey = "gp_limitedlimitedlimitedlimitedlimitedlimitedlimitedli";
constexpr std::string_view kQuotaKey = "gp_quotaquotaquotaquotaquotaquotaquotaquotaquotaquotaqu";
constexpr std::string_view kUnknownKey = "gp_unknownunknownunknownunknownunknownunknownunknownun";

access::ApiKeyRecord key(std::string id, std::string consumer, std::string_view secret) {
  access::ApiKeyRecord record;
  record.id = std::move(id);
  record.consumer = std::move(consumer);
  record.key_hash = access::key_hash_hex(secret);
  record.key_prefix = access::display_prefix(secret);
  record.created_at = kNow;
  return record;
}

struct Request {
  std::string target = "/orders/1";
  std::string host = "api.example.com";
  std::vector<std::pair<std::string, std::string>> headers;
  uint64_t random_bits = 0;
};

struct Expected {
  int status = 0;
  Refusal refusal = Refusal::none;
  std::string service;  // "" = no route
  std::string version;  // "" = none chosen
  ChoiceKind reason = ChoiceKind::weighted;
  std::string forward_target;
};

struct Case {
  std::string name;
  Request request;
  Expected expected;
};

class DecideTest : public testing::Test {
 protected:
  void SetUp() override {
    auto loaded = config::load_config(
        "services:\n"
        "  - name: orders\n"
        "    match: {path_prefix: /orders}\n"
        "    api_keys: required\n"
        "    stickiness: header:X-User\n"
        "    versions:\n"
        "      - {name: v1, upstreams: [127.0.0.1:9001]}\n"
        "      - {name: v2, upstreams: [127.0.0.1:9002]}\n"
        "    live: v1\n"
        "  - name: billing\n"
        "    match: {path_prefix: /billing, strip_prefix: true}\n"
        "    api_keys: off\n"
        "    preview: anyone\n"
        "    versions:\n"
        "      - {name: b1, upstreams: [127.0.0.1:9101]}\n"
        "    live: b1\n"
        "  - name: admin-site\n"
        "    match: {hosts: [admin.example.com], path_prefix: /}\n"
        "    api_keys: off\n"
        "    versions:\n"
        "      - {name: a1, upstreams: [127.0.0.1:9201]}\n"
        "    live: a1\n");
    ASSERT_TRUE(loaded.ok()) << loaded.errors.front().message;
    config_ = loaded.config;

    auto preview = key("key_preview", "qa-team", kPreviewKey);
    preview.preview = true;
    auto revoked = key("key_revoked", "old-co", kRevokedKey);
    revoked.revoked_at = kNow;
    auto limited = key("key_limited", "burst-co", kLimitedKey);
    limited.rate = "1/s";
    auto quota = key("key_quota", "daily-co", kQuotaKey);
    quota.quota = "1/day";
    auto table = keys_.build(
        {key("key_partner", "acme", kPartnerKey), preview, revoked, limited, quota},
        [](std::string_view, int64_t) -> core::Result<uint64_t> { return uint64_t{0}; }, kNow);
    ASSERT_TRUE(table.ok()) << table.error().message;

    ServiceRuntime orders;
    orders.canary = "v2";
    orders.canary_weight = 30;
    orders.preview_token = "gpp_token";
    SnapshotInputs inputs;
    inputs.keys = *table;
    auto built = build_snapshot(*config_, {{"orders", orders}}, registry_, 1, inputs);
    ASSERT_TRUE(built.ok()) << built.error().message;
    snapshot_ = *built;
  }

  Decision run(const Request& r) {
    owned_ = r;
    head_ = http::RequestHead{};
    head_.method = "GET";
    head_.target = owned_.target;
    head_.host = owned_.host;
    for (const auto& [name, value] : owned_.headers)
      head_.headers.push_back({name, value});
    ConnectionFacts facts;
    facts.random_bits = r.random_bits;
    facts.now_us = now_us_;
    facts.wall_clock = &clock_;
    return decide(*snapshot_, head_, facts, scratch_);
  }

  void check(const Case& c) {
    const Decision d = run(c.request);
    SCOPED_TRACE(c.name);
    EXPECT_EQ(d.status, c.expected.status) << d.error;
    EXPECT_EQ(d.refusal, c.expected.refusal) << to_string(d.refusal);
    EXPECT_EQ(d.route != nullptr ? d.route->name : "", c.expected.service);
    EXPECT_EQ(d.version != nullptr ? d.version->name : "", c.expected.version);
    if (d.status == 0) {
      EXPECT_EQ(d.reason, c.expected.reason);
      EXPECT_EQ(d.forward_target, c.expected.forward_target);
      EXPECT_TRUE(d.error.empty());
    } else {
      EXPECT_FALSE(d.error.empty());
    }
  }

  std::shared_ptr<const config::Config> config_;
  access::KeyRegistry keys_;
  metrics::SeriesRegistry registry_;
  std::shared_ptr<const Snapshot> snapshot_;
  core::ManualClock clock_{kNow};
  int64_t now_us_ = 1'000'000'000;
  Request owned_;
  http::RequestHead head_;
  DecisionScratch scratch_;
};

using H = std::vector<std::pair<std::string, std::string>>;

TEST_F(DecideTest, EachRefusalHasItsStatusAndReason) {
  const std::vector<Case> cases = {
      {"a target that climbs above the root",
       {"/orders/../../etc", "api.example.com", {}, 0},
       {400, Refusal::bad_target, "", "", ChoiceKind::weighted, ""}},
      {"no service for the path",
       {"/nothing", "api.example.com", {}, 0},
       {404, Refusal::no_route, "", "", ChoiceKind::weighted, ""}},
      {"no key where one is required",
       {"/orders/1", "api.example.com", {}, 0},
       {401, Refusal::missing_key, "orders", "", ChoiceKind::weighted, ""}},
      {"a key nobody issued",
       {"/orders/1", "api.example.com", H{{"X-Api-Key", std::string(kUnknownKey)}}, 0},
       {403, Refusal::invalid_key, "orders", "", ChoiceKind::weighted, ""}},
      {"a revoked key",
       {"/orders/1", "api.example.com", H{{"X-Api-Key", std::string(kRevokedKey)}}, 0},
       {403, Refusal::invalid_key, "orders", "", ChoiceKind::weighted, ""}},
      {"a pin without a preview key",
       {"/orders/1", "api.example.com",
        H{{"X-Api-Key", std::string(kPartnerKey)}, {"X-Glidepath-Version", "v2"}}, 0},
       {403, Refusal::pin_not_allowed, "orders", "", ChoiceKind::weighted, ""}},
      {"a preview key pinning a version that does not exist",
       {"/orders/1", "api.example.com",
        H{{"X-Api-Key", std::string(kPreviewKey)}, {"X-Glidepath-Version", "v9"}}, 0},
       {400, Refusal::unknown_version, "orders", "", ChoiceKind::weighted, ""}},
  };
  for (const Case& c : cases)
    check(c);
}

TEST_F(DecideTest, EachWayAVersionIsChosen) {
  const std::string partner(kPartnerKey);
  const std::vector<Case> cases = {
      {"the canary's 30% come first in the buckets",
       {"/orders/1?x=1", "api.example.com", H{{"X-Api-Key", partner}}, 2999},
       {0, Refusal::none, "orders", "v2", ChoiceKind::weighted, "/orders/1?x=1"}},
      {"the rest goes to the live version",
       {"/orders/1", "api.example.com", H{{"X-Api-Key", partner}}, 3000},
       {0, Refusal::none, "orders", "v1", ChoiceKind::weighted, "/orders/1"}},
      {"a preview key pins",
       {"/orders/1", "api.example.com",
        H{{"X-Api-Key", std::string(kPreviewKey)}, {"X-Glidepath-Version", "v2"}}, 9999},
       {0, Refusal::none, "orders", "v2", ChoiceKind::pinned, "/orders/1"}},
      {"the deployment's preview token pins",
       {"/orders/1", "api.example.com",
        H{{"X-Api-Key", partner},
          {"X-Glidepath-Version", "v2"},
          {"X-Glidepath-Preview-Token", "gpp_token"}},
        9999},
       {0, Refusal::none, "orders", "v2", ChoiceKind::pinned, "/orders/1"}},
      {"stickiness by header",
       {"/orders/1", "api.example.com", H{{"X-Api-Key", partner}, {"X-User", "user-42"}}, 0},
       {0, Refusal::none, "orders", sticky_bucket("orders", "user-42") < 3000 ? "v2" : "v1",
        ChoiceKind::sticky, "/orders/1"}},
      {"a prefix the route strips",
       {"/billing/invoices/7?full=1", "api.example.com", {}, 0},
       {0, Refusal::none, "billing", "b1", ChoiceKind::weighted, "/invoices/7?full=1"}},
      {"anyone may pin where preview is open",
       {"/billing/x", "api.example.com", H{{"X-Glidepath-Version", "b1"}}, 0},
       {0, Refusal::none, "billing", "b1", ChoiceKind::pinned, "/x"}},
      {"an absolute-form target routes by its own authority",
       {"http://admin.example.com/settings", "api.example.com", {}, 0},
       {0, Refusal::none, "admin-site", "a1", ChoiceKind::weighted, "/settings"}},
      {"dot segments are removed before matching",
       {"/billing/a/../b", "api.example.com", {}, 0},
       {0, Refusal::none, "billing", "b1", ChoiceKind::weighted, "/b"}},
  };
  for (const Case& c : cases)
    check(c);
}

TEST_F(DecideTest, ARateLimitedCallerGets429WithTheVersionForUsage) {
  const Request r{"/orders/1", "api.example.com", H{{"X-Api-Key", std::string(kLimitedKey)}}, 5000};
  EXPECT_EQ(run(r).status, 0);
  const Decision refused = run(r);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.refusal, Refusal::rate_limited);
  EXPECT_GE(refused.retry_after_seconds, 1);
  ASSERT_NE(refused.version, nullptr) << "a 429 is usage of the chosen version";
  EXPECT_EQ(refused.version->name, "v1");
  now_us_ += 1'000'000;  // a second later the bucket has a token again
  EXPECT_EQ(run(r).status, 0);
}

TEST_F(DecideTest, AQuotaRunsOutForTheDayAndComesBackTheNext) {
  const Request r{"/orders/1", "api.example.com", H{{"X-Api-Key", std::string(kQuotaKey)}}, 5000};
  EXPECT_EQ(run(r).status, 0);
  const Decision refused = run(r);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.refusal, Refusal::quota_exceeded);
  EXPECT_EQ(refused.retry_after_seconds, 15 * 3600) << "until the next UTC midnight";
  clock_.advance(std::chrono::hours(15));
  EXPECT_EQ(run(r).status, 0);
}

TEST_F(DecideTest, ADecisionAllocatesNothingOnceTheScratchIsWarm) {
  // The scratch strings keep their capacity: the same request twice reuses them.
  const Request r{"/billing/invoices/7", "api.example.com", {}, 0};
  run(r);
  const char* target = scratch_.target.data();
  const char* forward = scratch_.forward_target.data();
  run(r);
  EXPECT_EQ(scratch_.target.data(), target);
  EXPECT_EQ(scratch_.forward_target.data(), forward);
}

}  // namespace
}  // namespace glidepath::gateway
