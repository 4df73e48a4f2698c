// The per-request access decision: which key a request presents (every mode × source ×
// presentation), and the order in which rate and quota refuse it (simulated time).
#include "access/request_access.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace glidepath::access {
namespace {

using config::ApiKeyMode;
using config::ApiKeySource;

// 2026-11-26T09:00:00Z and the next UTC midnight.
constexpr int64_t kNowSeconds = 1'795'683'600;
constexpr int64_t kMidnight = 1'795'737'600;
const core::TimePoint kNow = core::from_epoch_micros(kNowSeconds * 1'000'000);

constexpr std::string_view kValidKey = "gp_validvalidvalidvalidvalidvalidvalidvalidvalidvalidva";
constexpr std::string_view kRevokedKey = "gp_revokedrevokedrevokedrevokedrevokedrevokedrevokedre";
constexpr std::string_view kUnknownKey = "gp_unknownunknownunknownunknownunknownunknownunknownun";

access::ApiKeyRecord make_record(std::string id, std::string_view key) {
  access::ApiKeyRecord record;
  record.id = std::move(id);
  record.consumer = "acme";
  record.key_hash = key_hash_hex(key);
  record.key_prefix = display_prefix(key);
  record.created_at = kNow;
  return record;
}

class IdentifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto revoked = make_record("key_revoked", kRevokedKey);
    revoked.revoked_at = kNow;
    auto built = registry_.build(
        {make_record("key_valid", kValidKey), revoked},
        [](std::string_view, int64_t) -> core::Result<uint64_t> { return uint64_t{0}; }, kNow);
    ASSERT_TRUE(built.ok()) << built.error().message;
    table_ = *built;
  }

  KeyRegistry registry_;
  std::shared_ptr<const KeyTable> table_;
};

http::RequestHead request(std::vector<http::Header> headers) {
  http::RequestHead head;
  head.method = "GET";
  head.target = "/orders/1";
  head.host = "api.example.com";
  head.headers = std::move(headers);
  return head;
}

// What a request presents, whatever the mode: no key, a known key, or a 403.
enum class Presents { nothing, valid, unknown, revoked, implausible };

struct IdentifyCase {
  std::string_view description;
  ApiKeySource source;
  std::vector<http::Header> headers;
  Presents presents;
};

const std::string kBearerValid = "Bearer " + std::string(kValidKey);
const std::string kBearerLower = "bearer " + std::string(kValidKey);
const std::string kBearerUpperSpaces = "BEARER   " + std::string(kValidKey);
const std::string kBearerUnknown = "Bearer " + std::string(kUnknownKey);
const std::string kBearerRevoked = "Bearer " + std::string(kRevokedKey);
const std::string kBearerGlued = "Bearer" + std::string(kValidKey);
const std::string kBearerJunk = "Bearer gp_has space";
const std::string kLongKey(257, 'k');

std::vector<IdentifyCase> identify_cases() {
  const auto header = ApiKeySource::header;
  const auto bearer = ApiKeySource::bearer;
  return {
      // X-Api-Key
      {"header: none", header, {}, Presents::nothing},
      {"header: valid", header, {{"X-Api-Key", kValidKey}}, Presents::valid},
      {"header: name in any case", header, {{"x-api-KEY", kValidKey}}, Presents::valid},
      {"header: unknown", header, {{"X-Api-Key", kUnknownKey}}, Presents::unknown},
      {"header: revoked", header, {{"X-Api-Key", kRevokedKey}}, Presents::revoked},
      {"header: empty value", header, {{"X-Api-Key", ""}}, Presents::nothing},
      {"header: a space inside", header, {{"X-Api-Key", "gp_has space"}}, Presents::implausible},
      {"header: too long",
       header,
       {{"X-Api-Key", std::string_view(kLongKey)}},
       Presents::implausible},
      {"header: not ASCII", header, {{"X-Api-Key", "gp_caf\xc3\xa9"}}, Presents::implausible},
      {"header: a bearer token is not looked at",
       header,
       {{"Authorization", kBearerValid}},
       Presents::nothing},
      // Authorization: Bearer
      {"bearer: none", bearer, {}, Presents::nothing},
      {"bearer: valid", bearer, {{"Authorization", kBearerValid}}, Presents::valid},
      {"bearer: scheme lower case", bearer, {{"authorization", kBearerLower}}, Presents::valid},
      {"bearer: scheme upper case, several spaces",
       bearer,
       {{"AUTHORIZATION", kBearerUpperSpaces}},
       Presents::valid},
      {"bearer: unknown", bearer, {{"Authorization", kBearerUnknown}}, Presents::unknown},
      {"bearer: revoked", bearer, {{"Authorization", kBearerRevoked}}, Presents::revoked},
      {"bearer: a space inside the token",
       bearer,
       {{"Authorization", kBearerJunk}},
       Presents::implausible},
      {"bearer: another scheme",
       bearer,
       {{"Authorization", "Basic YWxhZGRpbjpvcGVu"}},
       Presents::nothing},
      {"bearer: scheme without a token", bearer, {{"Authorization", "Bearer"}}, Presents::nothing},
      {"bearer: no space after the scheme",
       bearer,
       {{"Authorization", kBearerGlued}},
       Presents::nothing},
      {"bearer: X-Api-Key is not looked at", bearer, {{"X-Api-Key", kValidKey}}, Presents::nothing},
  };
}

TEST_F(IdentifyTest, OffModeIsAnonymousWhateverTheRequestCarries) {
  for (const IdentifyCase& c : identify_cases()) {
    SCOPED_TRACE(c.description);
    const Identity identity = identify(ApiKeyMode::off, c.source, *table_, request(c.headers));
    EXPECT_EQ(identity.status, 0);
    EXPECT_EQ(identity.key, nullptr);
    EXPECT_TRUE(identity.error.empty());
  }
}

TEST_F(IdentifyTest, RequiredAndOptionalModes) {
  for (const ApiKeyMode mode : {ApiKeyMode::required, ApiKeyMode::optional}) {
    for (const IdentifyCase& c : identify_cases()) {
      SCOPED_TRACE(testing::Message() << config::to_string(mode) << " " << c.description);
      const Identity identity = identify(mode, c.source, *table_, request(c.headers));
      switch (c.presents) {
        case Presents::nothing:
          if (mode == ApiKeyMode::required) {
            EXPECT_EQ(identity.status, 401);
            EXPECT_NE(identity.error.find("missing API key"), std::string_view::npos);
          } else {
            EXPECT_EQ(identity.status, 0);
            EXPECT_TRUE(identity.error.empty());
          }
          EXPECT_EQ(identity.key, nullptr);
          break;
        case Presents::valid:
          EXPECT_EQ(identity.status, 0);
          ASSERT_NE(identity.key, nullptr);
          EXPECT_EQ(identity.key->id, "key_valid");
          EXPECT_EQ(identity.key->consumer, "acme");
          break;
        case Presents::unknown:
          EXPECT_EQ(identity.status, 403);
          EXPECT_EQ(identity.error, "unknown API key");
          EXPECT_EQ(identity.key, nullptr);
          break;
        case Presents::revoked:
          EXPECT_EQ(identity.status, 403);
          EXPECT_EQ(identity.error, "revoked API key");
          EXPECT_EQ(identity.key, nullptr);
          break;
        case Presents::implausible:
          EXPECT_EQ(identity.status, 403);
          EXPECT_EQ(identity.key, nullptr);
          break;
      }
      // No error ever repeats what the request presented.
      for (const http::Header& h : c.headers) {
        if (h.value.size() > 8) {
          EXPECT_EQ(identity.error.find(h.value), std::string_view::npos);
          EXPECT_EQ(identity.error.find(h.value.substr(h.value.size() - 8)),
                    std::string_view::npos);
        }
      }
    }
  }
}

TEST_F(IdentifyTest, MissingKeyErrorSaysWhereToSendIt) {
  const Identity header =
      identify(ApiKeyMode::required, ApiKeySource::header, *table_, request({}));
  EXPECT_EQ(header.error, "missing API key (send it in X-Api-Key)");
  const Identity bearer =
      identify(ApiKeyMode::required, ApiKeySource::bearer, *table_, request({}));
  EXPECT_EQ(bearer.status, 401);
  EXPECT_NE(bearer.error.find("Authorization: Bearer"), std::string_view::npos);
}

TEST(PresentedKey, ReadsTheConfiguredPlace) {
  const http::RequestHead head =
      request({{"X-Api-Key", "from-header"}, {"Authorization", "Bearer  from-bearer"}});
  EXPECT_EQ(presented_key(ApiKeySource::header, head), "from-header");
  EXPECT_EQ(presented_key(ApiKeySource::bearer, head), "from-bearer");
  EXPECT_EQ(presented_key(ApiKeySource::header, request({})), "");
  EXPECT_EQ(presented_key(ApiKeySource::bearer, request({{"Authorization", "Bearer\tx"}})), "x");
  EXPECT_EQ(presented_key(ApiKeySource::bearer, request({{"Authorization", "Bearer "}})), "");
  EXPECT_EQ(presented_key(ApiKeySource::bearer, request({{"Authorization", "Token x"}})), "");
  // The first header of the name counts.
  EXPECT_EQ(presented_key(ApiKeySource::header,
                          request({{"X-Api-Key", "first"}, {"X-Api-Key", "second"}})),
            "first");
}

// ---- admit ------------------------------------------------------------------------------

struct LimitedKey {
  KeyState state;
  KeyEntry entry;
  LimitedKey(std::optional<core::Rate> rate, std::optional<core::Quota> quota) {
    state.key_id = "key_limited";
    if (rate) state.rate.emplace(*rate);
    if (quota) state.quota.emplace(*quota);
    entry.id = state.key_id;
    entry.state = &state;
  }
};

constexpr int64_t kSecondUs = 1'000'000;

TEST(Admit, AKeyWithoutLimitsIsAlwaysAdmitted) {
  LimitedKey key(std::nullopt, std::nullopt);
  for (int i = 0; i < 1000; ++i)
    ASSERT_EQ(admit(key.entry, 0, kNowSeconds).status, 0);
  const KeyEntry stateless;
  EXPECT_EQ(admit(stateless, 0, kNowSeconds).status, 0);
}

TEST(Admit, RateThenQuota) {
  LimitedKey key(core::Rate{2, std::chrono::seconds(1)}, core::Quota{3, core::QuotaPeriod::day});
  EXPECT_EQ(admit(key.entry, 0, kNowSeconds).status, 0);
  EXPECT_EQ(admit(key.entry, 0, kNowSeconds).status, 0);
  const Admission by_rate = admit(key.entry, 0, kNowSeconds);
  EXPECT_EQ(by_rate.status, 429);
  EXPECT_EQ(by_rate.error, "rate limit exceeded");
  EXPECT_EQ(by_rate.retry_after_seconds, 1);  // 0.5 s, rounded up
  EXPECT_EQ(key.state.quota->used(kNowSeconds), 2u);

  EXPECT_EQ(admit(key.entry, kSecondUs, kNowSeconds + 1).status, 0);  // the quota's 3rd
  const Admission by_quota = admit(key.entry, 2 * kSecondUs, kNowSeconds + 2);
  EXPECT_EQ(by_quota.status, 429);
  EXPECT_EQ(by_quota.error, "quota exceeded for this day");
  EXPECT_EQ(by_quota.retry_after_seconds, kMidnight - (kNowSeconds + 2));

  // After midnight the quota is back.
  EXPECT_EQ(admit(key.entry, 100 * kSecondUs, kMidnight).status, 0);
}

TEST(Admit, ARequestRefusedForItsRateDoesNotUseTheQuota) {
  LimitedKey key(core::Rate{1, std::chrono::seconds(1)}, core::Quota{2, core::QuotaPeriod::day});
  ASSERT_EQ(admit(key.entry, 0, kNowSeconds).status, 0);
  for (int i = 1; i <= 50; ++i) {
    const Admission refused = admit(key.entry, i * 10'000, kNowSeconds);
    ASSERT_EQ(refused.status, 429);
    ASSERT_EQ(refused.error, "rate limit exceeded");
  }
  EXPECT_EQ(key.state.quota->used(kNowSeconds), 1u);
  EXPECT_EQ(admit(key.entry, kSecondUs, kNowSeconds + 1).status, 0);
  EXPECT_EQ(key.state.quota->used(kNowSeconds), 2u);
}

TEST(Admit, RetryAfterIsWholeSecondsRoundedUp) {
  LimitedKey key(core::Rate{1, std::chrono::minutes(1)}, std::nullopt);
  ASSERT_EQ(admit(key.entry, 0, kNowSeconds).status, 0);
  EXPECT_EQ(admit(key.entry, 0, kNowSeconds).retry_after_seconds, 60);
  EXPECT_EQ(admit(key.entry, 29'800'000, kNowSeconds).retry_after_seconds, 31);
  EXPECT_EQ(admit(key.entry, 59'999'999, kNowSeconds).retry_after_seconds, 1);
  EXPECT_EQ(admit(key.entry, 60'000'000, kNowSeconds).status, 0);
}

TEST(Admit, QuotaErrorsNameTheirPeriod) {
  LimitedKey hourly(std::nullopt, core::Quota{1, core::QuotaPeriod::hour});
  ASSERT_EQ(admit(hourly.entry, 0, kNowSeconds).status, 0);
  const Admission hour = admit(hourly.entry, 0, kNowSeconds + 600);
  EXPECT_EQ(hour.error, "quota exceeded for this hour");
  EXPECT_EQ(hour.retry_after_seconds, 3000);

  LimitedKey monthly(std::nullopt, core::Quota{1, core::QuotaPeriod::month});
  ASSERT_EQ(admit(monthly.entry, 0, kNowSeconds).status, 0);
  const Admission month = admit(monthly.entry, 0, kNowSeconds);
  EXPECT_EQ(month.error, "quota exceeded for this month");
  EXPECT_EQ(month.retry_after_seconds, 1'796'083'200 - kNowSeconds);  // 2026-12-01
}

}  // namespace
}  // namespace glidepath::access
