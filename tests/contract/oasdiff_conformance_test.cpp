// The peer conformance corpus (../shared/conformance/oasdiff: 41 spec pairs from oasdiff's
// own test data, with the results oasdiff's tests assert), run through contract::diff.
// For every case: the verdict matches (an ERR case has a breaking change, a non-breaking
// case has none, a WARN case has at least a warning), and every expected category is
// covered by at least one change of ours at warning level or above, mapped through
// kCategories below.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "contract/diff.h"
#include "contract/loader.h"
#include "core/clock.h"

namespace glidepath::contract {
namespace {

// Our rule ids -> the corpus's generic categories (README.md, "Category map"). A rule not
// listed here covers no category.
const std::multimap<std::string_view, std::string_view> kCategories = {
    {"operation-removed", "endpoint-removed"},
    {"response-status-removed", "response-status-removed"},
    {"response-media-type-removed", "response-media-type-removed"},
    {"request-media-type-removed", "request-media-type-removed"},
    {"request-parameter-added-required", "param-added-required"},
    {"request-parameter-became-required", "param-became-required"},
    {"request-parameter-removed", "param-removed"},
    // oasdiff reports a moved parameter as removed at the old place and new at the other.
    {"request-parameter-moved", "param-removed"},
    {"request-parameter-type-changed", "param-type-changed"},
    {"request-parameter-enum-value-removed", "param-enum-narrowed"},
    {"request-parameter-became-enum", "param-enum-narrowed"},
    {"request-parameter-constraint-tightened", "param-constraint-tightened"},
    {"request-parameter-pattern-changed", "param-constraint-tightened"},
    {"request-body-added-required", "request-body-required"},
    {"request-body-became-required", "request-body-required"},
    {"request-property-added-required", "request-property-added-required"},
    {"request-property-became-required", "request-property-became-required"},
    {"request-property-removed", "request-property-removed"},
    {"request-type-changed", "request-type-changed"},
    {"request-became-enum", "request-enum-narrowed"},
    {"request-enum-value-removed", "request-enum-narrowed"},
    {"request-constraint-tightened", "request-constraint-tightened"},
    {"request-pattern-changed", "request-constraint-tightened"},
    {"request-became-not-nullable", "request-constraint-tightened"},
    {"request-alternative-removed", "request-composition-narrowed"},
    {"response-property-removed", "response-property-removed"},
    {"response-property-became-optional", "response-property-became-optional"},
    {"response-type-changed", "response-type-changed"},
    {"response-became-nullable", "response-became-nullable"},
    {"response-enum-value-added", "response-enum-widened"},
    {"response-alternative-added", "response-enum-widened"},
    {"response-header-removed", "response-header-removed"},
    {"response-header-became-optional", "response-header-removed"},
};

// Cases where Glidepath's policy deliberately differs from oasdiff's, with the reason
// (docs/contract.md repeats them). A listed case is expected to disagree: when it stops
// disagreeing the test says so, so the list cannot go stale.
struct Disagreement {
  std::string_view case_name;
  std::string_view reason;
};
const std::vector<Disagreement> kDisagreements = {};

struct Case {
  std::string name;
  bool breaking = false;
  std::string max_level;  // "ERR", "WARN" or "-"
  std::vector<std::string> categories;
  std::string tier;
};

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, separator))
    parts.push_back(part);
  if (!text.empty() && text.back() == separator) parts.emplace_back();
  return parts;
}

std::vector<Case> read_cases(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = split(line, '\t');
  const auto column = [&](std::string_view name) {
    return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  const std::size_t name_column = column("case");
  const std::size_t breaking_column = column("breaking");
  const std::size_t level_column = column("max_level");
  const std::size_t categories_column = column("categories");
  const std::size_t tier_column = column("tier");
  std::vector<Case> cases;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const std::vector<std::string> cells = split(line, '\t');
    if (cells.size() <=
        std::max({name_column, breaking_column, level_column, categories_column, tier_column})) {
      ADD_FAILURE() << "short row in expected.tsv: " << line;
      continue;
    }
    Case row;
    row.name = cells[name_column];
    row.breaking = cells[breaking_column] == "yes";
    row.max_level = cells[level_column];
    for (const std::string& category : split(cells[categories_column], ',')) {
      if (!category.empty() && category != "none") row.categories.push_back(category);
    }
    row.tier = cells[tier_column];
    cases.push_back(std::move(row));
  }
  return cases;
}

std::string describe(const DiffReport& report) {
  std::string text;
  for (const Change& change : report.changes) {
    text += "  " + std::string(to_string(change.level)) + " " + change.rule + " " +
            change.operation() + " [" + change.location.to_string() + "] " + change.message + "\n";
  }
  return text.empty() ? "  (no changes)\n" : text;
}

TEST(OasdiffConformance, EveryRuleInTheCategoryMapExists) {
  std::set<std::string_view> ids;
  for (const RuleInfo& info : rules())
    ids.insert(info.id);
  for (const auto& [rule, category] : kCategories) {
    EXPECT_EQ(ids.count(rule), 1U) << rule;
  }
}

// Every document compared with itself has no change, and every pair compares in the
// reverse direction too (without crashing, and without a change at the same location
// being reported as both breaking and not).
TEST(OasdiffConformance, EveryDocumentEqualsItselfAndPairsReverse) {
  const std::filesystem::path corpus = GLIDEPATH_OASDIFF_CORPUS;
  if (!std::filesystem::is_regular_file(corpus / "expected.tsv")) {
    GTEST_SKIP() << "no conformance corpus at " << corpus;
  }
  for (const Case& row : read_cases(corpus / "expected.tsv")) {
    SCOPED_TRACE(row.name);
    auto base = load_document_file(corpus / row.name / "base.yaml");
    auto revision = load_document_file(corpus / row.name / "revision.yaml");
    ASSERT_TRUE(base.ok() && revision.ok());
    EXPECT_TRUE(diff(*base, *base).changes.empty()) << describe(diff(*base, *base));
    EXPECT_TRUE(diff(*revision, *revision).changes.empty()) << describe(diff(*revision, *revision));
    const DiffReport forward = diff(*base, *revision);
    const DiffReport backward = diff(*revision, *base);
    EXPECT_EQ(forward.changes.empty(), backward.changes.empty()) << describe(backward);
  }
}

TEST(OasdiffConformance, VerdictsMatchAndCategoriesAreCovered) {
  const std::filesystem::path corpus = GLIDEPATH_OASDIFF_CORPUS;
  if (!std::filesystem::is_regular_file(corpus / "expected.tsv")) {
    GTEST_SKIP() << "no conformance corpus at " << corpus;
  }
  const std::vector<Case> cases = read_cases(corpus / "expected.tsv");
  EXPECT_EQ(cases.size(), 41U);

  // The corpus snapshot's date: sunsets are judged against it.
  DiffOptions options;
  options.now = core::parse_rfc3339("2026-08-08T00:00:00Z").value();

  std::map<std::string, int> verdicts_matched;  // tier -> count
  std::map<std::string, int> verdicts_total;
  int categories_expected = 0;
  int categories_covered = 0;
  for (const Case& row : cases) {
    SCOPED_TRACE(row.name);
    auto base = load_document_file(corpus / row.name / "base.yaml");
    auto revision = load_document_file(corpus / row.name / "revision.yaml");
    ASSERT_TRUE(base.ok()) << base.error().message;
    ASSERT_TRUE(revision.ok()) << revision.error().message;
    const DiffReport report = diff(*base, *revision, options);
    if (std::getenv("GLIDEPATH_OASDIFF_VERBOSE") != nullptr) {
      std::cout << "[ oasdiff  ] " << row.name << ":\n" << describe(report);
    }

    const auto disagreement =
        std::find_if(kDisagreements.begin(), kDisagreements.end(),
                     [&](const Disagreement& entry) { return entry.case_name == row.name; });

    bool verdict = true;
    if (!row.breaking) {
      verdict = !report.has(Level::breaking);
    } else if (row.max_level == "ERR") {
      verdict = report.has(Level::breaking);
    } else {
      verdict = report.has(Level::breaking) || report.has(Level::warning);
    }
    std::set<std::string_view> covered;
    for (const Change& change : report.changes) {
      if (change.level == Level::info) continue;
      const auto [first, last] = kCategories.equal_range(change.rule);
      for (auto it = first; it != last; ++it)
        covered.insert(it->second);
    }
    std::vector<std::string> missing;
    for (const std::string& category : row.categories) {
      ++categories_expected;
      if (covered.count(category) != 0) {
        ++categories_covered;
      } else {
        missing.push_back(category);
      }
    }
    ++verdicts_total[row.tier];
    if (verdict) ++verdicts_matched[row.tier];

    if (disagreement != kDisagreements.end()) {
      EXPECT_FALSE(verdict && missing.empty())
          << row.name << " is listed as a deliberate disagreement but now agrees; remove it "
          << "from kDisagreements (and docs/contract.md)";
      continue;
    }
    EXPECT_TRUE(verdict) << row.name << ": expected breaking=" << (row.breaking ? "yes" : "no")
                         << " max_level=" << row.max_level << "; we report:\n"
                         << describe(report);
    for (const std::string& category : missing) {
      ADD_FAILURE() << row.name << ": no change of ours covers category '" << category
                    << "'; we report:\n"
                    << describe(report);
    }
  }
  for (const auto& [tier, total] : verdicts_total) {
    std::cout << "[ oasdiff  ] tier " << tier << ": verdicts matched " << verdicts_matched[tier]
              << "/" << total << "\n";
  }
  std::cout << "[ oasdiff  ] categories covered " << categories_covered << "/"
            << categories_expected << "; deliberate disagreements " << kDisagreements.size()
            << "\n";
}

}  // namespace
}  // namespace glidepath::contract
