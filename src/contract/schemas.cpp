// Schemas, phase 1: every schema node gets a slot in Document::schemas (once per place in
// the text, so shared and recursive schemas are shared), filled from a queue rather than
// by recursion.
#include <fmt/format.h>

#include "contract/canonical.h"
#include "contract/loader_internal.h"

namespace glidepath::contract::detail {
namespace {

using yaml::describe;

}  // namespace

// Schemas, phase 1: every schema node gets a slot, filled from a queue.
SchemaRef Loader::allocate(const Cursor& cursor) {
  tick(cursor);
  if (document_.schemas.size() >= options_.max_schemas) {
    fail(cursor, fmt::format("more than {} schemas (YAML aliases?)", options_.max_schemas));
  }
  document_.schemas.emplace_back();
  work_.emplace_back();
  return SchemaRef{static_cast<std::uint32_t>(document_.schemas.size() - 1)};
}

// A name for the target of a $ref: "Order" for components/schemas/Order or
// definitions/Order, else the last token of the pointer, or the file's stem.
std::string Loader::ref_name_of(const Cursor& target) const {
  for (const std::string_view prefix : {"/components/schemas/", "/definitions/", "/$defs/"}) {
    const size_t at = target.pointer.rfind(prefix);
    if (at != std::string::npos && at + prefix.size() < target.pointer.size() &&
        target.pointer.find('/', at + prefix.size()) == std::string::npos) {
      return target.pointer.substr(at + prefix.size());
    }
  }
  if (target.pointer.empty()) {
    return std::filesystem::path(sources_.at(target.source).name).stem().string();
  }
  return target.pointer.substr(target.pointer.rfind('/') + 1);
}

// Only annotations beside a $ref: 3.1 merges other keywords with the target.
bool Loader::has_siblings(const YAML::Node& node) {
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) return true;
    const std::string& key = entry.first.Scalar();
    if (key != "$ref" && key != "description" && key != "summary" && key != "title" &&
        key != "example" && key != "examples" && key != "$comment" && key.rfind("x-", 0) != 0) {
      return true;
    }
  }
  return false;
}

SchemaRef Loader::schema_at(const Cursor& cursor, const std::string& ref_name) {
  const auto key = std::make_pair(cursor.source, cursor.pointer);
  if (auto found = schema_at_.find(key); found != schema_at_.end()) {
    Schema& schema = document_.schemas[found->second.index];
    if (schema.ref_name.empty()) schema.ref_name = ref_name;
    return found->second;
  }
  const SchemaRef ref = allocate(cursor);
  document_.schemas[ref.index].ref_name = ref_name;
  schema_at_.emplace(key, ref);
  queue_.emplace_back(ref, cursor);
  return ref;
}

// The schema at `cursor` (a schema or a $ref to one).
SchemaRef Loader::schema_ref(const Cursor& cursor) {
  if (is_ref(cursor.node) &&
      (document_.source != SourceKind::openapi31 || !has_siblings(cursor.node))) {
    // OpenAPI 3.0 4.7.24 (Reference Object): other properties SHALL be ignored.
    const Cursor target = resolve(cursor);
    return schema_at(target, ref_name_of(target));
  }
  return schema_at(cursor, "");
}

void Loader::add_type(const Cursor& cursor, Schema& schema, std::string_view name) {
  if (name == "file" && swagger()) {
    // Swagger 2.0 `type: file` is an upload: binary text.
    schema.types.add(Type::string);
    if (schema.format.empty()) schema.format = "binary";
    return;
  }
  const auto type = type_from_name(name);
  if (!type) fail(cursor, fmt::format("unknown type '{}'", name));
  schema.types.add(*type);
}

std::vector<SchemaRef> Loader::schema_list(const Cursor& cursor) {
  if (!cursor.node.IsSequence()) {
    fail(cursor, fmt::format("expected a list of schemas, got {}", describe(cursor.node)));
  }
  std::vector<SchemaRef> refs;
  std::size_t index = 0;
  for (const auto& item : cursor.node)
    refs.push_back(schema_ref(cursor.at(index++, item)));
  return refs;
}

// Reads one bound keyword pair: 3.0's `minimum` + boolean `exclusiveMinimum`, or 3.1's
// numeric `exclusiveMinimum`; both may appear, and the tighter wins.
std::optional<Bound> Loader::read_bound(const Cursor& cursor, std::string_view key,
                                        std::string_view exclusive_key, bool is_min) {
  std::optional<Bound> bound;
  if (auto value = cursor.field(key); value && !value->node.IsNull()) {
    bound = Bound{number_of(*value), false, value->node.Scalar()};
  }
  if (auto exclusive = cursor.field(exclusive_key); exclusive && !exclusive->node.IsNull()) {
    const ScalarKind kind =
        exclusive->node.IsScalar() ? scalar_kind(exclusive->node) : ScalarKind::string;
    if (kind == ScalarKind::boolean) {
      if (bool_of(*exclusive) && bound) bound->exclusive = true;
    } else {
      const Bound other{number_of(*exclusive), true, exclusive->node.Scalar()};
      if (is_min) {
        tighten_min(bound, other);
      } else {
        tighten_max(bound, other);
      }
    }
  }
  return bound;
}

void Loader::fill_schema(SchemaRef ref, const Cursor& cursor) {
  const YAML::Node& node = cursor.node;
  if (node.IsNull()) return;  // `schema:` with nothing: any value
  if (node.IsScalar() && scalar_kind(node) == ScalarKind::boolean) {
    // JSON Schema boolean schemas (3.1): true accepts anything, false nothing.
    if (!bool_of(cursor)) {
      const SchemaRef nothing = allocate(cursor);
      document_.schemas[ref.index].not_schema = nothing;
    }
    return;
  }
  if (!node.IsMap()) {
    fail(cursor, fmt::format("expected a schema (a mapping), got {}", describe(node)));
  }
  // Subschemas are allocated (which may grow document_.schemas) before the schema is
  // written, so build it aside and move it in at the end.
  Schema schema;
  SchemaWork work;
  if (is_ref(node)) {
    // Only 3.1 $refs with siblings get here: the target is one more allOf part.
    const Cursor target = resolve(cursor);
    work.all_of.push_back(schema_at(target, ref_name_of(target)));
  }
  if (auto type = cursor.field("type"); type && !type->node.IsNull()) {
    if (type->node.IsSequence()) {
      std::size_t index = 0;
      for (const auto& item : type->node) {
        const Cursor name = type->at(index++, item);
        add_type(name, schema, string_of(name));
      }
    } else {
      add_type(*type, schema, string_of(*type));
    }
  }
  work.nullable = bool_field(cursor, "nullable") || bool_field(cursor, "x-nullable");
  if (auto format = string_field(cursor, "format")) {
    if (schema.format.empty() || !format->empty()) schema.format = *format;
  }
  if (auto values = cursor.field("enum"); values && !values->node.IsNull()) {
    if (!values->node.IsSequence()) {
      fail(*values, fmt::format("expected a list of values, got {}", describe(values->node)));
    }
    std::vector<std::string> texts;
    std::size_t index = 0;
    for (const auto& item : values->node)
      texts.push_back(canonical_json(values->at(index++, item)));
    schema.enum_values = std::move(texts);
  }
  if (auto value = cursor.field("const")) schema.const_value = canonical_json(*value);
  if (auto value = cursor.field("default")) schema.default_value = canonical_json(*value);
  schema.minimum = read_bound(cursor, "minimum", "exclusiveMinimum", true);
  schema.maximum = read_bound(cursor, "maximum", "exclusiveMaximum", false);
  if (auto value = cursor.field("multipleOf"); value && !value->node.IsNull()) {
    const double multiple = number_of(*value);
    if (multiple <= 0) fail(*value, "multipleOf must be greater than 0");
    schema.multiple_of = multiple;
  }
  const auto count = [&](std::string_view key) -> std::optional<std::uint64_t> {
    auto value = cursor.field(key);
    if (!value || value->node.IsNull()) return std::nullopt;
    return count_of(*value);
  };
  schema.min_length = count("minLength");
  schema.max_length = count("maxLength");
  schema.min_items = count("minItems");
  schema.max_items = count("maxItems");
  schema.min_properties = count("minProperties");
  schema.max_properties = count("maxProperties");
  schema.pattern = string_field(cursor, "pattern");
  schema.unique_items = bool_field(cursor, "uniqueItems");
  schema.read_only = bool_field(cursor, "readOnly");
  schema.write_only = bool_field(cursor, "writeOnly");
  schema.deprecated = bool_field(cursor, "deprecated");

  if (auto properties = cursor.field("properties"); properties && !properties->node.IsNull()) {
    if (!properties->node.IsMap()) {
      fail(*properties,
           fmt::format("expected a mapping of properties, got {}", describe(properties->node)));
    }
    for (const auto& entry : properties->node) {
      const std::string name = string_of(properties->at("", entry.first));
      schema.properties[name] = schema_ref(properties->at(name, entry.second));
    }
  }
  // `required: true` on a property is a common 2.0-ism in 3.x documents; it means nothing
  // in a schema, so only a list is read.
  if (auto required = cursor.field("required"); required && required->node.IsSequence()) {
    std::size_t index = 0;
    for (const auto& item : required->node) {
      const Cursor name = required->at(index++, item);
      tick(name);
      schema.required.insert(string_of(name));
    }
  }
  if (auto additional = cursor.field("additionalProperties");
      additional && !additional->node.IsNull()) {
    if (additional->node.IsScalar()) {
      schema.additional =
          bool_of(*additional) ? AdditionalProperties::allowed : AdditionalProperties::denied;
    } else {
      schema.additional = AdditionalProperties::schema;
      schema.additional_schema = schema_ref(*additional);
    }
  }
  if (auto items = cursor.field("items"); items && !items->node.IsNull()) {
    // A list is draft 4's tuple form, which OpenAPI does not allow; it is not compared.
    if (!items->node.IsSequence()) schema.items = schema_ref(*items);
  }
  if (auto discriminator = cursor.field("discriminator");
      discriminator && !discriminator->node.IsNull()) {
    schema.discriminator = discriminator->node.IsScalar()
                               ? discriminator->node.Scalar()  // Swagger 2.0: the name
                               : string_field(*discriminator, "propertyName").value_or("");
  }
  if (auto list = cursor.field("oneOf"); list && !list->node.IsNull()) {
    schema.one_of = schema_list(*list);
  }
  if (auto list = cursor.field("anyOf"); list && !list->node.IsNull()) {
    schema.any_of = schema_list(*list);
  }
  if (auto list = cursor.field("allOf"); list && !list->node.IsNull()) {
    for (const SchemaRef part : schema_list(*list))
      work.all_of.push_back(part);
  }
  if (auto negated = cursor.field("not"); negated && !negated->node.IsNull()) {
    schema.not_schema = schema_ref(*negated);
  }

  Schema& slot = document_.schemas[ref.index];
  schema.ref_name = std::move(slot.ref_name);
  slot = std::move(schema);
  work_[ref.index].all_of = std::move(work.all_of);
  work_[ref.index].nullable = work.nullable;
}

}  // namespace glidepath::contract::detail
