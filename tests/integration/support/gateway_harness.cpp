#include "support/gateway_harness.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "support/process.h"

namespace glidepath::testing {

namespace {

// Under the sanitizers a start takes a moment; a second on a loaded CI machine.
constexpr auto kStartTimeout = std::chrono::seconds(20);

}  // namespace

// ---- TempDir ------------------------------------------------------------------------------

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/glidepath-test-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, std::string_view text) const {
  const std::string file = path_ + "/" + name;
  std::ofstream out(file, std::ios::binary);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) throw std::runtime_error("cannot write " + file);
  return file;
}

// ---- SampleBackend ------------------------------------------------------------------------

SampleBackend::SampleBackend(std::string name, std::vector<std::string> args)
    : name_(std::move(name)), process_(argv(std::move(args), name_)) {
  auto line = process_.wait_for_line(
      "^sample-backend " + name_ + R"( listening on 127\.0\.0\.1:(\d+)$)", kStartTimeout);
  if (!line) throw std::runtime_error("the sample backend did not start: " + process_.err());
  port_ = static_cast<std::uint16_t>(std::stoi((*line)[1]));
}

SampleBackend::~SampleBackend() {
  if (killed_) return;
  const int code = process_.terminate();
  EXPECT_EQ(code, 0) << "sample backend " << name_ << ": " << process_.err();
  EXPECT_EQ(process_.err(), "") << "sample backend " << name_;
}

std::vector<std::string> SampleBackend::argv(std::vector<std::string> args,
                                             const std::string& name) {
  args.insert(args.begin(), {glidepath_binary(), "sample-backend", "--port", "0", "--name", name});
  return args;
}

std::string SampleBackend::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

std::string SampleBackend::requests_seen() const {
  HttpResponse r = client().request("GET", "/_test/requests");
  EXPECT_EQ(r.status, 200) << r.error;
  return r.body;
}

void SampleBackend::kill() {
  killed_ = true;
  process_.kill(SIGKILL);
}

// ---- GatewayServer ------------------------------------------------------------------------

namespace {

std::string gateway_config(const std::string& services_yaml, const GatewaySettings& s,
                           const std::string& store_path) {
  std::ostringstream out;
  out << "gateway:\n  listen: 127.0.0.1:0\n  workers: " << s.workers << "\n";
  if (!s.header_timeout.empty()) out << "  header_timeout: " << s.header_timeout << "\n";
  if (!s.request_timeout.empty()) out << "  request_timeout: " << s.request_timeout << "\n";
  if (!s.idle_timeout.empty()) out << "  idle_timeout: " << s.idle_timeout << "\n";
  if (s.max_header_bytes != 0) out << "  max_header_bytes: " << s.max_header_bytes << "\n";
  if (s.max_body_bytes != 0) out << "  max_body_bytes: " << s.max_body_bytes << "\n";
  if (!s.websocket_idle_timeout.empty()) {
    out << "  websocket_idle_timeout: " << s.websocket_idle_timeout << "\n";
  }
  if (!s.websocket_drain.empty()) out << "  websocket_drain: " << s.websocket_drain << "\n";
  out << s.more_yaml;
  out << "admin:\n  listen: 127.0.0.1:0\n";
  out << "store: sqlite:" << store_path << "\n";
  out << "services:\n" << services_yaml;
  return out.str();
}

}  // namespace

GatewayServer::GatewayServer(const std::string& services_yaml, const GatewaySettings& settings)
    : config_text_(gateway_config(services_yaml, settings, dir_.path() + "/glidepath.db")),
      process_({glidepath_binary(), "serve", "-c", dir_.write("glidepath.yaml", config_text_)}) {
  // One line per gateway listener, in order, "(TLS)" or "(redirects to HTTPS)" after
  // some; then the admin API's.
  auto gateway_line = process_.wait_for_line(
      R"(^gateway listening on 127\.0\.0\.1:(\d+)( \(.*\))?$)", kStartTimeout);
  if (!gateway_line) {
    throw std::runtime_error("the gateway did not start: " + process_.err() + "\nconfig:\n" +
                             config_text_);
  }
  ports_.push_back(static_cast<std::uint16_t>(std::stoi((*gateway_line)[1])));
  while (true) {
    auto line = process_.wait_for_line(
        R"(^(gateway|admin) listening on 127\.0\.0\.1:(\d+)( \(.*\))?$)", kStartTimeout);
    if (!line) throw std::runtime_error("the admin API did not start: " + process_.err());
    const auto port = static_cast<std::uint16_t>(std::stoi((*line)[2]));
    if ((*line)[1] == "admin") {
      admin_port_ = port;
      break;
    }
    ports_.push_back(port);
  }
}

GatewayServer::~GatewayServer() {
  if (!stopped_) stop();
}

int GatewayServer::stop() {
  stopped_ = true;
  const int code = process_.terminate(std::chrono::seconds(15));
  EXPECT_EQ(code, 0) << "glidepath serve: " << process_.err();
  if (allowed_stderr_.empty()) {
    EXPECT_EQ(process_.err(), "") << "glidepath serve";
    return code;
  }
  std::string unexpected;
  std::istringstream lines(process_.err());
  for (std::string line; std::getline(lines, line);) {
    const bool allowed =
        std::any_of(allowed_stderr_.begin(), allowed_stderr_.end(),
                    [&](const std::string& p) { return std::regex_search(line, std::regex(p)); });
    if (!allowed) unexpected += line + "\n";
  }
  EXPECT_EQ(unexpected, "") << "glidepath serve, unexpected on stderr";
  return code;
}

std::uint64_t GatewayServer::rss_bytes() const {
  std::ifstream status("/proc/" + std::to_string(process_.pid()) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    std::uint64_t kb = 0;
    fields >> kb;
    return kb * 1024;
  }
  return 0;
}

std::string GatewayServer::metrics_text() const {
  HttpResponse r = admin_client().request("GET", "/metrics");
  EXPECT_EQ(r.status, 200) << r.error;
  return r.body;
}

// ---- helpers ------------------------------------------------------------------------------

std::optional<double> prometheus_value(std::string_view text, std::string_view series) {
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    if (line.size() > series.size() + 1 && line.substr(0, series.size()) == series &&
        line[series.size()] == ' ') {
      return std::strtod(std::string(line.substr(series.size() + 1)).c_str(), nullptr);
    }
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return std::nullopt;
}

bool looks_like_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

std::string test_data(std::size_t size) {
  std::string data(size, '\0');
  std::uint64_t x = 0x2545f4914f6cdd1dULL;
  for (char& c : data) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return data;
}

}  // namespace glidepath::testing
