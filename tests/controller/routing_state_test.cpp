// How a service routes from the store's rows (controller/routing_state.h): the same
// function gives the leader's published routing and a fleet gateway's snapshot, so these
// cases pin what a gateway reading the database sees at each point of a deployment.
#include "controller/routing_state.h"

#include <gtest/gtest.h>

#include "config/loader.h"

namespace glidepath::controller {
namespace {

std::shared_ptr<const config::Config> config_with(const std::string& versions_yaml) {
  const std::string text =
      "services:\n"
      "  - name: orders\n"
      "    match: {path_prefix: /orders}\n"
      "    versions:\n" +
      versions_yaml + "    live: v1\n";
  auto loaded = config::load_config(text);
  EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors.front().message);
  return loaded.config;
}

const std::string kV1 = "      - {name: v1, upstreams: [127.0.0.1:9001]}\n";

deploy::Deployment running(int weight, deploy::DeploymentState state) {
  deploy::Deployment d;
  d.id = "dep_1";
  d.spec.service = "orders";
  d.spec.from_version = "v1";
  d.spec.to_version = "v2";
  d.spec.upstreams = {"127.0.0.1:9002"};
  d.spec.preview_token = "gpp_x";
  d.canary_weight = weight;
  d.state = state;
  return d;
}

TEST(RoutingState, ARunningDeploymentIsItsCanaryAtItsWeight) {
  const auto config = config_with(kV1);
  const auto routing =
      routing_for(*config, nullptr, running(30, deploy::DeploymentState::shifting));
  EXPECT_EQ(routing.live, "v1");
  EXPECT_EQ(routing.canary, "v2");
  EXPECT_EQ(routing.canary_weight, 30);
  EXPECT_EQ(routing.preview_token, "gpp_x");
}

TEST(RoutingState, TheDeploymentAloneNamesItsNewVersionsUpstreams) {
  // A gateway may read the deployment before the service record that lists v2.
  const auto config = config_with(kV1);
  const auto routing =
      routing_for(*config, nullptr, running(10, deploy::DeploymentState::shifting));
  ASSERT_EQ(routing.added_versions.size(), 1u);
  EXPECT_EQ(routing.added_versions[0].name, "v2");
  ASSERT_EQ(routing.added_versions[0].upstreams.size(), 1u);
  EXPECT_EQ(routing.added_versions[0].upstreams[0].port, 9002);
}

TEST(RoutingState, AVersionInThisProcesssConfigRoutesToItsOwnUpstreams) {
  // In a fleet each gateway's config may point a version at its own upstreams.
  const auto config = config_with(kV1 + "      - {name: v2, upstreams: [127.0.0.1:7777]}\n");
  deploy::ServiceState state;
  state.name = "orders";
  state.live_version = "v1";
  state.versions = {{"v2", {"127.0.0.1:9002"}, ""}};
  const auto routing = routing_for(*config, &state, running(10, deploy::DeploymentState::shifting));
  EXPECT_TRUE(routing.added_versions.empty());
  EXPECT_EQ(routing.canary, "v2");
}

TEST(RoutingState, FinishedDeploymentsLeaveOneLiveVersion) {
  const auto config = config_with(kV1);
  const auto done = routing_for(*config, nullptr, running(100, deploy::DeploymentState::succeeded));
  EXPECT_EQ(done.live, "v2");
  EXPECT_TRUE(done.canary.empty());
  for (auto state : {deploy::DeploymentState::rolled_back, deploy::DeploymentState::failed}) {
    const auto back = routing_for(*config, nullptr, running(0, state));
    EXPECT_EQ(back.live, "v1");
    EXPECT_TRUE(back.canary.empty());
  }
}

TEST(RoutingState, FromTheStoreActiveDeploymentsOverrideServiceState) {
  const auto config = config_with(kV1);
  deploy::ServiceState state;
  state.name = "orders";
  state.live_version = "v2";
  state.versions = {{"v2", {"127.0.0.1:9002"}, ""}};
  deploy::ServiceState gone;
  gone.name = "removed";
  gone.live_version = "v9";

  auto idle = routing_from_store(*config, {state, gone}, {});
  ASSERT_EQ(idle.size(), 1u) << "a service the config no longer has is left out";
  EXPECT_EQ(idle[0].first, "orders");
  EXPECT_EQ(idle[0].second.live, "v2");
  EXPECT_TRUE(idle[0].second.canary.empty());

  store::StoredDeployment active{running(50, deploy::DeploymentState::shifting), 3};
  active.deployment.spec.from_version = "v2";
  active.deployment.spec.to_version = "v3";
  active.deployment.spec.upstreams = {"127.0.0.1:9003"};
  auto moving = routing_from_store(*config, {state}, {active});
  ASSERT_EQ(moving.size(), 1u);
  EXPECT_EQ(moving[0].second.live, "v2");
  EXPECT_EQ(moving[0].second.canary, "v3");
  EXPECT_EQ(moving[0].second.canary_weight, 50);
  EXPECT_EQ(moving[0].second.added_versions.size(),
            2u);  // v2 from the state, v3 from the deployment
}

TEST(RoutingState, ALiveVersionNoOneKnowsIsIgnored) {
  const auto config = config_with(kV1);
  deploy::ServiceState state;
  state.name = "orders";
  state.live_version = "v7";
  const auto routing = routing_from_store(*config, {state}, {});
  ASSERT_EQ(routing.size(), 1u);
  EXPECT_EQ(routing[0].second.live, "") << "the config's live version stays in force";
}

}  // namespace
}  // namespace glidepath::controller
