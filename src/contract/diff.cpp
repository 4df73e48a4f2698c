// The diff's walk over the operations of both documents, how a change is reported, the
// helpers the rule families share, and the public functions of contract/diff.h. The rules
// themselves are in diff_operations.cpp, diff_parameters.cpp, diff_bodies.cpp,
// diff_schemas.cpp and diff_values.cpp (contract/diff_context.h).
#include "contract/diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <tuple>

#include "contract/diff_context.h"

namespace glidepath::contract {
namespace detail {
namespace {

std::string capitalised(std::string text) {
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') {
    text[0] = static_cast<char>(text[0] - 'a' + 'A');
  }
  return text;
}

int section_rank(const std::string& section) {
  static constexpr std::array<std::string_view, 5> kOrder = {"operation", "security", "parameter",
                                                             "request", "response"};
  for (std::size_t i = 0; i < kOrder.size(); ++i) {
    if (kOrder[i] == section) return static_cast<int>(i);
  }
  return static_cast<int>(kOrder.size());
}

bool change_less(const Change& a, const Change& b) {
  const Location& x = a.location;
  const Location& y = b.location;
  const int x_rank = section_rank(x.section);
  const int y_rank = section_rank(y.section);
  return std::tie(a.path, a.method, x_rank, x.parameter_in, x.parameter, x.status, x.header,
                  x.media_type, x.property, a.rule, a.message, a.level) <
         std::tie(b.path, b.method, y_rank, y.parameter_in, y.parameter, y.status, y.header,
                  y.media_type, y.property, b.rule, b.message, b.level);
}

}  // namespace

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string text;
  for (const std::string& item : items) {
    if (!text.empty()) text += separator;
    text += item;
  }
  return text;
}

bool covers(TypeSet outer, TypeSet inner) {
  for (const Type type :
       {Type::boolean, Type::integer, Type::number, Type::string, Type::array, Type::object}) {
    if (!inner.has(type) || outer.has(type)) continue;
    if (type == Type::integer && outer.has(Type::number)) continue;
    return false;
  }
  return true;
}

TypeSet without_null(TypeSet types) {
  types.remove(Type::null);
  return types;
}

DiffReport Differ::run() {
  std::vector<std::pair<std::string, const Operation*>> base_ops;
  std::vector<std::pair<std::string, const Operation*>> revision_ops;
  base_ops.reserve(base_.operations.size());
  revision_ops.reserve(revision_.operations.size());
  for (const Operation& operation : base_.operations)
    base_ops.emplace_back(operation.key(), &operation);
  for (const Operation& operation : revision_.operations) {
    revision_ops.emplace_back(operation.key(), &operation);
  }
  // The loader orders operations by key; sorting again costs little and makes the merge
  // below independent of that promise.
  std::sort(base_ops.begin(), base_ops.end());
  std::sort(revision_ops.begin(), revision_ops.end());
  auto b = base_ops.begin();
  auto r = revision_ops.begin();
  while (b != base_ops.end() || r != revision_ops.end()) {
    if (r == revision_ops.end() || (b != base_ops.end() && b->first < r->first)) {
      operation_removed(*b->second);
      ++b;
    } else if (b == base_ops.end() || r->first < b->first) {
      operation_added(*r->second);
      ++r;
    } else {
      compare_operation(*b->second, *r->second);
      ++b;
      ++r;
    }
  }
  std::sort(changes_.begin(), changes_.end(), change_less);
  changes_.erase(std::unique(changes_.begin(), changes_.end()), changes_.end());
  DiffReport report;
  report.changes = std::move(changes_);
  return report;
}

void Differ::add(Rule rule_id, Level level, Location location, std::string message) {
  Change change;
  change.level = level;
  change.rule = std::string(rule_id.id);
  change.method = method_;
  change.path = path_;
  change.location = std::move(location);
  change.message = std::move(message);
  changes_.push_back(std::move(change));
}

void Differ::add(Rule rule_id, Location location, std::string message) {
  add(rule_id, rule_id.level, std::move(location), std::move(message));
}

Location Differ::at_property(const std::string& path) const {
  Location location = walk_.location;
  location.property = path;
  return location;
}

// The subject of a sentence about `path` in the current walk: "Request property
// 'items[].price'", "Query parameter 'limit'", "The response body".
std::string Differ::subject(const std::string& path) const {
  const Location& at = walk_.location;
  std::string owner;
  if (at.section == "parameter") {
    owner = fmt::format("{} parameter '{}'", at.parameter_in, at.parameter);
  } else if (!at.header.empty()) {
    owner = fmt::format("response header '{}'", at.header);
  } else if (at.section == "request") {
    if (path.empty()) return "The request body";
    return fmt::format("Request property '{}'", path);
  } else {
    if (path.empty()) return "The response body";
    return fmt::format("Response property '{}'", path);
  }
  if (path.empty()) return capitalised(owner);
  return fmt::format("Property '{}' of {}", path, owner);
}

}  // namespace detail

std::string_view to_string(Level level) {
  switch (level) {
    case Level::info:
      return "info";
    case Level::warning:
      return "warning";
    case Level::breaking:
      return "breaking";
  }
  return "info";
}

std::string Location::to_string() const {
  std::string text;
  if (section == "parameter") {
    text = fmt::format("{} parameter '{}'", parameter_in, parameter);
  } else if (section == "request") {
    text = "request body";
  } else if (section == "response") {
    text = "response " + status;
    if (!header.empty()) text += fmt::format(" header '{}'", header);
  } else {
    text = section;
  }
  if (!media_type.empty()) text += " " + media_type;
  if (!property.empty()) text += ": " + property;
  return text;
}

size_t DiffReport::count(Level level) const {
  return static_cast<size_t>(std::count_if(
      changes.begin(), changes.end(), [&](const Change& change) { return change.level == level; }));
}

Level DiffReport::max_level() const {
  Level level = Level::info;
  for (const Change& change : changes) {
    if (static_cast<int>(change.level) > static_cast<int>(level)) level = change.level;
  }
  return level;
}

DiffReport diff(const Document& base, const Document& revision, const DiffOptions& options) {
  return detail::Differ(base, revision, options).run();
}

std::span<const RuleInfo> rules() {
  return detail::kRules;
}

}  // namespace glidepath::contract
