#include "serve/runtime.h"

#include <fmt/format.h>

#include "admin/ui_requests.h"
#include "deploy/routing_intent.h"
#include "serve/runtime_impl.h"
#include "serve/setup.h"
#include "serve/startup_report.h"

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
// Certificate files are checked this often (a stat per file).
constexpr auto kTlsCheckInterval = std::chrono::seconds(1);

}  // namespace

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
    gateway::GatewayOptions gateway_opts = gateway_options(*config, r.registry.max_series());
    if (auto tls = r.tls.load_gateway(*config, gateway_opts, r.clock.now()); !tls) {
      return core::Failure{tls.error()};
    }
    auto gateway = gateway::Gateway::start(gateway_opts, r.publisher->snapshot());
    if (!gateway) return core::Failure{gateway.error()};
    r.gateway = std::move(*gateway);
    r.publisher->attach([gw = r.gateway.get()](std::shared_ptr<const gateway::Snapshot> s) {
      return gw->publish(std::move(s));
    });
  }
  const uint16_t gateway_port = r.gateway ? r.gateway->port() : config->gateway.listen.port;
  if (options.role != Role::gateway) {
    const std::string gateway_url =
        fmt::format("{}://{}", config->gateway.tls ? "https" : "http",
                    core::format_host_port({config->gateway.listen.host, gateway_port}));
    if (auto started = r.start_controller(gateway_url); !started) {
      Runtime partial(std::move(impl));
      partial.stop();
      return core::Failure{started.error()};
    }
  }
  if (r.gateway) {
    r.collector = std::make_unique<metrics::MetricsCollector>(r.history, r.gateway->recorders());
    r.collector_loop =
        core::Ticker::past_each_second(r.clock, kCollectDelay, [&r] { r.collect(); });
    r.flusher_loop = core::Ticker::every(
        kFlushInterval, [&r] { r.keys->flush(r.gateway->drain_usage(), r.registry); });
    r.names_loop = core::Ticker::every(kNameRefreshInterval, [&r] { r.refresh_names(); });
  }
  if (r.fleet_mode) r.fleet = std::make_unique<fleet::Fleet>(r.fleet_deps(gateway_port));

  admin::ServerOptions admin_options;
  admin_options.listen = config->admin.listen;
  admin_options.token = config->admin.token;
  admin_options.public_prefix = std::string(admin::kUiPrefix);
  if (auto tls = r.tls.load_admin(*config, admin_options, r.clock.now()); !tls) {
    Runtime partial(std::move(impl));
    partial.stop();
    return core::Failure{tls.error()};
  }
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
  if (!r.tls.empty()) {
    r.tls_loop = core::Ticker::every(kTlsCheckInterval, [&r] { r.reload_tls(false); });
  }

  if (r.fleet) {
    const std::string admin_url =
        fmt::format("{}://{}", config->admin.tls ? "https" : "http",
                    core::format_host_port({config->admin.listen.host, r.admin->port()}));
    if (auto joined = r.fleet->start(admin_url); !joined) {
      Runtime partial(std::move(impl));
      partial.stop();
      return core::Failure{joined.error()};
    }
  }
  return std::unique_ptr<Runtime>(new Runtime(std::move(impl)));
}

uint16_t Runtime::gateway_port(size_t listener) const {
  return impl_->gateway ? impl_->gateway->port(listener) : 0;
}
uint16_t Runtime::admin_port() const {
  return impl_->admin->port();
}

void Runtime::reload_tls() {
  impl_->reload_tls(true);
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
  r.collector_loop.stop();
  r.flusher_loop.stop();
  r.names_loop.stop();
  r.tls_loop.stop();
  if (r.fleet) r.fleet->stop();
  if (r.gateway && r.keys) r.keys->flush(r.gateway->drain_usage(), r.registry);
  impl_.reset();
}

}  // namespace glidepath::serve
