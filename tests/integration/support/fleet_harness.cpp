#include "support/fleet_harness.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/process.h"

namespace glidepath::testing {

namespace {

using SteadyClock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;

// Under the sanitizers a start takes a moment; more on a loaded CI machine.
constexpr auto kStartTimeout = std::chrono::seconds(30);
// initdb plus the first start; the script itself gives up after 30 s per start.
constexpr auto kClusterTimeout = std::chrono::seconds(120);

bool same_weight(double a, double b) {
  return std::abs(a - b) < 0.005;
}

std::string script_path() {
  return source_dir() + "/scripts/pg-cluster.sh";
}

// What a sanitizer (ASan, LSan, UBSan, TSan) writes when it reports something.
bool has_sanitizer_report(const std::string& err) {
  return err.find("Sanitizer") != std::string::npos ||
         err.find("runtime error:") != std::string::npos;
}

std::string describe_service(const AdminReply& r) {
  if (r.status == 0) return "no answer (" + r.error + ")";
  if (!r.json.is_object()) return fmt::format("{} {}", r.status, r.body.substr(0, 200));
  std::string out = fmt::format("{} live={}", r.status, r.json.value("live", "?"));
  if (r.json.contains("versions") && r.json["versions"].is_array()) {
    for (const Json& v : r.json["versions"]) {
      out += fmt::format(" {}={}", v.value("name", "?"),
                         v.contains("weight") ? v["weight"].dump() : "?");
    }
  }
  return out;
}

}  // namespace

// ---- PgCluster ------------------------------------------------------------------------------

PgCluster::PgCluster() : cluster_dir_(dir_.path() + "/pg") {
  // As root the script runs the server as an unprivileged user and hands it the cluster
  // directory, which that user must be able to reach: mkdtemp made its parent 0700.
  if (::geteuid() == 0) ::chmod(dir_.path().c_str(), 0711);
  const ProcessResult r = run_process({script_path(), "start", cluster_dir_}, kClusterTimeout);
  if (r.exit_code != 0) {
    throw std::runtime_error(fmt::format("pg-cluster.sh start failed (exit {}{}): {}{}",
                                         r.exit_code, r.timed_out ? ", timed out" : "", r.out,
                                         r.err));
  }
  std::ifstream in(cluster_dir_ + "/url");
  if (!std::getline(in, url_) || url_.empty()) {
    throw std::runtime_error("pg-cluster.sh start wrote no URL to " + cluster_dir_ + "/url");
  }
}

PgCluster::~PgCluster() {
  run_process({script_path(), "stop", cluster_dir_}, std::chrono::seconds(60));
}

bool PgCluster::run(const std::string& subcommand) {
  const ProcessResult r = run_process({script_path(), subcommand, cluster_dir_}, kClusterTimeout);
  EXPECT_EQ(r.exit_code, 0) << "pg-cluster.sh " << subcommand << (r.timed_out ? " timed out" : "")
                            << ": " << r.out << r.err;
  return r.exit_code == 0;
}

bool PgCluster::restart() {
  return run("restart");
}

bool PgCluster::halt() {
  return run("halt");
}

bool PgCluster::start() {
  return run("start");
}

// ---- Config -------------------------------------------------------------------------------

std::string fleet_service(const std::string& v1_upstream, const std::string& v2_upstream,
                          const std::string& deployment_yaml) {
  std::string yaml = fmt::format(
      "  - name: orders\n"
      "    match: {{path_prefix: /orders}}\n"
      "    versions:\n"
      "      - name: v1\n"
      "        upstreams: [{}]\n",
      v1_upstream);
  if (!v2_upstream.empty()) {
    yaml += fmt::format(
        "      - name: v2\n"
        "        upstreams: [{}]\n",
        v2_upstream);
  }
  yaml +=
      "    live: v1\n"
      "    deployment:\n"
      "      evaluation_interval: 1s\n";
  return yaml + deployment_yaml;
}

// ---- FleetProcess -------------------------------------------------------------------------

FleetProcess::FleetProcess(std::string name, std::string role, const std::string& store_url,
                           const std::string& services_yaml)
    : name_(std::move(name)), role_(std::move(role)) {
  std::ostringstream config;
  config << "gateway:\n  listen: 127.0.0.1:0\n  workers: 2\n";
  config << "admin:\n  listen: 127.0.0.1:0\n";
  config << "store: " << store_url << "\n";
  config << "services:\n" << services_yaml;
  config_path_ = dir_.write("glidepath.yaml", config.str());
  start();
}

FleetProcess::~FleetProcess() {
  if (process_) stop();
}

void FleetProcess::start() {
  process_ = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{glidepath_binary(), "serve", "-c", config_path_, "--role", role_});
  port_ = 0;
  admin_port_ = 0;
  // The two lines may come in either order; wait_for_line consumes lines, so one pattern
  // takes both.
  const auto deadline = SteadyClock::now() + kStartTimeout;
  while (admin_port_ == 0 || (has_gateway() && port_ == 0)) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    auto line = process_->wait_for_line(R"(^(gateway|admin) listening on 127\.0\.0\.1:(\d+)$)",
                                        std::max(left, std::chrono::milliseconds(1)));
    if (!line) {
      throw std::runtime_error(fmt::format(
          "{} (glidepath serve --role {}) did not print its {} port: exit {}, "
          "stdout:\n{}\nstderr:\n{}",
          name_, role_, admin_port_ == 0 ? "admin" : "gateway",
          process_->exit_code() ? std::to_string(*process_->exit_code()) : "none (running)",
          process_->out(), process_->err()));
    }
    const auto port = static_cast<uint16_t>(std::stoi((*line)[2]));
    ((*line)[1] == "admin" ? admin_port_ : port_) = port;
  }
}

void FleetProcess::kill() {
  if (!process_) return;
  process_->kill(SIGKILL);
  process_.reset();
}

int FleetProcess::stop() {
  if (!process_) return -1;
  const int code = process_->terminate(std::chrono::seconds(20));
  EXPECT_EQ(code, 0) << name_ << " (glidepath serve --role " << role_
                     << ") did not stop cleanly; stderr:\n"
                     << process_->err();
  EXPECT_FALSE(has_sanitizer_report(process_->err())) << name_ << " reported a sanitizer error:\n"
                                                      << process_->err();
  process_.reset();
  return code;
}

AdminReply FleetProcess::admin(const std::string& method, const std::string& target,
                               const std::string& body) const {
  return admin_request(admin_port_, method, target, body, {}, std::chrono::seconds(10));
}

// ---- Leader ---------------------------------------------------------------------------------

std::optional<bool> says_leader(const AdminReply& health) {
  if (!health.json.is_object() || !health.json.contains("controller") ||
      !health.json["controller"].is_object()) {
    return std::nullopt;
  }
  const Json& leader = health.json["controller"]["leader"];
  if (!leader.is_boolean()) return std::nullopt;
  return leader.get<bool>();
}

std::optional<bool> says_leader(const FleetProcess& process) {
  if (!process.running()) return std::nullopt;
  return says_leader(process.get("/healthz"));
}

FleetProcess* wait_for_leader(const std::vector<FleetProcess*>& controllers,
                              std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  std::string last;
  while (true) {
    FleetProcess* leader = nullptr;
    int leaders = 0;
    bool all_answered = true;
    last.clear();
    for (FleetProcess* c : controllers) {
      if (!c->running()) continue;
      const AdminReply r = c->get("/healthz");
      last += fmt::format("  {}: {} {}\n", c->name(), r.status, r.status ? r.body : r.error);
      const auto says = says_leader(r);
      if (!says) {
        all_answered = false;
      } else if (*says) {
        leader = c;
        ++leaders;
      }
    }
    if (all_answered && leaders == 1) return leader;
    if (SteadyClock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "no single leader among the controllers; their last /healthz:\n" << last;
  return nullptr;
}

// ---- Deployments ----------------------------------------------------------------------------

Json start_fleet_deployment(const FleetProcess& leader, const std::string& service,
                            const Json& body) {
  const AdminReply r = leader.post("/v1/services/" + service + "/deployments", body);
  EXPECT_EQ(r.status, 201) << leader.name() << ": " << r.body << r.error;
  return r.json;
}

Json wait_for_deployment(const FleetProcess& process, const std::string& id,
                         const std::function<bool(const Json&)>& done,
                         std::chrono::milliseconds timeout, const std::string& what) {
  const auto deadline = SteadyClock::now() + timeout;
  Json last;
  std::string last_error;
  while (true) {
    const AdminReply r = process.get("/v1/deployments/" + id);
    if (r.status == 200 && r.json.is_object()) {
      last = r.json;
      if (done(last)) return last;
    } else {
      last_error = fmt::format("{} {}", r.status, r.status ? r.body : r.error);
    }
    if (SteadyClock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "timed out waiting for " << what << " of " << id << " on " << process.name()
                << "; last seen: "
                << (last.is_object() ? last.value("state", "?") + " at " +
                                           last.value("canary_weight", Json()).dump() + "%"
                                     : "nothing")
                << (last_error.empty() ? "" : "; last error: " + last_error) << "\n"
                << event_log(last);
  return last;
}

Json wait_for_deployment_state(const FleetProcess& process, const std::string& id,
                               const std::string& state, std::chrono::milliseconds timeout) {
  return wait_for_deployment(
      process, id, [&](const Json& d) { return d.value("state", "") == state; }, timeout,
      "state " + state);
}

Json wait_for_deployment_end(const FleetProcess& process, const std::string& id,
                             std::chrono::milliseconds timeout) {
  return wait_for_deployment(process, id, is_finished, timeout, "the end");
}

// ---- Weights --------------------------------------------------------------------------------

std::optional<double> version_weight(const Json& service, const std::string& version) {
  if (!service.is_object() || !service.contains("versions") || !service["versions"].is_array()) {
    return std::nullopt;
  }
  for (const Json& v : service["versions"]) {
    if (v.value("name", "") == version && v.contains("weight") && v["weight"].is_number()) {
      return v["weight"].get<double>();
    }
  }
  return 0.0;
}

bool wait_for_weight(const std::vector<FleetProcess*>& gateways, const std::string& service,
                     const std::string& version, double weight, const std::string& live,
                     std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  std::string last;
  while (true) {
    bool all = true;
    last.clear();
    for (FleetProcess* g : gateways) {
      const AdminReply r = g->get("/v1/services/" + service);
      last += fmt::format("  {}: {}\n", g->name(), describe_service(r));
      const auto w = r.status == 200 ? version_weight(r.json, version) : std::nullopt;
      if (!w || !same_weight(*w, weight) || (!live.empty() && r.json.value("live", "") != live)) {
        all = false;
      }
    }
    if (all) return true;
    if (SteadyClock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "not every gateway shows " << version << " at " << weight << "%"
                << (live.empty() ? "" : " with " + live + " live") << "; last seen:\n"
                << last;
  return false;
}

bool wait_for_store_status(const FleetProcess& process, const std::string& store_status,
                           std::chrono::milliseconds timeout) {
  const double up = store_status == "ok" ? 1 : 0;
  const auto deadline = SteadyClock::now() + timeout;
  std::string last_health = "not asked";
  std::string last_metric = "not asked";
  // /healthz first, then /metrics: a scrape may take seconds while the database is away
  // (each one waits for the store's reconnection attempts), so it is asked only once the
  // cheap answer agrees.
  bool health_says = false;
  while (true) {
    if (!health_says) {
      const AdminReply health = process.get("/healthz");
      last_health = fmt::format("{} {}", health.status, health.status ? health.body : health.error);
      health_says = health.json.is_object() && health.json.contains("store") &&
                    health.json["store"].is_object() &&
                    health.json["store"].value("status", "") == store_status;
    }
    if (health_says) {
      const AdminReply metrics = process.get("/metrics");
      const auto gauge = prometheus_value(metrics.body, "glidepath_store_up");
      last_metric = gauge ? fmt::format("{}", *gauge)
                          : fmt::format("absent ({} {})", metrics.status, metrics.error);
      if (gauge && *gauge == up) return true;
    }
    if (SteadyClock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << process.name() << " never reported its store as " << store_status
                << "; last /healthz: " << last_health
                << "; last glidepath_store_up: " << last_metric;
  return false;
}

std::optional<SystemClock::time_point> parse_rfc3339(const std::string& text) {
  // YYYY-MM-DDTHH:MM:SS[.fraction]Z
  int y = 0;
  unsigned mo = 0;
  unsigned d = 0;
  int hh = 0;
  int mm = 0;
  int ss = 0;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2u-%2uT%2d:%2d:%2d%n", &y, &mo, &d, &hh, &mm, &ss,
                  &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{mo}, day{d}};
  if (!ymd.ok()) return std::nullopt;
  auto t = SystemClock::time_point(sys_days(ymd)) + hours(hh) + minutes(mm) + seconds(ss);
  size_t at = 19;
  if (at < text.size() && text[at] == '.') {
    ++at;
    int64_t nanos = 0;
    int digits = 0;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      if (digits < 9) {
        nanos = nanos * 10 + (text[at] - '0');
        ++digits;
      }
      ++at;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 9; ++digits)
      nanos *= 10;
    t += duration_cast<SystemClock::duration>(nanoseconds(nanos));
  }
  if (at + 1 != text.size() || text[at] != 'Z') return std::nullopt;
  return t;
}

std::vector<WeightChange> weight_changes(const Json& deployment) {
  std::vector<WeightChange> changes;
  if (!deployment.is_object() || !deployment.contains("events")) return changes;
  static const std::string arrow = "→ ";
  for (const Json& e : deployment["events"]) {
    if (e.value("type", "") != "weight") continue;
    const std::string message = e.value("message", "");
    const size_t at = message.find(arrow);
    if (at == std::string::npos) continue;
    WeightChange change;
    change.weight = std::atoi(message.c_str() + at + arrow.size());
    change.time_text = e.value("time", "");
    const auto time = parse_rfc3339(change.time_text);
    EXPECT_TRUE(time.has_value()) << "an event time that is not RFC 3339: " << change.time_text;
    if (time) change.time = *time;
    changes.push_back(change);
  }
  return changes;
}

// ---- WeightWatcher --------------------------------------------------------------------------

WeightWatcher::WeightWatcher(const std::vector<FleetProcess*>& gateways, std::string service,
                             std::string version, std::chrono::microseconds interval,
                             std::chrono::seconds max_duration)
    : service_(std::move(service)), version_(std::move(version)) {
  for (FleetProcess* g : gateways)
    tracks_.push_back(Track{g->admin_port(), {}, 0});
  for (size_t i = 0; i < tracks_.size(); ++i) {
    threads_.emplace_back([this, i, interval, max_duration] { run(i, interval, max_duration); });
  }
}

WeightWatcher::~WeightWatcher() {
  stop();
}

void WeightWatcher::stop() {
  stopping_ = true;
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

std::vector<WeightWatcher::Seen> WeightWatcher::seen(size_t gateway) const {
  std::lock_guard lock(mutex_);
  return tracks_.at(gateway).seen;
}

uint64_t WeightWatcher::polls(size_t gateway) const {
  std::lock_guard lock(mutex_);
  return tracks_.at(gateway).polls;
}

void WeightWatcher::run(size_t index, std::chrono::microseconds interval,
                        std::chrono::seconds max_duration) {
  uint16_t port = 0;
  {
    std::lock_guard lock(mutex_);
    port = tracks_[index].admin_port;
  }
  const std::string target = "/v1/services/" + service_;
  const auto end = SteadyClock::now() + max_duration;
  std::optional<HttpClient> client;
  std::optional<double> last;
  while (!stopping_ && SteadyClock::now() < end) {
    const auto next = SteadyClock::now() + interval;
    try {
      if (!client) client.emplace("127.0.0.1", port);
      const HttpResponse r = client->request("GET", target, {}, {}, std::chrono::seconds(5));
      const auto answered = SystemClock::now();
      if (!r.ok() || !r.keep_alive || r.closed) client.reset();
      const Json body = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
      const auto weight = r.status == 200 ? version_weight(body, version_) : std::nullopt;
      std::lock_guard lock(mutex_);
      ++tracks_[index].polls;
      if (weight && (!last || !same_weight(*last, *weight))) {
        tracks_[index].seen.push_back(Seen{*weight, answered});
        last = weight;
      }
    } catch (const std::exception&) {
      client.reset();
    }
    std::this_thread::sleep_until(next);
  }
}

Propagation weight_propagation(const std::vector<WeightChange>& changes,
                               const std::vector<std::vector<WeightWatcher::Seen>>& per_gateway,
                               const std::vector<std::string>& gateway_names) {
  Propagation result;
  for (size_t g = 0; g < per_gateway.size(); ++g) {
    const auto& seen = per_gateway[g];
    size_t cursor = 0;
    for (const WeightChange& change : changes) {
      size_t i = cursor;
      while (i < seen.size() && !same_weight(seen[i].weight, change.weight))
        ++i;
      if (i == seen.size()) {
        result.missing.push_back(fmt::format("{}: {}% (event at {})", gateway_names.at(g),
                                             change.weight, change.time_text));
        continue;
      }
      const std::chrono::duration<double, std::milli> latency = seen[i].time - change.time;
      result.latencies_ms.push_back(latency.count());
      cursor = i + 1;
    }
  }
  return result;
}

}  // namespace glidepath::testing
