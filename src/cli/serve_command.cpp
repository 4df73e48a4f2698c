// `glidepath serve -c FILE [--role gateway|controller|all] [--name NAME]`: the gateway, the
// deployment controller and the admin API — or, in a fleet on PostgreSQL, one of the
// first two with the admin API — until SIGINT or SIGTERM.
#include <fmt/format.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"
#include "config/loader.h"
#include "core/units.h"
#include "serve/runtime.h"

namespace glidepath::cli {

namespace {

struct ServeOptions {
  std::string file = "glidepath.yaml";
  std::string role = "all";
  std::string name;
};

int run_serve(const ServeOptions& options) {
  const config::LoadResult loaded = config::load_config_file(options.file);
  for (const auto& w : loaded.warnings) {
    fmt::print(stderr, "warning: {}\n", config::format_error(w, options.file));
  }
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors)
      fmt::print(stderr, "{}\n", config::format_error(e, options.file));
    return kUsage;
  }
  // Block the stop signals before any thread starts, so every thread inherits the mask
  // and sigwait below is the only place they arrive.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);  // reload the TLS certificates
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  serve::RuntimeOptions runtime_options;
  runtime_options.role = options.role == "gateway"      ? serve::Role::gateway
                         : options.role == "controller" ? serve::Role::controller
                                                        : serve::Role::all;
  runtime_options.name = options.name;
  auto runtime = serve::Runtime::start(loaded.config, runtime_options);
  if (!runtime) {
    fmt::print(stderr, "error: {}\n", runtime.error().message);
    return kFailed;
  }
  const auto& config = *loaded.config;
  if (runtime_options.role != serve::Role::controller) {
    fmt::print("gateway listening on {}{}\n",
               core::format_host_port({config.gateway.listen.host, (*runtime)->gateway_port()}),
               config.gateway.tls ? " (TLS)" : "");
    for (size_t i = 0; i < config.gateway.listeners.size(); ++i) {
      const config::ListenerConfig& listener = config.gateway.listeners[i];
      fmt::print("gateway listening on {}{}\n",
                 core::format_host_port({listener.listen.host, (*runtime)->gateway_port(i + 1)}),
                 listener.tls                   ? " (TLS)"
                 : listener.redirect_https_port ? " (redirects to HTTPS)"
                                                : "");
    }
  }
  fmt::print("admin listening on {}{}\n",
             core::format_host_port({config.admin.listen.host, (*runtime)->admin_port()}),
             config.admin.tls ? " (TLS)" : "");
  std::fflush(stdout);

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) == 0 && signal_number == SIGHUP) {
    (*runtime)->reload_tls();
  }
  fmt::print("received {}, stopping: requests in flight finish first\n",
             signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  std::fflush(stdout);
  (*runtime)->stop();
  return kOk;
}

}  // namespace

void add_serve_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "Run the gateway and the admin API");
  cmd->add_option("-c,--config", options->file, "The config file")->required();
  cmd->add_option("--role", options->role, "gateway, controller or all (the default)")
      ->check(CLI::IsMember({"gateway", "controller", "all"}));
  cmd->add_option("--name", options->name,
                  "This process's name in a fleet (its metric windows carry it); default "
                  "HOST:PORT");
  cmd->callback([options, &exit_code] { exit_code = run_serve(*options); });
}

}  // namespace glidepath::cli
