// Diff rules for whole operations (added, removed, deprecated, past their x-sunset) and
// for their security requirements.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>

#include "contract/diff_context.h"

namespace glidepath::contract::detail {
namespace {

// x-sunset is a date ("2025-06-30") or an RFC 3339 time; nullopt when it is neither.
std::optional<core::TimePoint> parse_sunset(const std::string& text) {
  if (auto time = core::parse_rfc3339(text)) return *time;
  if (text.size() == 10) {
    if (auto time = core::parse_rfc3339(text + "T00:00:00Z")) return *time;
  }
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

}  // namespace

void Differ::enter(const Operation& operation) {
  method_ = operation.method;
  path_ = operation.path;
  visits_ = 0;
}

Location Differ::section(std::string name) {
  Location location;
  location.section = std::move(name);
  return location;
}

void Differ::operation_removed(const Operation& operation) {
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

void Differ::operation_added(const Operation& operation) {
  enter(operation);
  add(rule("operation-added"), section("operation"),
      fmt::format("{} {} was added.", operation.method, operation.path));
}

void Differ::compare_operation(const Operation& base, const Operation& revision) {
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

void Differ::compare_security(const Operation& base, const Operation& revision) {
  const std::vector<NormalisedRequirement> before = normalise(base_, base.security);
  const std::vector<NormalisedRequirement> after = normalise(revision_, revision.security);
  bool breaking = false;
  for (const NormalisedRequirement& held : before) {
    if (std::any_of(after.begin(), after.end(),
                    [&](const NormalisedRequirement& needed) { return satisfies(held, needed); })) {
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
                      requirement_text(held), missing.size() == 1 ? "" : "s", join(missing, ", ")));
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

}  // namespace glidepath::contract::detail
