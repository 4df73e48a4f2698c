#include <fmt/format.h>

#include "controller/contract_gate.h"
#include "serve/runtime_impl.h"
#include "serve/setup.h"

namespace glidepath::serve {

void Runtime::Impl::collect() {
  const int64_t second = core::epoch_second(clock.now());
  collector->collect(second);
  if (fleet) {
    fleet->write_windows(second - 1);
  } else {
    controller->tick();
  }
  record_drained_tunnels();
}

void Runtime::Impl::learn_names(std::span<const deploy::ServiceState> states) {
  if (auto learned = names.learn(known_upstreams(*config, states)); !learned) {
    fmt::print(stderr, "warning: upstreams: {}; those answer 502 until they resolve\n",
               learned.error().message);
  }
}

void Runtime::Impl::refresh_names() {
  if (!names.refresh()) return;
  if (auto published = publisher->republish(); !published) {
    fmt::print(stderr, "warning: new upstream addresses: {}\n", published.error().message);
  }
}

void Runtime::Impl::reload_tls(bool force) {
  if (tls.empty()) return;
  for (std::string& message : tls.check(force, gateway.get(), admin.get(), clock.now())) {
    record_gateway_event("tls", std::move(message));
  }
}

void Runtime::Impl::record_gateway_event(std::string_view type, std::string message) {
  const deploy::DeploymentEvent event{clock.now(), std::string(type), std::move(message)};
  auto id = store->append_event(kGatewayEventService, "", event);
  if (!id) {
    fmt::print(stderr, "warning: recording a {} event: {}\n", type, id.error().message);
    return;
  }
  if (api)
    api->publish_event(store::EventRecord{*id, std::string(kGatewayEventService), "", event});
}

void Runtime::Impl::record_drained_tunnels() {
  for (const gateway::DrainedTunnels& drained : gateway->take_drained_tunnels()) {
    // Read after the drain (seconds after the change): the deployment that made it is in
    // the store by then, finished.
    store::DeploymentFilter newest;
    newest.service = drained.service;
    newest.limit = 1;
    auto latest = store->list_deployments(newest);
    const deploy::Deployment* deployment =
        latest && !latest->empty() ? &latest->front().deployment : nullptr;
    const TunnelDrainEvent recorded = tunnel_drain_event(drained, deployment, clock.now());
    auto id = store->append_event(drained.service, recorded.deployment_id, recorded.event);
    if (!id) {
      fmt::print(stderr, "warning: recording that {}: {}\n", recorded.event.message,
                 id.error().message);
      continue;
    }
    if (api) {
      api->publish_event(
          store::EventRecord{*id, drained.service, recorded.deployment_id, recorded.event});
    }
  }
}

core::Result<void> Runtime::Impl::start_controller(const std::string& gateway_url) {
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
  deps.prepare_spec = [this](const std::string& path) { publisher->preload_spec(path); };
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

admin::AdminDeps Runtime::Impl::admin_deps() {
  admin::AdminDeps deps;
  deps.config = config;
  deps.snapshot = [this] { return publisher->snapshot(); };
  if (gateway) {
    deps.gateway_stats = [this] { return gateway->stats(); };
    deps.gateway_workers = gateway->worker_count();
  }
  if (!tls.empty()) deps.tls_status = [this] { return tls.status(); };
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

fleet::FleetDeps Runtime::Impl::fleet_deps(uint16_t gateway_port) {
  fleet::FleetDeps deps;
  deps.config = config;
  deps.store = store.get();
  deps.publisher = publisher.get();
  deps.names = &names;
  deps.controller = controller.get();
  deps.registry = &registry;
  deps.local_history = &history;
  deps.merged_history = &merged_history;
  deps.health = health.get();
  deps.clock = &clock;
  deps.name =
      !options.name.empty() ? options.name : default_gateway_name(gateway ? gateway_port : 0);
  deps.refresh_keys = [this] { return keys->refresh(*publisher); };
  deps.events_stored = [this] {
    if (api) api->publish_stored_events();
  };
  return deps;
}

}  // namespace glidepath::serve
