// The count of WebSocket tunnels drains closed (gateway/worker.h): what the workers add up
// and when the gateway hands a version's count out.
#include <gtest/gtest.h>

#include "gateway/worker.h"

namespace glidepath::gateway::detail {
namespace {

TEST(TunnelDrains, AVersionIsReportedOnceEveryDrainOfItEnded) {
  TunnelDrains drains;
  // Two workers each schedule a tunnel to orders v2, a third one to billing b2.
  drains.scheduled("orders", "v2");
  drains.scheduled("orders", "v2");
  drains.scheduled("billing", "b2");
  drains.ended("orders", "v2", /*by_drain=*/true);
  EXPECT_TRUE(drains.take().empty()) << "one orders tunnel is still draining";

  // The other closed by itself first: only the one the drain closed counts.
  drains.ended("orders", "v2", /*by_drain=*/false);
  const std::vector<DrainedTunnels> done = drains.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].service, "orders");
  EXPECT_EQ(done[0].version, "v2");
  EXPECT_EQ(done[0].closed, 1u);
  EXPECT_TRUE(drains.take().empty()) << "reported once";

  // Ending by itself (or getting traffic back) closes nothing: nothing to report.
  drains.ended("billing", "b2", /*by_drain=*/false);
  EXPECT_TRUE(drains.take().empty());
  // An end without a schedule (a drain the gateway never counted) changes nothing.
  drains.ended("orders", "v3", true);
  EXPECT_TRUE(drains.take().empty());
}

}  // namespace
}  // namespace glidepath::gateway::detail
