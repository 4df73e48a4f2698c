// Swagger 2.0 read into the OpenAPI 3 model: a body parameter is the request body, form
// parameters one object schema, collectionFormat a style, basePath / consumes / produces
// the document's defaults; schema keywords may sit on a parameter itself.
#include <fmt/format.h>

#include <algorithm>

#include "contract/loader_internal.h"

namespace glidepath::contract::detail {

// basePath, and the media types operations consume and produce unless they say otherwise.
void Loader::read_swagger_info(const Cursor& root) {
  document_.base_path = string_field(root, "basePath").value_or("");
  global_consumes_ = media_list(root, "consumes");
  global_produces_ = media_list(root, "produces");
}

// A parameter's schema keywords sit on the parameter itself; collectionFormat is 3.x's
// style and explode.
void Loader::read_swagger_parameter(const Cursor& cursor, Parameter& parameter) {
  parameter.schema = lifted_schema(cursor);
  if (auto format = string_field(cursor, "collectionFormat")) {
    if (*format == "csv") {
      parameter.style = parameter.in == "query" ? "form" : "simple";
      parameter.explode = false;
    } else if (*format == "ssv") {
      parameter.style = "spaceDelimited";
    } else if (*format == "pipes") {
      parameter.style = "pipeDelimited";
    } else if (*format == "multi") {
      parameter.style = "form";
      parameter.explode = true;
    }
  }
}

// Swagger 2.0 `in: body`: the request body, one schema for every `consumes` type.
void Loader::read_swagger_body(const Cursor& parameter, const std::vector<std::string>& consumes,
                               Operation& operation) {
  auto schema = parameter.field("schema");
  if (!schema) fail(parameter, "a body parameter needs a 'schema'");
  RequestBody body;
  body.required = bool_field(parameter, "required");
  const SchemaRef ref = schema_ref(*schema);
  if (consumes.empty()) body.content["application/json"] = ref;
  for (const std::string& media : consumes)
    body.content[media] = ref;
  operation.request_body = std::move(body);
}

// Swagger 2.0 `in: formData`: one object schema with a property per field, as a
// urlencoded or multipart body (multipart when asked for, or when a field is a file).
void Loader::read_swagger_form(const Cursor& operation_cursor, const std::vector<Cursor>& fields,
                               const std::vector<std::string>& consumes, Operation& operation) {
  const SchemaRef form = allocate(operation_cursor);
  document_.schemas[form.index].types = TypeSet::of(Type::object);
  bool has_file = false;
  bool required = false;
  for (const Cursor& field : fields) {
    const std::string name = string_field(field, "name").value_or("");
    if (string_field(field, "type").value_or("") == "file") has_file = true;
    const SchemaRef property = lifted_schema(field);
    document_.schemas[form.index].properties[name] = property;
    if (bool_field(field, "required")) {
      document_.schemas[form.index].required.insert(name);
      required = true;
    }
  }
  const auto wants = [&](std::string_view media) {
    return std::any_of(consumes.begin(), consumes.end(),
                       [&](const std::string& m) { return m.rfind(media, 0) == 0; });
  };
  std::string media = "application/x-www-form-urlencoded";
  if (wants("multipart/form-data") || (has_file && !wants("application/x-www-form-urlencoded"))) {
    media = "multipart/form-data";
  }
  RequestBody body;
  body.required = required;
  body.content[media] = form;
  operation.request_body = std::move(body);
}

// A Swagger 2.0 parameter, items or header object, whose schema keywords sit on the
// object itself (type, format, items, enum, maximum...).
SchemaRef Loader::lifted_schema(const Cursor& cursor) {
  return schema_at(cursor, "");
}

}  // namespace glidepath::contract::detail
