// Following a deployment or a service from the CLI (`deploy --wait`, `status --watch`):
// polls the admin API a few times a second and shows the live view — redrawn in place on
// a terminal, one timestamped line per new event otherwise (a log, a CI job).
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/admin_client.h"
#include "cli/live_view.h"
#include "core/result.h"

namespace glidepath::cli {

struct FollowOptions {
  bool live = false;  // redraw in place (a TTY)
  ViewOptions view;
  bool json = false;   // print each new version of the object as one JSON line
  bool quiet = false;  // print nothing while following (the caller prints the end)
  // Polling interval: at most 4 redraws a second (SPEC section 1: live progress).
  std::chrono::milliseconds interval{250};
  // How long the admin API may be unreachable (a restart) before following gives up.
  std::chrono::milliseconds unreachable_grace{30'000};
};

enum class FollowEnd { finished, interrupted, failed };

struct FollowResult {
  FollowEnd end = FollowEnd::failed;
  nlohmann::json deployment;  // the last object seen
};

// Follows GET /v1/deployments/{id} until the deployment is terminal (succeeded,
// rolled_back, failed), the user presses Ctrl-C, or the admin API fails (printed).
FollowResult follow_deployment(const AdminClient& client, const std::string& id,
                               const FollowOptions& options);

// Redraws `render()` every interval until Ctrl-C or until it returns an error (printed).
// `render` returns the lines to show, or an error message. Returns the exit code.
int watch(const std::function<core::Result<std::vector<std::string>>()>& render,
          const FollowOptions& options);

// True for succeeded, rolled_back and failed.
bool is_terminal_state(const std::string& state);

// The events of `events` after the last one already shown (`shown` is how many were
// shown and `last` the last of them): tolerant of a server that trims old events.
std::vector<nlohmann::json> new_events(const nlohmann::json& events, size_t shown,
                                       const nlohmann::json& last);

}  // namespace glidepath::cli
