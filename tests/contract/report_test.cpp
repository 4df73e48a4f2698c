// The diff's three outputs (contract/report.h) for hand-built reports: text grouped by
// operation with and without colour, info hidden or listed; the JSON schema of
// docs/contract.md; Markdown for a pull-request comment, escaped so that document text
// cannot break a table or inject HTML.
#include "contract/report.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace glidepath::contract {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

Change change(Level level, std::string rule, std::string method, std::string path,
              Location location, std::string message) {
  Change c;
  c.level = level;
  c.rule = std::move(rule);
  c.method = std::move(method);
  c.path = std::move(path);
  c.location = std::move(location);
  c.message = std::move(message);
  return c;
}

Location response_property(std::string status, std::string property) {
  Location l;
  l.section = "response";
  l.status = std::move(status);
  l.media_type = "application/json";
  l.property = std::move(property);
  return l;
}

Location query_parameter(std::string name) {
  Location l;
  l.section = "parameter";
  l.parameter = std::move(name);
  l.parameter_in = "query";
  return l;
}

Location operation_level() {
  Location l;
  l.section = "operation";
  return l;
}

// A report as the diff orders it: by path, then method.
DiffReport sample_report() {
  DiffReport r;
  r.changes = {
      change(Level::info, "response-property-added", "GET", "/orders/{id}",
             response_property("200", "note"), "the response may carry the new property 'note'"),
      change(Level::breaking, "response-property-removed", "GET", "/orders/{id}",
             response_property("200", "total"), "the response no longer carries 'total'"),
      change(Level::warning, "request-parameter-removed", "GET", "/orders/{id}",
             query_parameter("verbose"), "the query parameter 'verbose' was removed"),
      change(Level::breaking, "operation-removed", "DELETE", "/orders/{id}", operation_level(),
             "DELETE /orders/{id} was removed"),
      change(Level::info, "operation-added", "POST", "/refunds", operation_level(),
             "POST /refunds was added"),
  };
  return r;
}

ReportOptions names() {
  ReportOptions o;
  o.base_name = "v1.yaml";
  o.revision_name = "v2.yaml";
  return o;
}

// Location::to_string() (diff.cpp) is the diff's business; the report shows it, except
// for changes to a whole operation.
std::string location_of(const Change& c) {
  return c.location.section == "operation" ? "" : c.location.to_string();
}

// The line a change takes in the text report, built the way the renderer promises: the
// level padded to "breaking", the rule padded to `rule_width`, then location — message.
std::string text_line(const Change& c, size_t rule_width) {
  std::string level(to_string(c.level));
  level.append(8 - level.size(), ' ');
  std::string rule = c.rule;
  rule.append(rule_width - rule.size(), ' ');
  const std::string location = location_of(c);
  return "  " + level + "  " + rule + "  " + (location.empty() ? "" : location + " — ") +
         c.message + "\n";
}

// --- text ---

TEST(TextReport, GroupsByOperationBreakingFirstAndCountsHiddenInfo) {
  const DiffReport report = sample_report();
  const auto& c = report.changes;
  const size_t width = std::string("response-property-removed").size();
  const std::string expected =
      "v1.yaml → v2.yaml\n\n"
      "GET /orders/{id}\n" +
      text_line(c[1], width) + text_line(c[2], width) +
      "\n"
      "DELETE /orders/{id}\n" +
      text_line(c[3], width) +
      "\n"
      "2 breaking, 1 warning, 2 info (info not listed: --all lists "
      "them)\n";
  EXPECT_EQ(render_text(report, names()), expected);
}

TEST(TextReport, ListsInfoWhenAsked) {
  const DiffReport report = sample_report();
  const auto& c = report.changes;
  ReportOptions options = names();
  options.show_info = true;
  const size_t width = std::string("response-property-removed").size();
  const std::string expected =
      "v1.yaml → v2.yaml\n\n"
      "GET /orders/{id}\n" +
      text_line(c[1], width) + text_line(c[2], width) + text_line(c[0], width) +
      "\n"
      "DELETE /orders/{id}\n" +
      text_line(c[3], width) +
      "\n"
      "POST /refunds\n" +
      text_line(c[4], width) +
      "\n"
      "2 breaking, 1 warning, 2 info\n";
  EXPECT_EQ(render_text(report, options), expected);
}

TEST(TextReport, ColourOnlyWhenAsked) {
  const DiffReport report = sample_report();
  ReportOptions options = names();
  const std::string plain = render_text(report, options);
  EXPECT_THAT(plain, Not(HasSubstr("\x1b[")));
  // Literally, so a change of layout shows here.
  EXPECT_THAT(plain, HasSubstr("\n  warning   request-parameter-removed  query parameter 'verbose' "
                               "— the query parameter 'verbose' was removed\n"));
  EXPECT_THAT(plain, HasSubstr("\nDELETE /orders/{id}\n  breaking  operation-removed          "
                               "DELETE /orders/{id} was removed\n"));

  options.color = true;
  const std::string colored = render_text(report, options);
  EXPECT_THAT(colored, HasSubstr("\x1b[1mGET /orders/{id}\x1b[0m\n"));
  EXPECT_THAT(colored, HasSubstr("  \x1b[31mbreaking\x1b[0m  \x1b[2mresponse-property-removed"));
  EXPECT_THAT(colored, HasSubstr("  \x1b[33mwarning\x1b[0m   \x1b[2mrequest-parameter-removed"));
  EXPECT_THAT(colored, HasSubstr("\x1b[31m2 breaking\x1b[0m, \x1b[33m1 warning\x1b[0m, 2 info"));
}

TEST(TextReport, ColourOnSummaryOnlyForWhatIsPresent) {
  DiffReport report;
  report.changes = {change(Level::info, "operation-added", "GET", "/a", operation_level(), "m")};
  ReportOptions options = names();
  options.color = true;
  options.show_info = true;
  const std::string out = render_text(report, options);
  EXPECT_THAT(out, HasSubstr("\x1b[36minfo\x1b[0m"));
  EXPECT_THAT(out, HasSubstr("\n0 breaking, 0 warnings, 1 info\n"));
}

TEST(TextReport, EmptyReport) {
  EXPECT_EQ(render_text(DiffReport{}, names()), "v1.yaml → v2.yaml\n\nno changes\n");
}

TEST(TextReport, OnlyInfoHidden) {
  DiffReport report;
  report.changes = {change(Level::info, "operation-added", "GET", "/a", operation_level(), "m")};
  EXPECT_EQ(render_text(report, names()),
            "v1.yaml → v2.yaml\n\n0 breaking, 0 warnings, 1 info (info not listed: --all lists "
            "them)\n");
}

TEST(TextReport, DocumentTextCannotControlTheTerminal) {
  DiffReport report;
  report.changes = {change(Level::breaking, "operation-removed", "GET", "/a\x1b[2J",
                           operation_level(), "line one\nline two\tand a bell\a")};
  const std::string out = render_text(report, names());
  EXPECT_THAT(out, Not(HasSubstr("\x1b")));
  EXPECT_THAT(out, HasSubstr("GET /a\\x1b[2J\n"));
  EXPECT_THAT(out, HasSubstr("line one\\nline two\\tand a bell\\x07\n"));
}

// --- JSON ---

TEST(JsonReport, FollowsTheDocumentedSchema) {
  const json out = json::parse(render_json(sample_report(), names()));
  const json expected_summary = {{"breaking", 2}, {"warning", 1}, {"info", 2}};
  EXPECT_EQ(out["base"], "v1.yaml");
  EXPECT_EQ(out["revision"], "v2.yaml");
  EXPECT_EQ(out["summary"], expected_summary);
  ASSERT_EQ(out["changes"].size(), 5U);
  const json expected_first = {{"level", "info"},
                               {"rule", "response-property-added"},
                               {"operation", "GET /orders/{id}"},
                               {"method", "GET"},
                               {"path", "/orders/{id}"},
                               {"location",
                                {{"section", "response"},
                                 {"status", "200"},
                                 {"media_type", "application/json"},
                                 {"property", "note"}}},
                               {"message", "the response may carry the new property 'note'"}};
  EXPECT_EQ(out["changes"][0], expected_first);
  const json expected_parameter = {
      {"section", "parameter"}, {"parameter", "verbose"}, {"in", "query"}};
  EXPECT_EQ(out["changes"][2]["location"], expected_parameter);
  EXPECT_EQ(out["changes"][3]["location"], json({{"section", "operation"}}));
  // The report's order is kept: consumers may rely on it being stable.
  EXPECT_EQ(out["changes"][4]["rule"], "operation-added");
}

TEST(JsonReport, GoldenForOneChange) {
  DiffReport report;
  report.changes = {change(Level::warning, "request-parameter-removed", "GET", "/a",
                           query_parameter("q"), "say \"q\" no more")};
  // Keys in the documented order, a person reads the summary first.
  EXPECT_EQ(render_json(report, names(), -1),
            R"({"base":"v1.yaml","revision":"v2.yaml",)"
            R"("summary":{"breaking":0,"warning":1,"info":0},)"
            R"("changes":[{"level":"warning","rule":"request-parameter-removed",)"
            R"("operation":"GET /a","method":"GET","path":"/a",)"
            R"("location":{"section":"parameter","parameter":"q","in":"query"},)"
            R"("message":"say \"q\" no more"}]})"
            "\n");
}

TEST(JsonReport, EmptyReportAndInvalidUtf8) {
  ReportOptions options = names();
  options.base_name = "bad\xff.yaml";
  const json out = json::parse(render_json(DiffReport{}, options));
  EXPECT_EQ(out["changes"], json::array());
  EXPECT_EQ(out["summary"], json({{"breaking", 0}, {"warning", 0}, {"info", 0}}));
  EXPECT_EQ(out["base"], "bad\xEF\xBF\xBD.yaml");
}

// --- Markdown ---

TEST(MarkdownEscape, TableCellsAndCodeSpans) {
  EXPECT_EQ(markdown_escape("a | b"), "a \\| b");
  EXPECT_EQ(markdown_escape("use `x`"), "use \\`x\\`");
  EXPECT_EQ(markdown_escape("<script>&amp;"), "&lt;script&gt;&amp;amp;");
  EXPECT_EQ(markdown_escape("one\ntwo\r\nthree"), "one<br>two<br>three");
  EXPECT_EQ(markdown_escape("*a* _b_ [c](d) ~e~ \\"), "\\*a\\* \\_b\\_ \\[c\\](d) \\~e\\~ \\\\");
  EXPECT_EQ(markdown_code("GET /a"), "`GET /a`");
  EXPECT_EQ(markdown_code("a`b"), "``a`b``");
  EXPECT_EQ(markdown_code("`a``"), "``` `a`` ```");
  EXPECT_EQ(markdown_code("x|y"), "`x\\|y`");
  EXPECT_EQ(markdown_code("<b>\n"), "`<b> `");
}

TEST(MarkdownReport, Golden) {
  const DiffReport report = sample_report();
  const auto loc = [&](size_t i) { return markdown_escape(location_of(report.changes[i])); };
  const std::string expected =
      "## API contract: :x: 2 breaking changes\n"
      "\n"
      "`v1.yaml` → `v2.yaml`: 2 breaking, 1 warning, 2 info\n"
      "\n"
      "### Breaking changes\n"
      "\n"
      "| Operation | Rule | Location | Change |\n"
      "| --- | --- | --- | --- |\n"
      "| `GET /orders/{id}` | `response-property-removed` | " +
      loc(1) +
      " | the response no longer carries 'total' |\n"
      "| `DELETE /orders/{id}` | `operation-removed` | " +
      loc(3) +
      " | DELETE /orders/{id} was removed |\n"
      "\n"
      "### Warnings\n"
      "\n"
      "| Operation | Rule | Location | Change |\n"
      "| --- | --- | --- | --- |\n"
      "| `GET /orders/{id}` | `request-parameter-removed` | " +
      loc(2) +
      " | the query parameter 'verbose' was removed |\n"
      "\n"
      "<details>\n"
      "<summary>2 info changes</summary>\n"
      "\n"
      "| Operation | Rule | Location | Change |\n"
      "| --- | --- | --- | --- |\n"
      "| `GET /orders/{id}` | `response-property-added` | " +
      loc(0) +
      " | the response may carry the new property 'note' |\n"
      "| `POST /refunds` | `operation-added` | " +
      loc(4) +
      " | POST /refunds was added |\n"
      "\n"
      "</details>\n";
  EXPECT_EQ(render_markdown(report, names()), expected);
}

TEST(MarkdownReport, Verdicts) {
  EXPECT_THAT(render_markdown(DiffReport{}, names()),
              HasSubstr("## API contract: :white_check_mark: No changes\n"));
  DiffReport info;
  info.changes = {change(Level::info, "operation-added", "GET", "/a", operation_level(), "m")};
  const std::string info_only = render_markdown(info, names());
  EXPECT_THAT(info_only, HasSubstr("## API contract: :white_check_mark: No breaking changes\n"));
  EXPECT_THAT(info_only, HasSubstr("<summary>1 info change</summary>"));
  EXPECT_THAT(info_only, Not(HasSubstr("### ")));
  DiffReport warning;
  warning.changes = {
      change(Level::warning, "request-parameter-removed", "GET", "/a", query_parameter("q"), "m")};
  EXPECT_THAT(render_markdown(warning, names()),
              HasSubstr("## API contract: :warning: No breaking changes, 1 warning\n"));
  DiffReport one;
  one.changes = {change(Level::breaking, "operation-removed", "GET", "/a", operation_level(), "m")};
  EXPECT_THAT(render_markdown(one, names()), HasSubstr(":x: 1 breaking change\n"));
}

TEST(MarkdownReport, DocumentTextCannotBreakTheTable) {
  DiffReport report;
  report.changes = {change(Level::breaking, "operation-removed", "GET", "/a|`b`", operation_level(),
                           "was | removed <img src=x onerror=alert(1)> `code`\nsecond line")};
  const std::string out = render_markdown(report, names());
  EXPECT_THAT(out, HasSubstr("| `` GET /a\\|`b` `` |"));
  EXPECT_THAT(out, HasSubstr("| was \\| removed &lt;img src=x onerror=alert(1)&gt; \\`code\\`<br>"
                             "second line |\n"));
  EXPECT_THAT(out, Not(HasSubstr("<img")));
}

TEST(MarkdownReport, StaysWithinTheCommentSizeLimit) {
  DiffReport report;
  for (int i = 0; i < 100; ++i) {
    report.changes.push_back(change(Level::breaking, "operation-removed", "GET",
                                    "/things/" + std::to_string(i), operation_level(),
                                    std::string(100, 'x')));
  }
  report.changes.push_back(
      change(Level::info, "operation-added", "GET", "/new", operation_level(), "m"));
  ReportOptions options = names();
  options.markdown_max_bytes = 3000;
  const std::string out = render_markdown(report, options);
  EXPECT_LE(out.size(), 3000U);
  size_t rows = 0;
  for (size_t at = out.find("| `GET /things/"); at != std::string::npos;
       at = out.find("| `GET /things/", at + 1)) {
    ++rows;
  }
  EXPECT_GT(rows, 5U);
  EXPECT_THAT(out, HasSubstr(fmt::format("\n{} more changes left out to keep this comment within "
                                         "its size limit: run `glidepath diff --format json` for "
                                         "the full report.\n",
                                         101 - rows)));
  // The verdict still counts everything; the info level, cut entirely, is not opened.
  EXPECT_THAT(out, HasSubstr(":x: 100 breaking changes"));
  EXPECT_THAT(out, Not(HasSubstr("<details>")));

  options.markdown_max_bytes = 0;
  EXPECT_THAT(render_markdown(report, options), Not(HasSubstr("left out")));
}

TEST(ReportFormat, Names) {
  EXPECT_EQ(report_format_from_name("text"), ReportFormat::text);
  EXPECT_EQ(report_format_from_name("json"), ReportFormat::json);
  EXPECT_EQ(report_format_from_name("markdown"), ReportFormat::markdown);
  EXPECT_EQ(report_format_from_name("html"), std::nullopt);
  EXPECT_EQ(level_from_name("breaking"), Level::breaking);
  EXPECT_EQ(level_from_name("warning"), Level::warning);
  EXPECT_EQ(level_from_name("info"), Level::info);
  EXPECT_EQ(level_from_name("error"), std::nullopt);
  EXPECT_EQ(render_report(DiffReport{}, ReportFormat::json, names()),
            render_json(DiffReport{}, names()));
}

TEST(RulesMarkdown, OneRowPerRule) {
  const std::string table = rules_markdown();
  EXPECT_THAT(table, HasSubstr("| Rule | Level | Meaning |\n| --- | --- | --- |\n"));
  size_t rows = 0;
  for (const char c : table)
    rows += c == '\n' ? 1 : 0;
  EXPECT_EQ(rows, rules().size() + 2);
  for (const RuleInfo& rule : rules()) {
    EXPECT_THAT(table, HasSubstr("| `" + std::string(rule.id) + "` | " +
                                 std::string(to_string(rule.level)) + " | "));
  }
}

}  // namespace
}  // namespace glidepath::contract
