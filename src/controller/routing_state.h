// How a service routes, from what the store holds (SPEC sections 3 and 9): its run-time
// state (the live version and the versions deployments added) and its active deployment
// (the canary and its weight). Pure: the controller uses it for the routing it publishes,
// and a fleet's gateways use it to build their snapshots from the database, so both
// derive the same routing from the same rows.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "deploy/deployment.h"
#include "gateway/routing.h"
#include "store/store.h"

namespace glidepath::controller {

// The versions `state` added that this process's config does not list, with their
// upstreams and documents. A version the config lists routes per the config: in a fleet,
// each process's config may point a version at its own upstreams.
std::vector<config::VersionConfig> added_versions(const config::ServiceConfig* service,
                                                  const deploy::ServiceState* state);

// The routing of `d`'s service while `d` runs or right after it ended: while it runs the
// new version is the canary at d.canary_weight (routable by preview pins even at 0%);
// once succeeded it is live; once rolled back or failed the old version is.
gateway::ServiceRuntime routing_for(const config::Config& config, const deploy::ServiceState* state,
                                    const deploy::Deployment& d);

// Every service's routing from the store's rows: the run-time state of each service the
// config has (a live version the config does not know is ignored), overridden by its
// active deployment, if any. Services the config no longer has are left out.
std::vector<std::pair<std::string, gateway::ServiceRuntime>> routing_from_store(
    const config::Config& config, const std::vector<deploy::ServiceState>& states,
    const std::vector<store::StoredDeployment>& active);

}  // namespace glidepath::controller
