// The CLI's admin calls over https: --ca-file (or GLIDEPATH_CA_FILE) trusts an admin API
// whose certificate a private CA signed; without it the system's CAs refuse it, and the
// error says so and how to fix it. Against a TLS test server (tests/http) answering as the
// admin API would, and against a real `glidepath serve` with admin.tls.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/background_process.h"
#include "support/process.h"
#include "test_server.h"

namespace glidepath::testing {
namespace {

using ::testing::HasSubstr;

class CliOverHttps : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("glidepath-cli-tls-" + std::to_string(::getpid()));
    pki_ = make_test_pki(dir_);
    TestHttpServer::Options options;
    options.cert_file = pki_.server_cert;
    options.key_file = pki_.server_key;
    options.answer = [](const ReceivedRequest&) {
      return http_response(200, R"({"services": []})", {{"Content-Type", "application/json"}});
    };
    server_ = std::make_unique<TestHttpServer>(options);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  ProcessResult glidepath(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), glidepath_binary());
    return run_process(args, std::chrono::seconds(30), env);
  }
  std::string admin() const { return server_->url(""); }  // https://127.0.0.1:PORT

  std::filesystem::path dir_;
  TestPki pki_;
  std::unique_ptr<TestHttpServer> server_;
};

TEST_F(CliOverHttps, TheCaFileFlagTrustsAPrivateCa) {
  const ProcessResult r = glidepath(
      {"status", "--json", "--admin", admin(), "--ca-file", pki_.ca_cert, "--token", "t0ken"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"services\""));
  const auto seen = server_->requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_THAT(seen[0].head, HasSubstr("GET /v1/services HTTP/1.1\r\n"));
  EXPECT_THAT(seen[0].head, HasSubstr("Authorization: Bearer t0ken\r\n"));
}

TEST_F(CliOverHttps, TheEnvironmentCanNameTheCaFile) {
  const ProcessResult r =
      glidepath({"status", "--json", "--admin", admin()}, {"GLIDEPATH_CA_FILE=" + pki_.ca_cert});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(server_->requests().size(), 1u);
}

TEST_F(CliOverHttps, WithoutTheCaTheCertificateIsNotTrustedAndTheHintSaysWhatToDo) {
  const ProcessResult r = glidepath({"status", "--admin", admin()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("cannot reach the admin API at " + admin()));
  EXPECT_THAT(r.err, HasSubstr("the server's certificate is not trusted by the system's CAs"));
  EXPECT_THAT(r.err, HasSubstr("hint: the admin API's certificate is signed by a CA this machine "
                               "does not trust: pass that CA with --ca-file"));
  EXPECT_TRUE(server_->requests().empty());
}

TEST_F(CliOverHttps, AMissingCaFileIsNamed) {
  const std::string missing = pki_.ca_cert + ".missing";
  const ProcessResult r = glidepath({"status", "--admin", admin(), "--ca-file", missing});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("cannot use the CA file " + missing));
}

TEST_F(CliOverHttps, AServeWithAdminTlsIsReachedWithTheCaFile) {
  {
    std::ofstream config(dir_ / "glidepath.yaml");
    config << "store: \"sqlite::memory:\"\n"
              "gateway: {listen: 127.0.0.1:0}\n"
              "admin:\n"
              "  listen: 127.0.0.1:0\n"
              "  tls:\n"
              "    certificates: [{cert: server.pem, key: server-key.pem}]\n"
              "services:\n"
              "  - name: orders\n"
              "    versions: [{name: v1, upstreams: [127.0.0.1:9]}]\n"
              "    live: v1\n";
  }
  BackgroundProcess serve({glidepath_binary(), "serve", "-c", (dir_ / "glidepath.yaml").string()});
  const auto line = serve.wait_for_line(R"(^admin listening on 127\.0\.0\.1:(\d+) \(TLS\)$)",
                                        std::chrono::seconds(30));
  ASSERT_TRUE(line) << serve.out() << serve.err();
  const std::string url = "https://127.0.0.1:" + (*line)[1];

  ProcessResult r =
      glidepath({"status", "orders", "--json", "--admin", url, "--ca-file", pki_.ca_cert});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"live\": \"v1\""));

  r = glidepath({"status", "orders", "--admin", url});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("the server's certificate is not trusted by the system's CAs"));

  // The admin API speaks only TLS there: plain http is not an answer.
  r = glidepath({"status", "orders", "--admin", "http://127.0.0.1:" + (*line)[1]});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(serve.terminate(std::chrono::seconds(20)), 0) << serve.err();
}

}  // namespace
}  // namespace glidepath::testing
