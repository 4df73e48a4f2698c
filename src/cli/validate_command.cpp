// `glidepath validate -c FILE`: every problem in the config file with its path and line,
// exit 1; or a summary of what the file sets up, exit 0.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "config/loader.h"
#include "core/units.h"
#include "routing/name_cache.h"
#include "tls/server_context.h"

namespace glidepath::cli {

namespace {

struct ValidateOptions {
  std::string file = "glidepath.yaml";
  bool json = false;
};

nlohmann::json errors_json(const std::vector<config::ConfigError>& errors) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : errors) {
    out.push_back({{"path", e.path},
                   {"message", e.message},
                   {"line", e.line > 0 ? nlohmann::json(e.line) : nlohmann::json(nullptr)}});
  }
  return out;
}

std::string describe_service(const config::ServiceConfig& s) {
  const auto& d = s.deployment;
  std::string hosts =
      s.match.hosts.empty() ? "any host" : fmt::format("{}", fmt::join(s.match.hosts, ", "));
  return fmt::format(
      "  {}: {} {}, {} version{} (live {}), api keys {}, strategy {} ({} step{}, {}), {} alarm{}",
      s.name, hosts, s.match.path_prefix, s.versions.size(), s.versions.size() == 1 ? "" : "s",
      s.live, config::to_string(s.api_keys), d.plan.strategy, d.plan.steps.size(),
      d.plan.steps.size() == 1 ? "" : "s",
      deploy::waits_for_promote(d.plan)
          ? "waits for promote"
          : fmt::format("{} unattended", core::format_duration(deploy::planned_duration(d.plan))),
      d.alarms.size(), d.alarms.size() == 1 ? "" : "s");
}

// Upstream names that do not resolve from here: not errors (the gateway may run where
// they do, and keeps trying them), but the gateway would answer 502 for them meanwhile.
void warn_unresolved_upstreams(config::LoadResult& result) {
  if (!result.ok()) return;
  routing::NameCache names;
  const config::Config& c = *result.config;
  for (size_t s = 0; s < c.services.size(); ++s) {
    for (size_t v = 0; v < c.services[s].versions.size(); ++v) {
      const auto& upstreams = c.services[s].versions[v].upstreams;
      for (size_t u = 0; u < upstreams.size(); ++u) {
        auto learned = names.learn(std::span(&upstreams[u], 1));
        if (learned) continue;
        config::ConfigError warning;
        warning.path = fmt::format("services[{}].versions[{}].upstreams[{}]", s, v, u);
        warning.message = learned.error().message + " (the gateway answers 502 until it does)";
        result.warnings.push_back(std::move(warning));
      }
    }
  }
}

// Each TLS listener's certificates and keys loaded as `serve` will load them: a file that
// exists but holds no usable certificate, or a key of another certificate, is an error here
// rather than a refusal to start.
void check_tls_files(config::LoadResult& result) {
  if (!result.ok()) return;
  const config::Config& c = *result.config;
  std::vector<std::pair<std::string, const config::TlsConfig*>> listeners;
  if (c.gateway.tls) listeners.emplace_back("gateway.tls", &*c.gateway.tls);
  for (size_t i = 0; i < c.gateway.listeners.size(); ++i) {
    if (c.gateway.listeners[i].tls) {
      listeners.emplace_back(fmt::format("gateway.listeners[{}].tls", i),
                             &*c.gateway.listeners[i].tls);
    }
  }
  if (c.admin.tls) listeners.emplace_back("admin.tls", &*c.admin.tls);
  for (const auto& [path, tls] : listeners) {
    if (auto loaded = tls::ServerContext::load(*tls, nullptr); !loaded) {
      result.errors.push_back({path, loaded.error().message, 0});
    }
  }
  if (!result.errors.empty()) result.config.reset();
}

int run_validate(const ValidateOptions& options) {
  config::LoadResult result = config::load_config_file(options.file);
  check_tls_files(result);
  warn_unresolved_upstreams(result);
  if (options.json) {
    nlohmann::json out{{"file", options.file},
                       {"ok", result.ok()},
                       {"errors", errors_json(result.errors)},
                       {"warnings", errors_json(result.warnings)}};
    std::cout << out.dump(2) << '\n';
    return result.ok() ? kOk : kFailed;
  }
  for (const auto& w : result.warnings) {
    fmt::print("warning: {}\n", config::format_error(w, options.file));
  }
  if (!result.ok()) {
    for (const auto& e : result.errors)
      fmt::print("{}\n", config::format_error(e, options.file));
    fmt::print("{}: {} error{}\n", options.file, result.errors.size(),
               result.errors.size() == 1 ? "" : "s");
    return kFailed;
  }
  const config::Config& c = *result.config;
  fmt::print("{}: OK — gateway on {}{}, admin on {}{}, store {}, {} service{}\n", options.file,
             core::format_host_port(c.gateway.listen), c.gateway.tls ? " (TLS)" : "",
             core::format_host_port(c.admin.listen), c.admin.tls ? " (TLS)" : "",
             config::to_string(c.store), c.services.size(), c.services.size() == 1 ? "" : "s");
  for (const auto& s : c.services)
    fmt::print("{}\n", describe_service(s));
  return kOk;
}

}  // namespace

void add_validate_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ValidateOptions>();
  CLI::App* cmd = app.add_subcommand("validate", "Check a config file and report every error");
  cmd->add_option("-c,--config", options->file, "The config file")->required();
  cmd->add_flag("--json", options->json, "Machine-readable output");
  cmd->callback([options, &exit_code] { exit_code = run_validate(*options); });
}

}  // namespace glidepath::cli
