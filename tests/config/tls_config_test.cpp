// The TLS parts of a config that is valid: gateway.tls, gateway.listeners and their
// defaults, read into the structs; and, loading from a file, certificate paths resolved
// against the file's directory, a missing one reported with its path.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "config/loader.h"
#include "test_support.h"

namespace glidepath::config {
namespace {

using namespace std::chrono_literals;
using testing::describe;
using testing::empty_env;
using ::testing::HasSubstr;

constexpr std::string_view kService = R"(services:
  - name: orders
    versions:
      - name: v1
        upstreams: [127.0.0.1:9001]
    live: v1
)";

// A directory with a config file in it and the certificate files it names (their content
// does not matter to the config: ServerContext::load reads them).
class ConfigDir {
 public:
  ConfigDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                          "/glidepath-tls-config-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~ConfigDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ConfigDir(const ConfigDir&) = delete;
  ConfigDir& operator=(const ConfigDir&) = delete;

  std::string write(const std::string& name, std::string_view text) const {
    const std::filesystem::path file = path_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << text;
    return file.string();
  }
  std::string path(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

TEST(TlsConfig, EveryFieldLandsInTheStructs) {
  const std::string yaml = std::string(R"(gateway:
  listen: 127.0.0.1:8443
  tls:
    certificates:
      - cert: /etc/tls/api.crt
        key: /etc/tls/api.key
        hosts: [API.Example.com, "*.Example.com"]
      - {cert: other.crt, key: other.key}
    min_version: "1.3"
    alpn: [http/1.1]
    session_tickets: false
    ticket_key_rotation: 30m
  listeners:
    - listen: 127.0.0.1:8080
      redirect_https: 8443
    - listen: 127.0.0.1:8081
    - listen: 127.0.0.1:9443
      tls:
        certificates: [{cert: b.crt, key: b.key}]
)") + std::string(kService);
  const LoadResult result = load_config(yaml, empty_env());
  ASSERT_TRUE(result.ok()) << describe(result);
  const GatewayConfig& gateway = result.config->gateway;
  EXPECT_EQ(gateway.listen, (core::HostPort{"127.0.0.1", 8443}));

  ASSERT_TRUE(gateway.tls.has_value());
  TlsConfig expected;
  expected.certificates = {
      {"/etc/tls/api.crt", "/etc/tls/api.key", {"api.example.com", "*.example.com"}},
      // Without a file to load from, a relative path stays as written.
      {"other.crt", "other.key", {}},
  };
  expected.min_version = TlsVersion::tls1_3;
  expected.alpn = {"http/1.1"};
  expected.session_tickets = false;
  expected.ticket_key_rotation = 30min;
  EXPECT_EQ(*gateway.tls, expected);

  ASSERT_EQ(gateway.listeners.size(), 3u);
  EXPECT_EQ(gateway.listeners[0],
            (ListenerConfig{{"127.0.0.1", 8080}, std::nullopt, uint16_t{8443}}));
  EXPECT_EQ(gateway.listeners[1],
            (ListenerConfig{{"127.0.0.1", 8081}, std::nullopt, std::nullopt}));
  ASSERT_TRUE(gateway.listeners[2].tls.has_value());
  EXPECT_EQ(gateway.listeners[2].listen, (core::HostPort{"127.0.0.1", 9443}));
  EXPECT_FALSE(gateway.listeners[2].redirect_https_port.has_value());
  // The defaults.
  const TlsConfig& defaults = *gateway.listeners[2].tls;
  EXPECT_EQ(defaults.certificates, (std::vector<TlsCertificate>{{"b.crt", "b.key", {}}}));
  EXPECT_EQ(defaults.min_version, TlsVersion::tls1_2);
  EXPECT_EQ(defaults.alpn, std::vector<std::string>{"http/1.1"});
  EXPECT_TRUE(defaults.session_tickets);
  EXPECT_EQ(defaults.ticket_key_rotation, 1h);

  // No TLS anywhere by default.
  const LoadResult plain = load_config(kService, empty_env());
  ASSERT_TRUE(plain.ok()) << describe(plain);
  EXPECT_FALSE(plain.config->gateway.tls.has_value());
  EXPECT_TRUE(plain.config->gateway.listeners.empty());
  EXPECT_FALSE(plain.config->admin.tls.has_value());
}

TEST(TlsConfig, VersionsAndRotationBounds) {
  for (const auto& [text, version] :
       {std::pair{"1.2", TlsVersion::tls1_2}, std::pair{"\"1.2\"", TlsVersion::tls1_2},
        std::pair{"1.3", TlsVersion::tls1_3}}) {
    const LoadResult result =
        load_config("gateway:\n  tls:\n    certificates: [{cert: a, key: b}]\n    min_version: " +
                        std::string(text) + "\n" + std::string(kService),
                    empty_env());
    ASSERT_TRUE(result.ok()) << text << "\n" << describe(result);
    EXPECT_EQ(result.config->gateway.tls->min_version, version) << text;
  }
  for (const auto& [text, rotation] :
       {std::pair{"1m", core::Duration(1min)}, std::pair{"168h", core::Duration(168h)}}) {
    const LoadResult result = load_config(
        "gateway:\n  tls:\n    certificates: [{cert: a, key: b}]\n    ticket_key_rotation: " +
            std::string(text) + "\n" + std::string(kService),
        empty_env());
    ASSERT_TRUE(result.ok()) << text << "\n" << describe(result);
    EXPECT_EQ(result.config->gateway.tls->ticket_key_rotation, rotation) << text;
  }
}

TEST(TlsConfig, ListenersOnPortZeroMayRepeat) {
  // Port 0 picks a free port each time (tests do that): never the same address twice.
  const LoadResult result = load_config(
      "gateway:\n  listen: 127.0.0.1:0\n  listeners:\n    - listen: 127.0.0.1:0\n"
      "    - listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0\n" +
          std::string(kService),
      empty_env());
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_EQ(result.config->gateway.listeners.size(), 2u);
}

TEST(TlsConfig, ADuplicateListenerIsNamedByItsOwnIndexAndLine) {
  // The first listener has an error of its own (and is left out of the result): the
  // duplicate is still listeners[2], on its own line.
  const LoadResult result = load_config(
      "gateway:\n"
      "  listeners:\n"
      "    - listen: 127.0.0.1:9443\n"
      "      tls: {certificates: []}\n"
      "    - listen: 127.0.0.1:8081\n"
      "    - listen: 127.0.0.1:8081\n" +
          std::string(kService),
      empty_env());
  ASSERT_EQ(result.errors.size(), 2u) << describe(result);
  EXPECT_EQ(result.errors[0].path, "gateway.listeners[0].tls.certificates");
  EXPECT_EQ(result.errors[1].path, "gateway.listeners[2].listen");
  EXPECT_EQ(result.errors[1].line, 6);
  EXPECT_EQ(result.errors[1].message, "127.0.0.1:8081 is listed twice");
}

TEST(TlsConfigFile, RelativePathsAreResolvedAgainstTheConfigsDirectory) {
  ConfigDir dir;
  dir.write("certs/api.crt", "x");
  dir.write("certs/api.key", "x");
  dir.write("listener.crt", "x");
  dir.write("listener.key", "x");
  const std::string file = dir.write("glidepath.yaml", R"(gateway:
  tls:
    certificates:
      - cert: certs/api.crt
        key: ./certs/../certs/api.key
  listeners:
    - listen: 127.0.0.1:9443
      tls:
        certificates: [{cert: listener.crt, key: listener.key}]
)" + std::string(kService));
  const LoadResult result = load_config_file(file, empty_env());
  ASSERT_TRUE(result.ok()) << describe(result);
  const GatewayConfig& gateway = result.config->gateway;
  ASSERT_TRUE(gateway.tls.has_value());
  EXPECT_EQ(gateway.tls->certificates.at(0).cert, dir.path("certs/api.crt"));
  EXPECT_EQ(gateway.tls->certificates.at(0).key, dir.path("certs/api.key"));
  ASSERT_TRUE(gateway.listeners.at(0).tls.has_value());
  EXPECT_EQ(gateway.listeners[0].tls->certificates.at(0).cert, dir.path("listener.crt"));
}

TEST(TlsConfigFile, AMissingCertificateFileIsReportedWithItsPathAndLine) {
  ConfigDir dir;
  dir.write("api.crt", "x");
  std::filesystem::create_directories(dir.path("a-directory"));
  const std::string file = dir.write("glidepath.yaml", R"(gateway:
  tls:
    certificates:
      - cert: api.crt
        key: missing.key
      - cert: a-directory
        key: api.crt
)" + std::string(kService));
  const LoadResult result = load_config_file(file, empty_env());
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.errors.size(), 2u) << describe(result);
  EXPECT_EQ(result.errors[0].path, "gateway.tls.certificates[0].key");
  EXPECT_EQ(result.errors[0].line, 5);
  EXPECT_EQ(result.errors[0].message, "no such file: " + dir.path("missing.key"));
  EXPECT_EQ(result.errors[1].path, "gateway.tls.certificates[1].cert");
  EXPECT_EQ(result.errors[1].line, 6);
  EXPECT_THAT(result.errors[1].message, HasSubstr("no such file: " + dir.path("a-directory")));
}

TEST(TlsConfigFile, AMissingFileOfAListenerIsReportedToo) {
  ConfigDir dir;
  const std::string file = dir.write("glidepath.yaml", R"(gateway:
  listeners:
    - listen: 127.0.0.1:9443
      tls:
        certificates: [{cert: /nonexistent/glidepath/x.crt, key: /nonexistent/glidepath/x.key}]
)" + std::string(kService));
  const LoadResult result = load_config_file(file, empty_env());
  ASSERT_EQ(result.errors.size(), 2u) << describe(result);
  EXPECT_EQ(result.errors[0].path, "gateway.listeners[0].tls.certificates[0].cert");
  EXPECT_EQ(result.errors[0].message, "no such file: /nonexistent/glidepath/x.crt");
  EXPECT_EQ(result.errors[1].path, "gateway.listeners[0].tls.certificates[0].key");
}

}  // namespace
}  // namespace glidepath::config
