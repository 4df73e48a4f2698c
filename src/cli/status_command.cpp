// `glidepath status [SERVICE|DEPLOYMENT_ID] [--watch] [--json]` (SPEC section 1): every
// service with its split and active deployment; one service in detail; or one deployment
// (ids start with "dep_"). --watch keeps the picture current until Ctrl-C — or, for a
// deployment, until it ends (exit 0 succeeded, 1 rolled back or failed, as deploy --wait).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/admin_client.h"
#include "cli/commands.h"
#include "cli/follow.h"
#include "cli/live_view.h"
#include "core/clock.h"

namespace glidepath::cli {

namespace {

struct StatusOptions {
  AdminOptions admin;
  std::string target;
  bool watch = false;
};

bool is_deployment_id(const std::string& target) {
  return target.rfind("dep_", 0) == 0;
}

// The lines for `target` from one GET, or the message to print.
core::Result<std::vector<std::string>> fetch_view(const AdminClient& client,
                                                  const std::string& target,
                                                  const ViewOptions& view, nlohmann::json& raw) {
  std::string path = "/v1/services";
  if (is_deployment_id(target)) {
    path = "/v1/deployments/" + target;
  } else if (!target.empty()) {
    path = "/v1/services/" + target;
  }
  auto reply = client.get(path);
  if (!reply) return core::fail(unreachable_message(client, reply.error()));
  if (!reply->ok()) {
    // A mistyped service: name the one it likely meant.
    const std::string hint = reply->status == 404 && !target.empty() && !is_deployment_id(target)
                                 ? service_suggestion(client, target)
                                 : "";
    return core::fail(fmt::format("{} (HTTP {}){}", reply->error_message(), reply->status, hint));
  }
  raw = reply->body;
  core::SystemClock clock;
  if (is_deployment_id(target)) return render_deployment(raw, clock.now(), view);
  if (!target.empty()) return render_service(raw, clock.now(), view);
  return render_services(raw, view);
}

int run_status(const StatusOptions& options) {
  AdminClient client(options.admin);
  if (auto url = client.check_url(); !url) {
    fmt::print(stderr, "error: {}\n", url.error().message);
    return kUsage;
  }
  const bool tty = stdout_is_tty();
  ViewOptions view;
  view.color = tty && !options.admin.json;
  view.width = stdout_width();  // not a terminal: lines are not cut

  if (!options.watch) {
    view.max_events = 10;
    nlohmann::json raw;
    auto lines = fetch_view(client, options.target, view, raw);
    if (!lines) {
      fmt::print(stderr, "error: {}\n", lines.error().message);
      return kFailed;
    }
    if (options.admin.json) {
      std::cout << raw.dump(2) << '\n';
    } else {
      for (const std::string& line : *lines)
        fmt::print("{}\n", line);
    }
    return kOk;
  }

  FollowOptions follow;
  follow.live = tty && !options.admin.json;
  follow.view = view;
  follow.json = options.admin.json;
  if (is_deployment_id(options.target)) {
    const FollowResult result = follow_deployment(client, options.target, follow);
    if (result.end == FollowEnd::failed) return kFailed;
    if (result.end == FollowEnd::interrupted) return kOk;
    const auto state = result.deployment.value("state", "");
    if (!options.admin.json && !follow.live) {
      fmt::print("{} {}\n", options.target, state);
    }
    return state == "succeeded" ? kOk : kFailed;
  }
  return watch(
      [&]() -> core::Result<std::vector<std::string>> {
        nlohmann::json raw;
        auto lines = fetch_view(client, options.target, follow.view, raw);
        if (!lines) return lines;
        if (options.admin.json) return std::vector<std::string>{raw.dump()};
        return lines;
      },
      follow);
}

}  // namespace

void add_status_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<StatusOptions>();
  CLI::App* cmd = app.add_subcommand(
      "status", "Traffic split, step, alarm states and recent events of services and deployments");
  cmd->add_option("target", options->target,
                  "A service name, or a deployment id (dep_...); all services when omitted");
  cmd->add_flag("--watch", options->watch,
                "Keep refreshing (a deployment: until it ends; exit 0 succeeded, 1 otherwise)");
  add_admin_options(*cmd, options->admin);
  cmd->callback([options, &exit_code] { exit_code = run_status(*options); });
}

}  // namespace glidepath::cli
