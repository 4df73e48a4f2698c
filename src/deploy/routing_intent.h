// What a service should route, in the deployment engine's own terms (SPEC sections 3, 4
// and 9): which version is live, which versions deployments brought, and which one is the
// canary at what weight. The controller emits intents and a fleet's gateways derive them
// from the store's rows with the same pure functions, so both route alike. Turning an
// intent into what the gateway routes with (a snapshot) is the routing publisher's job
// (routing/publisher.h); nothing here names a gateway type.
#pragma once

#include <map>
#include <span>
#include <string>
#include <vector>

#include "core/units.h"
#include "deploy/deployment.h"
#include "deploy/service_state.h"

namespace glidepath::deploy {

struct RoutingIntent {
  std::string live;                       // empty: the config's live version
  std::vector<DeployedVersion> versions;  // versions deployments brought
  std::string canary;                     // empty: no deployment running
  int canary_weight = 0;                  // percent of public traffic to the canary
  // The running deployment's preview token: a request carrying it may pin a version
  // (the pre-traffic hook's credential). Empty without a running deployment.
  std::string preview_token;
  friend bool operator==(const RoutingIntent&, const RoutingIntent&) = default;
};

// A service no deployment is running for: the live version and the versions the last
// deployments left.
RoutingIntent settled_intent(const ServiceState& state);

// The routing of `d`'s service while `d` runs or right after it ended. From the moment it
// is created until it ends the new version is routable (its canary, at d.canary_weight,
// 0% before any public traffic) so that preview pins reach it; once succeeded it is live;
// once rolled back or failed the old version is. `state` is the service's record (null:
// none yet); the deployment carries its new version's upstreams itself, so a reader that
// sees the deployment before the service record that lists the version still routes it.
RoutingIntent deployment_intent(const ServiceState* state, const Deployment& d);

// Every service's intent from what the store holds: each service's record, overridden by
// its active deployment, if any. Keyed by service name.
std::map<std::string, RoutingIntent> intents_from(std::span<const ServiceState> states,
                                                  std::span<const Deployment> active);

// Every upstream of `versions` that parses as host:port (a stored one always does).
std::vector<core::HostPort> upstreams_of(std::span<const DeployedVersion> versions);

}  // namespace glidepath::deploy
