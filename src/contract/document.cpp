// The document as OpenAPI lays it out: version, info, security, paths and their
// operations, parameters, content and responses. Swagger 2.0's own parts are in
// swagger2.cpp, schemas in schemas.cpp.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <tuple>

#include "contract/loader_internal.h"

namespace glidepath::contract::detail {
namespace {

using yaml::describe;

// Lower-case methods as OpenAPI writes them (3.1 4.8.9.1), in the order they are read.
constexpr std::array<std::string_view, 8> kMethods = {"get",     "put",  "post",  "delete",
                                                      "options", "head", "patch", "trace"};

}  // namespace

// Document level.
void Loader::read_version(const Cursor& root) {
  if (auto openapi = string_field(root, "openapi")) {
    if (openapi->rfind("3.0", 0) == 0) {
      document_.source = SourceKind::openapi30;
      return;
    }
    if (openapi->size() >= 3 && openapi->rfind("3.", 0) == 0 && (*openapi)[2] >= '1' &&
        (*openapi)[2] <= '9') {
      document_.source = SourceKind::openapi31;
      return;
    }
    fail(*root.field("openapi"),
         fmt::format("unsupported OpenAPI version '{}' (3.0 and 3.1 are)", *openapi));
  }
  if (auto swagger = string_field(root, "swagger")) {
    if (*swagger == "2.0" || *swagger == "2") {
      document_.source = SourceKind::swagger2;
      return;
    }
    fail(*root.field("swagger"),
         fmt::format("unsupported Swagger version '{}' (2.0 is)", *swagger));
  }
  fail(root, "not an OpenAPI document: neither 'openapi: 3.x' nor 'swagger: \"2.0\"' is given");
}

void Loader::read_info(const Cursor& root) {
  if (auto info = root.field("info"); info && info->node.IsMap()) {
    document_.title = string_field(*info, "title").value_or("");
    document_.version = string_field(*info, "version").value_or("");
  }
  if (swagger()) {
    read_swagger_info(root);
    return;
  }
  auto servers = root.field("servers");
  if (!servers || !servers->node.IsSequence() || servers->node.size() == 0) return;
  const Cursor first = servers->at(std::size_t{0}, servers->node[0]);
  if (!first.node.IsMap()) return;
  const std::string url = string_field(first, "url").value_or("");
  size_t path_start = 0;
  if (const size_t scheme = url.find("://"); scheme != std::string::npos) {
    path_start = url.find('/', scheme + 3);
  } else if (!url.empty() && url[0] != '/') {
    path_start = url.find('/');
  }
  if (path_start != std::string::npos) document_.base_path = url.substr(path_start);
  while (document_.base_path.size() > 1 && document_.base_path.back() == '/')
    document_.base_path.pop_back();
}

std::optional<std::vector<std::string>> Loader::media_list(const Cursor& cursor,
                                                           std::string_view key) {
  auto list = cursor.field(key);
  if (!list || list->node.IsNull()) return std::nullopt;
  if (!list->node.IsSequence()) {
    fail(*list, fmt::format("expected a list of media types, got {}", describe(list->node)));
  }
  std::vector<std::string> types;
  std::size_t index = 0;
  for (const auto& item : list->node) {
    types.push_back(media_key(string_of(list->at(index++, item))));
  }
  return types;
}

// "Application/JSON; charset=utf-8" -> "application/json; charset=utf-8": type and
// subtype are case-insensitive (RFC 9110 8.3.1), parameters may not be.
std::string Loader::media_key(std::string_view media) {
  const size_t semicolon = media.find(';');
  std::string_view type = media.substr(0, semicolon);
  while (!type.empty() && type.back() == ' ')
    type.remove_suffix(1);
  while (!type.empty() && type.front() == ' ')
    type.remove_prefix(1);
  std::string key = ascii_lower(type);
  if (semicolon != std::string_view::npos) key += std::string(media.substr(semicolon));
  return key;
}

void Loader::read_security_schemes(const Cursor& root) {
  std::optional<Cursor> schemes;
  if (swagger()) {
    schemes = root.field("securityDefinitions");
  } else if (auto components = root.field("components"); components && components->node.IsMap()) {
    schemes = components->field("securitySchemes");
  }
  if (!schemes || !schemes->node.IsMap()) return;
  for (const auto& entry : schemes->node) {
    if (!entry.first.IsScalar()) continue;
    const Cursor scheme = resolve(schemes->at(entry.first.Scalar(), entry.second));
    tick(scheme);
    if (!scheme.node.IsMap()) continue;
    SecurityScheme model;
    model.type = string_field(scheme, "type").value_or("");
    model.scheme = ascii_lower(string_field(scheme, "scheme").value_or(""));
    model.in = string_field(scheme, "in").value_or("");
    model.name = string_field(scheme, "name").value_or("");
    if (swagger() && model.type == "basic") {
      model.type = "http";
      model.scheme = "basic";
    }
    document_.security_schemes[entry.first.Scalar()] = model;
  }
}

std::vector<SecurityRequirement> Loader::read_security(const Cursor& cursor) {
  std::vector<SecurityRequirement> requirements;
  if (cursor.node.IsNull()) return requirements;
  if (!cursor.node.IsSequence()) {
    fail(cursor,
         fmt::format("expected a list of security requirements, got {}", describe(cursor.node)));
  }
  std::size_t index = 0;
  for (const auto& item : cursor.node) {
    const Cursor alternative = cursor.at(index++, item);
    tick(alternative);
    SecurityRequirement requirement;
    if (!alternative.node.IsNull() && !alternative.node.IsMap()) {
      fail(alternative, fmt::format("expected a mapping of scheme names to scopes, got {}",
                                    describe(alternative.node)));
    }
    if (alternative.node.IsMap()) {
      for (const auto& entry : alternative.node) {
        const std::string scheme = string_of(alternative.at("", entry.first));
        const Cursor scopes = alternative.at(scheme, entry.second);
        std::set<std::string>& names = requirement[scheme];
        if (scopes.node.IsNull()) continue;
        if (!scopes.node.IsSequence()) {
          fail(scopes, fmt::format("expected a list of scopes, got {}", describe(scopes.node)));
        }
        std::size_t scope_index = 0;
        for (const auto& scope : scopes.node) {
          tick(scopes);
          names.insert(string_of(scopes.at(scope_index++, scope)));
        }
      }
    }
    requirements.push_back(std::move(requirement));
  }
  return requirements;
}

// Paths and operations.
void Loader::read_paths(const Cursor& paths) {
  if (paths.node.IsNull()) return;
  if (!paths.node.IsMap()) {
    fail(paths, fmt::format("expected a mapping of paths, got {}", describe(paths.node)));
  }
  std::map<std::string, std::string> path_of_key;  // "/a/{}" -> "/a/{id}"
  for (const auto& entry : paths.node) {
    const std::string path = string_of(paths.at("", entry.first));
    if (path.rfind("x-", 0) == 0) continue;
    const Cursor item_cursor = paths.at(path, entry.second);
    if (path.empty() || path[0] != '/') fail(item_cursor, "a path must start with '/'");
    const std::string key = path_key(path);
    if (auto [it, added] = path_of_key.emplace(key, path); !added) {
      fail(item_cursor, fmt::format("'{}' and '{}' are the same path template (only the "
                                    "parameter names differ)",
                                    it->second, path));
    }
    tick(item_cursor);
    const Cursor item = resolve(item_cursor);
    if (item.node.IsNull()) continue;
    if (!item.node.IsMap()) {
      fail(item, fmt::format("expected a path item (a mapping), got {}", describe(item.node)));
    }
    const std::vector<Cursor> shared = parameter_cursors(item);
    for (const std::string_view method : kMethods) {
      if (auto operation = item.field(method)) {
        read_operation(path, key, *operation, shared);
      }
    }
  }
}

std::vector<Cursor> Loader::parameter_cursors(const Cursor& owner) {
  std::vector<Cursor> cursors;
  auto list = owner.field("parameters");
  if (!list || list->node.IsNull()) return cursors;
  if (!list->node.IsSequence()) {
    fail(*list, fmt::format("expected a list of parameters, got {}", describe(list->node)));
  }
  std::size_t index = 0;
  for (const auto& item : list->node) {
    const Cursor parameter = resolve(list->at(index++, item));
    tick(parameter);
    if (!parameter.node.IsMap()) {
      fail(parameter,
           fmt::format("expected a parameter (a mapping), got {}", describe(parameter.node)));
    }
    cursors.push_back(parameter);
  }
  return cursors;
}

bool Loader::same_parameter(const std::string& in_a, const std::string& name_a,
                            const std::string& in_b, const std::string& name_b) {
  if (in_a != in_b) return false;
  // Header names are case-insensitive (RFC 9110 5.1).
  return in_a == "header" ? ascii_lower(name_a) == ascii_lower(name_b) : name_a == name_b;
}

void Loader::read_operation(const std::string& path, const std::string& key, const Cursor& cursor,
                            const std::vector<Cursor>& shared) {
  tick(cursor);
  if (!cursor.node.IsMap()) {
    fail(cursor, fmt::format("expected an operation (a mapping), got {}", describe(cursor.node)));
  }
  Operation operation;
  operation.method = ascii_upper(cursor.pointer.substr(cursor.pointer.rfind('/') + 1));
  operation.path = path;
  operation.path_key = key;
  operation.operation_id = string_field(cursor, "operationId").value_or("");
  operation.deprecated = bool_field(cursor, "deprecated");
  operation.sunset = string_field(cursor, "x-sunset");

  // Path-level parameters, then the operation's, which replace one with the same name
  // and place (OpenAPI 3.1 4.8.9.1 "parameters").
  std::vector<std::pair<std::pair<std::string, std::string>, Cursor>> merged;
  for (const bool own : {false, true}) {
    for (const Cursor& parameter : own ? parameter_cursors(cursor) : shared) {
      const std::string in = string_field(parameter, "in").value_or("");
      const std::string name = string_field(parameter, "name").value_or("");
      auto existing = std::find_if(merged.begin(), merged.end(), [&](const auto& entry) {
        return same_parameter(entry.first.first, entry.first.second, in, name);
      });
      if (existing != merged.end()) {
        existing->second = parameter;
      } else {
        merged.push_back({{in, name}, parameter});
      }
    }
  }

  const std::vector<std::string> consumes =
      media_list(cursor, "consumes")
          .value_or(global_consumes_.value_or(std::vector<std::string>{}));
  std::vector<Cursor> form_fields;
  for (const auto& [in_name, parameter] : merged) {
    const std::string& in = in_name.first;
    if (swagger() && in == "body") {
      read_swagger_body(parameter, consumes, operation);
    } else if (swagger() && in == "formData") {
      form_fields.push_back(parameter);
    } else if (auto model = read_parameter(parameter)) {
      operation.parameters.push_back(std::move(*model));
    }
  }
  if (!form_fields.empty()) read_swagger_form(cursor, form_fields, consumes, operation);
  std::sort(operation.parameters.begin(), operation.parameters.end(),
            [](const Parameter& a, const Parameter& b) {
              return std::tie(a.in, a.name) < std::tie(b.in, b.name);
            });

  if (auto body = cursor.field("requestBody"); body && !swagger()) {
    const Cursor resolved = resolve(*body);
    if (!resolved.node.IsMap()) {
      fail(resolved,
           fmt::format("expected a request body (a mapping), got {}", describe(resolved.node)));
    }
    RequestBody request;
    request.required = bool_field(resolved, "required");
    request.content = read_content(resolved);
    operation.request_body = std::move(request);
  }

  if (auto responses = cursor.field("responses"); responses && !responses->node.IsNull()) {
    if (!responses->node.IsMap()) {
      fail(*responses,
           fmt::format("expected a mapping of responses, got {}", describe(responses->node)));
    }
    const std::vector<std::string> produces =
        media_list(cursor, "produces")
            .value_or(global_produces_.value_or(std::vector<std::string>{}));
    for (const auto& entry : responses->node) {
      const std::string status = string_of(responses->at("", entry.first));
      if (status.rfind("x-", 0) == 0) continue;
      const Cursor response = resolve(responses->at(status, entry.second));
      // "2xx" is "2XX" (OpenAPI 3.1 4.8.16.2); "default" stays as it is.
      const std::string status_key =
          ascii_lower(status) == "default" ? "default" : ascii_upper(status);
      operation.responses[status_key] = read_response(response, produces);
    }
  }

  if (auto security = cursor.field("security")) {
    operation.security = read_security(*security);
  } else {
    operation.security = document_security_;
  }
  document_.operations.push_back(std::move(operation));
}

std::optional<Parameter> Loader::read_parameter(const Cursor& cursor) {
  Parameter parameter;
  auto name = string_field(cursor, "name");
  auto in = string_field(cursor, "in");
  if (!name) fail(cursor, "a parameter needs a 'name'");
  if (!in) fail(cursor, "a parameter needs an 'in'");
  parameter.name = *name;
  parameter.in = *in;
  if (parameter.in != "path" && parameter.in != "query" && parameter.in != "header" &&
      parameter.in != "cookie") {
    fail(cursor, fmt::format("unknown parameter location 'in: {}'", parameter.in));
  }
  // OpenAPI 3.x 4.8.12.1: these header parameters "SHALL be ignored".
  if (!swagger() && parameter.in == "header") {
    const std::string lower = ascii_lower(parameter.name);
    if (lower == "accept" || lower == "content-type" || lower == "authorization") {
      return std::nullopt;
    }
  }
  // A path parameter is always required (OpenAPI 3.1 4.8.12.2 "required").
  parameter.required = parameter.in == "path" || bool_field(cursor, "required");
  parameter.deprecated = bool_field(cursor, "deprecated");
  if (swagger()) {
    read_swagger_parameter(cursor, parameter);
    return parameter;
  }
  if (auto schema = cursor.field("schema")) parameter.schema = schema_ref(*schema);
  if (cursor.field("content")) parameter.content = read_content(cursor);
  parameter.style = string_field(cursor, "style");
  if (auto explode = cursor.field("explode"); explode && !explode->node.IsNull()) {
    parameter.explode = bool_of(*explode);
  }
  return parameter;
}

// The content map of a request body, response, parameter or header (3.x).
Content Loader::read_content(const Cursor& owner) {
  Content content;
  auto map = owner.field("content");
  if (!map || map->node.IsNull()) return content;
  if (!map->node.IsMap()) {
    fail(*map, fmt::format("expected a mapping of media types, got {}", describe(map->node)));
  }
  for (const auto& entry : map->node) {
    const std::string media = string_of(map->at("", entry.first));
    const Cursor media_cursor = map->at(media, entry.second);
    tick(media_cursor);
    SchemaRef schema;
    if (media_cursor.node.IsMap()) {
      if (auto schema_cursor = media_cursor.field("schema")) schema = schema_ref(*schema_cursor);
    } else if (!media_cursor.node.IsNull()) {
      fail(media_cursor, fmt::format("expected a media type object (a mapping), got {}",
                                     describe(media_cursor.node)));
    }
    content[media_key(media)] = schema;
  }
  return content;
}

Response Loader::read_response(const Cursor& cursor, const std::vector<std::string>& produces) {
  tick(cursor);
  Response response;
  if (cursor.node.IsNull()) return response;
  if (!cursor.node.IsMap()) {
    fail(cursor, fmt::format("expected a response (a mapping), got {}", describe(cursor.node)));
  }
  if (swagger()) {
    if (auto schema = cursor.field("schema"); schema && !schema->node.IsNull()) {
      const SchemaRef ref = schema_ref(*schema);
      if (produces.empty()) response.content["application/json"] = ref;
      for (const std::string& media : produces)
        response.content[media] = ref;
    }
  } else {
    response.content = read_content(cursor);
  }
  auto headers = cursor.field("headers");
  if (!headers || headers->node.IsNull()) return response;
  if (!headers->node.IsMap()) {
    fail(*headers, fmt::format("expected a mapping of headers, got {}", describe(headers->node)));
  }
  for (const auto& entry : headers->node) {
    const std::string name = string_of(headers->at("", entry.first));
    const Cursor header_cursor = resolve(headers->at(name, entry.second));
    tick(header_cursor);
    if (!header_cursor.node.IsMap()) {
      fail(header_cursor,
           fmt::format("expected a header (a mapping), got {}", describe(header_cursor.node)));
    }
    Header header;
    header.deprecated = bool_field(header_cursor, "deprecated");
    if (swagger()) {
      header.schema = lifted_schema(header_cursor);
    } else {
      header.required = bool_field(header_cursor, "required");
      if (auto schema = header_cursor.field("schema")) header.schema = schema_ref(*schema);
      header.content = read_content(header_cursor);
    }
    response.headers[ascii_lower(name)] = std::move(header);
  }
  return response;
}

}  // namespace glidepath::contract::detail
