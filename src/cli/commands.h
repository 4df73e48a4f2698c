// Each subcommand of the glidepath binary registers itself on the CLI11 app; the binary
// only wires (STYLE.md habit 6). Exit codes follow SPEC section 1: 0 ok, 1 the operation
// failed, 2 usage or input error.
#pragma once

namespace CLI {
class App;
}

namespace glidepath::cli {

enum ExitCode : int { kOk = 0, kFailed = 1, kUsage = 2 };

// `exit_code` is set by whichever subcommand runs.
void add_validate_command(CLI::App& app, int& exit_code);
void add_plan_command(CLI::App& app, int& exit_code);
void add_sample_backend_command(CLI::App& app, int& exit_code);
void add_serve_command(CLI::App& app, int& exit_code);
void add_deploy_command(CLI::App& app, int& exit_code);
void add_status_command(CLI::App& app, int& exit_code);
// promote, abort, pause and resume.
void add_control_commands(CLI::App& app, int& exit_code);
void add_demo_command(CLI::App& app, int& exit_code);
// keys create, keys list and keys revoke.
void add_keys_command(CLI::App& app, int& exit_code);
void add_consumers_command(CLI::App& app, int& exit_code);
// diff BASE REVISION: the OpenAPI breaking-change report, locally.
void add_diff_command(CLI::App& app, int& exit_code);
void add_impact_command(CLI::App& app, int& exit_code);
void add_attach_spec_command(CLI::App& app, int& exit_code);

}  // namespace glidepath::cli
