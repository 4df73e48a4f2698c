// ServerContext::load: what it says when a certificate or key does not load (the file and
// the problem), what it learns from a certificate, and which certificate answers which
// server name (SNI).
#include "tls/server_context.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "tls_test_support.h"

namespace glidepath::tls {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace testing;  // tls_test_support.h

class ServerContextLoad : public ::testing::Test {
 protected:
  std::string load_error(const config::TlsConfig& config) {
    auto loaded = ServerContext::load(config, nullptr);
    if (loaded) return "(loaded)";
    return loaded.error().message;
  }

  ScratchDir dir_;
  TestCa ca_;
};

TEST_F(ServerContextLoad, AGoodPairLoadsAndSaysWhatItIs) {
  const CertificateFiles files = ca_.issue_files(
      {.common_name = "api.example.com", .dns_names = {"api.example.com", "API2.Example.com"}},
      dir_.path(), "api");
  auto loaded = ServerContext::load(tls_config({certificate_of(files)}), nullptr);
  ASSERT_TRUE(loaded) << loaded.error().message;
  const auto& certificates = (*loaded)->certificates();
  ASSERT_EQ(certificates.size(), 1u);
  EXPECT_EQ(certificates[0].cert_file, files.cert);
  EXPECT_EQ(certificates[0].subject, "/CN=api.example.com");
  EXPECT_THAT(certificates[0].hosts, ElementsAre("api.example.com", "api2.example.com"));
  EXPECT_EQ(certificates[0].key_type, "EC P-256");
  const auto now = std::chrono::system_clock::now();
  EXPECT_GT(certificates[0].not_after, now + std::chrono::hours(23));
  EXPECT_LT(certificates[0].not_after, now + std::chrono::hours(25));
  EXPECT_NE((*loaded)->handshake_context(), nullptr);
}

TEST_F(ServerContextLoad, AnRsaKeySaysItsSize) {
  const CertificateFiles files = ca_.issue_files(
      {.common_name = "rsa.example.com", .key = KeyType::rsa_2048}, dir_.path(), "rsa");
  auto loaded = ServerContext::load(tls_config({certificate_of(files)}), nullptr);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ((*loaded)->certificates()[0].key_type, "RSA 2048");
  // No subjectAltName: the common name is the host.
  EXPECT_THAT((*loaded)->certificates()[0].hosts, ElementsAre("rsa.example.com"));
}

TEST_F(ServerContextLoad, AnExpiredCertificateLoadsAndItsEndIsInThePast) {
  // Loading does not judge validity (a client does); /healthz shows not_after.
  const CertificateFiles files = ca_.issue_files({.common_name = "old.example.com",
                                                  .not_before = -std::chrono::hours(48),
                                                  .not_after = -std::chrono::hours(24)},
                                                 dir_.path(), "old");
  auto loaded = ServerContext::load(tls_config({certificate_of(files)}), nullptr);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_LT((*loaded)->certificates()[0].not_after,
            std::chrono::system_clock::now() - std::chrono::hours(23));
}

TEST_F(ServerContextLoad, NoCertificateIsAnError) {
  EXPECT_THAT(load_error(config::TlsConfig{}), HasSubstr("no certificate configured"));
}

TEST_F(ServerContextLoad, AMissingCertificateFileIsNamed) {
  const CertificateFiles files = ca_.issue_files({}, dir_.path(), "good");
  const std::string missing = dir_.file("missing.crt");
  EXPECT_THAT(load_error(tls_config({{missing, files.key, {}}})),
              AllOf(HasSubstr("cert " + missing + ":"), HasSubstr("not a usable PEM certificate"),
                    HasSubstr("No such file or directory")));
}

TEST_F(ServerContextLoad, AMissingKeyFileIsNamed) {
  const CertificateFiles files = ca_.issue_files({}, dir_.path(), "good");
  const std::string missing = dir_.file("missing.key");
  EXPECT_THAT(load_error(tls_config({{files.cert, missing, {}}})),
              AllOf(HasSubstr("key " + missing + ":"), HasSubstr("not a usable PEM private key"),
                    HasSubstr("No such file or directory")));
}

TEST_F(ServerContextLoad, GarbageInTheCertificateFileIsNamed) {
  const CertificateFiles files = ca_.issue_files({}, dir_.path(), "good");
  const std::string garbage = dir_.file("garbage.crt");
  glidepath::testing::write_file(garbage, "this is not a certificate\n");
  EXPECT_THAT(load_error(tls_config({{garbage, files.key, {}}})),
              AllOf(HasSubstr("cert " + garbage + ": not a usable PEM certificate"),
                    HasSubstr("no start line")));
}

TEST_F(ServerContextLoad, ATruncatedCertificateIsNamed) {
  const PemPair pair = ca_.issue({});
  const std::string truncated = dir_.file("truncated.crt");
  glidepath::testing::write_file(truncated, pair.cert.substr(0, pair.cert.size() / 2));
  const std::string key = dir_.file("truncated.key");
  glidepath::testing::write_file(key, pair.key);
  EXPECT_THAT(load_error(tls_config({{truncated, key, {}}})),
              HasSubstr("cert " + truncated + ": not a usable PEM certificate"));
}

TEST_F(ServerContextLoad, AKeyOfAnotherCertificateIsNamedWithBothFiles) {
  const CertificateFiles mine = ca_.issue_files({}, dir_.path(), "mine");
  const CertificateFiles other = ca_.issue_files({}, dir_.path(), "other");
  EXPECT_THAT(
      load_error(tls_config({{mine.cert, other.key, {}}})),
      HasSubstr("key " + other.key + " does not belong to the certificate in " + mine.cert));
}

TEST_F(ServerContextLoad, AKeyOfAnotherTypeDoesNotBelongEither) {
  const CertificateFiles mine = ca_.issue_files({}, dir_.path(), "mine");
  const std::string rsa = dir_.file("rsa.key");
  glidepath::testing::write_file(rsa, glidepath::testing::new_key_pem(KeyType::rsa_2048));
  const std::string error = load_error(tls_config({{mine.cert, rsa, {}}}));
  EXPECT_THAT(error, HasSubstr(rsa));
  EXPECT_THAT(error, HasSubstr(mine.cert)) << "the pair is named";
}

TEST_F(ServerContextLoad, AKeyFileHoldingACertificateIsNamed) {
  const CertificateFiles files = ca_.issue_files({}, dir_.path(), "good");
  EXPECT_THAT(load_error(tls_config({{files.cert, files.cert, {}}})),
              HasSubstr("key " + files.cert + ": not a usable PEM private key"));
}

TEST_F(ServerContextLoad, TheBadOneOfSeveralCertificatesIsNamed) {
  const CertificateFiles first = ca_.issue_files({}, dir_.path(), "first");
  const CertificateFiles second = ca_.issue_files({}, dir_.path(), "second");
  const std::string garbage = dir_.file("third.crt");
  glidepath::testing::write_file(garbage, "-----BEGIN CERTIFICATE-----\nAAAA\n");
  EXPECT_THAT(load_error(tls_config(
                  {certificate_of(first), certificate_of(second), {garbage, second.key, {}}})),
              HasSubstr("cert " + garbage + ": not a usable PEM certificate"));
}

TEST_F(ServerContextLoad, ACombinedFileServesAsCertificateAndKey) {
  // One PEM file with both, as some tools write them.
  const PemPair pair = ca_.issue({.common_name = "both.example.com"});
  const std::string both = dir_.file("both.pem");
  glidepath::testing::write_file(both, pair.cert + pair.key);
  auto loaded = ServerContext::load(tls_config({{both, both, {}}}), nullptr);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ((*loaded)->certificates()[0].subject, "/CN=both.example.com");
}

// ---- SNI -----------------------------------------------------------------------------------

class ServerNameChoice : public ::testing::Test {
 protected:
  void SetUp() override {
    config::TlsConfig config;
    // [0] exact, configured; [1] a wildcard, configured; [2] its names from the
    // certificate itself; [3] an exact name the wildcard also covers, listed after it;
    // [4] no DNS name at all, only an address: its common name.
    config.certificates = {
        certificate_of(ca_.issue_files({.common_name = "api"}, dir_.path(), "api"),
                       {"api.example.com"}),
        certificate_of(ca_.issue_files({.common_name = "wildcard"}, dir_.path(), "wild"),
                       {"*.example.com"}),
        certificate_of(ca_.issue_files(
            {.common_name = "other", .dns_names = {"WWW.Other.org", "*.apps.other.org"}},
            dir_.path(), "other")),
        certificate_of(ca_.issue_files({.common_name = "x"}, dir_.path(), "x"), {"x.example.com"}),
        certificate_of(ca_.issue_files({.common_name = "Local.Test", .ip_addresses = {"127.0.0.1"}},
                                       dir_.path(), "ip")),
    };
    auto loaded = ServerContext::load(config, nullptr);
    ASSERT_TRUE(loaded) << loaded.error().message;
    context_ = *loaded;
  }

  ScratchDir dir_;
  TestCa ca_;
  std::shared_ptr<const ServerContext> context_;
};

TEST_F(ServerNameChoice, HostsComeFromTheConfigElseFromTheCertificate) {
  const auto& certificates = context_->certificates();
  ASSERT_EQ(certificates.size(), 5u);
  EXPECT_THAT(certificates[0].hosts, ElementsAre("api.example.com"));
  EXPECT_THAT(certificates[1].hosts, ElementsAre("*.example.com"));
  EXPECT_THAT(certificates[2].hosts, ElementsAre("www.other.org", "*.apps.other.org"));
  EXPECT_THAT(certificates[4].hosts, ElementsAre("local.test"));
}

TEST_F(ServerNameChoice, Table) {
  struct Case {
    const char* name;
    size_t expected;
  };
  const Case cases[] = {
      {"api.example.com", 0},     // exact
      {"API.Example.COM", 0},     // case-insensitive
      {"y.example.com", 1},       // the wildcard
      {"Y.EXAMPLE.com", 1},       //
      {"x.example.com", 3},       // exact beats a wildcard listed before it
      {"a.b.example.com", 0},     // a wildcard covers one label only: the first
      {"example.com", 0},         // nor the bare domain
      {".example.com", 0},        // nor an empty label
      {"www.other.org", 2},       // from the certificate's own names
      {"foo.apps.other.org", 2},  // its own wildcard
      {"apps.other.org", 0},      //
      {"other.org", 0},           //
      {"local.test", 4},          // the common name when no DNS name is listed
      {"unknown.net", 0},         // unknown: the first
      {"", 0},                    //
      {"127.0.0.1", 0},           // addresses are not server names
  };
  for (const Case& c : cases)
    EXPECT_EQ(context_->select(c.name), c.expected) << c.name;
}

TEST(ServerContext, ShortVersionsAndTheCipherList) {
  EXPECT_EQ(short_version("TLSv1.3"), "1.3");
  EXPECT_EQ(short_version("TLSv1.2"), "1.2");
  EXPECT_EQ(short_version("TLSv1.1"), "TLSv1.1");
  // Every negotiable cipher is AEAD: GCM or ChaCha20-Poly1305; TLS 1.2's all ECDHE.
  for (std::string_view cipher : negotiable_ciphers()) {
    EXPECT_TRUE(cipher.find("GCM") != std::string_view::npos ||
                cipher.find("CHACHA20-POLY1305") != std::string_view::npos ||
                cipher.find("CHACHA20_POLY1305") != std::string_view::npos)
        << cipher;
    if (!cipher.starts_with("TLS_")) {
      EXPECT_TRUE(cipher.starts_with("ECDHE-")) << cipher;
    }
  }
}

}  // namespace
}  // namespace glidepath::tls
