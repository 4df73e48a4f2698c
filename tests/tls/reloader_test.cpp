// Reloader: a listener's certificate follows its files. Unchanged files do nothing; a pair
// renamed into place is reloaded; a pair that does not load is refused while the old one
// stays in force (and says why), until a good pair comes.
#include "tls/reloader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "tls_test_support.h"

namespace glidepath::tls {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;
using namespace testing;  // tls_test_support.h
using Kind = Reloader::Outcome::Kind;

const core::TimePoint kStart = core::TimePoint(std::chrono::hours(24 * 365 * 56));

class ReloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    files_ = ca_.issue_files({.common_name = "first.example.com"}, dir_.path(), "site");
  }

  Reloader make(std::string name = "gateway") {
    return Reloader(std::move(name), tls_config({certificate_of(files_)}));
  }

  static std::string subject_of(const std::shared_ptr<const ServerContext>& context) {
    return context->certificates().at(0).subject;
  }

  ScratchDir dir_;
  TestCa ca_;
  CertificateFiles files_;
};

TEST_F(ReloaderTest, LoadsAndThenSeesNothingNewWhileTheFilesStayTheSame) {
  Reloader reloader = make();
  auto loaded = reloader.load(kStart);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(subject_of(*loaded), "/CN=first.example.com");
  for (int second = 1; second <= 3; ++second) {
    const Reloader::Outcome outcome = reloader.check(false, kStart + std::chrono::seconds(second));
    EXPECT_EQ(outcome.kind, Kind::unchanged);
    EXPECT_EQ(outcome.context, nullptr);
    EXPECT_THAT(outcome.message, IsEmpty());
  }
  const Reloader::Status status = reloader.status();
  EXPECT_EQ(status.name, "gateway");
  EXPECT_TRUE(status.ok);
  EXPECT_THAT(status.error, IsEmpty());
  EXPECT_EQ(status.loaded_at, kStart);
  EXPECT_EQ(status.reloads, 0u);
  EXPECT_EQ(status.refusals, 0u);
  ASSERT_EQ(status.certificates.size(), 1u);
  EXPECT_EQ(status.certificates[0].subject, "/CN=first.example.com");
}

TEST_F(ReloaderTest, AFirstLoadThatFailsNamesTheListenerAndTheFile) {
  glidepath::testing::replace_file(files_.cert, "garbage\n");
  Reloader reloader = make("gateway.listeners[1]");
  auto loaded = reloader.load(kStart);
  ASSERT_FALSE(loaded);
  EXPECT_THAT(loaded.error().message, StartsWith("gateway.listeners[1]: tls: cert " + files_.cert));
}

TEST_F(ReloaderTest, APairRenamedIntoPlaceIsReloaded) {
  Reloader reloader = make();
  ASSERT_TRUE(reloader.load(kStart));
  glidepath::testing::replace_pair(files_, ca_.issue({.common_name = "second.example.com"}));

  const core::TimePoint later = kStart + std::chrono::seconds(5);
  const Reloader::Outcome outcome = reloader.check(false, later);
  ASSERT_EQ(outcome.kind, Kind::reloaded) << outcome.message;
  ASSERT_NE(outcome.context, nullptr);
  EXPECT_EQ(subject_of(outcome.context), "/CN=second.example.com");
  EXPECT_EQ(outcome.message, "gateway: certificates reloaded (/CN=second.example.com)");

  const Reloader::Status status = reloader.status();
  EXPECT_TRUE(status.ok);
  EXPECT_EQ(status.loaded_at, later);
  EXPECT_EQ(status.reloads, 1u);
  EXPECT_EQ(status.certificates.at(0).subject, "/CN=second.example.com");

  // Once taken, the same files are nothing new.
  EXPECT_EQ(reloader.check(false, later + std::chrono::seconds(1)).kind, Kind::unchanged);
}

TEST_F(ReloaderTest, ForcedReloadsLoadTheSameFilesAgain) {
  Reloader reloader = make();
  ASSERT_TRUE(reloader.load(kStart));
  const Reloader::Outcome outcome = reloader.check(true, kStart + std::chrono::seconds(1));
  ASSERT_EQ(outcome.kind, Kind::reloaded) << outcome.message;
  EXPECT_EQ(subject_of(outcome.context), "/CN=first.example.com");
  EXPECT_EQ(reloader.status().reloads, 1u);
}

TEST_F(ReloaderTest, AGarbageCertificateIsRefusedAndTheOldOneStaysInForce) {
  Reloader reloader = make();
  auto loaded = reloader.load(kStart);
  ASSERT_TRUE(loaded);
  const std::shared_ptr<const ServerContext> old = *loaded;

  glidepath::testing::replace_file(files_.cert, "-----BEGIN CERTIFICATE-----\ngarbage\n");
  const core::TimePoint refused_at = kStart + std::chrono::seconds(3);
  const Reloader::Outcome outcome = reloader.check(false, refused_at);
  ASSERT_EQ(outcome.kind, Kind::refused);
  EXPECT_EQ(outcome.context, nullptr);
  EXPECT_THAT(outcome.message,
              StartsWith("gateway: the new certificate was refused and the one loaded before "
                         "stays in force: tls: cert " +
                         files_.cert + ": not a usable PEM certificate"));

  Reloader::Status status = reloader.status();
  EXPECT_FALSE(status.ok);
  EXPECT_THAT(status.error, StartsWith("tls: cert " + files_.cert));
  EXPECT_EQ(status.refused_at, refused_at);
  EXPECT_EQ(status.loaded_at, kStart);
  EXPECT_EQ(status.refusals, 1u);
  EXPECT_EQ(status.reloads, 0u);
  // What /healthz shows is still the certificate in force.
  EXPECT_EQ(status.certificates.at(0).subject, "/CN=first.example.com");

  // The old context still makes handshakes.
  const HandshakeResult hello = handshake(*old, {.server_name = "first.example.com"});
  ASSERT_TRUE(hello.ok) << hello.client_error << " / " << hello.server_error;
  EXPECT_EQ(hello.subject, "/CN=first.example.com");

  // The same bad files are not tried again every second; a forced check does.
  EXPECT_EQ(reloader.check(false, refused_at + std::chrono::seconds(1)).kind, Kind::unchanged);
  EXPECT_FALSE(reloader.status().ok);
  EXPECT_EQ(reloader.check(true, refused_at + std::chrono::seconds(2)).kind, Kind::refused);
  EXPECT_EQ(reloader.status().refusals, 2u);

  // A good pair restores it.
  glidepath::testing::replace_pair(files_, ca_.issue({.common_name = "third.example.com"}));
  const Reloader::Outcome recovered = reloader.check(false, refused_at + std::chrono::seconds(3));
  ASSERT_EQ(recovered.kind, Kind::reloaded) << recovered.message;
  EXPECT_EQ(subject_of(recovered.context), "/CN=third.example.com");
  status = reloader.status();
  EXPECT_TRUE(status.ok);
  EXPECT_THAT(status.error, IsEmpty());
  EXPECT_EQ(status.reloads, 1u);
  EXPECT_EQ(status.refusals, 2u);
  EXPECT_EQ(status.certificates.at(0).subject, "/CN=third.example.com");
}

TEST_F(ReloaderTest, ACertificateWithoutItsNewKeyIsRefusedUntilTheKeyComes) {
  // A writer that replaces the certificate, then (a moment later) the key.
  Reloader reloader = make();
  ASSERT_TRUE(reloader.load(kStart));
  const PemPair next = ca_.issue({.common_name = "next.example.com"});
  glidepath::testing::replace_file(files_.cert, next.cert);
  const Reloader::Outcome half = reloader.check(false, kStart + std::chrono::seconds(1));
  ASSERT_EQ(half.kind, Kind::refused);
  EXPECT_THAT(half.message, HasSubstr("key " + files_.key +
                                      " does not belong to the certificate in " + files_.cert));
  glidepath::testing::replace_file(files_.key, next.key);
  const Reloader::Outcome whole = reloader.check(false, kStart + std::chrono::seconds(2));
  ASSERT_EQ(whole.kind, Kind::reloaded) << whole.message;
  EXPECT_EQ(subject_of(whole.context), "/CN=next.example.com");
  EXPECT_TRUE(reloader.status().ok);
}

TEST_F(ReloaderTest, ADeletedKeyIsRefusedAndNamed) {
  Reloader reloader = make();
  ASSERT_TRUE(reloader.load(kStart));
  std::filesystem::remove(files_.key);
  const Reloader::Outcome outcome = reloader.check(false, kStart + std::chrono::seconds(1));
  ASSERT_EQ(outcome.kind, Kind::refused);
  EXPECT_THAT(outcome.message, HasSubstr("key " + files_.key + ": not a usable PEM private key"));
}

TEST_F(ReloaderTest, ASymlinkSwapCountsAsAChange) {
  // Kubernetes mounts a secret as symbolic links through `..data`, swapped by rename.
  const std::string v1 = dir_.file("v1");
  const std::string v2 = dir_.file("v2");
  std::filesystem::create_directory(v1);
  std::filesystem::create_directory(v2);
  ca_.issue_files({.common_name = "one.example.com"}, v1, "tls");
  ca_.issue_files({.common_name = "two.example.com"}, v2, "tls");
  std::filesystem::create_directory_symlink("v1", dir_.file("..data"));
  std::filesystem::create_symlink("..data/tls.crt", dir_.file("tls.crt"));
  std::filesystem::create_symlink("..data/tls.key", dir_.file("tls.key"));

  Reloader reloader("gateway", tls_config({{dir_.file("tls.crt"), dir_.file("tls.key"), {}}}));
  auto loaded = reloader.load(kStart);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(subject_of(*loaded), "/CN=one.example.com");

  std::filesystem::create_directory_symlink("v2", dir_.file("..data_tmp"));
  std::filesystem::rename(dir_.file("..data_tmp"), dir_.file("..data"));
  const Reloader::Outcome outcome = reloader.check(false, kStart + std::chrono::seconds(1));
  ASSERT_EQ(outcome.kind, Kind::reloaded) << outcome.message;
  EXPECT_EQ(subject_of(outcome.context), "/CN=two.example.com");
}

TEST(FileStamp, SaysWhetherTheFileExistsAndChangesWithIt) {
  ScratchDir dir;
  const std::string path = dir.file("a.pem");
  EXPECT_FALSE(stamp_of(path).exists);
  glidepath::testing::write_file(path, "one");
  const FileStamp first = stamp_of(path);
  EXPECT_TRUE(first.exists);
  EXPECT_EQ(first.size, 3);
  EXPECT_EQ(stamp_of(path), first);
  glidepath::testing::replace_file(path, "two");  // same size, a new inode
  EXPECT_NE(stamp_of(path), first);
}

}  // namespace
}  // namespace glidepath::tls
