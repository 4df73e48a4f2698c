// What `serve` says at start about routing the config file does not show (README, "Where
// the live version comes from"): a deployment that succeeded made its version live, and
// the store keeps that across restarts, so the store's live version wins over the config's
// `live:`. Saying so, with the deployment that did it, keeps a restart from surprising
// anyone who reads only the config.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "config/config.h"
#include "deploy/deployment.h"
#include "deploy/service_state.h"

namespace glidepath::store {
class Store;
}

namespace glidepath::serve {

// One line per service whose stored live version differs from the config's, naming the
// deployment that made it live (the newest succeeded one that brought it, from `history`,
// any service, any order), or saying none is recorded. Services the config no longer has
// are skipped, and so is a stored live version neither the config nor the store knows
// (the config's then routes).
std::vector<std::string> describe_stored_live_versions(const config::Config& config,
                                                       std::span<const deploy::ServiceState> states,
                                                       std::span<const deploy::Deployment> history);

// describe_stored_live_versions() with each such service's recent deployments read from
// `store`, printed to stdout.
void report_stored_live_versions(const config::Config& config,
                                 std::span<const deploy::ServiceState> states, store::Store& store);

}  // namespace glidepath::serve
