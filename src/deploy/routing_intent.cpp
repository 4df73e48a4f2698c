#include "deploy/routing_intent.h"

namespace glidepath::deploy {

RoutingIntent settled_intent(const ServiceState& state) {
  RoutingIntent intent;
  intent.live = state.live_version;
  intent.versions = state.versions;
  return intent;
}

RoutingIntent deployment_intent(const ServiceState* state, const Deployment& d) {
  RoutingIntent intent;
  if (state != nullptr) intent.versions = state->versions;
  const bool listed = state != nullptr && state->find_version(d.spec.to_version) != nullptr;
  if (!listed && !d.spec.upstreams.empty()) {
    intent.versions.push_back(
        DeployedVersion{d.spec.to_version, d.spec.upstreams, d.spec.api_spec});
  }
  switch (d.state) {
    case DeploymentState::succeeded:
      intent.live = d.spec.to_version;
      break;
    case DeploymentState::rolled_back:
    case DeploymentState::failed:
      intent.live = d.spec.from_version;
      break;
    default:
      intent.live = d.spec.from_version;
      intent.canary = d.spec.to_version;
      intent.canary_weight = d.canary_weight;
      intent.preview_token = d.spec.preview_token;
      break;
  }
  return intent;
}

std::map<std::string, RoutingIntent> intents_from(std::span<const ServiceState> states,
                                                  std::span<const Deployment> active) {
  std::map<std::string, RoutingIntent> intents;
  std::map<std::string, const ServiceState*> by_name;
  for (const ServiceState& state : states) {
    by_name[state.name] = &state;
    intents[state.name] = settled_intent(state);
  }
  for (const Deployment& d : active) {
    const auto state = by_name.find(d.spec.service);
    intents[d.spec.service] =
        deployment_intent(state == by_name.end() ? nullptr : state->second, d);
  }
  return intents;
}

std::vector<core::HostPort> upstreams_of(std::span<const DeployedVersion> versions) {
  std::vector<core::HostPort> out;
  for (const DeployedVersion& version : versions) {
    for (const std::string& upstream : version.upstreams) {
      if (auto hp = core::parse_host_port(upstream)) out.push_back(*hp);
    }
  }
  return out;
}

}  // namespace glidepath::deploy
