// The rules a key record's consumer name and contact follow (access/consumer_rules.h),
// shared by the admin API and the CLI.
#include "access/consumer_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace glidepath::access {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::StartsWith;

const core::TimePoint kNow = core::from_epoch_micros(1'795'683'600'000'000);

TEST(ReportWindow, ADurationBackFromNowToTheStartOfItsMinute) {
  EXPECT_EQ(*report_window_start("", kNow), kNow - hours(24 * 7));
  EXPECT_EQ(*report_window_start("36h", kNow), kNow - hours(36));
  EXPECT_EQ(*report_window_start("90s", kNow), kNow - minutes(2));
  EXPECT_EQ(*report_window_start("1m", kNow + seconds(59)), kNow - minutes(1));
  EXPECT_TRUE(report_window_start("400d", kNow).ok());
}

TEST(ReportWindow, MistakesNameSince) {
  for (const char* since : {"0", "0s", "401d", "a week", "-1h", "7"}) {
    auto start = report_window_start(since, kNow);
    ASSERT_FALSE(start.ok()) << since;
    EXPECT_THAT(start.error().message, StartsWith("since: ")) << since;
  }
}

TEST(ConsumerRules, ContactsAreEmailAddressesOrWebUrls) {
  for (const char* good :
       {"team@example.com", "first.last+tag@mail.example.co.uk", "o'brien@example.ie",
        "https://example.com", "https://example.com/team?x=1#y", "http://localhost:8080/oncall",
        "HTTPS://Example.COM/", "https://[::1]:8443/", "https://user@example.com/",
        "http://10.0.0.1/"}) {
    EXPECT_TRUE(check_contact(good).ok()) << good;
  }
  for (const char* bad : {"",
                          "team",
                          "team@",
                          "@example.com",
                          "team@example",
                          "team@@example.com",
                          "team@exa_mple.com",
                          "team@-example.com",
                          "team@example.c0m",
                          ".team@example.com",
                          "te..am@example.com",
                          "mailto:team@example.com",
                          "https://",
                          "https:///path",
                          "https://:80/",
                          "https://example.com:",
                          "https://example.com:http/",
                          "https://exa mple.com",
                          "javascript:alert(1)",
                          "ftp://example.com",
                          "https://[::1/"}) {
    EXPECT_FALSE(check_contact(bad).ok()) << bad;
  }
}

TEST(ConsumerRules, ConsumerNamesFollowTheNameRules) {
  EXPECT_TRUE(check_consumer_name("billing-team.v2_eu").ok());
  EXPECT_TRUE(check_consumer_name("anonymous2").ok());
  EXPECT_FALSE(check_consumer_name("ANONYMOUS").ok());
  EXPECT_FALSE(check_consumer_name("-leading").ok());
  EXPECT_FALSE(check_consumer_name(std::string(65, 'a')).ok());
}

TEST(ConsumerRules, MetadataEntriesAreBoundedAndPrintable) {
  EXPECT_TRUE(check_metadata_entry("team", "billing").ok());
  EXPECT_FALSE(check_metadata_entry("", "x").ok());
  EXPECT_FALSE(check_metadata_entry(std::string(kMaxMetadataKeyLength + 1, 'k'), "x").ok());
  EXPECT_FALSE(check_metadata_entry("team", std::string(kMaxMetadataValueLength + 1, 'v')).ok());
  const auto control = check_metadata_entry("team", "bill\ning");
  ASSERT_FALSE(control.ok());
  EXPECT_EQ(control.error().message, "metadata.team: must not contain control characters");
}

}  // namespace
}  // namespace glidepath::access
