// The contract corpus (tests/contract/corpus, format in its README.md): one test per case
// directory, each a base and a revision document and the changes the diff must report.
// Breaking and warning changes must match the expected list exactly; info lines listed
// must be present, other info changes are allowed.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "contract/diff.h"
#include "contract/loader.h"
#include "core/clock.h"

namespace glidepath::contract {
namespace {

const std::filesystem::path kCorpus = GLIDEPATH_CONTRACT_CORPUS;

struct Expected {
  int line = 0;
  std::string level;
  std::string rule;
  std::string method;
  std::string path;
  std::string where;  // "" when not given

  std::string to_string() const {
    std::string text = level + " " + rule + " " + method + " " + path;
    if (!where.empty()) text += " " + where;
    return text;
  }
};

std::vector<std::string> list_cases() {
  std::vector<std::string> names;
  std::error_code error;
  if (!std::filesystem::is_directory(kCorpus, error)) return names;
  for (const auto& entry : std::filesystem::directory_iterator(kCorpus, error)) {
    if (entry.is_directory() && std::filesystem::exists(entry.path() / "expected.txt")) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// base.yaml, base.yml or base.json.
std::optional<std::filesystem::path> find_document(const std::filesystem::path& dir,
                                                   const std::string& stem) {
  for (const char* extension : {".yaml", ".yml", ".json"}) {
    auto candidate = dir / (stem + extension);
    if (std::filesystem::exists(candidate)) return candidate;
  }
  return std::nullopt;
}

std::vector<Expected> read_expected(const std::filesystem::path& file, std::string& problems) {
  std::vector<Expected> expected;
  std::ifstream in(file);
  std::string text;
  int number = 0;
  while (std::getline(in, text)) {
    ++number;
    auto first = text.find_first_not_of(" \t\r");
    if (first == std::string::npos || text[first] == '#') continue;
    std::istringstream words(text);
    Expected item;
    item.line = number;
    words >> item.level >> item.rule >> item.method >> item.path;
    std::string rest;
    std::getline(words, rest);
    auto start = rest.find_first_not_of(" \t");
    auto end = rest.find_last_not_of(" \t\r");
    if (start != std::string::npos) item.where = rest.substr(start, end - start + 1);
    if (item.path.empty() ||
        (item.level != "breaking" && item.level != "warning" && item.level != "info")) {
      problems += "expected.txt:" + std::to_string(number) + ": cannot read '" + text + "'\n";
      continue;
    }
    expected.push_back(std::move(item));
  }
  return expected;
}

bool matches(const Expected& expected, const Change& change) {
  if (expected.level != to_string(change.level) || expected.rule != change.rule ||
      expected.method != change.method || expected.path != change.path) {
    return false;
  }
  if (expected.where.empty()) return true;
  const Location& at = change.location;
  return expected.where == at.property || expected.where == at.parameter ||
         expected.where == at.status || expected.where == at.media_type ||
         expected.where == at.header;
}

std::string describe(const Change& change) {
  return std::string(to_string(change.level)) + " " + change.rule + " " + change.operation() +
         " [" + change.location.to_string() + "] " + change.message;
}

class ContractCorpus : public testing::TestWithParam<std::string> {};

TEST_P(ContractCorpus, ReportsTheExpectedChanges) {
  const auto dir = kCorpus / GetParam();
  auto base_file = find_document(dir, "base");
  auto revision_file = find_document(dir, "revision");
  ASSERT_TRUE(base_file.has_value()) << dir << " has no base document";
  ASSERT_TRUE(revision_file.has_value()) << dir << " has no revision document";

  auto base = load_document_file(*base_file);
  ASSERT_TRUE(base.ok()) << *base_file << ": " << base.error().message;
  auto revision = load_document_file(*revision_file);
  ASSERT_TRUE(revision.ok()) << *revision_file << ": " << revision.error().message;

  std::string problems;
  auto expected = read_expected(dir / "expected.txt", problems);
  ASSERT_TRUE(problems.empty()) << problems;

  DiffOptions options;
  options.now =
      core::TimePoint{std::chrono::sys_days{std::chrono::year{2026} / std::chrono::June / 1}};
  auto report = diff(*base, *revision, options);

  // Pair expected lines with reported changes: lines that name a location first, so a
  // general line does not take the change a specific one needs.
  std::vector<bool> used(report.changes.size(), false);
  std::vector<const Expected*> missing;
  std::vector<const Expected*> order;
  for (const auto& item : expected) {
    if (!item.where.empty()) order.push_back(&item);
  }
  for (const auto& item : expected) {
    if (item.where.empty()) order.push_back(&item);
  }
  for (const Expected* item : order) {
    bool found = false;
    for (std::size_t i = 0; i < report.changes.size() && !found; ++i) {
      if (!used[i] && matches(*item, report.changes[i])) {
        used[i] = true;
        found = true;
      }
    }
    if (!found) missing.push_back(item);
  }
  std::vector<const Change*> unexpected;
  for (std::size_t i = 0; i < report.changes.size(); ++i) {
    if (!used[i] && report.changes[i].level != Level::info) {
      unexpected.push_back(&report.changes[i]);
    }
  }

  if (missing.empty() && unexpected.empty()) return;
  std::ostringstream out;
  out << "case " << GetParam() << "\n";
  for (const Expected* item : missing) {
    out << "  missing    (expected.txt:" << item->line << ") " << item->to_string() << "\n";
  }
  for (const Change* change : unexpected) {
    out << "  unexpected " << describe(*change) << "\n";
  }
  out << "expected:\n";
  for (const auto& item : expected)
    out << "  " << item.to_string() << "\n";
  if (expected.empty()) out << "  (no breaking or warning changes)\n";
  out << "reported:\n";
  for (const auto& change : report.changes)
    out << "  " << describe(change) << "\n";
  if (report.changes.empty()) out << "  (nothing)\n";
  ADD_FAILURE() << out.str();
}

std::string case_name(const testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Cases, ContractCorpus, testing::ValuesIn(list_cases()), case_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ContractCorpus);

TEST(ContractCorpusSize, HasAtLeastSixtyCases) {
  EXPECT_GE(list_cases().size(), 60U) << "corpus at " << kCorpus;
}

}  // namespace
}  // namespace glidepath::contract
