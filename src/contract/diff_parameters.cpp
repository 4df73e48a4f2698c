// Diff rules for parameters: matched by place and name (path parameters by position),
// added, removed, moved, required or not, and their schema or content.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "contract/diff_context.h"

namespace glidepath::contract::detail {
namespace {

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

}  // namespace

Location Differ::parameter_location(const Parameter& parameter) {
  Location location = section("parameter");
  location.parameter = parameter.name;
  location.parameter_in = parameter.in;
  return location;
}

void Differ::compare_parameters(const Operation& base, const Operation& revision) {
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
          fmt::format("An optional {} parameter '{}' was added.", parameter->in, parameter->name));
    }
  }
  for (const auto& [name, parameter] : removed_by_name) {
    add(rule("request-parameter-removed"), parameter_location(*parameter),
        fmt::format("The {} parameter '{}' was removed: clients still sending it may be "
                    "refused, or its value ignored.",
                    parameter->in, parameter->name));
  }
}

void Differ::compare_parameter(const Parameter& base, const Parameter& revision) {
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
void Differ::compare_described(SchemaRef base_schema, const Content& base_content,
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
SchemaRef Differ::single_schema(SchemaRef schema, const Content& content) {
  if (schema.valid() || content.size() != 1) return schema;
  return content.begin()->second;
}

}  // namespace glidepath::contract::detail
