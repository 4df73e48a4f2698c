#include "server/runtime.h"

#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "admin/http_server.h"
#include "core/clock.h"
#include "gateway/gateway.h"
#include "gateway/routing.h"
#include "metrics/collector.h"
#include "metrics/history.h"
#include "metrics/prometheus.h"
#include "metrics/series_registry.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace glidepath::server {

namespace {

// The metrics collector's schedule: a little after each second ends, so workers have
// marked it final (SPEC section 4: per-second windows merged every second).
constexpr auto kCollectDelay = std::chrono::milliseconds(50);

core::Result<std::unique_ptr<store::Store>> open_store(const config::StoreConfig& store) {
  if (store.kind == config::StoreKind::postgres) {
    return core::fail("store: PostgreSQL (" + store.postgres_url +
                      ") is not supported by this build yet; use sqlite:PATH");
  }
  return store::open_sqlite_store(store.sqlite_path);
}

// What the store says overrides the config: the live version a deployment left and the
// versions deployments added.
std::vector<std::pair<std::string, gateway::ServiceRuntime>> runtime_overrides(
    const config::Config& config, const std::vector<store::ServiceState>& states) {
  std::vector<std::pair<std::string, gateway::ServiceRuntime>> out;
  for (const store::ServiceState& state : states) {
    const config::ServiceConfig* service = config.find_service(state.name);
    if (service == nullptr) continue;  // removed from the config: nothing to route
    gateway::ServiceRuntime runtime;
    for (const store::DeployedVersion& v : state.versions) {
      if (service->find_version(v.name) != nullptr) continue;
      config::VersionConfig added;
      added.name = v.name;
      for (const std::string& upstream : v.upstreams) {
        auto hp = core::parse_host_port(upstream);
        if (hp) added.upstreams.push_back(*hp);
      }
      added.spec = v.spec_path;
      runtime.added_versions.push_back(std::move(added));
    }
    const bool live_known =
        service->find_version(state.live_version) != nullptr ||
        std::any_of(runtime.added_versions.begin(), runtime.added_versions.end(),
                    [&](const config::VersionConfig& v) { return v.name == state.live_version; });
    if (live_known) runtime.live = state.live_version;
    out.emplace_back(state.name, std::move(runtime));
  }
  return out;
}

}  // namespace

struct Runtime::Impl {
  std::shared_ptr<const config::Config> config;
  std::unique_ptr<store::Store> store;
  metrics::SeriesRegistry registry;
  metrics::MetricsHistory history;
  std::unique_ptr<gateway::Gateway> gateway;
  std::unique_ptr<metrics::MetricsCollector> collector;
  std::unique_ptr<admin::HttpServer> admin;

  std::mutex snapshot_mutex;
  std::shared_ptr<const gateway::Snapshot> snapshot;  // the one last published

  std::thread collector_thread;
  std::mutex stop_mutex;
  std::condition_variable stop_cv;
  bool stopping = false;
  core::SystemClock clock;

  std::shared_ptr<const gateway::Snapshot> current_snapshot() {
    std::lock_guard lock(snapshot_mutex);
    return snapshot;
  }

  void run_collector() {
    std::unique_lock lock(stop_mutex);
    while (!stopping) {
      const auto now = clock.now();
      const auto next = std::chrono::ceil<std::chrono::seconds>(now) + kCollectDelay;
      stop_cv.wait_for(lock, next - now, [&] { return stopping; });
      if (stopping) break;
      lock.unlock();
      collector->collect(core::epoch_second(clock.now()));
      lock.lock();
    }
  }

  admin::Response handle(const admin::Request& request);
  admin::Response healthz();
  admin::Response prometheus();
  admin::Response services();
  admin::Response service_metrics(std::string_view service, const admin::Request& request);
};

admin::Response Runtime::Impl::handle(const admin::Request& request) {
  const std::string_view path = request.path;
  if (request.method == "GET" || request.method == "HEAD") {
    if (path == "/healthz") return healthz();
    if (path == "/metrics") return prometheus();
    if (path == "/v1/services") return services();
    constexpr std::string_view kServices = "/v1/services/";
    if (path.substr(0, kServices.size()) == kServices) {
      std::string_view rest = path.substr(kServices.size());
      const size_t slash = rest.find('/');
      const std::string_view name = rest.substr(0, slash);
      if (slash != std::string_view::npos && rest.substr(slash) == "/metrics") {
        return service_metrics(name, request);
      }
    }
    return admin::Response::error(404,
                                  fmt::format("no such endpoint: {} {}", request.method, path));
  }
  return admin::Response::error(405, fmt::format("{} is not allowed on {}", request.method, path));
}

admin::Response Runtime::Impl::healthz() {
  const gateway::GatewayStats stats = gateway->stats();
  auto version = store->schema_version();
  nlohmann::json body{
      {"status", version ? "ok" : "degraded"},
      {"gateway",
       {{"workers", gateway->worker_count()},
        {"snapshot_generation", stats.snapshot_generation},
        {"connections_accepted", stats.connections_accepted},
        {"requests", stats.requests}}},
      {"store", version ? nlohmann::json{{"status", "ok"}, {"schema_version", *version}}
                        : nlohmann::json{{"status", "error"}, {"error", version.error().message}}}};
  return admin::Response::json(version ? 200 : 503, body.dump());
}

admin::Response Runtime::Impl::prometheus() {
  admin::Response response;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.body = metrics::render_request_metrics(registry, history);
  std::string& out = response.body;
  const auto snap = current_snapshot();
  metrics::append_metric_header(out, "glidepath_traffic_weight",
                                "Percent of public traffic each version receives", "gauge");
  for (const gateway::ServiceRoute& service : snap->services) {
    for (uint32_t v = 0; v < service.versions.size(); ++v) {
      uint32_t lower = 0;
      uint32_t share = 0;
      for (const gateway::TrafficSlice& slice : service.slices) {
        if (slice.version == v) share += slice.upper - lower;
        lower = slice.upper;
      }
      out += "glidepath_traffic_weight{service=\"";
      metrics::append_escaped_label_value(out, service.name);
      out += "\",version=\"";
      metrics::append_escaped_label_value(out, service.versions[v].name);
      out += fmt::format("\"}} {}\n", share / 100.0);
    }
  }
  metrics::append_metric_header(out, "glidepath_deployment_state",
                                "1 for the state of the service's current deployment", "gauge");
  for (const gateway::ServiceRoute& service : snap->services) {
    out += "glidepath_deployment_state{service=\"";
    metrics::append_escaped_label_value(out, service.name);
    out += "\",state=\"none\"} 1\n";
  }
  return response;
}

admin::Response Runtime::Impl::services() {
  const auto snap = current_snapshot();
  nlohmann::json list = nlohmann::json::array();
  for (const gateway::ServiceRoute& service : snap->services) {
    nlohmann::json versions = nlohmann::json::array();
    for (uint32_t v = 0; v < service.versions.size(); ++v) {
      uint32_t lower = 0;
      uint32_t share = 0;
      for (const gateway::TrafficSlice& slice : service.slices) {
        if (slice.version == v) share += slice.upper - lower;
        lower = slice.upper;
      }
      nlohmann::json upstreams = nlohmann::json::array();
      for (uint32_t u : service.versions[v].upstreams) {
        upstreams.push_back(core::format_host_port(snap->upstreams[u]));
      }
      versions.push_back({{"name", service.versions[v].name},
                          {"upstreams", upstreams},
                          {"weight", share / 100.0}});
    }
    list.push_back({{"name", service.name},
                    {"hosts", service.hosts},
                    {"path_prefix", service.path_prefix},
                    {"live", service.versions[service.live].name},
                    {"versions", versions}});
  }
  return admin::Response::json(200, nlohmann::json{{"services", list}}.dump());
}

admin::Response Runtime::Impl::service_metrics(std::string_view service,
                                               const admin::Request& request) {
  const auto snap = current_snapshot();
  const gateway::ServiceRoute* route = nullptr;
  for (const auto& s : snap->services) {
    if (s.name == service) route = &s;
  }
  if (route == nullptr)
    return admin::Response::error(404, fmt::format("unknown service '{}'", service));
  int64_t seconds = 60;
  if (auto text = request.query_value("seconds"); !text.empty()) {
    char* end = nullptr;
    const std::string copy(text);
    seconds = std::strtoll(copy.c_str(), &end, 10);
    if (end == copy.c_str() || *end != '\0' || seconds < 1 ||
        seconds > static_cast<int64_t>(history.capacity_seconds())) {
      return admin::Response::error(400, fmt::format("seconds: must be a whole number from 1 to {}",
                                                     history.capacity_seconds()));
    }
  }
  const int64_t to = core::epoch_second(clock.now());  // the current second is still filling
  nlohmann::json versions = nlohmann::json::object();
  for (const gateway::VersionRoute& version : route->versions) {
    nlohmann::json points = nlohmann::json::array();
    for (const metrics::SecondSummary& p : history.series(version.series, seconds, to)) {
      points.push_back({{"t", p.second},
                        {"requests", p.counts.requests},
                        {"2xx", p.counts.status_2xx},
                        {"4xx", p.counts.status_4xx},
                        {"5xx", p.counts.status_5xx},
                        {"error_rate", p.counts.error_rate()},
                        {"p50_ms", p.p50_us / 1000.0},
                        {"p90_ms", p.p90_us / 1000.0},
                        {"p99_ms", p.p99_us / 1000.0},
                        {"max_ms", p.max_us / 1000.0},
                        {"bytes_out", p.counts.bytes_out}});
    }
    versions[version.name] = std::move(points);
  }
  return admin::Response::json(
      200, nlohmann::json{{"service", route->name}, {"seconds", seconds}, {"versions", versions}}
               .dump());
}

Runtime::Runtime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Runtime::~Runtime() {
  stop();
}

core::Result<std::unique_ptr<Runtime>> Runtime::start(
    std::shared_ptr<const config::Config> config) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  auto store = open_store(config->store);
  if (!store) return core::Failure{store.error()};
  impl->store = std::move(*store);
  auto states = impl->store->list_services();
  if (!states) return core::fail("store: " + states.error().message);

  auto snapshot =
      gateway::build_snapshot(*config, runtime_overrides(*config, *states), impl->registry, 1);
  if (!snapshot) return core::Failure{snapshot.error()};
  impl->snapshot = *snapshot;

  gateway::GatewayOptions options;
  options.listen = config->gateway.listen;
  options.workers = config->gateway.workers;
  options.header_timeout = config->gateway.header_timeout;
  options.request_timeout = config->gateway.request_timeout;
  options.idle_timeout = config->gateway.idle_timeout;
  options.connect_timeout = config->gateway.connect_timeout;
  options.max_header_bytes = config->gateway.max_header_bytes;
  options.max_body_bytes = config->gateway.max_body_bytes;
  options.max_series = impl->registry.max_series();
  auto gateway = gateway::Gateway::start(options, impl->snapshot);
  if (!gateway) return core::Failure{gateway.error()};
  impl->gateway = std::move(*gateway);

  impl->collector =
      std::make_unique<metrics::MetricsCollector>(impl->history, impl->gateway->recorders());
  Impl* raw = impl.get();
  impl->collector_thread = std::thread([raw] { raw->run_collector(); });

  admin::ServerOptions admin_options;
  admin_options.listen = config->admin.listen;
  admin_options.token = config->admin.token;
  auto admin = admin::HttpServer::start(admin_options,
                                        [raw](const admin::Request& r) { return raw->handle(r); });
  if (!admin) {
    Runtime partial(std::move(impl));
    partial.stop();
    return core::Failure{admin.error()};
  }
  impl->admin = std::move(*admin);
  return std::unique_ptr<Runtime>(new Runtime(std::move(impl)));
}

uint16_t Runtime::gateway_port() const {
  return impl_->gateway->port();
}
uint16_t Runtime::admin_port() const {
  return impl_->admin->port();
}

void Runtime::stop() {
  if (!impl_) return;
  if (impl_->admin) impl_->admin->stop();
  if (impl_->gateway) impl_->gateway->stop(std::chrono::seconds(5));
  {
    std::lock_guard lock(impl_->stop_mutex);
    impl_->stopping = true;
  }
  impl_->stop_cv.notify_all();
  if (impl_->collector_thread.joinable()) impl_->collector_thread.join();
  impl_.reset();
}

}  // namespace glidepath::server
