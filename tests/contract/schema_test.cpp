// Schemas: recursion, allOf merging, nullable spellings, canonical values, and the
// structural equivalence the diff relies on.
#include <gtest/gtest.h>

#include <string>

#include "contract/compare.h"
#include "contract/loader.h"

namespace glidepath::contract {
namespace {

// A 3.0 (or other) document whose GET /x 200 application/json response is `schema`, with
// `components` appended as written.
std::string with_schema(std::string_view schema, std::string_view components = "",
                        std::string_view version = "openapi: 3.0.3") {
  std::string text(version);
  text += R"(
info: {title: t, version: "1"}
paths:
  /x:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: )";
  text += schema;
  text += "\n";
  if (!components.empty()) {
    text += "components:\n  schemas:\n";
    text += components;
  }
  return text;
}

struct Loaded {
  Document document;
  SchemaRef root;
  const Schema& schema(SchemaRef ref) const { return document.schema(ref); }
  const Schema& top() const { return document.schema(root); }
};

Loaded load_schema(std::string_view schema, std::string_view components = "",
                   std::string_view version = "openapi: 3.0.3") {
  auto document = load_document(with_schema(schema, components, version));
  EXPECT_TRUE(document.ok()) << (document.ok() ? "" : document.error().message);
  if (!document.ok()) return Loaded{};
  Loaded loaded{std::move(document).value(), {}};
  loaded.root = loaded.document.operations.at(0).responses.at("200").content.at("application/json");
  return loaded;
}

bool same(const Loaded& a, const Loaded& b) {
  return equivalent(a.document, a.root, b.document, b.root);
}

TEST(ContractSchema, SelfRecursionIsACycleOfIndexes) {
  const Loaded loaded = load_schema(R"({$ref: "#/components/schemas/Category"})", R"(
    Category:
      type: object
      properties:
        name: {type: string}
        parent: {$ref: "#/components/schemas/Category"}
        children: {type: array, items: {$ref: "#/components/schemas/Category"}}
)");
  const Schema& category = loaded.top();
  EXPECT_EQ(category.ref_name, "Category");
  EXPECT_EQ(category.properties.at("parent"), loaded.root);
  EXPECT_EQ(loaded.schema(category.properties.at("children")).items, loaded.root);
  EXPECT_TRUE(same(loaded, loaded));
}

TEST(ContractSchema, MutualRecursionAndRecursionThroughAllOf) {
  const Loaded loaded = load_schema(R"({$ref: "#/components/schemas/Person"})", R"(
    Person:
      type: object
      properties:
        employer: {$ref: "#/components/schemas/Company"}
    Company:
      type: object
      properties:
        staff: {type: array, items: {$ref: "#/components/schemas/Person"}}
    Node:
      allOf:
        - $ref: "#/components/schemas/Base"
        - type: object
          properties:
            next: {$ref: "#/components/schemas/Node"}
    Base: {type: object, required: [id], properties: {id: {type: string}}}
    Loop: {allOf: [{$ref: "#/components/schemas/Loop2"}]}
    Loop2: {allOf: [{$ref: "#/components/schemas/Loop"}], type: string}
)");
  const Schema& person = loaded.top();
  const Schema& company = loaded.schema(person.properties.at("employer"));
  EXPECT_EQ(loaded.schema(company.properties.at("staff")).items, loaded.root);

  // Node is only loaded when referenced: load it through a second document.
  const Loaded node = load_schema(R"({$ref: "#/components/schemas/Node"})", R"(
    Node:
      allOf:
        - $ref: "#/components/schemas/Base"
        - type: object
          properties:
            next: {$ref: "#/components/schemas/Node"}
    Base: {type: object, required: [id], properties: {id: {type: string}}}
)");
  EXPECT_EQ(node.top().required, (std::set<std::string>{"id"}));
  EXPECT_EQ(node.top().properties.size(), 2U);
  EXPECT_EQ(node.top().properties.at("next"), node.root);
  EXPECT_EQ(node.top().all_of.size(), 2U);
  EXPECT_TRUE(same(node, node));

  // An allOf that contains itself cannot be merged; it loads with a note.
  const Loaded loop = load_schema(R"({$ref: "#/components/schemas/Loop"})", R"(
    Loop: {allOf: [{$ref: "#/components/schemas/Loop2"}]}
    Loop2: {allOf: [{$ref: "#/components/schemas/Loop"}], type: string}
)");
  EXPECT_TRUE(loop.top().types.has(Type::string));
  EXPECT_FALSE(loop.schema(loop.top().all_of.at(0)).merge_notes.empty());
}

TEST(ContractSchema, RecursiveSchemasCompareByShape) {
  // A list written with a named recursive type, and the same list unrolled once inline.
  const Loaded named = load_schema(R"({$ref: "#/components/schemas/List"})", R"(
    List:
      type: object
      properties:
        next: {$ref: "#/components/schemas/List"}
)");
  const Loaded unrolled = load_schema(R"({$ref: "#/components/schemas/Head"})", R"(
    Head:
      type: object
      properties:
        next: {$ref: "#/components/schemas/Tail"}
    Tail:
      type: object
      properties:
        next: {$ref: "#/components/schemas/Tail"}
)");
  EXPECT_TRUE(same(named, unrolled));
  const Loaded different = load_schema(R"({$ref: "#/components/schemas/Head"})", R"(
    Head:
      type: object
      properties:
        next: {$ref: "#/components/schemas/Tail"}
    Tail:
      type: object
      properties:
        next: {type: string}
)");
  EXPECT_FALSE(same(named, different));
}

TEST(ContractSchema, InlineAndRefWithTheSameContentAreEquivalent) {
  const Loaded inline_schema = load_schema(
      R"({type: object, required: [id], properties: {id: {type: integer, format: int64}, tags: {type: array, items: {type: string, enum: [a, b]}}}})");
  const Loaded referenced = load_schema(R"({$ref: "#/components/schemas/Thing"})", R"(
    Thing:
      type: object
      required: [id]
      properties:
        tags: {type: array, items: {$ref: "#/components/schemas/Tag"}}
        id: {type: integer, format: int64}
    Tag: {type: string, enum: [b, a]}
)");
  EXPECT_TRUE(same(inline_schema, referenced));
  const Loaded changed = load_schema(R"({$ref: "#/components/schemas/Thing"})", R"(
    Thing:
      type: object
      required: [id]
      properties:
        tags: {type: array, items: {type: string, enum: [a]}}
        id: {type: integer, format: int64}
)");
  EXPECT_FALSE(same(inline_schema, changed));
}

TEST(ContractSchema, NullableSpellingsAreEquivalent) {
  const Loaded v30 = load_schema("{type: string, nullable: true, maxLength: 5}");
  const Loaded v31 = load_schema(R"({type: [string, "null"], maxLength: 5})", "", "openapi: 3.1.0");
  const Loaded any_of = load_schema(R"({anyOf: [{type: string, maxLength: 5}, {type: "null"}]})",
                                    "", "openapi: 3.1.0");
  const Loaded one_of = load_schema(R"({oneOf: [{type: "null"}, {type: string, maxLength: 5}]})",
                                    "", "openapi: 3.1.0");
  const Loaded not_null = load_schema("{type: string, maxLength: 5}");
  EXPECT_TRUE(v30.top().types.has(Type::null));
  EXPECT_TRUE(same(v30, v31));
  EXPECT_TRUE(same(v30, any_of));
  EXPECT_TRUE(same(v30, one_of));
  EXPECT_FALSE(same(v30, not_null));
  // nullable with allOf: the merged type gets null.
  const Loaded all_of =
      load_schema(R"({nullable: true, allOf: [{$ref: "#/components/schemas/S"}]})",
                  "    S: {type: string, maxLength: 5}\n");
  EXPECT_TRUE(same(v30, all_of));
}

TEST(ContractSchema, ExclusiveBoundsInBothStylesAreEquivalent) {
  const Loaded v30 = load_schema("{type: number, minimum: 1, exclusiveMinimum: true, maximum: 9}");
  const Loaded v31 =
      load_schema("{type: number, exclusiveMinimum: 1, maximum: 9}", "", "openapi: 3.1.0");
  EXPECT_TRUE(same(v30, v31));
  // 3.1 with both: the tighter wins.
  const Loaded both = load_schema("{type: number, minimum: 0, exclusiveMinimum: 1, maximum: 9}", "",
                                  "openapi: 3.1.0");
  EXPECT_TRUE(same(v30, both));
  const Loaded inclusive = load_schema("{type: number, minimum: 1, maximum: 9}");
  EXPECT_FALSE(same(v30, inclusive));
}

TEST(ContractSchema, ValuesAreCanonicalJson) {
  const Loaded loaded = load_schema(
      R"({enum: [1, 1.0, "1", true, null, yes, {b: 2, a: [1e2]}, 'quoted'], default: +007})");
  const auto& values = *loaded.top().enum_values;
  ASSERT_EQ(values.size(), 8U);
  EXPECT_EQ(values[0], "1");
  EXPECT_EQ(values[1], "1");
  EXPECT_EQ(values[2], "\"1\"");
  EXPECT_EQ(values[3], "true");
  EXPECT_EQ(values[4], "null");
  EXPECT_EQ(values[5], "\"yes\"") << "YAML 1.2: yes is a string";
  EXPECT_EQ(values[6], R"({"a":[100],"b":2})");
  EXPECT_EQ(values[7], "\"quoted\"");
  EXPECT_EQ(loaded.top().default_value, "7");
}

TEST(ContractSchema, AllOfMergesPropertiesRequiredAndTightestBounds) {
  const Loaded loaded = load_schema(R"(
                allOf:
                  - $ref: "#/components/schemas/Base"
                  - type: object
                    required: [b]
                    properties:
                      b: {type: integer, maximum: 10}
                      shared: {type: string, maxLength: 20, minLength: 2}
                  - properties:
                      shared: {maxLength: 8, pattern: "^x"}
                      c: {type: number, minimum: 3}
                  - properties:
                      c: {type: integer, minimum: 1, exclusiveMinimum: true}
                    required: [c])",
                                    R"(
    Base:
      type: object
      required: [a]
      properties:
        a: {type: string}
        shared: {type: string, maxLength: 12}
)");
  const Schema& merged = loaded.top();
  EXPECT_TRUE(merged.types.has(Type::object));
  EXPECT_EQ(merged.required, (std::set<std::string>{"a", "b", "c"}));
  ASSERT_EQ(merged.properties.size(), 4U);
  const Schema& shared = loaded.schema(merged.properties.at("shared"));
  EXPECT_EQ(shared.max_length, 8U);
  EXPECT_EQ(shared.min_length, 2U);
  EXPECT_EQ(shared.pattern, "^x");
  const Schema& c = loaded.schema(merged.properties.at("c"));
  EXPECT_EQ(c.types, TypeSet::of(Type::integer)) << "integer and number have integer in common";
  EXPECT_EQ(c.minimum->value, 3);
  EXPECT_FALSE(c.minimum->exclusive);
  EXPECT_EQ(merged.all_of.size(), 4U);
  EXPECT_TRUE(merged.merge_notes.empty());

  // The merged schema equals the same object written flat.
  const Loaded flat = load_schema(R"(
                type: object
                required: [a, b, c]
                properties:
                  a: {type: string}
                  b: {type: integer, maximum: 10}
                  shared: {type: string, maxLength: 8, minLength: 2, pattern: "^x"}
                  c: {type: integer, minimum: 3})");
  EXPECT_TRUE(same(loaded, flat));
}

TEST(ContractSchema, AllOfConflictsAreNoted) {
  const Loaded loaded = load_schema(
      R"({allOf: [{type: string, pattern: a, format: date, enum: [x, y]}, {type: integer, pattern: b, format: uuid, enum: [y, z]}]})");
  const Schema& merged = loaded.top();
  EXPECT_EQ(merged.types, TypeSet::of(Type::string));
  EXPECT_EQ(merged.pattern, "a");
  EXPECT_EQ(merged.format, "date");
  EXPECT_EQ(*merged.enum_values, (std::vector<std::string>{"\"y\""}));
  EXPECT_EQ(merged.merge_notes.size(), 3U);
}

TEST(ContractSchema, AllOfMergesAdditionalPropertiesAndItems) {
  const Loaded loaded = load_schema(
      R"({allOf: [{additionalProperties: {type: string}, items: {maxLength: 3}}, {additionalProperties: false, items: {type: string}}]})");
  EXPECT_EQ(loaded.top().additional, AdditionalProperties::denied);
  const Schema& items = loaded.schema(loaded.top().items);
  EXPECT_EQ(items.max_length, 3U);
  EXPECT_TRUE(items.types.has(Type::string));
}

TEST(ContractSchema, OneOfAndAnyOfCompareAsSets) {
  const Loaded a = load_schema(
      R"({oneOf: [{type: string}, {type: integer}], discriminator: {propertyName: kind}})");
  const Loaded b = load_schema(
      R"({oneOf: [{type: integer}, {type: string}], discriminator: {propertyName: kind}})");
  const Loaded c =
      load_schema(R"({oneOf: [{type: integer}], discriminator: {propertyName: kind}})");
  const Loaded d = load_schema(
      R"({anyOf: [{type: integer}, {type: string}], discriminator: {propertyName: kind}})");
  EXPECT_EQ(a.top().discriminator, "kind");
  EXPECT_TRUE(same(a, b));
  EXPECT_FALSE(same(a, c));
  EXPECT_FALSE(same(a, d));
}

TEST(ContractSchema, BooleanSchemasAndNot) {
  const Loaded loaded = load_schema(
      R"({type: object, properties: {anything: true, nothing: false, notString: {not: {type: string}}}})",
      "", "openapi: 3.1.0");
  const Schema& object = loaded.top();
  EXPECT_FALSE(loaded.schema(object.properties.at("anything")).not_schema.valid());
  EXPECT_TRUE(loaded.schema(object.properties.at("nothing")).not_schema.valid());
  const Schema& not_string = loaded.schema(object.properties.at("notString"));
  EXPECT_TRUE(loaded.schema(not_string.not_schema).types.has(Type::string));
}

TEST(ContractSchema, EveryDifferenceCounts) {
  const std::vector<std::string> variants = {
      "{type: string}",
      "{type: string, format: email}",
      "{type: string, minLength: 1}",
      "{type: string, maxLength: 1}",
      "{type: string, pattern: a}",
      "{type: string, default: a}",
      "{type: string, readOnly: true}",
      "{type: string, writeOnly: true}",
      "{type: string, deprecated: true}",
      "{type: string, enum: [a]}",
      "{type: array, items: {type: string}}",
      "{type: array, items: {type: string}, uniqueItems: true}",
      "{type: array, items: {type: string}, minItems: 1}",
      "{type: array, items: {type: string}, maxItems: 1}",
      "{type: array, items: {type: integer}}",
      "{type: object, additionalProperties: false}",
      "{type: object, additionalProperties: {type: string}}",
      "{type: object, minProperties: 1}",
      "{type: object, maxProperties: 1}",
      "{type: object, properties: {a: {type: string}}}",
      "{type: object, properties: {a: {type: string}}, required: [a]}",
      "{type: number, multipleOf: 2}",
      "{type: number, maximum: 2}",
      "{type: number, maximum: 2, exclusiveMaximum: true}",
  };
  std::vector<Loaded> loaded;
  for (const std::string& variant : variants)
    loaded.push_back(load_schema(variant));
  for (size_t i = 0; i < loaded.size(); ++i) {
    for (size_t j = 0; j < loaded.size(); ++j) {
      EXPECT_EQ(same(loaded[i], loaded[j]), i == j) << variants[i] << " vs " << variants[j];
    }
  }
}

TEST(ContractSchema, InvalidRefsCompare) {
  const Document empty;
  EXPECT_TRUE(equivalent(empty, SchemaRef{}, empty, SchemaRef{}));
  const Loaded loaded = load_schema("{type: string}");
  EXPECT_FALSE(equivalent(loaded.document, loaded.root, empty, SchemaRef{}));
  EXPECT_FALSE(equivalent(loaded.document, loaded.root, empty, SchemaRef{7}));
}

}  // namespace
}  // namespace glidepath::contract
