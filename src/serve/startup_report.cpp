#include "serve/startup_report.h"

#include <fmt/format.h>

#include <cstdio>

#include "store/store.h"

namespace glidepath::serve {

namespace {

// The stored live version when it differs from the config's and someone knows it.
const deploy::ServiceState* overriding(const config::Config& config,
                                       const deploy::ServiceState& state) {
  const config::ServiceConfig* service = config.find_service(state.name);
  if (service == nullptr || state.live_version.empty() || state.live_version == service->live) {
    return nullptr;
  }
  const bool known = service->find_version(state.live_version) != nullptr ||
                     state.find_version(state.live_version) != nullptr;
  return known ? &state : nullptr;
}

}  // namespace

std::vector<std::string> describe_stored_live_versions(
    const config::Config& config, std::span<const deploy::ServiceState> states,
    std::span<const deploy::Deployment> history) {
  std::vector<std::string> lines;
  for (const deploy::ServiceState& state : states) {
    if (overriding(config, state) == nullptr) continue;
    const deploy::Deployment* made_live = nullptr;
    for (const deploy::Deployment& d : history) {
      if (d.spec.service != state.name || d.spec.to_version != state.live_version ||
          d.state != deploy::DeploymentState::succeeded) {
        continue;
      }
      if (made_live == nullptr || d.started_at > made_live->started_at) made_live = &d;
    }
    const std::string why =
        made_live != nullptr
            ? fmt::format(
                  "deployment {} made it live at {}", made_live->id,
                  core::format_rfc3339(made_live->finished_at.value_or(made_live->updated_at)))
            : std::string("no recorded deployment says when");
    lines.push_back(fmt::format(
        "{}: live version {} comes from the store, not the config's {} ({}); the store's "
        "live version wins until the next deployment",
        state.name, state.live_version, config.find_service(state.name)->live, why));
  }
  return lines;
}

void report_stored_live_versions(const config::Config& config,
                                 std::span<const deploy::ServiceState> states,
                                 store::Store& store) {
  std::vector<deploy::Deployment> history;
  for (const deploy::ServiceState& state : states) {
    if (overriding(config, state) == nullptr) continue;
    store::DeploymentFilter filter;
    filter.service = state.name;
    filter.limit = 50;
    if (auto found = store.list_deployments(filter)) {
      for (store::StoredDeployment& stored : *found)
        history.push_back(std::move(stored.deployment));
    }
  }
  for (const std::string& line : describe_stored_live_versions(config, states, history)) {
    fmt::print("{}\n", line);
  }
  std::fflush(stdout);
}

}  // namespace glidepath::serve
