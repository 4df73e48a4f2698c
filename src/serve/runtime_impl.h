// The parts of `glidepath serve` (runtime.cpp wires them): every object the process runs,
// with one owner each, and the small adapters that connect them. Only runtime.cpp and
// runtime_parts.cpp include this.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "admin/admin_api.h"
#include "admin/http_server.h"
#include "controller/controller.h"
#include "controller/hook_runner.h"
#include "core/ticker.h"
#include "fleet/fleet.h"
#include "fleet/store_health.h"
#include "gateway/gateway.h"
#include "metrics/collector.h"
#include "metrics/history.h"
#include "metrics/series_registry.h"
#include "routing/name_cache.h"
#include "routing/publisher.h"
#include "serve/key_service.h"
#include "serve/runtime.h"
#include "serve/tls_listeners.h"
#include "store/store.h"

namespace glidepath::serve {

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
  TlsListeners tls;  // the gateway's TLS listeners' certificates
  std::unique_ptr<metrics::MetricsCollector> collector;
  std::unique_ptr<controller::HookRunner> hooks;
  std::unique_ptr<controller::Controller> controller;
  std::unique_ptr<fleet::Fleet> fleet;
  std::unique_ptr<admin::AdminApi> api;
  std::unique_ptr<admin::HttpServer> admin;

  core::Ticker collector_loop;  // each second's counts, then the controller's tick
  core::Ticker flusher_loop;    // usage and quota counts to the store
  core::Ticker names_loop;      // upstream names looked up again
  core::Ticker tls_loop;        // certificate files checked for changes

  // Every second: the workers' counts into the history; then deployments are evaluated
  // on the second just merged, or, in a fleet, this gateway's windows go to the database
  // and the fleet thread merges and evaluates; then finished tunnel drains are recorded.
  void collect();
  // Every name the gateway may route to, resolved before the first snapshot; one that
  // does not resolve now is tried again by every refresh and answers 502 meanwhile.
  void learn_names(std::span<const deploy::ServiceState> states);
  // The names looked up again; new addresses are published.
  void refresh_names();
  // Certificates reloaded when their files changed, or all of them when `force` (SIGHUP);
  // each reload or refusal becomes a `tls` event.
  void reload_tls(bool force);
  // An event of the gateway's own (service kGatewayEventService) into the log and the feed.
  void record_gateway_event(std::string_view type, std::string message);
  // The WebSocket tunnels drains closed since the last call, one `websocket` event per
  // version in its service's log (and its deployment's, when one retired the version).
  void record_drained_tunnels();
  // The deployment controller, resumed from the store on a single machine.
  core::Result<void> start_controller(const std::string& gateway_url);
  admin::AdminDeps admin_deps();
  fleet::FleetDeps fleet_deps(uint16_t gateway_port);
};

}  // namespace glidepath::serve
