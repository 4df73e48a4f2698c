// Real handshakes against a ServerContext, in memory: a verifying OpenSSL client gets the
// certificate for the name it asks for; old protocols and non-AEAD or non-ECDHE TLS 1.2
// ciphers are refused; ALPN; and session tickets resume, across a certificate reload too,
// because the listener's ticket keys outlive its contexts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tls/reloader.h"
#include "tls/server_context.h"
#include "tls_test_support.h"

namespace glidepath::tls {
namespace {

using ::testing::HasSubstr;
using namespace testing;  // tls_test_support.h

class Handshake : public ::testing::Test {
 protected:
  std::shared_ptr<const ServerContext> load(const config::TlsConfig& config,
                                            std::shared_ptr<TicketKeys> keys = nullptr) {
    auto loaded = ServerContext::load(config, std::move(keys));
    EXPECT_TRUE(loaded) << loaded.error().message;
    return loaded ? *loaded : nullptr;
  }

  // One EC certificate for api.example.com.
  config::TlsConfig one_certificate(KeyType key = KeyType::ec_p256) {
    return tls_config({certificate_of(ca_.issue_files(
        {.common_name = "api.example.com", .dns_names = {"api.example.com"}, .key = key},
        dir_.path(), key == KeyType::ec_p256 ? "ec" : "rsa"))});
  }

  ScratchDir dir_;
  TestCa ca_;
};

TEST_F(Handshake, AVerifyingClientGetsTls13ByDefault) {
  auto server = load(one_certificate());
  const HandshakeResult r =
      handshake(*server, {.server_name = "api.example.com", .alpn = {"http/1.1"}, .trust = &ca_});
  ASSERT_TRUE(r.ok) << r.client_error << " / " << r.server_error;
  EXPECT_EQ(r.version, "TLSv1.3");
  EXPECT_EQ(r.subject, "/CN=api.example.com");
  EXPECT_EQ(r.alpn, "http/1.1");
  EXPECT_FALSE(r.reused);
  const auto ciphers = negotiable_ciphers();
  EXPECT_NE(std::find(ciphers.begin(), ciphers.end(), r.cipher), ciphers.end()) << r.cipher;
}

TEST_F(Handshake, SniPicksTheCertificateAndTheClientVerifiesIt) {
  config::TlsConfig config = tls_config({
      certificate_of(
          ca_.issue_files({.common_name = "api.example.com", .dns_names = {"api.example.com"}},
                          dir_.path(), "api")),
      certificate_of(
          ca_.issue_files({.common_name = "wildcard.example.com", .dns_names = {"*.example.com"}},
                          dir_.path(), "wild")),
      certificate_of(ca_.issue_files({.common_name = "rsa.example.org",
                                      .dns_names = {"rsa.example.org"},
                                      .key = KeyType::rsa_2048},
                                     dir_.path(), "rsa")),
  });
  auto server = load(config);
  struct Case {
    std::string name;
    std::string subject;
  };
  for (const Case& c : {Case{"api.example.com", "/CN=api.example.com"},
                        Case{"shop.example.com", "/CN=wildcard.example.com"},
                        Case{"RSA.example.org", "/CN=rsa.example.org"}}) {
    const HandshakeResult r = handshake(*server, {.server_name = c.name, .trust = &ca_});
    ASSERT_TRUE(r.ok) << c.name << ": " << r.client_error << " / " << r.server_error;
    EXPECT_EQ(r.subject, c.subject) << c.name;
  }
  // No server name, or an unknown one: the first certificate (which then does not verify
  // for the unknown name: the client refuses).
  const HandshakeResult nameless = handshake(*server, {.trust = &ca_});
  ASSERT_TRUE(nameless.ok) << nameless.client_error;
  EXPECT_EQ(nameless.subject, "/CN=api.example.com");
  const HandshakeResult unknown = handshake(*server, {.server_name = "unknown.net"});
  ASSERT_TRUE(unknown.ok) << unknown.client_error;
  EXPECT_EQ(unknown.subject, "/CN=api.example.com");
  const HandshakeResult unverified =
      handshake(*server, {.server_name = "unknown.net", .trust = &ca_});
  EXPECT_FALSE(unverified.ok);
  EXPECT_THAT(unverified.client_error, HasSubstr("certificate verify failed"));
}

TEST_F(Handshake, AnExpiredCertificateIsServedAndAVerifyingClientRefusesIt) {
  auto server =
      load(tls_config({certificate_of(ca_.issue_files({.common_name = "old.example.com",
                                                       .dns_names = {"old.example.com"},
                                                       .not_before = -std::chrono::hours(48),
                                                       .not_after = -std::chrono::hours(24)},
                                                      dir_.path(), "old"))}));
  const HandshakeResult r = handshake(*server, {.server_name = "old.example.com", .trust = &ca_});
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.client_error, HasSubstr("certificate verify failed"));
}

TEST_F(Handshake, Tls11IsRefused) {
  auto server = load(one_certificate());
  const HandshakeResult r =
      handshake(*server, {.min_version = TLS1_1_VERSION, .max_version = TLS1_1_VERSION});
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.server_error, HasSubstr("unsupported protocol"));
  EXPECT_THAT(r.client_error, HasSubstr("protocol version"));
}

TEST_F(Handshake, Tls12IsRefusedWhenTheMinimumIs13) {
  config::TlsConfig config = one_certificate();
  config.min_version = config::TlsVersion::tls1_3;
  auto server = load(config);
  const HandshakeResult old = handshake(*server, {.max_version = TLS1_2_VERSION});
  EXPECT_FALSE(old.ok);
  EXPECT_THAT(old.server_error, HasSubstr("unsupported protocol"));
  const HandshakeResult current = handshake(*server, {});
  ASSERT_TRUE(current.ok) << current.client_error;
  EXPECT_EQ(current.version, "TLSv1.3");
}

TEST_F(Handshake, Tls12WithAnAeadEcdheCipherIsAccepted) {
  auto ec = load(one_certificate());
  HandshakeResult r = handshake(
      *ec, {.max_version = TLS1_2_VERSION, .tls12_ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256"});
  ASSERT_TRUE(r.ok) << r.client_error << " / " << r.server_error;
  EXPECT_EQ(r.version, "TLSv1.2");
  EXPECT_EQ(r.cipher, "ECDHE-ECDSA-AES128-GCM-SHA256");

  auto rsa = load(one_certificate(KeyType::rsa_2048));
  r = handshake(*rsa,
                {.max_version = TLS1_2_VERSION, .tls12_ciphers = "ECDHE-RSA-CHACHA20-POLY1305"});
  ASSERT_TRUE(r.ok) << r.client_error << " / " << r.server_error;
  EXPECT_EQ(r.cipher, "ECDHE-RSA-CHACHA20-POLY1305");
}

TEST_F(Handshake, Tls12CbcCiphersAreRefused) {
  auto ec = load(one_certificate());
  const HandshakeResult r = handshake(
      *ec, {.max_version = TLS1_2_VERSION,
            .tls12_ciphers = "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:@SECLEVEL=0"});
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.server_error, HasSubstr("no shared cipher"));
}

TEST_F(Handshake, Tls12WithoutEcdheIsRefusedEvenWithGcm) {
  // RSA key exchange (no forward secrecy), though the cipher is AEAD.
  auto rsa = load(one_certificate(KeyType::rsa_2048));
  const HandshakeResult r =
      handshake(*rsa, {.max_version = TLS1_2_VERSION, .tls12_ciphers = "AES128-GCM-SHA256"});
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.server_error, HasSubstr("no shared cipher"));
}

TEST_F(Handshake, AlpnOffersOnlyHttp11) {
  auto server = load(one_certificate());
  HandshakeResult r = handshake(*server, {.alpn = {"h2", "http/1.1"}});
  ASSERT_TRUE(r.ok) << r.client_error;
  EXPECT_EQ(r.alpn, "http/1.1");
  // A client offering none of ours goes on without ALPN.
  r = handshake(*server, {.alpn = {"h2"}});
  ASSERT_TRUE(r.ok) << r.client_error << " / " << r.server_error;
  EXPECT_EQ(r.alpn, "");
  r = handshake(*server, {});
  ASSERT_TRUE(r.ok) << r.client_error;
  EXPECT_EQ(r.alpn, "");
}

TEST_F(Handshake, SessionTicketsResumeInTls13AndTls12) {
  auto server = load(one_certificate(), std::make_shared<TicketKeys>(std::chrono::hours(1)));
  for (int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    const HandshakeResult first = handshake(*server, {.max_version = version});
    ASSERT_TRUE(first.ok) << first.client_error;
    ASSERT_NE(first.session, nullptr) << "no ticket, version " << version;
    const HandshakeResult again =
        handshake(*server, {.max_version = version, .session = first.session});
    ASSERT_TRUE(again.ok) << again.client_error;
    EXPECT_TRUE(again.reused) << "version " << version;
  }
}

TEST_F(Handshake, WithoutTicketsThereIsNoResumption) {
  config::TlsConfig config = one_certificate();
  config.session_tickets = false;
  auto server = load(config, std::make_shared<TicketKeys>(std::chrono::hours(1)));
  for (int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    const HandshakeResult first = handshake(*server, {.max_version = version});
    ASSERT_TRUE(first.ok) << first.client_error;
    if (first.session == nullptr) continue;  // nothing to offer: no resumption
    const HandshakeResult again =
        handshake(*server, {.max_version = version, .session = first.session});
    ASSERT_TRUE(again.ok) << again.client_error;
    EXPECT_FALSE(again.reused) << "version " << version;
  }
}

TEST_F(Handshake, ATicketFromAnotherListenerIsNotAccepted) {
  // Separate ticket keys (another listener, another gateway): a full handshake.
  const config::TlsConfig config = one_certificate();
  auto one = load(config, std::make_shared<TicketKeys>(std::chrono::hours(1)));
  auto other = load(config, std::make_shared<TicketKeys>(std::chrono::hours(1)));
  const HandshakeResult first = handshake(*one, {});
  ASSERT_TRUE(first.ok && first.session) << first.client_error;
  const HandshakeResult elsewhere = handshake(*other, {.session = first.session});
  ASSERT_TRUE(elsewhere.ok) << elsewhere.client_error;
  EXPECT_FALSE(elsewhere.reused);
}

TEST_F(Handshake, ATicketSurvivesACertificateReload) {
  const CertificateFiles files = ca_.issue_files(
      {.common_name = "before.example.com", .dns_names = {"api.example.com"}}, dir_.path(), "site");
  Reloader reloader("gateway", tls_config({certificate_of(files)}));
  const core::TimePoint now = core::SystemClock().now();
  auto before = reloader.load(now);
  ASSERT_TRUE(before) << before.error().message;
  const HandshakeResult first =
      handshake(**before, {.server_name = "api.example.com", .trust = &ca_});
  ASSERT_TRUE(first.ok && first.session) << first.client_error;
  EXPECT_EQ(first.subject, "/CN=before.example.com");

  glidepath::testing::replace_pair(
      files, ca_.issue({.common_name = "after.example.com", .dns_names = {"api.example.com"}}));
  const Reloader::Outcome outcome = reloader.check(false, now + std::chrono::seconds(1));
  ASSERT_EQ(outcome.kind, Reloader::Outcome::Kind::reloaded) << outcome.message;

  // A new client: the new certificate. The old client's ticket: resumed on the new context.
  const HandshakeResult fresh =
      handshake(*outcome.context, {.server_name = "api.example.com", .trust = &ca_});
  ASSERT_TRUE(fresh.ok) << fresh.client_error;
  EXPECT_EQ(fresh.subject, "/CN=after.example.com");
  EXPECT_FALSE(fresh.reused);
  const HandshakeResult resumed =
      handshake(*outcome.context,
                {.server_name = "api.example.com", .trust = &ca_, .session = first.session});
  ASSERT_TRUE(resumed.ok) << resumed.client_error;
  EXPECT_TRUE(resumed.reused);

  // A listener with its own keys (not reloaded but started anew) cannot resume it.
  Reloader restarted("gateway", tls_config({certificate_of(files)}));
  auto anew = restarted.load(now);
  ASSERT_TRUE(anew);
  const HandshakeResult cold = handshake(**anew, {.session = first.session});
  ASSERT_TRUE(cold.ok) << cold.client_error;
  EXPECT_FALSE(cold.reused);
}

TEST_F(Handshake, ATicketWorksOnEveryCertificateOfTheListener) {
  // The SNI callback moves a connection to another certificate's context; its tickets
  // are under the same keys.
  config::TlsConfig config = tls_config({
      certificate_of(
          ca_.issue_files({.common_name = "a", .dns_names = {"a.example.com"}}, dir_.path(), "a")),
      certificate_of(
          ca_.issue_files({.common_name = "b", .dns_names = {"b.example.com"}}, dir_.path(), "b")),
  });
  auto server = load(config, std::make_shared<TicketKeys>(std::chrono::hours(1)));
  const HandshakeResult first = handshake(*server, {.server_name = "b.example.com"});
  ASSERT_TRUE(first.ok && first.session) << first.client_error;
  EXPECT_EQ(first.subject, "/CN=b");
  const HandshakeResult again =
      handshake(*server, {.server_name = "b.example.com", .session = first.session});
  ASSERT_TRUE(again.ok) << again.client_error;
  EXPECT_TRUE(again.reused);
}

}  // namespace
}  // namespace glidepath::tls
