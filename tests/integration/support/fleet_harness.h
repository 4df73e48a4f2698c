// A fleet through the real binary (SPEC section 9): a throwaway PostgreSQL cluster per
// test (scripts/pg-cluster.sh), several `glidepath serve --role gateway|controller|all`
// processes sharing it, each with its own config file and its own admin listener, and the
// helpers a fleet test waits with: the leader among the controllers, a deployment's state
// as the database has it, a weight every gateway shows.
//
// Built on the single-process harness (deployment_harness.h): AdminReply, SteadyLoad and
// the event-log helpers are reused as they are. Its wait_for() polls a ServeProcess, which
// always runs with a SQLite store, so the deployment waits here are the same loop over a
// FleetProcess.
//
// No sleeps as synchronisation: every wait polls with a deadline and fails the test with
// what it last saw.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "deployment_harness.h"
#include "support/background_process.h"
#include "support/gateway_harness.h"

namespace glidepath::testing {

// `scripts/pg-cluster.sh start` into a fresh temporary directory; `stop` (which removes
// the data) at the end. Throws std::runtime_error when the cluster does not start.
class PgCluster {
 public:
  PgCluster();
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // postgres://USER@127.0.0.1:PORT/postgres
  const std::string& url() const { return url_; }

  // The script's other subcommands; each returns whether it exited 0 (and adds a test
  // failure with its output when not). restart = stop + start on the same port, keeping
  // the data; halt stops the server until start() brings it back on the same port.
  bool restart();
  bool halt();
  bool start();

 private:
  bool run(const std::string& subcommand);

  TempDir dir_;
  std::string cluster_dir_;
  std::string url_;
};

// The services YAML for one service `orders` at /orders: version v1 on `v1_upstream`,
// live, and (when `v2_upstream` is not empty) a version v2 on `v2_upstream` with no
// traffic. `deployment_yaml` (lines indented by 6) adds to the service's deployment
// defaults, as one_service() does.
std::string fleet_service(const std::string& v1_upstream, const std::string& v2_upstream = "",
                          const std::string& deployment_yaml = "");

// `glidepath serve -c FILE --role ROLE` with its own config file in its own directory:
// `store: STORE_URL`, gateway and admin on 127.0.0.1:0, two gateway workers.
class FleetProcess {
 public:
  // `role`: "gateway", "controller" or "all". `name` appears in failure messages
  // ("gateway A"). Starts at once (see start()).
  FleetProcess(std::string name, std::string role, const std::string& store_url,
               const std::string& services_yaml);
  ~FleetProcess();  // stop() when still running
  FleetProcess(const FleetProcess&) = delete;
  FleetProcess& operator=(const FleetProcess&) = delete;

  // Waits for the admin port, and for the gateway port when the role has a gateway (new
  // ports on every start). Throws std::runtime_error when a line does not come.
  void start();
  void kill();  // SIGKILL, no chance to clean up
  // SIGTERM; expects exit 0 and no sanitizer report on stderr. (A fleet process may log
  // to stderr, about a database outage for example, so stderr need not be empty.)
  int stop();
  bool running() const { return process_ != nullptr; }

  const std::string& name() const { return name_; }
  const std::string& role() const { return role_; }
  bool has_gateway() const { return role_ != "controller"; }
  bool has_controller() const { return role_ != "gateway"; }
  uint16_t port() const { return port_; }  // the gateway's; 0 for a controller
  uint16_t admin_port() const { return admin_port_; }
  BackgroundProcess& process() { return *process_; }

  // One request to the admin API on a fresh connection.
  AdminReply admin(const std::string& method, const std::string& target,
                   const std::string& body = "") const;
  AdminReply get(const std::string& target) const { return admin("GET", target); }
  AdminReply post(const std::string& target, const Json& body) const {
    return admin("POST", target, body.dump());
  }

 private:
  std::string name_;
  std::string role_;
  TempDir dir_;
  std::string config_path_;
  std::unique_ptr<BackgroundProcess> process_;
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
};

// /healthz's "controller": {"leader": ...}; nullopt when the process does not answer or
// says nothing about it.
std::optional<bool> says_leader(const AdminReply& health);
std::optional<bool> says_leader(const FleetProcess& process);  // asks its /healthz

// Polls /healthz of every running controller until exactly one says it is the leader and
// every other one says it is not; returns it. A timeout fails the test (with the last
// answers) and returns nullptr.
FleetProcess* wait_for_leader(const std::vector<FleetProcess*>& controllers,
                              std::chrono::milliseconds timeout = std::chrono::seconds(15));

// POST /v1/services/{service}/deployments on `leader`; expects 201 and returns the
// deployment.
Json start_fleet_deployment(const FleetProcess& leader, const std::string& service,
                            const Json& body);

// Polls GET /v1/deployments/{id} on `process` every 50 ms until `done(deployment)` or
// `timeout`; a timeout fails the test (with `what`, the last state and the event log) and
// returns the last object seen.
Json wait_for_deployment(const FleetProcess& process, const std::string& id,
                         const std::function<bool(const Json&)>& done,
                         std::chrono::milliseconds timeout, const std::string& what);
Json wait_for_deployment_state(const FleetProcess& process, const std::string& id,
                               const std::string& state,
                               std::chrono::milliseconds timeout = std::chrono::seconds(20));
// Until succeeded, rolled_back or failed.
Json wait_for_deployment_end(const FleetProcess& process, const std::string& id,
                             std::chrono::milliseconds timeout = std::chrono::seconds(30));

// The weight in percent of `version` in a GET /v1/services/{s} answer: 0 when the
// snapshot does not list the version, nullopt when the answer is not a service.
std::optional<double> version_weight(const Json& service, const std::string& version);

// Polls every gateway's GET /v1/services/{service} until each shows `version` at
// `weight` percent (and, when `live` is not empty, that live version). A timeout fails
// the test (with what each gateway last showed) and returns false.
bool wait_for_weight(const std::vector<FleetProcess*>& gateways, const std::string& service,
                     const std::string& version, double weight, const std::string& live = "",
                     std::chrono::milliseconds timeout = std::chrono::seconds(15));

// Polls /healthz and /metrics of `process` until its store status is `store_status`
// ("ok" or "error") and then until glidepath_store_up says the same (1 or 0). A timeout
// fails the test.
bool wait_for_store_status(const FleetProcess& process, const std::string& store_status,
                           std::chrono::milliseconds timeout = std::chrono::seconds(15));

// An RFC 3339 UTC time as the admin API writes it ("2025-01-02T03:04:05.123456Z", any
// number of fractional digits), or nullopt.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text);

// Weights a deployment went through, from its "weight" events ("0% → 20% of traffic on
// v2"), each with the time the leader stored it.
struct WeightChange {
  int weight = 0;
  std::chrono::system_clock::time_point time;
  std::string time_text;
};
std::vector<WeightChange> weight_changes(const Json& deployment);

// Watches what each gateway's own snapshot says: polls GET /v1/services/{service} on
// every gateway about every `interval` on a keep-alive connection, from one background
// thread per gateway, and records each change of `version`'s weight with the wall-clock
// time the answer arrived (an upper bound of when the gateway's snapshot changed, at most
// one poll late). Bounded: it stops by itself after `max_duration`.
class WeightWatcher {
 public:
  struct Seen {
    double weight = 0;
    std::chrono::system_clock::time_point time;
  };

  WeightWatcher(const std::vector<FleetProcess*>& gateways, std::string service,
                std::string version,
                std::chrono::microseconds interval = std::chrono::milliseconds(5),
                std::chrono::seconds max_duration = std::chrono::seconds(60));
  ~WeightWatcher();
  WeightWatcher(const WeightWatcher&) = delete;
  WeightWatcher& operator=(const WeightWatcher&) = delete;

  void stop();
  // Gateway i's changes, in order (its first answer included).
  std::vector<Seen> seen(size_t gateway) const;
  uint64_t polls(size_t gateway) const;

 private:
  struct Track {
    uint16_t admin_port = 0;
    std::vector<Seen> seen;
    uint64_t polls = 0;
  };
  void run(size_t index, std::chrono::microseconds interval, std::chrono::seconds max_duration);

  std::string service_;
  std::string version_;
  mutable std::mutex mutex_;
  std::vector<Track> tracks_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

// For each weight change of the deployment and each gateway: the time from the leader's
// stored event to the first later answer of that gateway showing the new weight, in ms.
// A change some gateway never showed is listed in `missing` ("gateway A: 50% (event at
// ...)"), not in `latencies_ms`.
struct Propagation {
  std::vector<double> latencies_ms;
  std::vector<std::string> missing;
};
Propagation weight_propagation(const std::vector<WeightChange>& changes,
                               const std::vector<std::vector<WeightWatcher::Seen>>& per_gateway,
                               const std::vector<std::string>& gateway_names);

}  // namespace glidepath::testing
