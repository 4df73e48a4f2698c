// What /healthz says about the database (fleet/store_health.h).
#include "fleet/store_health.h"

#include <gtest/gtest.h>

namespace glidepath::fleet {
namespace {

TEST(StoreHealth, AFailureIsRememberedUntilTheNextSuccess) {
  StoreHealth health;
  EXPECT_EQ(health.problem(), "");
  health.note(core::Result<int>(core::fail("connection refused")), "reading services");
  EXPECT_EQ(health.problem(), "reading services: connection refused");
  health.note(core::Result<int>(3), "reading services");
  EXPECT_EQ(health.problem(), "");
}

TEST(StoreHealth, AMessageThatNamesItsOperationIsNotPrefixedTwice) {
  StoreHealth health;
  health.note(core::Result<int>(core::fail("reading metric windows of seconds [1, 5): timeout")),
              "reading metric windows");
  EXPECT_EQ(health.problem(), "reading metric windows of seconds [1, 5): timeout");
}

TEST(StoreHealth, TheLatestFailureIsTheOneReported) {
  StoreHealth health(true);
  health.note(core::Result<void>(core::fail("first")), "reading services");
  health.note(core::Result<void>(core::fail("second")), "reading deployments");
  EXPECT_EQ(health.problem(), "reading deployments: second");
}

}  // namespace
}  // namespace glidepath::fleet
