#include "controller/routing_state.h"

#include <algorithm>
#include <map>

namespace glidepath::controller {

std::vector<config::VersionConfig> added_versions(const config::ServiceConfig* service,
                                                  const deploy::ServiceState* state) {
  std::vector<config::VersionConfig> out;
  if (state == nullptr) return out;
  for (const deploy::DeployedVersion& v : state->versions) {
    if (service != nullptr && service->find_version(v.name) != nullptr) continue;
    config::VersionConfig added;
    added.name = v.name;
    for (const std::string& upstream : v.upstreams) {
      if (auto hp = core::parse_host_port(upstream)) added.upstreams.push_back(*hp);
    }
    added.spec = v.spec_path;
    out.push_back(std::move(added));
  }
  return out;
}

gateway::ServiceRuntime routing_for(const config::Config& config, const deploy::ServiceState* state,
                                    const deploy::Deployment& d) {
  gateway::ServiceRuntime routing;
  const config::ServiceConfig* service = config.find_service(d.spec.service);
  routing.added_versions = added_versions(service, state);
  // The deployment carries its new version's upstreams itself: a reader that sees the
  // deployment before the service record that lists the version still routes it.
  const bool known =
      (service != nullptr && service->find_version(d.spec.to_version) != nullptr) ||
      std::any_of(routing.added_versions.begin(), routing.added_versions.end(),
                  [&](const config::VersionConfig& v) { return v.name == d.spec.to_version; });
  if (!known && !d.spec.upstreams.empty()) {
    config::VersionConfig added;
    added.name = d.spec.to_version;
    for (const std::string& upstream : d.spec.upstreams) {
      if (auto hp = core::parse_host_port(upstream)) added.upstreams.push_back(*hp);
    }
    added.spec = d.spec.api_spec;
    routing.added_versions.push_back(std::move(added));
  }
  switch (d.state) {
    case deploy::DeploymentState::succeeded:
      routing.live = d.spec.to_version;
      break;
    case deploy::DeploymentState::rolled_back:
    case deploy::DeploymentState::failed:
      routing.live = d.spec.from_version;
      break;
    default:
      routing.live = d.spec.from_version;
      routing.canary = d.spec.to_version;
      routing.canary_weight = d.canary_weight;
      routing.preview_token = d.spec.preview_token;
      break;
  }
  return routing;
}

std::vector<std::pair<std::string, gateway::ServiceRuntime>> routing_from_store(
    const config::Config& config, const std::vector<deploy::ServiceState>& states,
    const std::vector<store::StoredDeployment>& active) {
  std::map<std::string, gateway::ServiceRuntime> routing;
  std::map<std::string, const deploy::ServiceState*> by_name;
  for (const deploy::ServiceState& state : states) {
    const config::ServiceConfig* service = config.find_service(state.name);
    if (service == nullptr) continue;  // removed from the config: nothing to route
    by_name[state.name] = &state;
    gateway::ServiceRuntime runtime;
    runtime.added_versions = added_versions(service, &state);
    const bool live_known =
        service->find_version(state.live_version) != nullptr ||
        std::any_of(runtime.added_versions.begin(), runtime.added_versions.end(),
                    [&](const config::VersionConfig& v) { return v.name == state.live_version; });
    if (live_known) runtime.live = state.live_version;
    routing[state.name] = std::move(runtime);
  }
  for (const store::StoredDeployment& stored : active) {
    const deploy::Deployment& d = stored.deployment;
    if (config.find_service(d.spec.service) == nullptr) continue;
    const auto state = by_name.find(d.spec.service);
    routing[d.spec.service] =
        routing_for(config, state == by_name.end() ? nullptr : state->second, d);
  }
  return {routing.begin(), routing.end()};
}

}  // namespace glidepath::controller
