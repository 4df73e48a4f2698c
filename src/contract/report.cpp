#include "contract/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "contract/report_json.h"

namespace glidepath::contract {

namespace {

// ANSI SGR sequences (ECMA-48 8.3.117); the CLI's own live in cli/text_output.h, which
// this pure module does not depend on.
constexpr std::string_view kReset = "\x1b[0m";
constexpr std::string_view kBold = "\x1b[1m";
constexpr std::string_view kDim = "\x1b[2m";
constexpr std::string_view kRed = "\x1b[31m";
constexpr std::string_view kYellow = "\x1b[33m";
constexpr std::string_view kCyan = "\x1b[36m";

// The level column's width: "breaking".
constexpr size_t kLevelWidth = 8;

constexpr std::array<Level, 3> kLevelsHighFirst = {Level::breaking, Level::warning, Level::info};

std::string paint(std::string_view text, std::string_view sgr, bool color) {
  if (!color || text.empty()) return std::string(text);
  return fmt::format("{}{}{}", sgr, text, kReset);
}

std::string_view level_color(Level level) {
  switch (level) {
    case Level::breaking:
      return kRed;
    case Level::warning:
      return kYellow;
    case Level::info:
      return kCyan;
  }
  return kReset;
}

// Where a change is, for people; nothing for a change to the operation as a whole (its
// line is already under the operation's name).
std::string location_text(const Location& location) {
  if (location.section.empty() || location.section == "operation") return "";
  return location.to_string();
}

// Document text (names, paths, messages) made safe for a terminal: a hostile document must
// not be able to move the cursor or recolour the screen, nor break a line in two.
std::string terminal_safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7f) {
      out += fmt::format("\\x{:02x}", byte);
    } else {
      out += c;
    }
  }
  return out;
}

// "2 breaking, 1 warning, 3 info".
std::string counts_sentence(size_t breaking, size_t warnings, size_t info) {
  return fmt::format("{} breaking, {} warning{}, {} info", breaking, warnings,
                     warnings == 1 ? "" : "s", info);
}

// Operations in the order they first appear, each with its changes in report order.
std::vector<std::pair<std::string, std::vector<const Change*>>> by_operation(
    const DiffReport& report, bool show_info) {
  std::vector<std::pair<std::string, std::vector<const Change*>>> groups;
  std::map<std::string, size_t> index;
  for (const Change& change : report.changes) {
    if (change.level == Level::info && !show_info) continue;
    const std::string operation = change.operation();
    auto [it, inserted] = index.emplace(operation, groups.size());
    if (inserted) groups.emplace_back(operation, std::vector<const Change*>{});
    groups[it->second].second.push_back(&change);
  }
  return groups;
}

}  // namespace

std::optional<ReportFormat> report_format_from_name(std::string_view name) {
  if (name == "text") return ReportFormat::text;
  if (name == "json") return ReportFormat::json;
  if (name == "markdown") return ReportFormat::markdown;
  return std::nullopt;
}

std::optional<Level> level_from_name(std::string_view name) {
  if (name == "info") return Level::info;
  if (name == "warning") return Level::warning;
  if (name == "breaking") return Level::breaking;
  return std::nullopt;
}

std::string render_text(const DiffReport& report, const ReportOptions& options) {
  const bool color = options.color;
  std::string out = fmt::format("{} → {}\n\n", terminal_safe(options.base_name),
                                terminal_safe(options.revision_name));
  if (report.changes.empty()) {
    out += "no changes\n";
    return out;
  }

  auto groups = by_operation(report, options.show_info);
  size_t rule_width = 0;
  for (const auto& [operation, changes] : groups) {
    for (const Change* change : changes)
      rule_width = std::max(rule_width, change->rule.size());
  }
  for (auto& [operation, changes] : groups) {
    // Within an operation, what needs a decision comes first.
    std::stable_sort(changes.begin(), changes.end(), [](const Change* a, const Change* b) {
      return static_cast<int>(a->level) > static_cast<int>(b->level);
    });
    out += paint(terminal_safe(operation), kBold, color);
    out += '\n';
    for (const Change* change : changes) {
      const std::string_view level = to_string(change->level);
      std::string line = "  ";
      line += paint(level, level_color(change->level), color);
      line.append(kLevelWidth - level.size() + 2, ' ');
      const std::string rule = terminal_safe(change->rule);
      line += paint(rule, kDim, color);
      line.append(rule_width > rule.size() ? rule_width - rule.size() : 0, ' ');
      line += "  ";
      const std::string location = location_text(change->location);
      if (!location.empty()) line += terminal_safe(location) + " — ";
      line += terminal_safe(change->message);
      out += line;
      out += '\n';
    }
    out += '\n';
  }

  const size_t breaking = report.count(Level::breaking);
  const size_t warnings = report.count(Level::warning);
  const size_t info = report.count(Level::info);
  std::string summary = paint(fmt::format("{} breaking", breaking), kRed, color && breaking > 0);
  summary += ", ";
  summary += paint(fmt::format("{} warning{}", warnings, warnings == 1 ? "" : "s"), kYellow,
                   color && warnings > 0);
  summary += fmt::format(", {} info", info);
  if (info > 0 && !options.show_info) summary += " (info not listed: --all lists them)";
  out += summary;
  out += '\n';
  return out;
}

nlohmann::ordered_json change_json(const Change& change) {
  using json = nlohmann::ordered_json;
  json location = json::object();
  auto put = [&location](const char* key, const std::string& value) {
    if (!value.empty()) location[key] = value;
  };
  const Location& l = change.location;
  put("section", l.section);
  put("parameter", l.parameter);
  put("in", l.parameter_in);
  put("status", l.status);
  put("header", l.header);
  put("media_type", l.media_type);
  put("property", l.property);
  return json{
      {"level", to_string(change.level)}, {"rule", change.rule}, {"operation", change.operation()},
      {"method", change.method},          {"path", change.path}, {"location", std::move(location)},
      {"message", change.message}};
}

std::string render_json(const DiffReport& report, const ReportOptions& options, int indent) {
  // Keys in the documented order (docs/contract.md), so a person reading the output finds
  // the summary first; programs must not depend on the order.
  using json = nlohmann::ordered_json;
  json changes = json::array();
  for (const Change& change : report.changes)
    changes.push_back(change_json(change));
  const json out{{"base", options.base_name},
                 {"revision", options.revision_name},
                 {"summary",
                  {{"breaking", report.count(Level::breaking)},
                   {"warning", report.count(Level::warning)},
                   {"info", report.count(Level::info)}}},
                 {"changes", std::move(changes)}};
  // A document's names may hold invalid UTF-8; the answer is still valid JSON (U+FFFD).
  return out.dump(indent, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string markdown_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\r':
        if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        out += "<br>";
        break;
      case '\n':
        out += "<br>";
        break;
      // CommonMark 2.4: any ASCII punctuation may be backslash-escaped; these are the ones
      // that can start emphasis, code, links, strikethrough or end a table cell (GFM 4.10).
      case '\\':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '|':
      case '~':
        out += '\\';
        out += c;
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string markdown_code(std::string_view text) {
  // CommonMark 6.1: a code span ends at a backtick string of the same length as its
  // opener, so the fence is one longer than the longest run inside; a space pads content
  // that starts or ends with a backtick. Inside a table cell GFM still splits on '|'
  // unless escaped, even in a code span (GFM 4.10).
  size_t longest = 0;
  size_t run = 0;
  std::string body;
  body.reserve(text.size());
  for (const char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
    if (c == '|') {
      body += "\\|";
    } else if (c == '\n' || c == '\r' || c == '\t') {
      body += ' ';
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      body += ' ';
    } else {
      body += c;
    }
  }
  const std::string fence(longest + 1, '`');
  const bool pad = !body.empty() && (body.front() == '`' || body.back() == '`');
  return fence + (pad ? " " : "") + body + (pad ? " " : "") + fence;
}

namespace {

// Appends the table's rows while `out` stays within `limit` bytes (0: no limit); returns
// how many rows did not fit.
size_t append_table(std::string& out, const std::vector<const Change*>& changes, size_t limit) {
  out += "| Operation | Rule | Location | Change |\n";
  out += "| --- | --- | --- | --- |\n";
  size_t left_out = 0;
  for (const Change* change : changes) {
    std::string row = fmt::format(
        "| {} | {} | {} | {} |\n", markdown_code(change->operation()), markdown_code(change->rule),
        markdown_escape(location_text(change->location)), markdown_escape(change->message));
    if (left_out > 0 || (limit > 0 && out.size() + row.size() > limit)) {
      ++left_out;
      continue;
    }
    out += row;
  }
  return left_out;
}

std::vector<const Change*> at_level(const DiffReport& report, Level level) {
  std::vector<const Change*> out;
  for (const Change& change : report.changes) {
    if (change.level == level) out.push_back(&change);
  }
  return out;
}

}  // namespace

std::string render_markdown(const DiffReport& report, const ReportOptions& options) {
  const size_t breaking = report.count(Level::breaking);
  const size_t warnings = report.count(Level::warning);
  const size_t info = report.count(Level::info);
  std::string verdict;
  if (breaking > 0) {
    verdict = fmt::format(":x: {} breaking change{}", breaking, breaking == 1 ? "" : "s");
  } else if (warnings > 0) {
    verdict = fmt::format(":warning: No breaking changes, {} warning{}", warnings,
                          warnings == 1 ? "" : "s");
  } else if (info > 0) {
    verdict = ":white_check_mark: No breaking changes";
  } else {
    verdict = ":white_check_mark: No changes";
  }
  std::string out = fmt::format("## API contract: {}\n\n", verdict);
  out +=
      fmt::format("{} → {}: {}\n", markdown_code(options.base_name),
                  markdown_code(options.revision_name), counts_sentence(breaking, warnings, info));

  // Room kept for the closing </details> and the note on what was left out.
  constexpr size_t kReserve = 512;
  const size_t max_bytes = options.markdown_max_bytes;
  const size_t limit = max_bytes == 0 ? 0 : std::max<size_t>(max_bytes, kReserve + 1) - kReserve;
  size_t left_out = 0;
  for (const Level level : kLevelsHighFirst) {
    const std::vector<const Change*> changes = at_level(report, level);
    if (changes.empty()) continue;
    if (left_out > 0) {
      // Once one table was cut, the levels below it are only counted.
      left_out += changes.size();
      continue;
    }
    if (level == Level::info) {
      // Collapsed: additions are the bulk of most diffs and need no decision. The blank
      // lines around the table end the HTML block, so its Markdown is rendered.
      out += fmt::format("\n<details>\n<summary>{} info change{}</summary>\n\n", changes.size(),
                         changes.size() == 1 ? "" : "s");
      left_out += append_table(out, changes, limit);
      out += "\n</details>\n";
    } else {
      out += level == Level::breaking ? "\n### Breaking changes\n\n" : "\n### Warnings\n\n";
      left_out += append_table(out, changes, limit);
    }
  }
  if (left_out > 0) {
    out += fmt::format(
        "\n{} more change{} left out to keep this comment within its size limit: run "
        "`glidepath diff --format json` for the full report.\n",
        left_out, left_out == 1 ? "" : "s");
  }
  return out;
}

std::string render_report(const DiffReport& report, ReportFormat format,
                          const ReportOptions& options) {
  switch (format) {
    case ReportFormat::text:
      return render_text(report, options);
    case ReportFormat::json:
      return render_json(report, options);
    case ReportFormat::markdown:
      return render_markdown(report, options);
  }
  return render_text(report, options);
}

std::string rules_markdown() {
  std::string out = "| Rule | Level | Meaning |\n| --- | --- | --- |\n";
  for (const RuleInfo& rule : rules()) {
    out += fmt::format("| {} | {} | {} |\n", markdown_code(rule.id), to_string(rule.level),
                       markdown_escape(rule.summary));
  }
  return out;
}

}  // namespace glidepath::contract
