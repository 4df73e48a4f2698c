// The event that reports WebSocket tunnels a drain closed (serve/setup.h): its words, and
// which deployment's log it joins.
#include <gtest/gtest.h>

#include "serve/setup.h"

namespace glidepath::serve {
namespace {

using deploy::DeploymentState;

deploy::Deployment deployment(const std::string& from, const std::string& to,
                              DeploymentState state) {
  deploy::Deployment d;
  d.id = "dep_1";
  d.spec.service = "orders";
  d.spec.from_version = from;
  d.spec.to_version = to;
  d.state = state;
  return d;
}

TEST(TunnelDrainEvent, ARollbackNamesItselfAndTheCount) {
  const core::TimePoint now = core::TimePoint(std::chrono::seconds(1'700'000'000));
  const deploy::Deployment rolled_back = deployment("v1", "v2", DeploymentState::rolled_back);
  const TunnelDrainEvent event = tunnel_drain_event({"orders", "v2", 3}, &rolled_back, now);
  EXPECT_EQ(event.deployment_id, "dep_1");
  EXPECT_EQ(event.event.type, "websocket");
  EXPECT_EQ(event.event.time, now);
  EXPECT_EQ(event.event.message, "closed 3 WebSocket tunnels to orders v2 after the rollback");

  const deploy::Deployment failed = deployment("v1", "v2", DeploymentState::failed);
  EXPECT_EQ(tunnel_drain_event({"orders", "v2", 1}, &failed, now).event.message,
            "closed 1 WebSocket tunnel to orders v2 after the rollback");
}

TEST(TunnelDrainEvent, AFinishedDeploymentRetiresTheOldVersion) {
  const deploy::Deployment succeeded = deployment("v1", "v2", DeploymentState::succeeded);
  const TunnelDrainEvent event = tunnel_drain_event({"orders", "v1", 2}, &succeeded, {});
  EXPECT_EQ(event.deployment_id, "dep_1");
  EXPECT_EQ(event.event.message, "closed 2 WebSocket tunnels to orders v1 after v2 became live");
}

TEST(TunnelDrainEvent, AnythingElseBelongsToTheServiceAlone) {
  const TunnelDrainEvent none = tunnel_drain_event({"orders", "v3", 1}, nullptr, {});
  EXPECT_EQ(none.deployment_id, "");
  EXPECT_EQ(none.event.message,
            "closed 1 WebSocket tunnel to orders v3, which no longer receives traffic");
  // The newest deployment is about other versions, or has not rolled back.
  const deploy::Deployment other = deployment("v1", "v2", DeploymentState::rolled_back);
  EXPECT_EQ(tunnel_drain_event({"orders", "v3", 1}, &other, {}).deployment_id, "");
  const deploy::Deployment running = deployment("v1", "v2", DeploymentState::shifting);
  EXPECT_EQ(tunnel_drain_event({"orders", "v2", 1}, &running, {}).deployment_id, "");
}

}  // namespace
}  // namespace glidepath::serve
