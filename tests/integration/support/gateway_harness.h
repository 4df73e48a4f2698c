// The gateway under test as a user runs it: `glidepath serve -c FILE` with a config written
// into a fresh temporary directory, in front of real `glidepath sample-backend` processes,
// every port chosen by the kernel (port 0) and learned from the line each server prints.
// No sleeps: every wait is on a printed line or a response, bounded by a timeout.
//
// At the end each server must stop cleanly on SIGTERM (exit 0) with nothing on stderr: a
// sanitizer report (leak, overflow, undefined behaviour) in a server fails the test that
// started it. A test that makes the server write a line on purpose (a refused certificate)
// says which lines it expects (GatewayServer::allow_stderr); anything else still fails.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/background_process.h"
#include "support/http_client.h"

namespace glidepath::testing {

// A directory under $TMPDIR (or /tmp) removed with everything in it at the end.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `text` to path()/name and returns the file's path.
  std::string write(const std::string& name, std::string_view text) const;

 private:
  std::string path_;
};

// `glidepath sample-backend --port 0 --name NAME [args...]`.
class SampleBackend {
 public:
  explicit SampleBackend(std::string name = "v1", std::vector<std::string> args = {});
  ~SampleBackend();  // SIGTERM; exit 0 and an empty stderr expected (unless killed())
  SampleBackend(const SampleBackend&) = delete;
  SampleBackend& operator=(const SampleBackend&) = delete;

  std::uint16_t port() const { return port_; }
  std::string address() const;  // "127.0.0.1:PORT", as a config's upstreams name it
  const std::string& name() const { return name_; }
  HttpClient client() const { return HttpClient("127.0.0.1", port_); }
  BackgroundProcess& process() { return process_; }
  // The backend's /_test/requests: the method and target of the last requests received,
  // one "METHOD target" line each (the query itself included at the end).
  std::string requests_seen() const;
  // SIGKILL: from now on its port refuses connections.
  void kill();

 private:
  static std::vector<std::string> argv(std::vector<std::string> args, const std::string& name);

  std::string name_;
  BackgroundProcess process_;
  std::uint16_t port_ = 0;
  bool killed_ = false;
};

// The gateway section of a config; empty strings and zeroes keep the defaults.
struct GatewaySettings {
  int workers = 1;  // one event loop: proves that slow clients do not block others
  std::string header_timeout;
  std::string request_timeout;
  std::string idle_timeout;
  std::uint64_t max_header_bytes = 0;
  std::uint64_t max_body_bytes = 0;
  std::string websocket_idle_timeout;
  std::string websocket_drain;
  // More of the gateway section, as written (each line indented two spaces), e.g. a `tls:`
  // block or `listeners:`. Listeners should listen on 127.0.0.1:0.
  std::string more_yaml;
};

// `glidepath serve -c FILE`. `services_yaml` is the list under `services:`, each item
// written as "  - name: ...".
class GatewayServer {
 public:
  explicit GatewayServer(const std::string& services_yaml, const GatewaySettings& settings = {});
  ~GatewayServer();  // stop(), unless a test already did
  GatewayServer(const GatewayServer&) = delete;
  GatewayServer& operator=(const GatewayServer&) = delete;

  std::uint16_t port() const { return ports_.front(); }
  // Listener `listener`'s port: 0 is gateway.listen, then gateway.listeners in order.
  std::uint16_t port(std::size_t listener) const { return ports_.at(listener); }
  std::size_t listener_count() const { return ports_.size(); }
  std::uint16_t admin_port() const { return admin_port_; }
  HttpClient client() const { return HttpClient("127.0.0.1", port()); }
  HttpClient client(std::size_t listener) const { return HttpClient("127.0.0.1", port(listener)); }
  // A TLS connection to a listener (throws when the handshake fails).
  HttpClient tls_client(TlsOptions options, std::size_t listener = 0) const {
    return HttpClient("127.0.0.1", port(listener), std::move(options));
  }
  HttpClient admin_client() const { return HttpClient("127.0.0.1", admin_port_); }
  BackgroundProcess& process() { return process_; }
  pid_t pid() const { return process_.pid(); }
  const std::string& config_text() const { return config_text_; }

  // The resident set size of the serve process (VmRSS in /proc/PID/status), in bytes;
  // 0 when it cannot be read.
  std::uint64_t rss_bytes() const;
  // GET /metrics on the admin port.
  std::string metrics_text() const;
  // SIGTERM and wait: returns the exit status (expected 0) and checks stderr is empty but
  // for the lines allow_stderr() expects.
  int stop();
  // Lines of stderr matching `pattern` (std::regex_search) are expected, not a failure.
  void allow_stderr(std::string pattern) { allowed_stderr_.push_back(std::move(pattern)); }

 private:
  TempDir dir_;
  std::string config_text_;
  BackgroundProcess process_;
  std::vector<std::uint16_t> ports_;
  std::vector<std::string> allowed_stderr_;
  std::uint16_t admin_port_ = 0;
  bool stopped_ = false;
};

// The value of the sample whose name and labels are exactly `series` (e.g.
// `glidepath_requests_total{service="orders",version="v1",code="5xx"}`) in Prometheus
// text, or nullopt when there is no such line.
std::optional<double> prometheus_value(std::string_view text, std::string_view series);

// A canonical random UUID in lower- or upper-case hex: 8-4-4-4-12.
bool looks_like_uuid(std::string_view text);

// `size` deterministic pseudo-random bytes (xorshift), every byte value occurring.
std::string test_data(std::size_t size);

}  // namespace glidepath::testing
