#include "tools/demo/demo.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "config/loader.h"
#include "controller/controller.h"
#include "core/units.h"
#include "http/client.h"
#include "serve/runtime.h"
#include "tools/sample_backend/sample_backend.h"

namespace glidepath::demo {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Sticky consumers: with ten of them a 25% step moves about a quarter of the traffic.
constexpr const char* kConsumers[] = {"acme-mobile",  "globex-web", "initech-batch", "umbrella-api",
                                      "hooli-search", "stark-iot",  "wayne-billing", "wonka-shop",
                                      "cyberdyne-ml", "tyrell-crm"};
constexpr int kRequestsPerSecondPerConsumer = 20;  // 200 requests/s in all

struct Sample {
  Clock::time_point at;
  std::string version;
  int status = 0;
};

// Each demo consumer gets an API key through the admin API, as a user would with
// `glidepath keys create`. Returns the keys in kConsumers' order.
core::Result<std::vector<std::string>> create_keys(uint16_t admin_port) {
  std::vector<std::string> keys;
  for (const char* consumer : kConsumers) {
    http::ClientRequest request;
    request.method = "POST";
    request.url = fmt::format("http://127.0.0.1:{}/v1/keys", admin_port);
    request.headers = {{"Content-Type", "application/json"}};
    request.body = nlohmann::json{{"consumer", consumer},
                                  {"contact", fmt::format("api-team@{}.example", consumer)}}
                       .dump();
    auto response = http::send_request(request);
    if (!response) return core::fail("creating an API key: " + response.error().message);
    auto body = nlohmann::json::parse(response->body, nullptr, false);
    if (response->status != 201 || !body.is_object() || !body.contains("key")) {
      return core::fail(
          fmt::format("creating an API key: HTTP {}: {}", response->status, response->body));
    }
    keys.push_back(body["key"].get<std::string>());
  }
  return keys;
}

// A steady, bounded load: each consumer sends its requests with its key at a fixed rate
// and records which version answered and how.
class Load {
 public:
  Load(uint16_t gateway_port, std::vector<std::string> keys)
      : port_(gateway_port), keys_(std::move(keys)) {}
  ~Load() { stop(); }

  void start() {
    for (size_t i = 0; i < keys_.size(); ++i) {
      threads_.emplace_back([this, i] { run(keys_[i], i); });
    }
  }
  void stop() {
    running_ = false;
    for (auto& t : threads_)
      t.join();
    threads_.clear();
  }

  // Counts by version over [from, to).
  std::map<std::string, int> split(Clock::time_point from, Clock::time_point to) const {
    std::lock_guard lock(mutex_);
    std::map<std::string, int> out;
    for (const Sample& s : samples_) {
      if (s.at >= from && s.at < to) ++out[s.version];
    }
    return out;
  }
  std::vector<Sample> samples() const {
    std::lock_guard lock(mutex_);
    return samples_;
  }

 private:
  void run(const std::string& key, size_t index) {
    const auto interval = milliseconds(1000 / kRequestsPerSecondPerConsumer);
    auto next = Clock::now();
    int n = 0;
    while (running_) {
      http::ClientRequest request;
      // Two operations, so the consumers report has something to tell apart.
      request.url = index % 3 == 0 && n % 4 == 0
                        ? fmt::format("http://127.0.0.1:{}/shop/orders", port_)
                        : fmt::format("http://127.0.0.1:{}/shop/orders/{}", port_, n % 1000);
      ++n;
      request.headers = {{"X-Api-Key", key}};
      request.timeout = milliseconds(2000);
      auto response = http::send_request(request);
      Sample sample{Clock::now(), "", 0};
      if (response) {
        sample.status = response->status;
        sample.version = response->header("X-Glidepath-Version");
      }
      {
        std::lock_guard lock(mutex_);
        samples_.push_back(std::move(sample));
      }
      next += interval;
      std::this_thread::sleep_until(next);  // the load's pace, not synchronisation
    }
  }

  uint16_t port_;
  std::vector<std::string> keys_;
  std::atomic<bool> running_{true};
  std::vector<std::thread> threads_;
  mutable std::mutex mutex_;
  std::vector<Sample> samples_;
};

class Narrator {
 public:
  explicit Narrator(bool color) : color_(color), start_(Clock::now()) {}
  void say(std::string_view text) const {
    const double t = std::chrono::duration<double>(Clock::now() - start_).count();
    fmt::print("{}[{:5.1f}s]{} {}\n", color_ ? "\033[2m" : "", t, color_ ? "\033[0m" : "", text);
    std::fflush(stdout);
  }
  std::string bold(std::string_view text) const {
    return color_ ? fmt::format("\033[1m{}\033[0m", text) : std::string(text);
  }

 private:
  bool color_;
  Clock::time_point start_;
};

std::string describe_split(const std::map<std::string, int>& split) {
  int total = 0;
  for (const auto& [v, n] : split)
    total += n;
  std::string out;
  for (const auto& [v, n] : split) {
    if (!out.empty()) out += "  ";
    out += fmt::format("{} {:3.0f}%", v.empty() ? "failed" : v, total ? 100.0 * n / total : 0.0);
  }
  return out;
}

// Follows a deployment until it ends (bounded), narrating each change.
std::optional<deploy::Deployment> follow(controller::Controller& controller, const std::string& id,
                                         const Load& load, const Narrator& say,
                                         std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  std::string last_line;
  size_t events_shown = 1;  // "created" was narrated by the caller
  while (Clock::now() < deadline) {
    auto found = controller.find(id);
    if (!found || !found->has_value()) return std::nullopt;
    const deploy::Deployment& d = **found;
    for (; events_shown < d.events.size(); ++events_shown) {
      const auto& e = d.events[events_shown];
      if (e.type == "weight" || e.type == "rollback" || e.type == "succeeded" ||
          e.type == "rolled_back" ||
          (e.type == "alarm" && e.message.find("→ alarm") != std::string::npos)) {
        say.say(fmt::format("  {:<10} {}", e.type, e.message));
      }
    }
    const auto now = Clock::now();
    const std::string line =
        fmt::format("  traffic seen by the consumers in the last second: {}",
                    describe_split(load.split(now - std::chrono::seconds(1), now)));
    if (line != last_line) {
      say.say(line);
      last_line = line;
    }
    if (deploy::is_terminal(d.state)) return d;
    std::this_thread::sleep_for(milliseconds(1000));  // narration pace
  }
  return std::nullopt;
}

// Who called what on which version, from the usage the gateway recorded (GET
// /v1/consumers, as `glidepath consumers` shows it).
void report_consumers(const Narrator& say, uint16_t admin_port) {
  std::this_thread::sleep_for(milliseconds(1200));  // usage reaches the store each second
  http::ClientRequest request;
  request.url = fmt::format("http://127.0.0.1:{}/v1/consumers?since=1h", admin_port);
  auto response = http::send_request(request);
  if (!response || response->status != 200) return;
  const auto body = nlohmann::json::parse(response->body, nullptr, false);
  if (!body.is_object() || !body.contains("consumers")) return;
  say.say(say.bold("What each consumer called, recorded per key (glidepath consumers):"));
  int shown = 0;
  for (const auto& c : body["consumers"]) {
    if (shown++ == 4) {
      say.say(fmt::format("  ... and {} more", body["consumers"].size() - 4));
      break;
    }
    std::string versions;
    for (const auto& v : c.value("versions", nlohmann::json::array())) {
      versions += (versions.empty() ? "" : ",") + v.get<std::string>();
    }
    say.say(fmt::format("  {:<14} {:>5} requests, {:>3} errors, versions {:<9} {}",
                        c.value("name", ""), c.value("requests", 0), c.value("errors", 0), versions,
                        c.value("operations", nlohmann::json::array()).dump()));
  }
}

std::atomic<bool> g_interrupted{false};
void on_signal(int) {
  g_interrupted = true;
}

}  // namespace

int run_demo(const DemoOptions& options) {
  const Narrator say(options.color);
  signal(SIGPIPE, SIG_IGN);
  say.say(say.bold("Glidepath demo: a healthy canary, then a faulty one rolled back on its own."));

  // 1. Three versions of a small "shop" service; v3 fails half of its requests.
  std::vector<std::unique_ptr<sample_backend::SampleBackend>> backends;
  for (auto [name, error_rate] : {std::pair{"v1", 0.0}, {"v2", 0.0}, {"v3", 0.5}}) {
    sample_backend::SampleBackendOptions o;
    o.name = name;
    o.error_rate = error_rate;
    auto started = sample_backend::SampleBackend::start(o);
    if (!started) {
      fmt::print(stderr, "demo: cannot start a sample backend: {}\n", started.error().message);
      return 1;
    }
    backends.push_back(std::move(*started));
  }
  say.say(fmt::format("sample backends: v1 on :{}, v2 on :{} (healthy), v3 on :{} (fails 50%)",
                      backends[0]->port(), backends[1]->port(), backends[2]->port()));

  // 2. The gateway, its admin API and an embedded store in a scratch directory.
  const auto dir =
      std::filesystem::temp_directory_path() / fmt::format("glidepath-demo-{}", ::getpid());
  std::filesystem::create_directories(dir);
  const std::string yaml = fmt::format(R"(gateway: {{listen: 127.0.0.1:0}}
admin: {{listen: 127.0.0.1:0}}
store: sqlite:{}/glidepath.db
services:
  - name: shop
    match: {{path_prefix: /shop}}
    api_keys: required
    stickiness: api_key
    versions:
      - {{name: v1, upstreams: [127.0.0.1:{}]}}
    live: v1
    deployment:
      evaluation_interval: 1s
      alarms:
        - {{name: canary-errors, metric: error_rate, threshold: 0.05, period: 1s,
           evaluation_periods: 3, datapoints_to_alarm: 2, min_requests: 5}}
)",
                                       dir.string(), backends[0]->port());
  auto loaded = config::load_config(yaml);
  if (!loaded.ok()) {
    fmt::print(stderr, "demo: config: {}\n", loaded.errors.front().message);
    return 1;
  }
  auto runtime = serve::Runtime::start(loaded.config);
  if (!runtime) {
    fmt::print(stderr, "demo: {}\n", runtime.error().message);
    return 1;
  }
  const uint16_t gateway_port = (*runtime)->gateway_port();
  const uint16_t admin_port = (*runtime)->admin_port();
  say.say(fmt::format("gateway on http://127.0.0.1:{}/shop, admin API on http://127.0.0.1:{}",
                      gateway_port, admin_port));
  say.say(fmt::format("watch it live: the dashboard is at http://127.0.0.1:{}/ui/", admin_port));

  // 3. Ten consumers with API keys, 200 requests a second in all.
  auto keys = create_keys(admin_port);
  if (!keys) {
    fmt::print(stderr, "demo: {}\n", keys.error().message);
    return 1;
  }
  Load load(gateway_port, std::move(*keys));
  load.start();
  say.say(
      "10 consumers, each with its own API key, send 200 requests/s; each is sticky to "
      "one version by its key");
  std::this_thread::sleep_for(std::chrono::seconds(3));
  controller::Controller& controller = (*runtime)->controller();
  const std::vector<deploy::Step> steps = {
      deploy::WeightStep{25}, deploy::PauseStep{std::chrono::seconds(4)}, deploy::WeightStep{50},
      deploy::PauseStep{std::chrono::seconds(4)}, deploy::WeightStep{100}};

  // 4. A healthy v2: 25% → 50% → 100%, alarms quiet.
  say.say(say.bold("Deploying v2 (healthy): 25% for 4s, 50% for 4s, then 100%"));
  controller::DeploymentRequest v2;
  v2.service = "shop";
  v2.version = "v2";
  v2.upstreams = {fmt::format("127.0.0.1:{}", backends[1]->port())};
  v2.steps = steps;
  auto created = controller.create(v2);
  if (!created) {
    fmt::print(stderr, "demo: {}\n", created.error().message);
    return 1;
  }
  auto first = follow(controller, created->id, load, say, std::chrono::seconds(30));
  const bool v2_ok = first && first->state == deploy::DeploymentState::succeeded;
  say.say(v2_ok ? "v2 succeeded: it is the live version now"
                : "v2 did not succeed (unexpected): see glidepath status");

  // 5. A faulty v3: its errors trip the alarm and all traffic goes back to v2.
  say.say(say.bold("Deploying v3 (fails 50% of requests) with the same steps"));
  controller::DeploymentRequest v3 = v2;
  v3.version = "v3";
  v3.upstreams = {fmt::format("127.0.0.1:{}", backends[2]->port())};
  const auto v3_started = Clock::now();
  created = controller.create(v3);
  if (!created) {
    fmt::print(stderr, "demo: {}\n", created.error().message);
    return 1;
  }
  auto second = follow(controller, created->id, load, say, std::chrono::seconds(30));
  std::this_thread::sleep_for(milliseconds(1500));  // let requests in flight come back
  const bool v3_rolled_back = second && second->state == deploy::DeploymentState::rolled_back;

  // What the consumers saw of v3.
  std::optional<Clock::time_point> first_error;
  std::optional<Clock::time_point> last_v3;
  int v3_requests = 0;
  int v3_errors = 0;
  int total = 0;
  for (const Sample& s : load.samples()) {
    if (s.at < v3_started) continue;
    ++total;
    if (s.version != "v3") continue;
    ++v3_requests;
    last_v3 = s.at;
    if (s.status >= 500) {
      ++v3_errors;
      if (!first_error) first_error = s.at;
    }
  }
  if (v3_rolled_back) {
    say.say(fmt::format("v3 rolled back: {}", second->reason));
    if (first_error && last_v3) {
      say.say(say.bold(fmt::format(
          "first error → last request routed to v3: {} ms; {} of {} requests since the deploy "
          "saw the fault ({} answered by v3)",
          std::chrono::duration_cast<milliseconds>(*last_v3 - *first_error).count(), v3_errors,
          total, v3_requests)));
    }
  } else {
    say.say("v3 was not rolled back (unexpected): see glidepath status");
  }

  report_consumers(say, admin_port);
  say.say(
      fmt::format("dashboard: http://127.0.0.1:{}/ui/  admin API: http://127.0.0.1:{}  "
                  "(try: glidepath status shop --admin http://127.0.0.1:{})",
                  admin_port, admin_port, admin_port));
  if (options.keep) {
    say.say("--keep: everything keeps running; Ctrl-C to stop");
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!g_interrupted)
      std::this_thread::sleep_for(milliseconds(200));
  }
  load.stop();
  (*runtime)->stop();
  for (auto& b : backends)
    b->stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return v2_ok && v3_rolled_back ? 0 : 1;
}

}  // namespace glidepath::demo
