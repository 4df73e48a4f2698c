#include "serve/runtime.h"

#include <fmt/format.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "admin/admin_api.h"
#include "admin/http_server.h"
#include "admin/ui_requests.h"
#include "controller/contract_gate.h"
#include "controller/controller.h"
#include "controller/hook_runner.h"
#include "deploy/routing_intent.h"
#include "fleet/fleet.h"
#include "fleet/store_health.h"
#include "gateway/gateway.h"
#include "metrics/collector.h"
#include "metrics/history.h"
#include "metrics/series_registry.h"
#include "routing/name_cache.h"
#include "routing/publisher.h"
#include "serve/key_service.h"
#include "serve/startup_report.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace glidepath::serve {

namespace {

// The collector runs a little after each second ends, so workers have marked it final
// (SPEC section 4: per-second windows merged every second).
constexpr auto kCollectDelay = std::chrono::milliseconds(50);
// Usage and quota counts go to the store this often (SPEC section 5: recording never
// waits for the store; a crash loses at most this much of them).
constexpr auto kFlushInterval = std::chrono::seconds(1);
// Upstream names are looked up again this often, in the background (a TTL-like period:
// the system resolver does not say the records' TTLs).
constexpr auto kNameRefreshInterval = std::chrono::seconds(30);

core::Result<std::unique_ptr<store::Store>> open_store(const config::StoreConfig& store) {
  if (store.kind == config::StoreKind::postgres) {
    store::PostgresOptions options;
    options.change_channel = std::string(fleet::kChangeChannel);
    // A call made while the database is away must not hold a control loop for long.
    options.reconnect_timeout = std::chrono::milliseconds(1500);
    auto opened = store::open_postgres(store.postgres_url, options);
    if (!opened) return core::Failure{opened.error()};
    return std::unique_ptr<store::Store>(std::move(*opened));
  }
  return store::open_sqlite_store(store.sqlite_path);
}

std::string default_name(uint16_t port) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "gateway");
  return fmt::format("{}:{}", host, port);
}

gateway::GatewayOptions gateway_options(const config::Config& config, size_t max_series) {
  gateway::GatewayOptions options;
  options.listen = config.gateway.listen;
  options.workers = config.gateway.workers;
  options.header_timeout = config.gateway.header_timeout;
  options.request_timeout = config.gateway.request_timeout;
  options.idle_timeout = config.gateway.idle_timeout;
  options.connect_timeout = config.gateway.connect_timeout;
  options.max_header_bytes = config.gateway.max_header_bytes;
  options.max_body_bytes = config.gateway.max_body_bytes;
  options.max_series = max_series;
  return options;
}

}  // namespace

struct Runtime::Impl {
  std::shared_ptr<const config::Config> config;
  RuntimeOptions options;
  bool fleet_mode = false;  // the store is PostgreSQL: other processes share it
  core::SystemClock clock;

  std::unique_ptr<store::Store> store;
  std::unique_ptr<fleet::StoreHealth> health;
  std::unique_ptr<KeyService> keys;
  metrics::SeriesRegistry registry;
  metrics::MetricsHistory history;         // this process's gateway: /metrics, its windows
  metrics::MetricsHistory merged_history;  // a fleet: every gateway's windows
  routing::NameCache names;
  std::unique_ptr<routing::RoutingPublisher> publisher;
  std::unique_ptr<gateway::Gateway> gateway;
  std::unique_ptr<metrics::MetricsCollector> collector;
  std::unique_ptr<controller::HookRunner> hooks;
  std::unique_ptr<controller::Controller> controller;
  std::unique_ptr<fleet::Fleet> fleet;
  std::unique_ptr<admin::AdminApi> api;
  std::unique_ptr<admin::HttpServer> admin;

  std::thread collector_thread;
  std::thread flusher_thread;
  std::thread names_thread;
  std::mutex stop_mutex;
  std::condition_variable stop_cv;
  bool stopping = false;

  // Sleeps until `offset` after the next whole second; false once stopping.
  bool sleep_past_next_second(std::chrono::milliseconds offset) {
    std::unique_lock lock(stop_mutex);
    const auto now = clock.now();
    const auto next = std::chrono::ceil<std::chrono::seconds>(now) + offset;
    stop_cv.wait_for(lock, next - now, [&] { return stopping; });
    return !stopping;
  }

  // Every second: the workers' counts into the history; then deployments are evaluated
  // on the second just merged, or, in a fleet, this gateway's windows go to the database
  // and the fleet thread merges and evaluates.
  void run_collector() {
    while (sleep_past_next_second(kCollectDelay)) {
      const int64_t second = core::epoch_second(clock.now());
      collector->collect(second);
      if (fleet) {
        fleet->write_windows(second - 1);
      } else {
        controller->tick();
      }
    }
  }

  void run_flusher() {
    std::unique_lock lock(stop_mutex);
    while (!stop_cv.wait_for(lock, kFlushInterval, [&] { return stopping; })) {
      lock.unlock();
      keys->flush(gateway->drain_usage(), registry);
      lock.lock();
    }
  }

  // Every name the gateway may route to, resolved before the first snapshot; one that does
  // not resolve now is tried again by every refresh and answers 502 meanwhile.
  void learn_names(std::span<const deploy::ServiceState> states) {
    std::vector<core::HostPort> upstreams;
    for (const config::ServiceConfig& service : config->services) {
      for (const config::VersionConfig& version : service.versions) {
        upstreams.insert(upstreams.end(), version.upstreams.begin(), version.upstreams.end());
      }
    }
    for (const deploy::ServiceState& state : states) {
      const auto added = deploy::upstreams_of(state.versions);
      upstreams.insert(upstreams.end(), added.begin(), added.end());
    }
    if (auto learned = names.learn(upstreams); !learned) {
      fmt::print(stderr, "warning: upstreams: {}; those answer 502 until they resolve\n",
                 learned.error().message);
    }
  }

  void run_name_refresh() {
    std::unique_lock lock(stop_mutex);
    while (!stop_cv.wait_for(lock, kNameRefreshInterval, [&] { return stopping; })) {
      lock.unlock();
      if (names.refresh()) {
        if (auto published = publisher->republish(); !published) {
          fmt::print(stderr, "warning: new upstream addresses: {}\n", published.error().message);
        }
      }
      lock.lock();
    }
  }

  core::Result<void> start_controller(const std::string& gateway_url) {
    hooks = std::make_unique<controller::HookRunner>();
    controller::ControllerDeps deps;
    deps.config = config;
    deps.store = store.get();
    deps.history = fleet_mode ? &merged_history : &history;
    deps.registry = &registry;
    deps.hooks = hooks.get();
    deps.clock = &clock;
    deps.gateway_url = gateway_url;
    deps.accept_upstreams = [this](const std::vector<core::HostPort>& upstreams) {
      return names.learn(upstreams);
    };
    deps.publish = [this](const std::string& service, const deploy::RoutingIntent& intent) {
      return publisher->set_intent(service, intent);
    };
    deps.check_contract = [this](const std::string& service, const std::string& base_spec,
                                 const std::string& revision_spec, deploy::ContractPolicy policy) {
      return controller::check_contract_async(*store, service, base_spec, revision_spec, policy,
                                              clock.now());
    };
    controller = std::make_unique<controller::Controller>(std::move(deps));
    // A single process drives every active deployment from where the store says it was
    // (after a crash too); in a fleet only the leader does, once it leads.
    if (!fleet_mode) {
      if (auto resumed = controller->resume(); !resumed) {
        return core::fail("resuming deployments: " + resumed.error().message);
      }
    }
    return {};
  }

  admin::AdminDeps admin_deps() {
    admin::AdminDeps deps;
    deps.config = config;
    deps.snapshot = [this] { return publisher->snapshot(); };
    if (gateway) {
      deps.gateway_stats = [this] { return gateway->stats(); };
      deps.gateway_workers = gateway->worker_count();
    }
    deps.role = to_string(options.role);
    if (fleet) {
      deps.store_problem = [this] { return health->problem(); };
      deps.series_history = &merged_history;
      deps.events_from_store = true;
      deps.stored_deployment = [this](std::string_view service) {
        return fleet->stored_deployment(service);
      };
      if (controller) deps.leading = [this] { return fleet->leading(); };
      // Deployment calls made of a gateway or a standby go on to the leader.
      deps.leader = [this] { return fleet->leader(); };
      deps.forward_to_leader = true;
    }
    deps.store = store.get();
    deps.registry = &registry;
    deps.history = &history;
    deps.clock = &clock;
    deps.controller = controller.get();
    deps.keys_changed = [this] { return keys->refresh(*publisher); };
    return deps;
  }
};

Runtime::Runtime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Runtime::~Runtime() {
  stop();
}

core::Result<std::unique_ptr<Runtime>> Runtime::start(std::shared_ptr<const config::Config> config,
                                                      RuntimeOptions options) {
  auto impl = std::make_unique<Impl>();
  Impl& r = *impl;
  r.config = config;
  r.options = options;
  r.fleet_mode = config->store.kind == config::StoreKind::postgres;
  const bool runs_gateway = options.role != Role::controller;
  if (!r.fleet_mode && options.role != Role::all) {
    return core::fail(fmt::format(
        "--role {}: a fleet's processes share a PostgreSQL store (store: postgres://...); "
        "with {} run --role all",
        to_string(options.role), config::to_string(config->store)));
  }
  auto store = open_store(config->store);
  if (!store) return core::Failure{store.error()};
  r.store = std::move(*store);
  r.health = std::make_unique<fleet::StoreHealth>(runs_gateway);
  r.keys = std::make_unique<KeyService>(*r.store, r.clock, r.health.get());

  // The routing to start with: what deployments left in the store and, for a fleet's
  // gateway, the deployments running now (a controller takes those over once it leads).
  auto states = r.store->list_services();
  if (!states) return core::fail("store: " + states.error().message);
  std::vector<deploy::Deployment> running;
  if (r.fleet_mode && options.role == Role::gateway) {
    auto active = r.store->active_deployments();
    if (!active) return core::fail("store: " + active.error().message);
    for (store::StoredDeployment& stored : *active)
      running.push_back(std::move(stored.deployment));
  }
  auto key_table = r.keys->load();
  if (!key_table) return core::fail("store: " + key_table.error().message);
  r.learn_names(*states);
  auto publisher = routing::RoutingPublisher::create(
      {config, &r.registry, nullptr, &r.names}, deploy::intents_from(*states, running), *key_table);
  if (!publisher) return core::Failure{publisher.error()};
  r.publisher = std::move(*publisher);
  report_stored_live_versions(*config, *states, *r.store);

  if (runs_gateway) {
    auto gateway = gateway::Gateway::start(gateway_options(*config, r.registry.max_series()),
                                           r.publisher->snapshot());
    if (!gateway) return core::Failure{gateway.error()};
    r.gateway = std::move(*gateway);
    r.publisher->attach([gw = r.gateway.get()](std::shared_ptr<const gateway::Snapshot> s) {
      return gw->publish(std::move(s));
    });
  }
  const uint16_t gateway_port = r.gateway ? r.gateway->port() : config->gateway.listen.port;
  if (options.role != Role::gateway) {
    const std::string gateway_url = fmt::format(
        "http://{}", core::format_host_port({config->gateway.listen.host, gateway_port}));
    if (auto started = r.start_controller(gateway_url); !started) {
      Runtime partial(std::move(impl));
      partial.stop();
      return core::Failure{started.error()};
    }
  }
  if (r.gateway) {
    r.collector = std::make_unique<metrics::MetricsCollector>(r.history, r.gateway->recorders());
    r.collector_thread = std::thread([&r] { r.run_collector(); });
    r.flusher_thread = std::thread([&r] { r.run_flusher(); });
    r.names_thread = std::thread([&r] { r.run_name_refresh(); });
  }
  if (r.fleet_mode) {
    fleet::FleetDeps deps;
    deps.config = config;
    deps.store = r.store.get();
    deps.publisher = r.publisher.get();
    deps.names = &r.names;
    deps.controller = r.controller.get();
    deps.registry = &r.registry;
    deps.local_history = &r.history;
    deps.merged_history = &r.merged_history;
    deps.health = r.health.get();
    deps.clock = &r.clock;
    deps.name = !options.name.empty() ? options.name : default_name(r.gateway ? gateway_port : 0);
    deps.refresh_keys = [&r] { return r.keys->refresh(*r.publisher); };
    deps.events_stored = [&r] {
      if (r.api) r.api->publish_stored_events();
    };
    r.fleet = std::make_unique<fleet::Fleet>(std::move(deps));
  }

  admin::ServerOptions admin_options;
  admin_options.listen = config->admin.listen;
  admin_options.token = config->admin.token;
  admin_options.public_prefix = std::string(admin::kUiPrefix);
  r.api = std::make_unique<admin::AdminApi>(r.admin_deps());
  auto admin = admin::HttpServer::start(
      admin_options,
      [api = r.api.get()](const admin::Request& request) { return api->handle(request); });
  if (!admin) {
    Runtime partial(std::move(impl));
    partial.stop();
    return core::Failure{admin.error()};
  }
  r.admin = std::move(*admin);

  if (r.fleet) {
    const std::string admin_url = fmt::format(
        "http://{}", core::format_host_port({config->admin.listen.host, r.admin->port()}));
    if (auto joined = r.fleet->start(admin_url); !joined) {
      Runtime partial(std::move(impl));
      partial.stop();
      return core::Failure{joined.error()};
    }
  }
  return std::unique_ptr<Runtime>(new Runtime(std::move(impl)));
}

uint16_t Runtime::gateway_port() const {
  return impl_->gateway ? impl_->gateway->port() : 0;
}
uint16_t Runtime::admin_port() const {
  return impl_->admin->port();
}

controller::Controller& Runtime::controller() {
  return *impl_->controller;
}

const char* to_string(Role role) {
  switch (role) {
    case Role::gateway:
      return "gateway";
    case Role::controller:
      return "controller";
    case Role::all:
      break;
  }
  return "all";
}

// In order: no new admin calls, no new requests (those in flight finish), then the loops
// that read what those two produced, then the fleet (a leader lets go of its lock at
// once, so a standby takes over on its next poll), then what the workers counted since
// the last flush, which a graceful stop does not lose.
void Runtime::stop() {
  if (!impl_) return;
  Impl& r = *impl_;
  if (r.admin) r.admin->stop();
  if (r.gateway) r.gateway->stop(std::chrono::seconds(5));
  {
    std::lock_guard lock(r.stop_mutex);
    r.stopping = true;
  }
  r.stop_cv.notify_all();
  if (r.collector_thread.joinable()) r.collector_thread.join();
  if (r.flusher_thread.joinable()) r.flusher_thread.join();
  if (r.names_thread.joinable()) r.names_thread.join();
  if (r.fleet) r.fleet->stop();
  if (r.gateway && r.keys) r.keys->flush(r.gateway->drain_usage(), r.registry);
  impl_.reset();
}

}  // namespace glidepath::serve
