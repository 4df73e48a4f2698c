// `glidepath demo [--keep]` (SPEC section 8).
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "tools/demo/demo.h"

namespace glidepath::cli {

void add_demo_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<demo::DemoOptions>();
  CLI::App* cmd = app.add_subcommand(
      "demo", "A healthy canary, then a faulty one rolled back on its own (under a minute)");
  cmd->add_flag("--keep", options->keep, "Leave everything running until Ctrl-C");
  cmd->callback([options, &exit_code] {
    options->color = isatty(STDOUT_FILENO) != 0;
    exit_code = demo::run_demo(*options);
  });
}

}  // namespace glidepath::cli
