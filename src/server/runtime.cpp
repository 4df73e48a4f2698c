#include "server/runtime.h"

#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "access/key_table.h"
#include "access/operations.h"
#include "access/usage.h"
#include "admin/admin_api.h"
#include "admin/http_server.h"
#include "admin/ui_requests.h"
#include "contract/check.h"
#include "controller/controller.h"
#include "controller/hook_runner.h"
#include "core/clock.h"
#include "gateway/gateway.h"
#include "gateway/routing.h"
#include "metrics/collector.h"
#include "metrics/history.h"
#include "metrics/prometheus.h"
#include "metrics/series_registry.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace glidepath::server {

namespace {

// The metrics collector's schedule: a little after each second ends, so workers have
// marked it final (SPEC section 4: per-second windows merged every second).
constexpr auto kCollectDelay = std::chrono::milliseconds(50);
// Usage buckets and quota counters go to the store this often (SPEC section 5: recording
// never waits for the store; a crash loses at most this much of them).
constexpr auto kFlushInterval = std::chrono::seconds(1);

core::Result<std::unique_ptr<store::Store>> open_store(const config::StoreConfig& store) {
  if (store.kind == config::StoreKind::postgres) {
    return store::open_postgres_store(store.postgres_url);
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
  access::KeyRegistry key_registry;
  std::shared_ptr<const access::KeyTable> keys;  // in the snapshot last published
  // Parsed OpenAPI documents by path, for operation names; null for an unreadable one.
  std::map<std::string, std::shared_ptr<const access::OperationMatcher>> specs;
  std::map<std::string, gateway::ServiceRuntime> routing;  // by service, what it was built from
  uint64_t generation = 1;

  std::unique_ptr<controller::HookRunner> hooks;
  std::unique_ptr<controller::Controller> controller;

  std::thread collector_thread;
  std::thread flusher_thread;
  std::mutex stop_mutex;
  std::condition_variable stop_cv;
  bool stopping = false;
  core::SystemClock clock;

  // What a snapshot is built from besides routing; snapshot_mutex held.
  gateway::SnapshotInputs snapshot_inputs() {
    gateway::SnapshotInputs inputs;
    inputs.keys = keys;
    inputs.operations = [this](const std::string& path) { return spec_matcher(path); };
    return inputs;
  }

  // A version's OpenAPI document, read once. One that cannot be read is reported once; its
  // version's usage is then named by literal paths (ids folded).
  std::shared_ptr<const access::OperationMatcher> spec_matcher(const std::string& path) {
    auto found = specs.find(path);
    if (found != specs.end()) return found->second;
    auto matcher = access::OperationMatcher::from_file(path);
    if (!matcher) {
      fmt::print(stderr, "warning: spec {}: {}; usage is recorded by literal path\n", path,
                 matcher.error().message);
      return specs[path] = nullptr;
    }
    return specs[path] = *matcher;
  }

  core::Result<std::shared_ptr<const access::KeyTable>> load_keys() {
    auto records = store->list_api_keys();
    if (!records) return core::fail("reading API keys: " + records.error().message);
    return key_registry.build(
        *records,
        [this](std::string_view id, int64_t period_start) {
          return store->get_quota_usage(id, period_start);
        },
        clock.now());
  }

  // A key was created or revoked: every worker gets the new table, and this returns once
  // all of them use it.
  core::Result<void> refresh_keys() {
    auto table = load_keys();
    if (!table) return core::Failure{table.error()};
    std::lock_guard lock(snapshot_mutex);
    const auto before = keys;
    keys = *table;
    auto built = build_next_snapshot();
    if (!built) {
      keys = before;
      return core::Failure{built.error()};
    }
    return publish_snapshot(*built, "key table");
  }

  // A snapshot of the current routing and keys (snapshot_mutex held).
  core::Result<std::shared_ptr<const gateway::Snapshot>> build_next_snapshot() {
    const std::vector<std::pair<std::string, gateway::ServiceRuntime>> all(routing.begin(),
                                                                           routing.end());
    return gateway::build_snapshot(*config, all, registry, generation + 1, snapshot_inputs());
  }

  // Hands `built` to every worker and returns once all route with it (snapshot_mutex held).
  core::Result<void> publish_snapshot(std::shared_ptr<const gateway::Snapshot> built,
                                      std::string_view what) {
    ++generation;
    if (!gateway->publish(built)) {
      return core::fail(fmt::format("the gateway workers did not adopt the new {} in time", what));
    }
    snapshot = std::move(built);
    return {};
  }

  // Usage the workers recorded, and quota counts, to the store. Failures are reported and
  // the counts retried or kept where the store can take them next time.
  void flush_usage() {
    auto deltas = gateway->drain_usage();
    if (!deltas.empty()) {
      auto buckets = access::to_buckets(
          deltas, [this](uint32_t id) { return key_registry.consumer_name(id); },
          [this](metrics::SeriesId id) { return registry.name(id); });
      if (auto added = store->add_usage(buckets); !added) {
        fmt::print(stderr, "warning: recording usage: {}\n", added.error().message);
      }
    }
    if (auto flushed = key_registry.flush_quotas(*store, clock.now()); !flushed) {
      fmt::print(stderr, "warning: recording quota counts: {}\n", flushed.error().message);
    }
  }

  void run_flusher() {
    std::unique_lock lock(stop_mutex);
    while (!stopping) {
      stop_cv.wait_for(lock, kFlushInterval, [&] { return stopping; });
      if (stopping) break;
      lock.unlock();
      flush_usage();
      lock.lock();
    }
  }

  std::shared_ptr<const gateway::Snapshot> current_snapshot() {
    std::lock_guard lock(snapshot_mutex);
    return snapshot;
  }

  // One service's routing changed (a weight step, a rollback, a promotion): a whole new
  // snapshot goes to every worker, and this returns once all of them route with it.
  core::Result<void> publish_routing(const std::string& service,
                                     const gateway::ServiceRuntime& runtime) {
    std::lock_guard lock(snapshot_mutex);
    auto previous = routing.find(service);
    std::optional<gateway::ServiceRuntime> before;
    if (previous != routing.end()) before = previous->second;
    routing[service] = runtime;
    auto built = build_next_snapshot();
    if (!built) {
      if (before) {
        routing[service] = *before;
      } else {
        routing.erase(service);
      }
      return core::Failure{built.error()};
    }
    return publish_snapshot(*built, "routing");
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
      // Deployments are evaluated on the second that was just merged.
      controller->tick();
      lock.lock();
    }
  }

  std::unique_ptr<admin::AdminApi> api;
};

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

  auto keys = impl->load_keys();
  if (!keys) return core::fail("store: " + keys.error().message);
  impl->keys = *keys;

  auto overrides = runtime_overrides(*config, *states);
  auto snapshot =
      gateway::build_snapshot(*config, overrides, impl->registry, 1, impl->snapshot_inputs());
  if (!snapshot) return core::Failure{snapshot.error()};
  impl->snapshot = *snapshot;
  impl->routing.insert(overrides.begin(), overrides.end());

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

  Impl* raw = impl.get();
  impl->hooks = std::make_unique<controller::HookRunner>();
  controller::ControllerDeps deps;
  deps.config = config;
  deps.store = impl->store.get();
  deps.history = &impl->history;
  deps.registry = &impl->registry;
  deps.hooks = impl->hooks.get();
  deps.clock = &impl->clock;
  deps.gateway_url = fmt::format(
      "http://{}", core::format_host_port({config->gateway.listen.host, impl->gateway->port()}));
  deps.publish = [raw](const std::string& service, const gateway::ServiceRuntime& runtime) {
    return raw->publish_routing(service, runtime);
  };
  // Loading and diffing large documents takes seconds: on a thread of its own.
  deps.check_contract = [raw](const std::string& service, const std::string& base_spec,
                              const std::string& revision_spec, deploy::ContractPolicy policy) {
    return std::async(std::launch::async, [raw, service, base_spec, revision_spec, policy] {
      const contract::GateVerdict verdict = contract::check_deployment(
          *raw->store, service, base_spec, revision_spec, policy, raw->clock.now());
      deploy::ContractObservation observed;
      observed.summary = verdict.summary;
      switch (verdict.kind) {
        case contract::GateVerdict::Kind::passed:
          observed.verdict = deploy::ContractVerdict::passed;
          break;
        case contract::GateVerdict::Kind::warned:
          observed.verdict = deploy::ContractVerdict::warned;
          break;
        case contract::GateVerdict::Kind::blocked:
          observed.verdict = deploy::ContractVerdict::blocked;
          break;
      }
      return observed;
    });
  };
  impl->controller = std::make_unique<controller::Controller>(std::move(deps));
  // Active deployments resume where the store says they were (after a crash too).
  if (auto resumed = impl->controller->resume(); !resumed) {
    impl->gateway->stop(std::chrono::milliseconds(0));
    return core::fail("resuming deployments: " + resumed.error().message);
  }

  impl->collector =
      std::make_unique<metrics::MetricsCollector>(impl->history, impl->gateway->recorders());
  impl->collector_thread = std::thread([raw] { raw->run_collector(); });
  impl->flusher_thread = std::thread([raw] { raw->run_flusher(); });

  admin::ServerOptions admin_options;
  admin_options.listen = config->admin.listen;
  admin_options.token = config->admin.token;
  admin_options.public_prefix = std::string(admin::kUiPrefix);
  admin::AdminDeps admin_deps;
  admin_deps.config = config;
  admin_deps.snapshot = [raw] { return raw->current_snapshot(); };
  admin_deps.gateway_stats = [raw] { return raw->gateway->stats(); };
  admin_deps.gateway_workers = impl->gateway->worker_count();
  admin_deps.store = impl->store.get();
  admin_deps.registry = &impl->registry;
  admin_deps.history = &impl->history;
  admin_deps.clock = &impl->clock;
  admin_deps.controller = impl->controller.get();
  admin_deps.keys_changed = [raw] { return raw->refresh_keys(); };
  impl->api = std::make_unique<admin::AdminApi>(std::move(admin_deps));
  auto admin = admin::HttpServer::start(
      admin_options, [raw](const admin::Request& r) { return raw->api->handle(r); });
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

controller::Controller& Runtime::controller() {
  return *impl_->controller;
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
  if (impl_->flusher_thread.joinable()) impl_->flusher_thread.join();
  // What the workers counted since the last flush is not lost on a graceful stop.
  if (impl_->gateway && impl_->store) impl_->flush_usage();
  impl_.reset();
}

}  // namespace glidepath::server
