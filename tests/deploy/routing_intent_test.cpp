// What a service should route at each point of a deployment (deploy/routing_intent.h):
// the same functions give the leader's published routing and a fleet gateway's, from the
// same rows, so these cases pin what every gateway routes by.
#include "deploy/routing_intent.h"

#include <gtest/gtest.h>

namespace glidepath::deploy {
namespace {

Deployment deployment(int weight, DeploymentState state) {
  Deployment d;
  d.id = "dep_1";
  d.spec.service = "orders";
  d.spec.from_version = "v1";
  d.spec.to_version = "v2";
  d.spec.upstreams = {"127.0.0.1:9002"};
  d.spec.api_spec = "/specs/v2.yaml";
  d.spec.preview_token = "gpp_x";
  d.canary_weight = weight;
  d.state = state;
  return d;
}

TEST(RoutingIntent, ARunningDeploymentIsItsCanaryAtItsWeight) {
  const RoutingIntent intent =
      deployment_intent(nullptr, deployment(30, DeploymentState::shifting));
  EXPECT_EQ(intent.live, "v1");
  EXPECT_EQ(intent.canary, "v2");
  EXPECT_EQ(intent.canary_weight, 30);
  EXPECT_EQ(intent.preview_token, "gpp_x");
}

TEST(RoutingIntent, TheNewVersionIsRoutableAtZeroFromTheMomentTheDeploymentExists) {
  // Blue/green testing through the preview header needs the version before any public
  // traffic: while pending, checking its contract and running its pre-traffic hook.
  for (const DeploymentState state : {DeploymentState::pending, DeploymentState::checking_contract,
                                      DeploymentState::pre_traffic}) {
    const RoutingIntent intent = deployment_intent(nullptr, deployment(0, state));
    EXPECT_EQ(intent.canary, "v2") << to_string(state);
    EXPECT_EQ(intent.canary_weight, 0) << to_string(state);
    ASSERT_EQ(intent.versions.size(), 1u) << to_string(state);
    EXPECT_EQ(intent.versions[0].name, "v2");
  }
}

TEST(RoutingIntent, TheDeploymentAloneNamesItsNewVersionsUpstreams) {
  // A gateway may read the deployment before the service record that lists v2.
  const RoutingIntent intent =
      deployment_intent(nullptr, deployment(10, DeploymentState::shifting));
  ASSERT_EQ(intent.versions.size(), 1u);
  EXPECT_EQ(intent.versions[0], (DeployedVersion{"v2", {"127.0.0.1:9002"}, "/specs/v2.yaml"}));
}

TEST(RoutingIntent, AVersionTheServiceRecordListsIsNotAddedTwice) {
  ServiceState state;
  state.name = "orders";
  state.live_version = "v1";
  state.versions = {{"v2", {"127.0.0.1:9002"}, ""}};
  const RoutingIntent intent = deployment_intent(&state, deployment(10, DeploymentState::shifting));
  ASSERT_EQ(intent.versions.size(), 1u);
  EXPECT_EQ(intent.versions[0].name, "v2");
}

TEST(RoutingIntent, FinishedDeploymentsLeaveOneLiveVersion) {
  const RoutingIntent done =
      deployment_intent(nullptr, deployment(100, DeploymentState::succeeded));
  EXPECT_EQ(done.live, "v2");
  EXPECT_TRUE(done.canary.empty());
  EXPECT_TRUE(done.preview_token.empty());
  for (const DeploymentState state : {DeploymentState::rolled_back, DeploymentState::failed}) {
    const RoutingIntent back = deployment_intent(nullptr, deployment(0, state));
    EXPECT_EQ(back.live, "v1");
    EXPECT_TRUE(back.canary.empty());
    EXPECT_TRUE(back.preview_token.empty());
  }
}

TEST(RoutingIntent, FromTheStoreActiveDeploymentsOverrideServiceState) {
  ServiceState state;
  state.name = "orders";
  state.live_version = "v2";
  state.versions = {{"v2", {"127.0.0.1:9002"}, ""}};
  ServiceState other;
  other.name = "billing";
  other.live_version = "b1";

  const ServiceState states[] = {state, other};
  const auto idle = intents_from(states, {});
  ASSERT_EQ(idle.size(), 2u);
  EXPECT_EQ(idle.at("orders"), settled_intent(state));
  EXPECT_EQ(idle.at("orders").live, "v2");
  EXPECT_TRUE(idle.at("orders").canary.empty());
  EXPECT_EQ(idle.at("billing").live, "b1");

  Deployment moving = deployment(50, DeploymentState::shifting);
  moving.spec.from_version = "v2";
  moving.spec.to_version = "v3";
  moving.spec.upstreams = {"127.0.0.1:9003"};
  const Deployment active[] = {moving};
  const auto running = intents_from(states, active);
  ASSERT_EQ(running.size(), 2u);
  const RoutingIntent& orders = running.at("orders");
  EXPECT_EQ(orders.live, "v2");
  EXPECT_EQ(orders.canary, "v3");
  EXPECT_EQ(orders.canary_weight, 50);
  ASSERT_EQ(orders.versions.size(), 2u);  // v2 from the record, v3 from the deployment
  EXPECT_EQ(orders.versions[1].name, "v3");
  EXPECT_EQ(running.at("billing").live, "b1");
}

TEST(RoutingIntent, ADeploymentWithoutAServiceRecordStillHasAnIntent) {
  const Deployment active[] = {deployment(20, DeploymentState::shifting)};
  const auto intents = intents_from({}, active);
  ASSERT_EQ(intents.size(), 1u);
  EXPECT_EQ(intents.at("orders").canary_weight, 20);
}

}  // namespace
}  // namespace glidepath::deploy
