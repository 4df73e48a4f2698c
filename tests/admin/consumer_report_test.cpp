// The consumer reports as pure functions of hand-made keys and usage buckets.
#include "admin/consumer_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace glidepath::admin {
namespace {

using nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::StartsWith;

const core::TimePoint kNow = core::TimePoint(hours(24 * 365 * 56));

access::ApiKeyRecord key(std::string id, std::string consumer, std::string contact,
                         core::TimePoint created, bool revoked = false) {
  access::ApiKeyRecord k;
  k.id = std::move(id);
  k.consumer = std::move(consumer);
  k.contact = std::move(contact);
  k.metadata = {{"from", k.id}};
  k.created_at = created;
  if (revoked) k.revoked_at = created + hours(1);
  return k;
}

access::UsageBucket bucket(std::string consumer, std::string service, std::string operation,
                           std::string version, std::string status_class, core::TimePoint minute,
                           uint64_t count) {
  access::UsageBucket b;
  b.consumer = std::move(consumer);
  b.service = std::move(service);
  b.operation = std::move(operation);
  b.version = std::move(version);
  b.status_class = std::move(status_class);
  b.minute = core::epoch_second(minute);
  b.count = count;
  b.first_seen = minute + seconds(5);
  b.last_seen = minute + seconds(50);
  return b;
}

TEST(UsageTotals, AddsCountsErrorsClassesAndTimes) {
  UsageTotals totals;
  EXPECT_EQ(totals.by_class,
            (std::map<std::string, uint64_t>{{"2xx", 0}, {"3xx", 0}, {"4xx", 0}, {"5xx", 0}}));
  totals.add(bucket("a", "s", "GET /", "v1", "2xx", kNow, 10));
  totals.add(bucket("a", "s", "GET /", "v1", "4xx", kNow - minutes(5), 2));
  totals.add(bucket("a", "s", "GET /", "v1", "5xx", kNow + minutes(5), 3));
  totals.add(bucket("a", "s", "GET /", "v1", "3xx", kNow, 1));
  totals.add(bucket("a", "s", "GET /", "v1", "1xx", kNow, 1));
  totals.add(bucket("a", "s", "GET /", "v1", "2xx", kNow + hours(1), 0));  // saw nothing
  EXPECT_EQ(totals.requests, 17u);
  EXPECT_EQ(totals.errors, 5u);
  EXPECT_EQ(totals.by_class, (std::map<std::string, uint64_t>{
                                 {"1xx", 1}, {"2xx", 10}, {"3xx", 1}, {"4xx", 2}, {"5xx", 3}}));
  EXPECT_EQ(totals.first_seen, kNow - minutes(5) + seconds(5));
  EXPECT_EQ(totals.last_seen, kNow + minutes(5) + seconds(50));
}

TEST(SummarizeConsumers, OneRowPerConsumerByNameWithDistinctLists) {
  const std::vector<access::ApiKeyRecord> keys = {
      key("k1", "zed", "zed@example.com", kNow - hours(5)),
  };
  const std::vector<access::UsageBucket> usage = {
      bucket("zed", "orders", "POST /orders", "v2", "2xx", kNow - minutes(3), 4),
      bucket("zed", "orders", "GET /orders", "v1", "2xx", kNow - minutes(2), 5),
      bucket("anonymous", "orders", "GET /orders", "v1", "2xx", kNow - minutes(2), 1),
      bucket("zed", "users", "GET /orders", "v1", "5xx", kNow - minutes(1), 1),
      bucket("amy", "users", "GET /users", "u1", "4xx", kNow - minutes(1), 2),
  };
  const auto rows = summarize_consumers(keys, usage, true);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].name, "amy");
  EXPECT_EQ(rows[0].contact, "");  // usage under a name whose keys are gone
  EXPECT_EQ(rows[0].active_keys, 0u);
  EXPECT_EQ(rows[0].totals.errors, 2u);
  EXPECT_EQ(rows[1].name, "anonymous");
  EXPECT_EQ(rows[2].name, "zed");
  EXPECT_EQ(rows[2].contact, "zed@example.com");
  EXPECT_EQ(rows[2].active_keys, 1u);
  EXPECT_THAT(rows[2].services, ElementsAre("orders", "users"));
  EXPECT_THAT(rows[2].operations, ElementsAre("GET /orders", "POST /orders"));
  EXPECT_THAT(rows[2].versions, ElementsAre("v1", "v2"));
  EXPECT_EQ(rows[2].totals.requests, 10u);
  EXPECT_EQ(rows[2].totals.first_seen, kNow - minutes(3) + seconds(5));
  EXPECT_EQ(rows[2].totals.last_seen, kNow - minutes(1) + seconds(50));
}

TEST(SummarizeConsumers, IdleKeyHoldersOnlyWhenAsked) {
  const std::vector<access::ApiKeyRecord> keys = {
      key("k1", "idle", "idle@example.com", kNow - hours(5)),
      key("k2", "busy", "busy@example.com", kNow - hours(5)),
  };
  const std::vector<access::UsageBucket> usage = {
      bucket("busy", "orders", "GET /orders", "v1", "2xx", kNow - minutes(3), 4),
  };
  auto rows = summarize_consumers(keys, usage, true);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].name, "idle");
  EXPECT_EQ(rows[1].active_keys, 1u);
  EXPECT_EQ(rows[1].totals.requests, 0u);
  EXPECT_FALSE(rows[1].totals.first_seen.has_value());
  EXPECT_TRUE(rows[1].operations.empty());
  rows = summarize_consumers(keys, usage, false);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].name, "busy");
  EXPECT_TRUE(summarize_consumers({}, {}, true).empty());
}

TEST(SummarizeConsumers, ContactComesFromTheNewestActiveKey) {
  const std::vector<access::ApiKeyRecord> keys = {
      key("k1", "web", "first@example.com", kNow - hours(9)),
      key("k2", "web", "second@example.com", kNow - hours(8)),
      key("k3", "web", "revoked@example.com", kNow - hours(7), true),
      key("k4", "gone", "old@example.com", kNow - hours(9), true),
      key("k5", "gone", "newer@example.com", kNow - hours(8), true),
  };
  const auto rows = summarize_consumers(keys, {}, true);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].name, "gone");
  EXPECT_EQ(rows[0].contact, "newer@example.com");  // all revoked: the newest of them
  EXPECT_EQ(rows[0].active_keys, 0u);
  EXPECT_EQ(rows[1].name, "web");
  EXPECT_EQ(rows[1].contact, "second@example.com");
  EXPECT_EQ(rows[1].metadata.at("from"), "k2");
  EXPECT_EQ(rows[1].active_keys, 2u);
}

TEST(ConsumerUsage, GroupsByOperationAndKeepsTheConsumersMinutes) {
  const std::vector<access::ApiKeyRecord> keys = {
      key("k1", "web", "web@example.com", kNow - hours(9)),
  };
  const std::vector<access::UsageBucket> usage = {
      bucket("web", "orders", "GET /orders", "v2", "2xx", kNow - minutes(1), 3),
      bucket("web", "orders", "GET /orders", "v1", "2xx", kNow - minutes(2), 4),
      bucket("other", "orders", "GET /orders", "v1", "2xx", kNow - minutes(2), 100),
      bucket("web", "orders", "GET /orders", "v1", "5xx", kNow - minutes(1), 1),
      bucket("web", "billing", "POST /invoices", "b1", "2xx", kNow - minutes(3), 2),
  };
  auto report = consumer_usage("web", keys, usage, 100);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->contact, "web@example.com");
  EXPECT_EQ(report->active_keys, 1u);
  ASSERT_EQ(report->operations.size(), 3u);
  EXPECT_EQ(report->operations[0].service, "billing");
  EXPECT_EQ(report->operations[1].version, "v1");
  EXPECT_EQ(report->operations[1].totals.requests, 5u);
  EXPECT_EQ(report->operations[1].totals.errors, 1u);
  EXPECT_EQ(report->operations[2].version, "v2");
  ASSERT_EQ(report->minutes.size(), 4u);  // the other consumer's bucket is not here
  EXPECT_EQ(report->minutes[0].service, "billing");
  EXPECT_EQ(report->minutes[1].minute, core::epoch_second(kNow - minutes(2)));
  EXPECT_EQ(report->minutes[2].version, "v1");
  EXPECT_EQ(report->minutes[2].status_class, "5xx");
  EXPECT_EQ(report->minutes[3].version, "v2");
  EXPECT_FALSE(report->minutes_truncated);

  report = consumer_usage("web", keys, usage, 2);
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->minutes.size(), 2u);  // the newest
  EXPECT_EQ(report->minutes[0].minute, core::epoch_second(kNow - minutes(1)));
  EXPECT_TRUE(report->minutes_truncated);
  EXPECT_EQ(report->operations.size(), 3u);  // totals still count every minute
}

TEST(ConsumerUsage, UnknownOnlyWithoutKeysAndUsage) {
  const std::vector<access::ApiKeyRecord> keys = {
      key("k1", "web", "web@example.com", kNow - hours(9)),
  };
  const std::vector<access::UsageBucket> usage = {
      bucket("anonymous", "orders", "GET /orders", "v1", "2xx", kNow - minutes(1), 3),
  };
  EXPECT_FALSE(consumer_usage("nobody", keys, usage, 100).has_value());
  auto web = consumer_usage("web", keys, usage, 100);
  ASSERT_TRUE(web.has_value());
  EXPECT_TRUE(web->operations.empty());
  EXPECT_TRUE(web->minutes.empty());
  auto anonymous = consumer_usage("anonymous", keys, usage, 100);
  ASSERT_TRUE(anonymous.has_value());
  EXPECT_EQ(anonymous->contact, "");
  EXPECT_EQ(anonymous->operations.size(), 1u);
}

TEST(ConsumerReportJson, ShapesOfBothAnswers) {
  const std::vector<access::ApiKeyRecord> keys = {
      key("k1", "web", "web@example.com", kNow - hours(9)),
  };
  const std::vector<access::UsageBucket> usage = {
      bucket("anonymous", "orders", "GET /orders", "v1", "4xx", kNow - minutes(1), 3),
  };
  const json list =
      consumers_json(summarize_consumers(keys, usage, true), kNow - hours(24), std::nullopt);
  EXPECT_EQ(list["since"], core::format_rfc3339(kNow - hours(24)));
  EXPECT_FALSE(list.contains("service"));
  ASSERT_EQ(list["consumers"].size(), 2u);
  const json& anonymous = list["consumers"][0];
  EXPECT_EQ(anonymous["contact"], nullptr);
  EXPECT_EQ(anonymous["requests"], 3);
  EXPECT_EQ(anonymous["errors"], 3);
  EXPECT_EQ(anonymous["by_class"]["4xx"], 3);
  EXPECT_EQ(anonymous["first_seen"], core::format_rfc3339(kNow - minutes(1) + seconds(5)));
  const json& web = list["consumers"][1];
  EXPECT_EQ(web["contact"], "web@example.com");
  EXPECT_EQ(web["keys"], 1);
  EXPECT_EQ(web["metadata"], (json{{"from", "k1"}}));
  EXPECT_EQ(web["first_seen"], nullptr);
  EXPECT_EQ(web["last_seen"], nullptr);

  const auto report = consumer_usage("anonymous", keys, usage, 100);
  ASSERT_TRUE(report.has_value());
  const json detail = consumer_usage_json(*report, kNow - hours(24), "orders");
  EXPECT_EQ(detail["consumer"], "anonymous");
  EXPECT_EQ(detail["service"], "orders");
  EXPECT_EQ(detail["contact"], nullptr);
  ASSERT_EQ(detail["minutes"].size(), 1u);
  EXPECT_EQ(detail["minutes"][0], (json{{"minute", core::format_rfc3339(kNow - minutes(1))},
                                        {"service", "orders"},
                                        {"operation", "GET /orders"},
                                        {"version", "v1"},
                                        {"status_class", "4xx"},
                                        {"count", 3}}));
  EXPECT_EQ(detail["operations"][0]["requests"], 3);
  EXPECT_EQ(detail["minutes_truncated"], false);
}

}  // namespace
}  // namespace glidepath::admin
