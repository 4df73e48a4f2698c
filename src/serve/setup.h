// What `serve` derives from the config before it wires anything: the store to open, the
// gateway's options, the gateway's name in a fleet, and every upstream it may route to.
// Small pieces kept out of runtime.cpp so that it reads as a wiring diagram.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/result.h"
#include "core/units.h"
#include "deploy/deployment.h"
#include "deploy/service_state.h"
#include "gateway/gateway.h"

namespace glidepath::store {
class Store;
}

namespace glidepath::serve {

// The config's store: SQLite, or PostgreSQL announcing every change on the fleet's
// channel and bounding a call made while the database is away.
core::Result<std::unique_ptr<store::Store>> open_store(const config::StoreConfig& store);

gateway::GatewayOptions gateway_options(const config::Config& config, size_t max_series);

// "HOST:PORT" of this machine: a fleet gateway's name in its metric windows by default.
std::string default_gateway_name(uint16_t port);

// Every upstream the config's versions and the versions deployments added name.
std::vector<core::HostPort> known_upstreams(const config::Config& config,
                                            std::span<const deploy::ServiceState> states);

// The event (type "websocket") that says how many tunnels a drain closed: "closed 2
// WebSocket tunnels to orders v2 after the rollback". It belongs to the deployment that
// stopped the version's traffic when `latest` (the service's newest deployment, if any)
// is that one — the version was its new one and it rolled back or failed, or its old one
// and it succeeded — and to the service alone otherwise (empty deployment_id).
struct TunnelDrainEvent {
  std::string deployment_id;
  deploy::DeploymentEvent event;
};
TunnelDrainEvent tunnel_drain_event(const gateway::DrainedTunnels& drained,
                                    const deploy::Deployment* latest, core::TimePoint now);

}  // namespace glidepath::serve
