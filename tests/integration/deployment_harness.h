// Deployments through the real binary (SPEC sections 3 and 7): `glidepath serve` with a
// config and a SQLite file in a temporary directory — restartable with both, as after a
// crash — real `glidepath sample-backend` versions, the admin API over raw sockets, and a
// steady load through the gateway counting every failed request.
//
// No sleeps as synchronisation: every wait polls the admin API (or a printed line) with a
// deadline, and fails the test with what it last saw when the deadline passes.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/background_process.h"
#include "support/gateway_harness.h"
#include "support/http_client.h"

namespace glidepath::testing {

using Json = nlohmann::json;

struct AdminReply {
  int status = 0;  // 0: no answer (see error)
  Json json;       // null when the body was not JSON
  std::string body;
  std::string content_type;
  std::string error;
};

// One request to an admin API on 127.0.0.1:`port` on a fresh connection (a JSON body gets
// its Content-Type); never throws: a failure is in `error`.
AdminReply admin_request(uint16_t port, const std::string& method, const std::string& target,
                         const std::string& body = "", HeaderFields headers = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(15));

// `glidepath serve -c DIR/glidepath.yaml` with `store: sqlite:DIR/glidepath.db`. Both
// outlive the process, so start() after kill() is a restart after a crash.
class ServeProcess {
 public:
  // `services_yaml`: the list under `services:` ("  - name: ..."). `token`: the admin
  // API's bearer token, if any. `gateway_yaml`: more lines of the gateway section, each
  // indented by 2.
  explicit ServeProcess(std::string services_yaml, std::string token = "",
                        const std::string& gateway_yaml = "");
  ~ServeProcess();  // stop() when still running
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  void start();  // waits for both ports (new ones on every start: listen port 0)
  void kill();   // SIGKILL, no chance to clean up
  // SIGTERM; expects exit 0 and an empty stderr (no sanitizer report).
  int stop();
  bool running() const { return process_ != nullptr; }

  uint16_t port() const { return port_; }
  uint16_t admin_port() const { return admin_port_; }
  std::string admin_url() const;
  const std::string& token() const { return token_; }
  const TempDir& dir() const { return dir_; }
  BackgroundProcess& process() { return *process_; }

  // One request on a fresh connection; the token is sent unless `with_token` is false.
  AdminReply admin(const std::string& method, const std::string& target,
                   const std::string& body = "", bool with_token = true,
                   const HeaderFields& extra_headers = {}) const;
  AdminReply get(const std::string& target) const { return admin("GET", target); }
  AdminReply post(const std::string& target, const Json& body) const {
    return admin("POST", target, body.dump());
  }

 private:
  TempDir dir_;
  std::string token_;
  std::string config_path_;
  std::unique_ptr<BackgroundProcess> process_;
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
};

// The services YAML for one service `name` at `prefix` with a live version `v1` on
// `upstream`; `deployment_yaml` (lines indented by 6, under `deployment:`) adds defaults.
std::string one_service(const std::string& upstream, const std::string& deployment_yaml = "",
                        const std::string& name = "orders", const std::string& prefix = "/orders");

// POST /v1/services/{service}/deployments; expects 201 and returns the deployment.
Json start_deployment(const ServeProcess& serve, const std::string& service, const Json& body);

// Polls GET /v1/deployments/{id} every 50 ms until `done(deployment)` or `timeout`;
// a timeout fails the test (ADD_FAILURE, with `what` and the last object) and returns
// the last object seen.
Json wait_for(const ServeProcess& serve, const std::string& id,
              const std::function<bool(const Json&)>& done, std::chrono::milliseconds timeout,
              const std::string& what);
Json wait_for_state(const ServeProcess& serve, const std::string& id, const std::string& state,
                    std::chrono::milliseconds timeout = std::chrono::seconds(20));
// Until succeeded, rolled_back or failed.
Json wait_until_finished(const ServeProcess& serve, const std::string& id,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));

bool is_finished(const Json& deployment);
// Whether an event of `type` whose message contains `text` is in the deployment's log.
bool has_event(const Json& deployment, const std::string& type, const std::string& text = "");
// The event log as "type: message" lines, for failure messages.
std::string event_log(const Json& deployment);

// A steady load of GET requests through the gateway from one thread, one keep-alive
// connection at a time, paced; counts every answer by status and by the version that
// served it (X-Glidepath-Version). Bounded: it stops by itself after `max_duration`.
class SteadyLoad {
 public:
  struct Counts {
    uint64_t ok = 0;      // 2xx
    uint64_t failed = 0;  // anything else, or no complete answer
    std::map<std::string, uint64_t> by_version;
    std::vector<std::string> failures;  // the first few, described
  };

  explicit SteadyLoad(uint16_t gateway_port, std::string target = "/orders/1",
                      std::chrono::microseconds pace = std::chrono::milliseconds(4),
                      std::chrono::seconds max_duration = std::chrono::seconds(90));
  ~SteadyLoad();
  SteadyLoad(const SteadyLoad&) = delete;
  SteadyLoad& operator=(const SteadyLoad&) = delete;

  void stop();
  Counts counts() const;
  // Waits until at least `n` more answers than now arrived (bounded).
  bool wait_for_answers(uint64_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  void run(uint16_t port, std::string target, std::chrono::microseconds pace,
           std::chrono::seconds max_duration);

  mutable std::mutex mutex_;
  Counts counts_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// A tiny HTTP server for hooks: answers every request with `status` (and an empty body),
// recording each request's method, target and body.
class HookEndpoint {
 public:
  explicit HookEndpoint(int status);
  ~HookEndpoint();
  HookEndpoint(const HookEndpoint&) = delete;
  HookEndpoint& operator=(const HookEndpoint&) = delete;

  std::string url(const std::string& path = "/hook") const;
  std::vector<std::string> requests() const;  // "METHOD target\n\nbody" each
  bool wait_for_requests(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  void serve();
  int status_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

}  // namespace glidepath::testing
