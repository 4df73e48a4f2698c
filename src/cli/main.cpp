// The glidepath binary: one command with subcommands (SPEC section 1).
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
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
  glidepath::cli::add_demo_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    // CLI11 answers --help and --version with success; anything else is a usage error.
    return code == 0 ? 0 : glidepath::cli::kUsage;
  }
  return exit_code;
}
