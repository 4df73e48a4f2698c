#include "contract/diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "contract/compare.h"

namespace glidepath::contract {
namespace {

constexpr std::array kRules = {
#define RULE(id, level, summary) RuleInfo{id, Level::level, summary},
#include "contract/rules.inc"
#undef RULE
};

// A rule id checked against the catalogue at compile time, with its default level: a typo
// in an id is a build error, not a silently undocumented rule.
struct Rule {
  std::string_view id;
  Level level;
};
consteval Rule rule(std::string_view id) {
  for (const RuleInfo& info : kRules) {
    if (info.id == id) return Rule{info.id, info.level};
  }
  throw "unknown rule id: add it to contract/rules.inc";
}

// Past this many schema pairs visited under one operation the walk stops descending: a
// guard against documents whose schema graph fans out exponentially (every path through a
// DAG is a place of its own). Real documents stay far below it.
constexpr std::size_t kMaxSchemaVisits = 200'000;
// And past this depth (distinct pairs nested in each other; the loader bounds real
// nesting long before): keeps the recursion off the end of the stack.
constexpr std::size_t kMaxSchemaDepth = 256;
// Effective types of nested alternatives are looked up this deep and this wide, no more.
constexpr int kMaxAlternativeDepth = 8;
constexpr int kMaxAlternativeLookups = 256;

enum class Direction { request, response };

std::string ascii_lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

std::string capitalised(std::string text) {
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') {
    text[0] = static_cast<char>(text[0] - 'a' + 'A');
  }
  return text;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string text;
  for (const std::string& item : items) {
    if (!text.empty()) text += separator;
    text += item;
  }
  return text;
}

std::string number_text(double value) {
  return fmt::format("{}", value);
}

std::string bound_text(const Bound& bound) {
  const std::string value = bound.text.empty() ? number_text(bound.value) : bound.text;
  return bound.exclusive ? value + " (exclusive)" : value;
}

std::string child_path(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

// The names of a path template's parameters, in order: "/a/{id}/b/{n}" -> {"id", "n"}.
std::vector<std::string> path_parameter_names(std::string_view path) {
  std::vector<std::string> names;
  std::size_t at = 0;
  while ((at = path.find('{', at)) != std::string_view::npos) {
    const std::size_t close = path.find('}', at);
    if (close == std::string_view::npos) break;
    names.emplace_back(path.substr(at + 1, close - at - 1));
    at = close + 1;
  }
  return names;
}

// How a parameter is matched across the two documents: path parameters by their position
// in the template (so renaming one is no change), headers by lower-cased name (RFC 9110
// 5.1), the rest by place and name.
std::string parameter_key(const Parameter& parameter, const std::vector<std::string>& path_names) {
  if (parameter.in == "path") {
    const auto found = std::find(path_names.begin(), path_names.end(), parameter.name);
    if (found != path_names.end()) {
      return fmt::format("path\x1f#{}", found - path_names.begin());
    }
  }
  if (parameter.in == "header") return "header\x1f" + ascii_lower(parameter.name);
  return parameter.in + "\x1f" + parameter.name;
}

bool is_success_status(const std::string& status) {
  return !status.empty() && status[0] == '2';
}

// "200" as opposed to "2XX" (OpenAPI 3.1 4.8.16.2) or "default".
bool is_specific_status(const std::string& status) {
  return status.size() == 3 &&
         std::all_of(status.begin(), status.end(), [](char c) { return c >= '0' && c <= '9'; });
}
bool is_status_range(const std::string& status) {
  return status.size() == 3 && status[0] >= '1' && status[0] <= '5' && status.substr(1) == "XX";
}
bool has_status_in(const Operation& operation, char status_class) {
  return std::any_of(operation.responses.begin(), operation.responses.end(),
                     [&](const auto& entry) {
                       return is_specific_status(entry.first) && entry.first[0] == status_class;
                     });
}

// x-sunset is a date ("2025-06-30") or an RFC 3339 time; nullopt when it is neither.
std::optional<core::TimePoint> parse_sunset(const std::string& text) {
  if (auto time = core::parse_rfc3339(text)) return *time;
  if (text.size() == 10) {
    if (auto time = core::parse_rfc3339(text + "T00:00:00Z")) return *time;
  }
  return std::nullopt;
}

// Whether a client that sends a value of every type in `inner` is accepted by `outer`
// (JSON Schema: every integer is a number).
bool covers(TypeSet outer, TypeSet inner) {
  for (const Type type :
       {Type::boolean, Type::integer, Type::number, Type::string, Type::array, Type::object}) {
    if (!inner.has(type) || outer.has(type)) continue;
    if (type == Type::integer && outer.has(Type::number)) continue;
    return false;
  }
  return true;
}

bool overlaps(TypeSet a, TypeSet b) {
  for (const Type type :
       {Type::boolean, Type::integer, Type::number, Type::string, Type::array, Type::object}) {
    if (a.has(type) && b.has(type)) return true;
  }
  return (a.has(Type::integer) && b.has(Type::number)) ||
         (a.has(Type::number) && b.has(Type::integer));
}

TypeSet without_null(TypeSet types) {
  types.remove(Type::null);
  return types;
}

std::string type_text(TypeSet types, const std::string& format) {
  std::string text = types.empty() ? "any type" : types.to_string();
  if (!format.empty()) text += " (" + format + ")";
  return text;
}

// Format changes that only widen what a value may be.
bool format_widened(const std::string& from, const std::string& to) {
  return (from == "int32" && to == "int64") || (from == "float" && to == "double");
}

// The enum of a schema, with `const` read as a one-value enum.
std::optional<std::set<std::string>> enum_set(const Schema& schema) {
  if (schema.enum_values) {
    return std::set<std::string>(schema.enum_values->begin(), schema.enum_values->end());
  }
  if (schema.const_value) return std::set<std::string>{*schema.const_value};
  return std::nullopt;
}

// A security scheme as the client experiences it: what it must send. Two names for the
// same API key header or the same HTTP scheme are one requirement; OAuth 2 and OpenID
// Connect schemes keep their name (the model does not hold their flows).
std::string scheme_identity(const Document& document, const std::string& name) {
  const auto found = document.security_schemes.find(name);
  if (found == document.security_schemes.end()) return "name:" + name;
  const SecurityScheme& scheme = found->second;
  if (scheme.type == "apiKey") {
    return "apiKey:" + scheme.in + ":" +
           (scheme.in == "header" ? ascii_lower(scheme.name) : scheme.name);
  }
  if (scheme.type == "http") return "http:" + ascii_lower(scheme.scheme);
  return "name:" + name;
}

struct NormalisedRequirement {
  std::map<std::string, std::set<std::string>> scopes;  // identity -> scopes
  std::map<std::string, std::string> names;             // identity -> a name as written
};

std::vector<NormalisedRequirement> normalise(const Document& document,
                                             const std::vector<SecurityRequirement>& security) {
  std::vector<NormalisedRequirement> alternatives;
  // No requirement at all is the one alternative "send nothing".
  if (security.empty()) alternatives.emplace_back();
  for (const SecurityRequirement& requirement : security) {
    NormalisedRequirement normal;
    for (const auto& [name, scopes] : requirement) {
      const std::string identity = scheme_identity(document, name);
      normal.scopes[identity].insert(scopes.begin(), scopes.end());
      normal.names.emplace(identity, name);
    }
    alternatives.push_back(std::move(normal));
  }
  return alternatives;
}

// Whether a client that satisfies `held` also satisfies `needed`.
bool satisfies(const NormalisedRequirement& held, const NormalisedRequirement& needed) {
  for (const auto& [identity, scopes] : needed.scopes) {
    const auto found = held.scopes.find(identity);
    if (found == held.scopes.end()) return false;
    if (!std::includes(found->second.begin(), found->second.end(), scopes.begin(), scopes.end())) {
      return false;
    }
  }
  return true;
}

std::string requirement_text(const NormalisedRequirement& requirement) {
  if (requirement.scopes.empty()) return "no authentication";
  std::vector<std::string> parts;
  for (const auto& [identity, scopes] : requirement.scopes) {
    std::string part = requirement.names.at(identity);
    if (!scopes.empty()) {
      part += " [" + join(std::vector<std::string>(scopes.begin(), scopes.end()), ", ") + "]";
    }
    parts.push_back(std::move(part));
  }
  return join(parts, " + ");
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

// ------------------------------------------------------------------------------------------

class Differ {
 public:
  Differ(const Document& base, const Document& revision, const DiffOptions& options)
      : base_(base), revision_(revision), options_(options) {}

  DiffReport run() {
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

 private:
  // The place a schema walk starts from: its direction, whether parameter rule ids apply,
  // and the location every change under it shares (the property path is filled in).
  struct Walk {
    Direction direction = Direction::request;
    bool parameter = false;
    Location location;
  };

  // --- reporting ---------------------------------------------------------------------

  void add(Rule rule_id, Level level, Location location, std::string message) {
    Change change;
    change.level = level;
    change.rule = std::string(rule_id.id);
    change.method = method_;
    change.path = path_;
    change.location = std::move(location);
    change.message = std::move(message);
    changes_.push_back(std::move(change));
  }
  void add(Rule rule_id, Location location, std::string message) {
    add(rule_id, rule_id.level, std::move(location), std::move(message));
  }

  Location at_property(const std::string& path) const {
    Location location = walk_.location;
    location.property = path;
    return location;
  }

  // The subject of a sentence about `path` in the current walk: "Request property
  // 'items[].price'", "Query parameter 'limit'", "The response body".
  std::string subject(const std::string& path) const {
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

  // --- operations ----------------------------------------------------------------------

  void enter(const Operation& operation) {
    method_ = operation.method;
    path_ = operation.path;
    visits_ = 0;
  }

  static Location section(std::string name) {
    Location location;
    location.section = std::move(name);
    return location;
  }

  void operation_removed(const Operation& operation) {
    enter(operation);
    std::optional<core::TimePoint> sunset;
    if (operation.sunset) sunset = parse_sunset(*operation.sunset);
    if (sunset && *sunset <= options_.now) {
      add(rule("operation-removed"), Level::warning, section("operation"),
          fmt::format("{} {} was removed after its x-sunset date {}.", operation.method,
                      operation.path, *operation.sunset));
    } else if (sunset) {
      add(rule("operation-removed"), section("operation"),
          fmt::format("{} {} was removed before its x-sunset date {}: clients still call it.",
                      operation.method, operation.path, *operation.sunset));
    } else if (operation.deprecated) {
      add(rule("operation-removed"), Level::warning, section("operation"),
          fmt::format("{} {} was removed; it was deprecated, but clients may still call it.",
                      operation.method, operation.path));
    } else {
      add(rule("operation-removed"), section("operation"),
          fmt::format("{} {} was removed without being deprecated first.", operation.method,
                      operation.path));
    }
  }

  void operation_added(const Operation& operation) {
    enter(operation);
    add(rule("operation-added"), section("operation"),
        fmt::format("{} {} was added.", operation.method, operation.path));
  }

  void compare_operation(const Operation& base, const Operation& revision) {
    enter(revision);
    if (!base.deprecated && revision.deprecated) {
      add(rule("operation-deprecated"), section("operation"),
          fmt::format("{} {} was marked deprecated{}.", revision.method, revision.path,
                      revision.sunset ? " (x-sunset " + *revision.sunset + ")" : ""));
    }
    compare_security(base, revision);
    compare_parameters(base, revision);
    compare_request_body(base, revision);
    compare_responses(base, revision);
  }

  // --- security ------------------------------------------------------------------------

  void compare_security(const Operation& base, const Operation& revision) {
    const std::vector<NormalisedRequirement> before = normalise(base_, base.security);
    const std::vector<NormalisedRequirement> after = normalise(revision_, revision.security);
    bool breaking = false;
    for (const NormalisedRequirement& held : before) {
      if (std::any_of(after.begin(), after.end(), [&](const NormalisedRequirement& needed) {
            return satisfies(held, needed);
          })) {
        continue;
      }
      breaking = true;
      // The same schemes with more scopes: name the scopes.
      const auto same_schemes =
          std::find_if(after.begin(), after.end(), [&](const NormalisedRequirement& needed) {
            return !needed.scopes.empty() &&
                   std::all_of(needed.scopes.begin(), needed.scopes.end(), [&](const auto& entry) {
                     return held.scopes.count(entry.first) != 0;
                   });
          });
      if (same_schemes != after.end()) {
        std::vector<std::string> missing;
        for (const auto& [identity, scopes] : same_schemes->scopes) {
          const std::set<std::string>& had = held.scopes.at(identity);
          for (const std::string& scope : scopes) {
            if (had.count(scope) == 0) {
              missing.push_back(fmt::format("'{}' ({})", scope, same_schemes->names.at(identity)));
            }
          }
        }
        add(rule("security-scope-added"), section("security"),
            fmt::format("Clients authorised with {} now also need the scope{} {}.",
                        requirement_text(held), missing.size() == 1 ? "" : "s",
                        join(missing, ", ")));
        continue;
      }
      std::vector<std::string> options;
      for (const NormalisedRequirement& needed : after)
        options.push_back(requirement_text(needed));
      if (held.scopes.empty()) {
        add(rule("security-requirement-added"), section("security"),
            fmt::format("Authentication is no longer optional: the operation requires {}.",
                        join(options, " or ")));
      } else {
        add(rule("security-requirement-added"), section("security"),
            fmt::format("Clients authenticating with {} must now use {}.", requirement_text(held),
                        join(options, " or ")));
      }
    }
    if (breaking) return;
    const auto as_set = [](const std::vector<NormalisedRequirement>& alternatives) {
      std::set<std::map<std::string, std::set<std::string>>> set;
      for (const NormalisedRequirement& alternative : alternatives)
        set.insert(alternative.scopes);
      return set;
    };
    if (as_set(before) != as_set(after)) {
      std::vector<std::string> options;
      for (const NormalisedRequirement& needed : after)
        options.push_back(requirement_text(needed));
      add(rule("security-requirement-removed"), section("security"),
          fmt::format("The security requirement was relaxed: the operation now accepts {}.",
                      join(options, " or ")));
    }
  }

  // --- parameters ----------------------------------------------------------------------

  static Location parameter_location(const Parameter& parameter) {
    Location location = section("parameter");
    location.parameter = parameter.name;
    location.parameter_in = parameter.in;
    return location;
  }

  void compare_parameters(const Operation& base, const Operation& revision) {
    const std::vector<std::string> base_names = path_parameter_names(base.path);
    const std::vector<std::string> revision_names = path_parameter_names(revision.path);
    std::map<std::string, const Parameter*> before;
    std::map<std::string, const Parameter*> after;
    for (const Parameter& parameter : base.parameters) {
      before.emplace(parameter_key(parameter, base_names), &parameter);
    }
    for (const Parameter& parameter : revision.parameters) {
      after.emplace(parameter_key(parameter, revision_names), &parameter);
    }
    std::vector<const Parameter*> removed;
    std::vector<const Parameter*> added;
    for (const auto& [key, parameter] : before) {
      const auto found = after.find(key);
      if (found == after.end()) {
        removed.push_back(parameter);
      } else {
        compare_parameter(*parameter, *found->second);
      }
    }
    for (const auto& [key, parameter] : after) {
      if (before.count(key) == 0) added.push_back(parameter);
    }
    // The same name in another place: a move, reported once where it went.
    std::map<std::string, const Parameter*> removed_by_name;
    for (const Parameter* parameter : removed) {
      removed_by_name.emplace(ascii_lower(parameter->name), parameter);
    }
    for (const Parameter* parameter : added) {
      const auto moved = removed_by_name.find(ascii_lower(parameter->name));
      if (moved != removed_by_name.end()) {
        add(rule("request-parameter-moved"), parameter_location(*parameter),
            fmt::format("The {} parameter '{}' moved to the {}: clients send it where it is no "
                        "longer read.",
                        moved->second->in, moved->second->name, parameter->in));
        removed_by_name.erase(moved);
        continue;
      }
      if (parameter->required) {
        add(rule("request-parameter-added-required"), parameter_location(*parameter),
            fmt::format("A required {} parameter '{}' was added: clients that do not send it "
                        "are refused.",
                        parameter->in, parameter->name));
      } else {
        add(rule("request-parameter-added-optional"), parameter_location(*parameter),
            fmt::format("An optional {} parameter '{}' was added.", parameter->in,
                        parameter->name));
      }
    }
    for (const auto& [name, parameter] : removed_by_name) {
      add(rule("request-parameter-removed"), parameter_location(*parameter),
          fmt::format("The {} parameter '{}' was removed: clients still sending it may be "
                      "refused, or its value ignored.",
                      parameter->in, parameter->name));
    }
  }

  void compare_parameter(const Parameter& base, const Parameter& revision) {
    const Location location = parameter_location(revision);
    if (!base.required && revision.required) {
      add(rule("request-parameter-became-required"), location,
          fmt::format("The {} parameter '{}' became required: clients that do not send it are "
                      "refused.",
                      revision.in, revision.name));
    } else if (base.required && !revision.required) {
      add(rule("request-parameter-became-optional"), location,
          fmt::format("The {} parameter '{}' became optional.", revision.in, revision.name));
    }
    walk_ = Walk{Direction::request, true, location};
    compare_described(base.schema, base.content, revision.schema, revision.content);
  }

  // A parameter's or header's value, described by `schema` or by `content`, in the
  // current walk.
  void compare_described(SchemaRef base_schema, const Content& base_content,
                         SchemaRef revision_schema, const Content& revision_content) {
    if (base_schema.valid() || revision_schema.valid()) {
      compare_schema(single_schema(base_schema, base_content),
                     single_schema(revision_schema, revision_content), "");
      return;
    }
    for (const auto& [media, schema] : base_content) {
      const auto found = revision_content.find(media);
      if (found == revision_content.end()) continue;
      walk_.location.media_type = media;
      compare_schema(schema, found->second, "");
    }
  }

  // A parameter or header described by `schema` on one side and by `content` (which holds
  // exactly one media type) on the other is compared schema to schema; when both use
  // `content`, media type to media type.
  static SchemaRef single_schema(SchemaRef schema, const Content& content) {
    if (schema.valid() || content.size() != 1) return schema;
    return content.begin()->second;
  }

  // --- request body --------------------------------------------------------------------

  // The revision's entry for a media type the base had: the same type, the same type with
  // other parameters ("application/json; charset=utf-8"), or, where `ranges` (a request:
  // the server accepts what the range covers), a range that covers it ("application/*",
  // "*/*"). Null when there is none.
  static const std::pair<const std::string, SchemaRef>* matching_media(const Content& content,
                                                                       const std::string& media,
                                                                       bool ranges) {
    if (const auto found = content.find(media); found != content.end()) return &*found;
    const auto bare = [](const std::string& text) {
      std::string type = text.substr(0, text.find(';'));
      while (!type.empty() && type.back() == ' ')
        type.pop_back();
      return type;
    };
    const std::string type = bare(media);
    for (const auto& entry : content) {
      if (bare(entry.first) == type) return &entry;
    }
    if (!ranges) return nullptr;
    const std::string range = type.substr(0, type.find('/')) + "/*";
    if (const auto found = content.find(range); found != content.end()) return &*found;
    if (const auto found = content.find("*/*"); found != content.end()) return &*found;
    return nullptr;
  }

  void compare_request_body(const Operation& base, const Operation& revision) {
    const Location location = section("request");
    if (!base.request_body && !revision.request_body) return;
    if (!base.request_body) {
      if (revision.request_body->required) {
        add(rule("request-body-added-required"), location,
            "A required request body was added: clients that send none are refused.");
      } else {
        add(rule("request-body-added-optional"), location, "An optional request body was added.");
      }
      return;
    }
    if (!revision.request_body) {
      add(rule("request-body-removed"), location,
          "The request body was removed: clients still sending one may be refused.");
      return;
    }
    const RequestBody& before = *base.request_body;
    const RequestBody& after = *revision.request_body;
    if (!before.required && after.required) {
      add(rule("request-body-became-required"), location,
          "The request body became required: clients that send none are refused.");
    } else if (before.required && !after.required) {
      add(rule("request-body-became-optional"), location, "The request body became optional.");
    }
    for (const auto& [media, schema] : before.content) {
      Location media_location = location;
      media_location.media_type = media;
      const auto* target = matching_media(after.content, media, true);
      if (target == nullptr) {
        add(rule("request-media-type-removed"), media_location,
            fmt::format("The request body no longer accepts {}: clients sending it are refused.",
                        media));
        continue;
      }
      walk_ = Walk{Direction::request, false, media_location};
      compare_schema(schema, target->second, "");
    }
    for (const auto& [media, schema] : after.content) {
      if (matching_media(before.content, media, false) != nullptr) continue;
      Location media_location = location;
      media_location.media_type = media;
      add(rule("request-media-type-added"), media_location,
          fmt::format("The request body also accepts {}.", media));
    }
  }

  // --- responses -----------------------------------------------------------------------

  void compare_responses(const Operation& base, const Operation& revision) {
    for (const auto& [status, response] : base.responses) {
      Location location = section("response");
      location.status = status;
      auto found = revision.responses.find(status);
      if (found == revision.responses.end() && is_specific_status(status)) {
        // "200" now described by "2XX": the same responses, compared as such.
        found = revision.responses.find(status.substr(0, 1) + "XX");
      }
      if (found == revision.responses.end()) {
        if (is_status_range(status) && has_status_in(revision, status[0])) {
          add(rule("response-status-removed"), Level::info, location,
              fmt::format("The response range {} was replaced by specific statuses.", status));
        } else if (is_success_status(status)) {
          add(rule("response-status-removed"), location,
              fmt::format("The success response {} was removed: clients expecting it get "
                          "another status.",
                          status));
        } else {
          add(rule("response-status-removed"), Level::info, location,
              fmt::format("The response {} was removed.", status));
        }
        continue;
      }
      compare_response(location, response, found->second);
    }
    for (const auto& [status, response] : revision.responses) {
      if (base.responses.count(status) != 0) continue;
      // A range that now stands for statuses the base listed one by one.
      if (is_status_range(status) && has_status_in(base, status[0])) continue;
      Location location = section("response");
      location.status = status;
      add(rule("response-status-added"), location, fmt::format("A response {} was added.", status));
    }
  }

  void compare_response(const Location& location, const Response& base, const Response& revision) {
    for (const auto& [media, schema] : base.content) {
      Location media_location = location;
      media_location.media_type = media;
      const auto* found = matching_media(revision.content, media, false);
      if (found == nullptr) {
        add(rule("response-media-type-removed"), media_location,
            fmt::format("The response {} no longer has {}: clients asking for it get another "
                        "media type or an error.",
                        location.status, media));
        continue;
      }
      walk_ = Walk{Direction::response, false, media_location};
      compare_schema(schema, found->second, "");
    }
    for (const auto& [media, schema] : revision.content) {
      if (matching_media(base.content, media, false) != nullptr) continue;
      Location media_location = location;
      media_location.media_type = media;
      add(rule("response-media-type-added"), media_location,
          fmt::format("The response {} also has {}.", location.status, media));
    }
    for (const auto& [name, header] : base.headers) {
      Location header_location = location;
      header_location.header = name;
      const auto found = revision.headers.find(name);
      if (found == revision.headers.end()) {
        if (header.required) {
          add(rule("response-header-removed"), header_location,
              fmt::format("The required response header '{}' was removed: clients reading it "
                          "find nothing.",
                          name));
        } else {
          add(rule("response-header-removed"), Level::warning, header_location,
              fmt::format("The optional response header '{}' was removed: clients reading it "
                          "find nothing.",
                          name));
        }
        continue;
      }
      if (header.required && !found->second.required) {
        add(rule("response-header-became-optional"), header_location,
            fmt::format("The response header '{}' is no longer required: clients may not find "
                        "it.",
                        name));
      }
      walk_ = Walk{Direction::response, false, header_location};
      compare_described(header.schema, header.content, found->second.schema, found->second.content);
    }
    for (const auto& [name, header] : revision.headers) {
      if (base.headers.count(name) != 0) continue;
      Location header_location = location;
      header_location.header = name;
      add(rule("response-header-added"), header_location,
          fmt::format("The response {} has a new header '{}'.", location.status, name));
    }
  }

  // --- schemas -------------------------------------------------------------------------

  // Structural equality, remembered: the same pair of shared schemas is met under many
  // operations, and an equal pair ends the walk there. On top of equivalent(), which
  // compares oneOf/anyOf as sets of values (so [Cat, Rabbit] equals [Cat] when the two
  // happen to have the same shape), alternatives must also match one to one, by shape and
  // $ref name: removing a named alternative is a change to the contract.
  bool same(SchemaRef b, SchemaRef r) {
    const std::uint64_t key = pair_key(b, r);
    const auto found = same_.find(key);
    if (found != same_.end()) return found->second;
    std::set<std::uint64_t> seen;
    const bool equal = equivalent_pair(b, r) && alternatives_alike(b, r, seen);
    same_.emplace(key, equal);
    return equal;
  }

  static std::uint64_t pair_key(SchemaRef b, SchemaRef r) {
    return (std::uint64_t{b.index} << 32U) | r.index;
  }

  bool equivalent_pair(SchemaRef b, SchemaRef r) {
    const std::uint64_t key = pair_key(b, r);
    const auto found = equivalent_.find(key);
    if (found != equivalent_.end()) return found->second;
    const bool equal = equivalent(base_, b, revision_, r);
    equivalent_.emplace(key, equal);
    return equal;
  }

  // For two equivalent schemas: whether every oneOf/anyOf below them pairs its
  // alternatives one to one (equivalent, with the same $ref name).
  bool alternatives_alike(SchemaRef b, SchemaRef r, std::set<std::uint64_t>& seen) {
    if (!b.valid() || !r.valid()) return b.valid() == r.valid();
    if (b.index >= base_.schemas.size() || r.index >= revision_.schemas.size()) return false;
    if (!seen.insert(pair_key(b, r)).second || seen.size() > kMaxSchemaVisits) return true;
    const Schema& x = base_.schemas[b.index];
    const Schema& y = revision_.schemas[r.index];
    for (const bool one_of : {true, false}) {
      const std::vector<SchemaRef>& xs = one_of ? x.one_of : x.any_of;
      const std::vector<SchemaRef>& ys = one_of ? y.one_of : y.any_of;
      if (xs.size() != ys.size()) return false;
      std::vector<bool> taken(ys.size(), false);
      for (const SchemaRef alternative : xs) {
        const std::string& name = ref_name(base_, alternative);
        bool paired = false;
        for (std::size_t j = 0; j < ys.size() && !paired; ++j) {
          if (taken[j] || ref_name(revision_, ys[j]) != name) continue;
          if (!equivalent_pair(alternative, ys[j])) continue;
          if (!alternatives_alike(alternative, ys[j], seen)) return false;
          taken[j] = paired = true;
        }
        if (!paired) return false;
      }
    }
    // equivalent() guarantees the same property names.
    for (auto xi = x.properties.begin(), yi = y.properties.begin();
         xi != x.properties.end() && yi != y.properties.end(); ++xi, ++yi) {
      if (!alternatives_alike(xi->second, yi->second, seen)) return false;
    }
    return alternatives_alike(x.items, y.items, seen) &&
           alternatives_alike(x.additional_schema, y.additional_schema, seen) &&
           alternatives_alike(x.not_schema, y.not_schema, seen);
  }

  static const std::string& ref_name(const Document& document, SchemaRef ref) {
    static const std::string kNone;
    if (!ref.valid() || ref.index >= document.schemas.size()) return kNone;
    return document.schemas[ref.index].ref_name;
  }

  bool request() const { return walk_.direction == Direction::request; }

  void compare_schema(SchemaRef b, SchemaRef r, const std::string& path) {
    // No schema on a side says nothing about the values: nothing to compare.
    if (!b.valid() || !r.valid()) return;
    if (b.index >= base_.schemas.size() || r.index >= revision_.schemas.size()) return;
    if (same(b, r)) return;
    // A pair already being compared further up this path is a cycle: what it changes is
    // reported there.
    const std::pair<std::uint32_t, std::uint32_t> pair{b.index, r.index};
    if (std::find(stack_.begin(), stack_.end(), pair) != stack_.end()) return;
    if (++visits_ > kMaxSchemaVisits || stack_.size() >= kMaxSchemaDepth) return;
    stack_.push_back(pair);
    compare_fields(base_.schemas[b.index], revision_.schemas[r.index], path);
    stack_.pop_back();
  }

  // The types a schema's values may have, looking through oneOf/anyOf alternatives when
  // the schema itself names none. Empty means "any".
  TypeSet effective_types(const Document& document, const Schema& schema, int depth) const {
    int budget = kMaxAlternativeLookups;
    return effective_types(document, schema, depth, budget);
  }
  TypeSet effective_types(const Document& document, const Schema& schema, int depth,
                          int& budget) const {
    if (!schema.types.empty() || depth >= kMaxAlternativeDepth) return schema.types;
    // Out of budget: "any type", which the type rule reads as no constraint.
    if (--budget < 0) return TypeSet();
    const std::vector<SchemaRef>& alternatives =
        !schema.one_of.empty() ? schema.one_of : schema.any_of;
    if (alternatives.empty()) return schema.types;
    TypeSet types;
    for (const SchemaRef alternative : alternatives) {
      if (!alternative.valid() || alternative.index >= document.schemas.size()) return TypeSet();
      const TypeSet more =
          effective_types(document, document.schemas[alternative.index], depth + 1, budget);
      if (without_null(more).empty()) return TypeSet();
      for (const Type type : {Type::null, Type::boolean, Type::integer, Type::number, Type::string,
                              Type::array, Type::object}) {
        if (more.has(type)) types.add(type);
      }
    }
    return types;
  }

  static bool has_own_shape(const Schema& schema) {
    return !schema.types.empty() || !schema.properties.empty() || schema.items.valid() ||
           schema.enum_values || schema.const_value;
  }

  void compare_fields(const Schema& b, const Schema& r, const std::string& path) {
    // A schema that became a oneOf/anyOf of alternatives (or stopped being one) compares
    // as a set of one alternative against the set.
    if (b.one_of.empty() && b.any_of.empty() && !(r.one_of.empty() && r.any_of.empty()) &&
        !has_own_shape(r)) {
      const bool one_of = !r.one_of.empty();
      compare_alternatives({SchemaRef{stack_.back().first}}, one_of ? r.one_of : r.any_of,
                           one_of ? "oneOf" : "anyOf", path);
      return;
    }
    if (r.one_of.empty() && r.any_of.empty() && !(b.one_of.empty() && b.any_of.empty()) &&
        !has_own_shape(b)) {
      const bool one_of = !b.one_of.empty();
      compare_alternatives(one_of ? b.one_of : b.any_of, {SchemaRef{stack_.back().second}},
                           one_of ? "oneOf" : "anyOf", path);
      return;
    }
    if (!compare_types(b, r, path)) return;
    compare_nullable(b, r, path);
    compare_enum(b, r, path);
    if (request()) compare_constraints(b, r, path);
    compare_properties(b, r, path);
    if (request() && b.additional != AdditionalProperties::denied &&
        r.additional == AdditionalProperties::denied) {
      add(rule("request-additional-properties-denied"), at_property(path),
          fmt::format("{} no longer accepts properties it does not list: clients sending "
                      "extra ones are refused.",
                      subject(path)));
    }
    if (b.additional == AdditionalProperties::schema &&
        r.additional == AdditionalProperties::schema) {
      compare_schema(b.additional_schema, r.additional_schema, path + "<additionalProperties>");
    }
    compare_schema(b.items, r.items, path + "[]");
    if (!b.one_of.empty() || !r.one_of.empty()) {
      compare_alternatives(b.one_of, r.one_of, "oneOf", path);
    }
    if (!b.any_of.empty() || !r.any_of.empty()) {
      compare_alternatives(b.any_of, r.any_of, "anyOf", path);
    }
  }

  // Reports a change of type; false when the types no longer overlap, so that comparing
  // the rest would only describe the same change again.
  bool compare_types(const Schema& b, const Schema& r, const std::string& path) {
    // Two sets of alternatives without types of their own: the alternatives speak.
    if (b.types.empty() && r.types.empty() && !(b.one_of.empty() && b.any_of.empty()) &&
        !(r.one_of.empty() && r.any_of.empty())) {
      return true;
    }
    const TypeSet before = without_null(effective_types(base_, b, 0));
    const TypeSet after = without_null(effective_types(revision_, r, 0));
    const std::string from = type_text(before, b.format);
    const std::string to = type_text(after, r.format);
    if (before == after) {
      compare_format(b, r, path);
      return true;
    }
    const bool overlapping = before.empty() || after.empty() || overlaps(before, after);
    if (request()) {
      const bool widened = after.empty() || (!before.empty() && covers(after, before));
      if (widened) {
        add(rule("request-type-widened"), at_property(path),
            fmt::format("{} accepts more types: {} instead of {}.", subject(path), to, from));
      } else {
        add(walk_.parameter ? rule("request-parameter-type-changed") : rule("request-type-changed"),
            at_property(path),
            fmt::format("{} changed type from {} to {}: values clients sent before are refused.",
                        subject(path), from, to));
      }
    } else {
      const bool narrowed = before.empty() || (!after.empty() && covers(before, after));
      if (narrowed) {
        add(rule("response-type-narrowed"), at_property(path),
            fmt::format("{} returns fewer types: {} instead of {}.", subject(path), to, from));
      } else {
        add(rule("response-type-changed"), at_property(path),
            fmt::format("{} changed type from {} to {}: clients may receive values they do not "
                        "expect.",
                        subject(path), from, to));
      }
    }
    return overlapping;
  }

  void compare_format(const Schema& b, const Schema& r, const std::string& path) {
    if (b.format == r.format) return;
    const std::string from = b.format.empty() ? "none" : "'" + b.format + "'";
    const std::string to = r.format.empty() ? "none" : "'" + r.format + "'";
    if (request()) {
      const bool looser = r.format.empty() || format_widened(b.format, r.format);
      const Rule id = walk_.parameter ? rule("request-parameter-format-changed")
                                      : rule("request-format-changed");
      add(id, looser ? Level::info : id.level, at_property(path),
          fmt::format("{} changed format from {} to {}{}.", subject(path), from, to,
                      looser ? "" : ": values clients sent before may be refused"));
    } else {
      const bool narrower = b.format.empty();
      const Rule id = rule("response-format-changed");
      add(id, narrower ? Level::info : id.level, at_property(path),
          fmt::format("{} changed format from {} to {}{}.", subject(path), from, to,
                      narrower ? "" : ": clients may not parse the values they receive"));
    }
  }

  void compare_nullable(const Schema& b, const Schema& r, const std::string& path) {
    // An empty type set already allows null; the type rule speaks for it.
    if (b.types.empty() || r.types.empty()) return;
    const bool before = b.types.has(Type::null);
    const bool after = r.types.has(Type::null);
    if (before == after) return;
    if (request()) {
      if (before) {
        add(rule("request-became-not-nullable"), at_property(path),
            fmt::format("{} no longer accepts null: clients sending null are refused.",
                        subject(path)));
      } else {
        add(rule("request-type-widened"), at_property(path),
            fmt::format("{} now also accepts null.", subject(path)));
      }
    } else if (after) {
      add(rule("response-became-nullable"), at_property(path),
          fmt::format("{} may now be null: clients that expect a value may fail.", subject(path)));
    } else {
      add(rule("response-type-narrowed"), at_property(path),
          fmt::format("{} is no longer null.", subject(path)));
    }
  }

  void compare_enum(const Schema& b, const Schema& r, const std::string& path) {
    const std::optional<std::set<std::string>> before = enum_set(b);
    const std::optional<std::set<std::string>> after = enum_set(r);
    if (!before && !after) return;
    const bool parameter = walk_.parameter;
    if (before && after) {
      for (const std::string& value : *before) {
        if (after->count(value) != 0) continue;
        if (request()) {
          add(parameter ? rule("request-parameter-enum-value-removed")
                        : rule("request-enum-value-removed"),
              at_property(path),
              fmt::format("{} no longer accepts the value {}.", subject(path), value));
        } else {
          add(rule("response-enum-value-removed"), at_property(path),
              fmt::format("{} no longer returns the value {}.", subject(path), value));
        }
      }
      for (const std::string& value : *after) {
        if (before->count(value) != 0) continue;
        if (request()) {
          add(rule("request-enum-value-added"), at_property(path),
              fmt::format("{} also accepts the value {}.", subject(path), value));
        } else {
          add(rule("response-enum-value-added"), at_property(path),
              fmt::format("{} may now carry the value {}, which clients may not know.",
                          subject(path), value));
        }
      }
      return;
    }
    if (after) {
      if (!request()) return;  // a response limited to listed values only narrows
      std::vector<std::string> values(after->begin(), after->end());
      add(parameter ? rule("request-parameter-became-enum") : rule("request-became-enum"),
          at_property(path),
          fmt::format("{} now accepts only the values {}.", subject(path), join(values, ", ")));
      return;
    }
    if (request()) {
      add(parameter ? rule("request-parameter-constraint-loosened")
                    : rule("request-constraint-loosened"),
          at_property(path),
          fmt::format("{} is no longer limited to a list of values.", subject(path)));
    } else {
      add(rule("response-enum-value-added"), at_property(path),
          fmt::format("{} is no longer limited to a list of values: clients may receive values "
                      "they do not know.",
                      subject(path)));
    }
  }

  // min/max/length/pattern/items limits; only a request's matter (a response that
  // returns a narrower range of values breaks no client).
  void compare_constraints(const Schema& b, const Schema& r, const std::string& path) {
    const Rule tightened = walk_.parameter ? rule("request-parameter-constraint-tightened")
                                           : rule("request-constraint-tightened");
    const Rule loosened = walk_.parameter ? rule("request-parameter-constraint-loosened")
                                          : rule("request-constraint-loosened");
    const auto report = [&](bool tighter, std::string_view keyword, const std::string& from,
                            const std::string& to) {
      if (tighter) {
        add(tightened, at_property(path),
            fmt::format("{} has a stricter {} ({} instead of {}): values accepted before may be "
                        "refused.",
                        subject(path), keyword, to, from));
      } else {
        add(loosened, at_property(path),
            fmt::format("{} has a looser {} ({} instead of {}).", subject(path), keyword, to,
                        from));
      }
    };
    const auto bound = [&](const std::optional<Bound>& before, const std::optional<Bound>& after,
                           std::string_view keyword, bool lower) {
      if (before == after) return;
      const std::string from = before ? bound_text(*before) : "none";
      const std::string to = after ? bound_text(*after) : "none";
      if (!before || !after) {
        report(static_cast<bool>(after), keyword, from, to);
        return;
      }
      bool tighter = false;
      if (before->value == after->value) {
        tighter = after->exclusive;
      } else {
        tighter = lower ? after->value > before->value : after->value < before->value;
      }
      report(tighter, keyword, from, to);
    };
    bound(b.minimum, r.minimum, "minimum", true);
    bound(b.maximum, r.maximum, "maximum", false);
    const auto count = [&](const std::optional<std::uint64_t>& before,
                           const std::optional<std::uint64_t>& after, std::string_view keyword,
                           bool lower) {
      const std::uint64_t none = lower ? 0 : std::numeric_limits<std::uint64_t>::max();
      const std::uint64_t from = before.value_or(none);
      const std::uint64_t to = after.value_or(none);
      if (from == to) return;
      report(lower ? to > from : to < from, keyword, before ? std::to_string(*before) : "none",
             after ? std::to_string(*after) : "none");
    };
    count(b.min_length, r.min_length, "minLength", true);
    count(b.max_length, r.max_length, "maxLength", false);
    count(b.min_items, r.min_items, "minItems", true);
    count(b.max_items, r.max_items, "maxItems", false);
    count(b.min_properties, r.min_properties, "minProperties", true);
    count(b.max_properties, r.max_properties, "maxProperties", false);
    if (b.multiple_of != r.multiple_of) {
      const auto divides = [](double divisor, double value) {
        const double quotient = value / divisor;
        return std::abs(quotient - std::round(quotient)) < 1e-9;
      };
      // Looser only when every old multiple is a new one.
      const bool looser =
          !r.multiple_of || (b.multiple_of && divides(*r.multiple_of, *b.multiple_of));
      report(!looser, "multipleOf", b.multiple_of ? number_text(*b.multiple_of) : "none",
             r.multiple_of ? number_text(*r.multiple_of) : "none");
    }
    if (!b.unique_items && r.unique_items) report(true, "uniqueItems", "false", "true");
    if (b.unique_items && !r.unique_items) report(false, "uniqueItems", "true", "false");
    if (b.pattern != r.pattern) {
      if (!b.pattern) {
        add(tightened, at_property(path),
            fmt::format("{} must now match the pattern '{}': values accepted before may be "
                        "refused.",
                        subject(path), *r.pattern));
      } else if (!r.pattern) {
        add(loosened, at_property(path),
            fmt::format("{} no longer has to match the pattern '{}'.", subject(path), *b.pattern));
      } else {
        // Whether one regular expression accepts less than another is not decidable in
        // general: a warning, not a verdict.
        add(walk_.parameter ? rule("request-parameter-pattern-changed")
                            : rule("request-pattern-changed"),
            at_property(path),
            fmt::format("{} must now match the pattern '{}' instead of '{}': values accepted "
                        "before may be refused.",
                        subject(path), *r.pattern, *b.pattern));
      }
    }
  }

  const Schema* property_schema(const Document& document, const Schema& object,
                                const std::string& name) const {
    const auto found = object.properties.find(name);
    if (found == object.properties.end() || !found->second.valid() ||
        found->second.index >= document.schemas.size()) {
      return nullptr;
    }
    return &document.schemas[found->second.index];
  }

  void compare_properties(const Schema& b, const Schema& r, const std::string& path) {
    if (b.properties.empty() && r.properties.empty() && b.required == r.required) return;
    std::set<std::string> names;
    for (const auto& entry : b.properties)
      names.insert(entry.first);
    for (const auto& entry : r.properties)
      names.insert(entry.first);
    names.insert(b.required.begin(), b.required.end());
    names.insert(r.required.begin(), r.required.end());
    for (const std::string& name : names) {
      const bool in_base = b.properties.count(name) != 0 || b.required.count(name) != 0;
      const bool in_revision = r.properties.count(name) != 0 || r.required.count(name) != 0;
      const Schema* before = property_schema(base_, b, name);
      const Schema* after = property_schema(revision_, r, name);
      const std::string child = child_path(path, name);
      if (request()) {
        compare_request_property(b, r, name, child, in_base, in_revision, before, after);
      } else {
        compare_response_property(b, r, name, child, in_base, in_revision, before, after);
      }
    }
  }

  void compare_request_property(const Schema& b, const Schema& r, const std::string& name,
                                const std::string& child, bool in_base, bool in_revision,
                                const Schema* before, const Schema* after) {
    const bool required_before = in_base && required_in_request(base_, b, name);
    const bool required_after = in_revision && required_in_request(revision_, r, name);
    // readOnly: the server ignores it in a request; clients need not send it.
    const bool read_only_before = before != nullptr && before->read_only;
    const bool read_only_after = after != nullptr && after->read_only;
    if (!in_base && in_revision) {
      if (required_after) {
        const std::string with_default =
            after != nullptr && after->default_value
                ? fmt::format(" (its default {} does not help: old clients do not send it)",
                              *after->default_value)
                : "";
        add(rule("request-property-added-required"), at_property(child),
            fmt::format("{} was added as required{}: clients that do not send it are refused.",
                        subject(child), with_default));
      } else if (!read_only_after) {
        add(rule("request-property-added-optional"), at_property(child),
            fmt::format("{} was added as optional.", subject(child)));
      }
      return;
    }
    if (in_base && !in_revision) {
      if (!read_only_before) {
        add(rule("request-property-removed"), at_property(child),
            fmt::format("{} was removed: clients still sending it may be refused, or its "
                        "value ignored.",
                        subject(child)));
      }
      return;
    }
    if (!required_before && required_after) {
      const std::string with_default =
          after != nullptr && after->default_value
              ? fmt::format(" (it has a default, {}, but old clients may omit it)",
                            *after->default_value)
              : "";
      add(rule("request-property-became-required"), at_property(child),
          fmt::format("{} became required{}: clients that do not send it are refused.",
                      subject(child), with_default));
    } else if (required_before && !required_after) {
      add(rule("request-property-became-optional"), at_property(child),
          fmt::format("{} became optional.", subject(child)));
    }
    if (read_only_before && read_only_after) return;
    compare_schema(property_ref(b, name), property_ref(r, name), child);
  }

  void compare_response_property(const Schema& b, const Schema& r, const std::string& name,
                                 const std::string& child, bool in_base, bool in_revision,
                                 const Schema* before, const Schema* after) {
    const bool required_before = in_base && required_in_response(base_, b, name);
    const bool required_after = in_revision && required_in_response(revision_, r, name);
    // writeOnly: never returned, so clients never relied on it.
    const bool write_only_before = before != nullptr && before->write_only;
    const bool write_only_after = after != nullptr && after->write_only;
    if (!in_base && in_revision) {
      if (!write_only_after) {
        add(rule("response-property-added"), at_property(child),
            fmt::format("{} was added.", subject(child)));
      }
      return;
    }
    if (in_base && !in_revision) {
      if (write_only_before) return;
      if (required_before) {
        add(rule("response-property-removed"), at_property(child),
            fmt::format("{} was removed: clients reading it find nothing.", subject(child)));
      } else {
        add(rule("response-property-removed"), Level::warning, at_property(child),
            fmt::format("{} (optional) was removed: clients reading it find nothing.",
                        subject(child)));
      }
      return;
    }
    if (required_before && !required_after) {
      add(rule("response-property-became-optional"), at_property(child),
          fmt::format("{} is no longer always present{}: clients that rely on it may fail.",
                      subject(child), write_only_after ? " (it became writeOnly)" : ""));
    } else if (!required_before && required_after) {
      add(rule("response-property-became-required"), at_property(child),
          fmt::format("{} is now always present.", subject(child)));
    }
    if (write_only_before && write_only_after) return;
    compare_schema(property_ref(b, name), property_ref(r, name), child);
  }

  static SchemaRef property_ref(const Schema& object, const std::string& name) {
    const auto found = object.properties.find(name);
    return found == object.properties.end() ? SchemaRef{} : found->second;
  }

  std::string alternative_name(const Document& document, SchemaRef ref, std::size_t index) const {
    if (ref.valid() && ref.index < document.schemas.size() &&
        !document.schemas[ref.index].ref_name.empty()) {
      return "'" + document.schemas[ref.index].ref_name + "'";
    }
    return fmt::format("#{}", index + 1);
  }

  // oneOf/anyOf as sets: equal alternatives match; of the rest, those with the same $ref
  // name (or a lone pair) are the same alternative changed and compared in depth.
  void compare_alternatives(const std::vector<SchemaRef>& before,
                            const std::vector<SchemaRef>& after, std::string_view keyword,
                            const std::string& path) {
    std::vector<bool> matched_before(before.size(), false);
    std::vector<bool> matched_after(after.size(), false);
    // Unchanged alternatives first (by shape and name, then by shape alone), then the
    // ones changed in place (the same $ref name).
    for (const int pass : {0, 1}) {
      for (std::size_t i = 0; i < before.size(); ++i) {
        for (std::size_t j = 0; j < after.size() && !matched_before[i]; ++j) {
          if (matched_after[j] || !before[i].valid() || !after[j].valid()) continue;
          if (pass == 0 && ref_name(base_, before[i]) != ref_name(revision_, after[j])) continue;
          if (same(before[i], after[j])) matched_before[i] = matched_after[j] = true;
        }
      }
    }
    const std::string child = path + "<" + std::string(keyword) + ">";
    for (std::size_t i = 0; i < before.size(); ++i) {
      if (matched_before[i]) continue;
      const std::string& name = ref_name(base_, before[i]);
      if (name.empty()) continue;
      for (std::size_t j = 0; j < after.size(); ++j) {
        if (matched_after[j] || ref_name(revision_, after[j]) != name) continue;
        matched_before[i] = matched_after[j] = true;
        compare_schema(before[i], after[j], child);
        break;
      }
    }
    const auto unmatched = [](const std::vector<bool>& matched) {
      return static_cast<std::size_t>(std::count(matched.begin(), matched.end(), false));
    };
    if (unmatched(matched_before) == 1 && unmatched(matched_after) == 1) {
      const std::size_t i = static_cast<std::size_t>(
          std::find(matched_before.begin(), matched_before.end(), false) - matched_before.begin());
      const std::size_t j = static_cast<std::size_t>(
          std::find(matched_after.begin(), matched_after.end(), false) - matched_after.begin());
      matched_before[i] = matched_after[j] = true;
      compare_schema(before[i], after[j], child);
    }
    for (std::size_t i = 0; i < before.size(); ++i) {
      if (matched_before[i] || !request()) continue;
      add(rule("request-alternative-removed"), at_property(path),
          fmt::format("{} no longer accepts the {} alternative {}: clients sending it are "
                      "refused.",
                      subject(path), keyword, alternative_name(base_, before[i], i)));
    }
    for (std::size_t j = 0; j < after.size(); ++j) {
      if (matched_after[j]) continue;
      if (request()) {
        add(rule("request-alternative-added"), at_property(path),
            fmt::format("{} also accepts the {} alternative {}.", subject(path), keyword,
                        alternative_name(revision_, after[j], j)));
      } else {
        add(rule("response-alternative-added"), at_property(path),
            fmt::format("{} may now be the {} alternative {}, which clients may not know.",
                        subject(path), keyword, alternative_name(revision_, after[j], j)));
      }
    }
  }

  const Document& base_;
  const Document& revision_;
  const DiffOptions& options_;
  std::vector<Change> changes_;
  std::string method_;
  std::string path_;
  Walk walk_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> stack_;
  std::size_t visits_ = 0;
  std::unordered_map<std::uint64_t, bool> equivalent_;
  std::unordered_map<std::uint64_t, bool> same_;
};

}  // namespace

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
  return Differ(base, revision, options).run();
}

std::span<const RuleInfo> rules() {
  return kRules;
}

}  // namespace glidepath::contract
