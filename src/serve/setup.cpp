#include "serve/setup.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "deploy/routing_intent.h"
#include "fleet/fleet.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace glidepath::serve {

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

gateway::GatewayOptions gateway_options(const config::Config& config, size_t max_series) {
  gateway::GatewayOptions options;
  options.listen = config.gateway.listen;
  // The TLS contexts are loaded separately (TlsListeners::load), as they read files.
  for (const config::ListenerConfig& listener : config.gateway.listeners) {
    gateway::ListenerOptions more;
    more.listen = listener.listen;
    more.redirect_https_port = listener.redirect_https_port.value_or(0);
    options.more_listeners.push_back(std::move(more));
  }
  options.workers = config.gateway.workers;
  options.header_timeout = config.gateway.header_timeout;
  options.request_timeout = config.gateway.request_timeout;
  options.idle_timeout = config.gateway.idle_timeout;
  options.connect_timeout = config.gateway.connect_timeout;
  options.websocket_idle_timeout = config.gateway.websocket_idle_timeout;
  options.websocket_drain = config.gateway.websocket_drain;
  options.max_header_bytes = config.gateway.max_header_bytes;
  options.max_body_bytes = config.gateway.max_body_bytes;
  options.max_series = max_series;
  return options;
}

std::string default_gateway_name(uint16_t port) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "gateway");
  return fmt::format("{}:{}", host, port);
}

std::vector<core::HostPort> known_upstreams(const config::Config& config,
                                            std::span<const deploy::ServiceState> states) {
  std::vector<core::HostPort> upstreams;
  for (const config::ServiceConfig& service : config.services) {
    for (const config::VersionConfig& version : service.versions) {
      upstreams.insert(upstreams.end(), version.upstreams.begin(), version.upstreams.end());
    }
  }
  for (const deploy::ServiceState& state : states) {
    const auto added = deploy::upstreams_of(state.versions);
    upstreams.insert(upstreams.end(), added.begin(), added.end());
  }
  return upstreams;
}

TunnelDrainEvent tunnel_drain_event(const gateway::DrainedTunnels& drained,
                                    const deploy::Deployment* latest, core::TimePoint now) {
  using deploy::DeploymentState;
  const std::string tunnels =
      fmt::format("closed {} WebSocket tunnel{} to {} {}", drained.closed,
                  drained.closed == 1 ? "" : "s", drained.service, drained.version);
  TunnelDrainEvent out;
  out.event.time = now;
  out.event.type = "websocket";
  const bool rolled_away =
      latest != nullptr && latest->spec.to_version == drained.version &&
      (latest->state == DeploymentState::rolling_back ||
       latest->state == DeploymentState::rolled_back || latest->state == DeploymentState::failed);
  const bool replaced = latest != nullptr && latest->spec.from_version == drained.version &&
                        latest->state == DeploymentState::succeeded;
  if (rolled_away) {
    out.deployment_id = latest->id;
    out.event.message = tunnels + " after the rollback";
  } else if (replaced) {
    out.deployment_id = latest->id;
    out.event.message = fmt::format("{} after {} became live", tunnels, latest->spec.to_version);
  } else {
    out.event.message = tunnels + ", which no longer receives traffic";
  }
  return out;
}

}  // namespace glidepath::serve
