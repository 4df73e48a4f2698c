// What serve says at start when the store's live version is not the config's
// (serve/startup_report.h).
#include "serve/startup_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/loader.h"

namespace glidepath::serve {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<const config::Config> config() {
  auto loaded = config::load_config(
      "services:\n"
      "  - name: orders\n"
      "    match: {path_prefix: /orders}\n"
      "    versions:\n"
      "      - {name: v1, upstreams: [127.0.0.1:9001]}\n"
      "    live: v1\n"
      "  - name: billing\n"
      "    match: {path_prefix: /billing}\n"
      "    versions:\n"
      "      - {name: b1, upstreams: [127.0.0.1:9101]}\n"
      "    live: b1\n");
  EXPECT_TRUE(loaded.ok());
  return loaded.config;
}

deploy::ServiceState state(const std::string& service, const std::string& live,
                           std::vector<deploy::DeployedVersion> versions = {}) {
  deploy::ServiceState s;
  s.name = service;
  s.live_version = live;
  s.versions = std::move(versions);
  return s;
}

deploy::Deployment deployment(const std::string& id, const std::string& to,
                              deploy::DeploymentState outcome, int64_t started) {
  deploy::Deployment d;
  d.id = id;
  d.spec.service = "orders";
  d.spec.from_version = "v1";
  d.spec.to_version = to;
  d.state = outcome;
  d.started_at = core::from_epoch_micros(started * 1'000'000);
  d.finished_at = core::from_epoch_micros((started + 60) * 1'000'000);
  return d;
}

TEST(StartupReport, SaysWhichDeploymentMadeTheStoredVersionLive) {
  const auto c = config();
  const deploy::ServiceState states[] = {state("orders", "v2", {{"v2", {"127.0.0.1:9002"}, ""}}),
                                         state("billing", "b1")};
  const deploy::Deployment history[] = {
      deployment("dep_old", "v2", deploy::DeploymentState::succeeded, 1'700'000'000),
      deployment("dep_new", "v2", deploy::DeploymentState::succeeded, 1'800'000'000),
      deployment("dep_bad", "v2", deploy::DeploymentState::rolled_back, 1'900'000'000)};
  const auto lines = describe_stored_live_versions(*c, states, history);
  ASSERT_EQ(lines.size(), 1u) << "billing serves the config's live version";
  EXPECT_THAT(lines[0], HasSubstr("orders: live version v2 comes from the store"));
  EXPECT_THAT(lines[0], HasSubstr("not the config's v1"));
  EXPECT_THAT(lines[0], HasSubstr("deployment dep_new made it live at 2027-01-15T08:01:00.000Z"));
}

TEST(StartupReport, SaysSoWhenNoDeploymentIsRecorded) {
  const auto c = config();
  const deploy::ServiceState states[] = {state("orders", "v2", {{"v2", {"127.0.0.1:9002"}, ""}})};
  const auto lines = describe_stored_live_versions(*c, states, {});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("no recorded deployment says when"));
}

TEST(StartupReport, NothingToSayWhenTheStoreAgreesOrKnowsNoSuchVersion) {
  const auto c = config();
  const deploy::ServiceState states[] = {state("orders", "v1"), state("billing", "b9"),
                                         state("removed", "x2")};
  EXPECT_TRUE(describe_stored_live_versions(*c, states, {}).empty());
}

}  // namespace
}  // namespace glidepath::serve
