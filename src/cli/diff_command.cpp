// `glidepath diff BASE REVISION [--format text|json|markdown] [--fail-on breaking|warning]`
// (SPEC sections 1 and 6): the breaking-change report between two OpenAPI / Swagger
// documents. Runs locally, no admin API needed. Exit 0 when the report is printed; 1 when
// --fail-on is given and a change at or above that level exists; 2 for a usage error or a
// document that cannot be loaded. The formats are described in docs/contract.md.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <optional>

#include "cli/admin_client.h"
#include "cli/commands.h"
#include "cli/text_output.h"
#include "contract/diff.h"
#include "contract/loader.h"
#include "contract/report.h"
#include "core/clock.h"

namespace glidepath::cli {

namespace {

struct DiffCommandOptions {
  std::string base;
  std::string revision;
  std::string format = "text";
  bool json = false;
  std::string fail_on;
  bool all = false;
  bool list_rules = false;
};

// https://no-color.org: a set, non-empty NO_COLOR turns colour off even on a terminal.
bool color_wanted() {
  const char* no_color = std::getenv("NO_COLOR");
  return stdout_is_tty() && (no_color == nullptr || *no_color == '\0');
}

// The loader's message names the file when the problem is inside it; a file that cannot
// be read at all, or YAML that does not parse, may not: then the path is put in front.
std::string load_error(const std::string& file, const std::string& message) {
  if (message.find(file) != std::string::npos) return message;
  return fmt::format("{}: {}", file, message);
}

int run_diff(const DiffCommandOptions& options) {
  if (options.list_rules) {
    std::cout << contract::rules_markdown();
    return kOk;
  }
  if (options.base.empty() || options.revision.empty()) {
    return usage_error("diff needs two documents: glidepath diff BASE REVISION");
  }
  std::optional<contract::ReportFormat> format = contract::report_format_from_name(options.format);
  if (!format)
    return usage_error(fmt::format("--format: '{}' is not text, json or markdown", options.format));
  if (options.json) {
    if (options.format != "text" && options.format != "json") {
      return usage_error(fmt::format("--json and --format {} ask for two formats", options.format));
    }
    format = contract::ReportFormat::json;
  }
  std::optional<contract::Level> fail_on;
  if (!options.fail_on.empty()) {
    fail_on = contract::level_from_name(options.fail_on);
    if (!fail_on || *fail_on == contract::Level::info) {
      return usage_error(
          fmt::format("--fail-on: '{}' is not breaking or warning", options.fail_on));
    }
  }

  auto base = contract::load_document_file(options.base);
  auto revision = contract::load_document_file(options.revision);
  // Both are reported: fixing one only to learn of the other wastes a CI run.
  if (!base) fmt::print(stderr, "error: {}\n", load_error(options.base, base.error().message));
  if (!revision) {
    fmt::print(stderr, "error: {}\n", load_error(options.revision, revision.error().message));
  }
  if (!base || !revision) return kUsage;

  contract::DiffOptions diff_options;
  diff_options.now = core::SystemClock().now();
  const contract::DiffReport report = contract::diff(*base, *revision, diff_options);

  contract::ReportOptions report_options;
  report_options.base_name = options.base;
  report_options.revision_name = options.revision;
  report_options.color = *format == contract::ReportFormat::text && color_wanted();
  report_options.show_info = options.all;
  std::cout << contract::render_report(report, *format, report_options) << std::flush;

  if (fail_on && report.max_level() >= *fail_on) return kFailed;
  return kOk;
}

}  // namespace

void add_diff_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<DiffCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "diff", "Breaking-change report between two OpenAPI documents (BASE = what clients use now)");
  cmd->add_option("base", options->base, "The current document (OpenAPI 3.x or Swagger 2.0)");
  cmd->add_option("revision", options->revision, "The proposed document");
  cmd->add_option("--format", options->format, "text (default), json or markdown");
  cmd->add_flag("--json", options->json, "The same as --format json");
  cmd->add_option("--fail-on", options->fail_on,
                  "Exit 1 when a change at this level or above exists: breaking or warning");
  cmd->add_flag("-a,--all,--verbose", options->all,
                "Text: list info changes too (by default they are only counted)");
  // For docs/contract.md: the rule catalogue as a Markdown table.
  cmd->add_flag("--list-rules", options->list_rules, "Print the rule catalogue")->group("");
  cmd->callback([options, &exit_code] { exit_code = run_diff(*options); });
}

}  // namespace glidepath::cli
