// Session-ticket keys in simulated time: a ticket is issued under the newest key, accepted
// under it and the one before (that one flagged for renewal) for two rotation periods from
// when it began issuing, and a long quiet spell retires both.
#include "tls/ticket_keys.h"

#include <gtest/gtest.h>

#include <chrono>

namespace glidepath::tls {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::minutes;

const core::TimePoint kStart = core::TimePoint(hours(24 * 365 * 56));
constexpr core::Duration kRotation = hours(1);

bool same_key(const TicketKey& a, const TicketKey& b) {
  return a.name == b.name && a.aes_key == b.aes_key && a.hmac_key == b.hmac_key;
}

TEST(TicketKeys, TheFirstTicketMakesAKeyThatIssuesForOnePeriod) {
  TicketKeys keys(kRotation);
  EXPECT_EQ(keys.rotations(), 0u);
  const TicketKey first = keys.issuing(kStart);
  EXPECT_EQ(keys.rotations(), 1u);
  EXPECT_TRUE(same_key(keys.issuing(kStart + minutes(30)), first));
  EXPECT_TRUE(same_key(keys.issuing(kStart + kRotation - microseconds(1)), first));
  EXPECT_EQ(keys.rotations(), 1u);

  const auto found = keys.find(first.name.data(), kStart + minutes(59));
  ASSERT_TRUE(found.has_value());
  EXPECT_TRUE(same_key(found->key, first));
  EXPECT_FALSE(found->renew);
}

TEST(TicketKeys, KeysAreRandomAndTheirPartsDiffer) {
  TicketKeys a(kRotation);
  TicketKeys b(kRotation);
  const TicketKey ka = a.issuing(kStart);
  const TicketKey kb = b.issuing(kStart);
  EXPECT_NE(ka.name, kb.name);
  EXPECT_NE(ka.aes_key, kb.aes_key);
  EXPECT_NE(ka.hmac_key, kb.hmac_key);
  EXPECT_NE(std::vector<unsigned char>(ka.aes_key.begin(), ka.aes_key.end()),
            std::vector<unsigned char>(ka.hmac_key.begin(), ka.hmac_key.end()));
  // Another listener's key is unknown here.
  EXPECT_FALSE(a.find(kb.name.data(), kStart).has_value());
}

TEST(TicketKeys, AfterOnePeriodANewKeyIssuesAndThePreviousIsAcceptedAndRenewed) {
  TicketKeys keys(kRotation);
  const TicketKey first = keys.issuing(kStart);
  const TicketKey second = keys.issuing(kStart + kRotation);
  EXPECT_NE(second.name, first.name);
  EXPECT_EQ(keys.rotations(), 2u);

  const auto old = keys.find(first.name.data(), kStart + kRotation);
  ASSERT_TRUE(old.has_value());
  EXPECT_TRUE(same_key(old->key, first));
  EXPECT_TRUE(old->renew) << "a ticket under the previous key gets a new one";

  const auto current = keys.find(second.name.data(), kStart + kRotation);
  ASSERT_TRUE(current.has_value());
  EXPECT_TRUE(same_key(current->key, second));
  EXPECT_FALSE(current->renew);
}

TEST(TicketKeys, LookingUpATicketRotatesToo) {
  // No ticket issued for a period: the first lookup after it rotates, as issuing would.
  TicketKeys keys(kRotation);
  const TicketKey first = keys.issuing(kStart);
  const auto found = keys.find(first.name.data(), kStart + kRotation + minutes(1));
  ASSERT_TRUE(found.has_value());
  EXPECT_TRUE(found->renew);
  EXPECT_EQ(keys.rotations(), 2u);
  EXPECT_NE(keys.issuing(kStart + kRotation + minutes(1)).name, first.name);
}

TEST(TicketKeys, AKeyIsGoneTwoPeriodsAfterItBeganIssuing) {
  TicketKeys keys(kRotation);
  const TicketKey first = keys.issuing(kStart);
  keys.issuing(kStart + kRotation);  // rotates: first becomes the previous key
  const auto late = keys.find(first.name.data(), kStart + 2 * kRotation - microseconds(1));
  ASSERT_TRUE(late.has_value());
  EXPECT_TRUE(late->renew);
  EXPECT_FALSE(keys.find(first.name.data(), kStart + 2 * kRotation).has_value());
  EXPECT_FALSE(keys.find(first.name.data(), kStart + 5 * kRotation).has_value());
}

TEST(TicketKeys, ALateRotationDoesNotStretchThePreviousKeysLife) {
  // The first rotation comes half a period late: the old key is still accepted for two
  // periods from when it began issuing, not from the rotation.
  TicketKeys keys(kRotation);
  const TicketKey first = keys.issuing(kStart);
  const TicketKey second = keys.issuing(kStart + kRotation + kRotation / 2);
  EXPECT_NE(second.name, first.name);
  EXPECT_TRUE(keys.find(first.name.data(), kStart + kRotation + kRotation / 2).has_value());
  EXPECT_FALSE(keys.find(first.name.data(), kStart + 2 * kRotation).has_value());
  // The new key still issues: its own period runs from its rotation.
  EXPECT_TRUE(same_key(keys.issuing(kStart + 2 * kRotation), second));
  EXPECT_EQ(keys.rotations(), 2u);
}

TEST(TicketKeys, ALongQuietSpellDropsBothKeys) {
  TicketKeys keys(kRotation);
  const TicketKey first = keys.issuing(kStart);
  const TicketKey second = keys.issuing(kStart + kRotation);
  // Nothing for two periods: the next key starts with no previous one.
  const core::TimePoint later = kStart + kRotation + 2 * kRotation;
  const TicketKey third = keys.issuing(later);
  EXPECT_NE(third.name, second.name);
  EXPECT_NE(third.name, first.name);
  EXPECT_FALSE(keys.find(second.name.data(), later).has_value());
  EXPECT_FALSE(keys.find(first.name.data(), later).has_value());
  const auto current = keys.find(third.name.data(), later);
  ASSERT_TRUE(current.has_value());
  EXPECT_FALSE(current->renew);
}

TEST(TicketKeys, RotationFollowsThePeriodGiven) {
  TicketKeys keys(minutes(1));
  EXPECT_EQ(keys.rotation(), minutes(1));
  const TicketKey first = keys.issuing(kStart);
  for (int minute = 1; minute <= 10; ++minute)
    keys.issuing(kStart + minutes(minute));
  EXPECT_EQ(keys.rotations(), 11u);
  EXPECT_FALSE(keys.find(first.name.data(), kStart + minutes(10)).has_value());
}

}  // namespace
}  // namespace glidepath::tls
