// What `glidepath diff` and POST /v1/contract/diff print (SPEC sections 1, 6 and 7): a
// DiffReport rendered as text for a terminal, as JSON for programs, or as Markdown for a
// pull-request comment. Pure functions of the report and the names of the two inputs; the
// formats are documented in docs/contract.md, and the JSON schema is stable (fields may be
// added, none renamed or dropped).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "contract/diff.h"

namespace glidepath::contract {

enum class ReportFormat { text, json, markdown };
// "text", "json", "markdown"; nullopt for anything else.
std::optional<ReportFormat> report_format_from_name(std::string_view name);
// "info", "warning", "breaking"; nullopt for anything else.
std::optional<Level> level_from_name(std::string_view name);

struct ReportOptions {
  // How the two inputs are called in the output: file names for the CLI.
  std::string base_name;
  std::string revision_name;
  // Text only: ANSI colours (the CLI asks for them on a terminal).
  bool color = false;
  // Text only: list info changes too. By default they are counted in the summary but not
  // listed: a CI log should show what needs a decision, and additions (the bulk of info)
  // need none. JSON always lists every change; Markdown folds info into a <details>.
  bool show_info = false;
  // Markdown only: rows that would take the comment past this many bytes are left out
  // (counted in a closing note). GitHub refuses comments over 65,536 characters. 0: no
  // limit.
  size_t markdown_max_bytes = 60'000;
};

// Changes grouped by operation ("GET /orders/{id}"), breaking first within each, one line
// per change: level, rule id, location and message; then a summary line
// ("2 breaking, 1 warning, 3 info").
std::string render_text(const DiffReport& report, const ReportOptions& options);

// {"base", "revision", "summary": {"breaking", "warning", "info"}, "changes": [{"level",
// "rule", "operation", "method", "path", "location": {...}, "message"}]}, every change in
// the report's order, location fields that do not apply left out. Pretty-printed with
// `indent` spaces (negative: one line), ending in a newline.
std::string render_json(const DiffReport& report, const ReportOptions& options, int indent = 2);

// A pull-request comment: a heading with the verdict, one table per level (breaking,
// then warnings), info changes in a collapsed <details>. Every text taken from the
// documents is escaped, so a message or path cannot break the table or inject HTML.
std::string render_markdown(const DiffReport& report, const ReportOptions& options);

// One of the three, by format.
std::string render_report(const DiffReport& report, ReportFormat format,
                          const ReportOptions& options);

// The rule catalogue (rules()) as a Markdown table: id, level, meaning. For
// docs/contract.md, through `glidepath diff --list-rules`.
std::string rules_markdown();

// Markdown escaping, exposed for tests and for other reports that embed contract text.
// Text for a table cell: Markdown punctuation backslash-escaped, HTML's & < > as entities,
// line breaks as <br>.
std::string markdown_escape(std::string_view text);
// `text` as a code span inside a table cell: a backtick fence longer than any run of
// backticks in it, pipes escaped, line breaks as spaces.
std::string markdown_code(std::string_view text);

}  // namespace glidepath::contract
