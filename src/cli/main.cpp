// The glidepath binary: one command with subcommands (SPEC section 1).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "core/text.h"
#include "http/client.h"

namespace {

// CLI11 reads an unknown first word as a stray argument and answers "A subcommand is
// required": name the word instead, with the command it is likely a typo of.
bool is_unknown_command(CLI::App& app, int argc, char** argv) {
  if (argc < 2) return false;
  const std::string_view typed = argv[1];
  if (typed.empty() || typed.front() == '-') return false;  // --help, --version
  std::vector<std::string> names;
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (command->check_name(std::string(typed))) return false;
    names.push_back(command->get_name());
  }
  std::string message = fmt::format("error: unknown command '{}'", typed);
  if (auto nearest = glidepath::core::nearest_name(names, typed)) {
    message += fmt::format("; did you mean '{}'?", *nearest);
  }
  fmt::print(stderr, "{}\nRun with --help for the list of commands.\n", message);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  // libcurl's global set-up, before any thread exists (serve starts many).
  glidepath::http::initialize_client();
  CLI::App app{"Glidepath: an API gateway with safe deployments built in", "glidepath"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "glidepath 0.1.0");
  int exit_code = glidepath::cli::kOk;
  glidepath::cli::add_validate_command(app, exit_code);
  glidepath::cli::add_plan_command(app, exit_code);
  glidepath::cli::add_sample_backend_command(app, exit_code);
  glidepath::cli::add_serve_command(app, exit_code);
  glidepath::cli::add_deploy_command(app, exit_code);
  glidepath::cli::add_status_command(app, exit_code);
  glidepath::cli::add_control_commands(app, exit_code);
  glidepath::cli::add_keys_command(app, exit_code);
  glidepath::cli::add_consumers_command(app, exit_code);
  glidepath::cli::add_diff_command(app, exit_code);
  glidepath::cli::add_impact_command(app, exit_code);
  glidepath::cli::add_attach_spec_command(app, exit_code);
  glidepath::cli::add_demo_command(app, exit_code);
  if (is_unknown_command(app, argc, argv)) return glidepath::cli::kUsage;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    // CLI11 answers --help and --version with success; anything else is a usage error.
    return code == 0 ? 0 : glidepath::cli::kUsage;
  }
  return exit_code;
}
