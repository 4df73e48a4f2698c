// contract::diff, rule by rule: small documents written inline (YAML flow style, so a
// schema fits on a line) and loaded through load_document, as a user's files would be.
#include "contract/diff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "contract/loader.h"
#include "core/clock.h"

namespace glidepath::contract {
namespace {

std::string cat(std::initializer_list<std::string_view> parts) {
  std::string text;
  for (const std::string_view part : parts)
    text += part;
  return text;
}

std::string document(std::string_view paths, std::string_view components = "{}",
                     std::string_view extra = "") {
  return cat({"{openapi: 3.0.3, info: {title: t, version: '1'}, paths: ", paths,
              ", components: ", components, extra, "}"});
}

// POST /orders with a required JSON request body of `schema`.
std::string request_doc(std::string_view schema, std::string_view schemas = "{}") {
  return document(cat({"{/orders: {post: {requestBody: {required: true, content: "
                       "{application/json: {schema: ",
                       schema, "}}}, responses: {'200': {description: ok}}}}}"}),
                  cat({"{schemas: ", schemas, "}"}));
}

// GET /orders answering 200 with a JSON body of `schema`.
std::string response_doc(std::string_view schema, std::string_view schemas = "{}") {
  return document(cat({"{/orders: {get: {responses: {'200': {description: ok, content: "
                       "{application/json: {schema: ",
                       schema, "}}}}}}}"}),
                  cat({"{schemas: ", schemas, "}"}));
}

// GET /orders/{id} with these parameters besides the path's `id`.
std::string parameter_doc(std::string_view parameters) {
  return document(cat(
      {"{'/orders/{id}': {get: {parameters: [{name: id, in: path, required: "
       "true, schema: {type: string}}",
       parameters.empty() ? "" : ", ", parameters, "], responses: {'200': {description: ok}}}}}"}));
}

Document load(const std::string& text) {
  auto document = load_document(text);
  EXPECT_TRUE(document.ok()) << (document.ok() ? "" : document.error().message) << "\n" << text;
  return document.ok() ? std::move(document).value() : Document{};
}

DiffReport run(const std::string& base, const std::string& revision,
               const DiffOptions& options = {}) {
  return diff(load(base), load(revision), options);
}

std::string describe(const DiffReport& report) {
  std::string text;
  for (const Change& change : report.changes) {
    text += "  " + std::string(to_string(change.level)) + " " + change.rule + " " +
            change.operation() + " [" + change.location.to_string() + "] " + change.message + "\n";
  }
  return text.empty() ? "  (no changes)\n" : text;
}

const Change* find(const DiffReport& report, std::string_view rule) {
  const auto found = std::find_if(report.changes.begin(), report.changes.end(),
                                  [&](const Change& change) { return change.rule == rule; });
  return found == report.changes.end() ? nullptr : &*found;
}

// One rule, one pair of documents: the rule fires at `property` with `level`, and nothing
// in the report is worse than `level`.
struct RuleCase {
  std::string name;
  std::string base;
  std::string revision;
  std::string rule;
  Level level;
  std::string property;
};

void check(const std::vector<RuleCase>& cases) {
  for (const RuleCase& test : cases) {
    SCOPED_TRACE(test.name);
    const DiffReport report = run(test.base, test.revision);
    const Change* change = find(report, test.rule);
    ASSERT_NE(change, nullptr) << test.name << ": no " << test.rule << "; report:\n"
                               << describe(report);
    EXPECT_EQ(change->level, test.level) << describe(report);
    EXPECT_EQ(change->location.property, test.property) << describe(report);
    EXPECT_EQ(report.max_level(), test.level) << describe(report);
    EXPECT_FALSE(change->message.empty());
    if (!test.property.empty()) {
      EXPECT_NE(change->message.find(test.property), std::string::npos) << change->message;
    }
  }
}

void expect_no_changes(const std::string& base, const std::string& revision) {
  const DiffReport report = run(base, revision);
  EXPECT_TRUE(report.changes.empty()) << describe(report);
}

// --- schema rules, request side ---------------------------------------------------------

TEST(Diff, RequestSchemaRules) {
  const std::string object_a = "{type: object, properties: {a: {type: string}}}";
  check({
      {"type changed", request_doc("{type: string}"), request_doc("{type: number}"),
       "request-type-changed", Level::breaking, ""},
      {"integer to number widens a request", request_doc("{type: integer}"),
       request_doc("{type: number}"), "request-type-widened", Level::info, ""},
      {"number to integer narrows a request", request_doc("{type: number}"),
       request_doc("{type: integer}"), "request-type-changed", Level::breaking, ""},
      {"nested property path",
       request_doc(
           "{type: object, properties: {items: {type: array, items: {type: object, "
           "properties: {price: {type: object, properties: {currency: {type: string}}}}}}}}"),
       request_doc(
           "{type: object, properties: {items: {type: array, items: {type: object, "
           "properties: {price: {type: object, properties: {currency: {type: integer}}}}}}}}"),
       "request-type-changed", Level::breaking, "items[].price.currency"},
      {"format changed", request_doc("{type: string, format: date}"),
       request_doc("{type: string, format: date-time}"), "request-format-changed", Level::warning,
       ""},
      {"format removed loosens", request_doc("{type: string, format: uuid}"),
       request_doc("{type: string}"), "request-format-changed", Level::info, ""},
      {"enum value removed", request_doc("{type: string, enum: [a, b]}"),
       request_doc("{type: string, enum: [a]}"), "request-enum-value-removed", Level::breaking, ""},
      {"enum value added", request_doc("{type: string, enum: [a]}"),
       request_doc("{type: string, enum: [a, b]}"), "request-enum-value-added", Level::info, ""},
      {"became enum", request_doc("{type: object, properties: {kind: {type: string}}}"),
       request_doc("{type: object, properties: {kind: {type: string, enum: [x, y]}}}"),
       "request-became-enum", Level::breaking, "kind"},
      {"maxLength decreased", request_doc("{type: string, maxLength: 15}"),
       request_doc("{type: string, maxLength: 10}"), "request-constraint-tightened",
       Level::breaking, ""},
      {"maxLength increased", request_doc("{type: string, maxLength: 10}"),
       request_doc("{type: string, maxLength: 15}"), "request-constraint-loosened", Level::info,
       ""},
      {"minLength added", request_doc("{type: string}"),
       request_doc("{type: string, minLength: 3}"), "request-constraint-tightened", Level::breaking,
       ""},
      {"minimum increased",
       request_doc("{type: object, properties: {age: {type: integer, minimum: 10}}}"),
       request_doc("{type: object, properties: {age: {type: integer, minimum: 15}}}"),
       "request-constraint-tightened", Level::breaking, "age"},
      {"minimum became exclusive", request_doc("{type: integer, minimum: 1}"),
       request_doc("{type: integer, minimum: 1, exclusiveMinimum: true}"),
       "request-constraint-tightened", Level::breaking, ""},
      {"maximum decreased", request_doc("{type: integer, maximum: 100}"),
       request_doc("{type: integer, maximum: 50}"), "request-constraint-tightened", Level::breaking,
       ""},
      {"maximum removed", request_doc("{type: integer, maximum: 100}"),
       request_doc("{type: integer}"), "request-constraint-loosened", Level::info, ""},
      {"maxItems decreased", request_doc("{type: array, items: {type: string}, maxItems: 10}"),
       request_doc("{type: array, items: {type: string}, maxItems: 5}"),
       "request-constraint-tightened", Level::breaking, ""},
      {"minItems increased", request_doc("{type: array, items: {type: string}}"),
       request_doc("{type: array, items: {type: string}, minItems: 1}"),
       "request-constraint-tightened", Level::breaking, ""},
      {"pattern added", request_doc("{type: object, properties: {name: {type: string}}}"),
       request_doc("{type: object, properties: {name: {type: string, pattern: '^\\w+$'}}}"),
       "request-constraint-tightened", Level::breaking, "name"},
      {"pattern removed", request_doc("{type: string, pattern: '^a'}"),
       request_doc("{type: string}"), "request-constraint-loosened", Level::info, ""},
      {"pattern changed", request_doc("{type: string, pattern: '^[0-9a-f]+$'}"),
       request_doc("{type: string, pattern: '^[0-9]+$'}"), "request-pattern-changed",
       Level::warning, ""},
      {"became not nullable",
       request_doc("{type: object, properties: {id: {type: string, nullable: true}}}"),
       request_doc("{type: object, properties: {id: {type: string}}}"),
       "request-became-not-nullable", Level::breaking, "id"},
      {"became nullable", request_doc("{type: string}"),
       request_doc("{type: string, nullable: true}"), "request-type-widened", Level::info, ""},
      {"additionalProperties true to false",
       request_doc("{type: object, properties: {a: {type: string}}, additionalProperties: true}"),
       request_doc("{type: object, properties: {a: {type: string}}, additionalProperties: false}"),
       "request-additional-properties-denied", Level::breaking, ""},
      {"oneOf alternative removed",
       request_doc("{oneOf: [{$ref: '#/components/schemas/Cat'}, {$ref: "
                   "'#/components/schemas/Dog'}]}",
                   "{Cat: {type: object, properties: {meow: {type: string}}}, Dog: {type: "
                   "object, properties: {bark: {type: string}}}}"),
       request_doc("{oneOf: [{$ref: '#/components/schemas/Cat'}]}",
                   "{Cat: {type: object, properties: {meow: {type: string}}}}"),
       "request-alternative-removed", Level::breaking, ""},
      {"anyOf alternative added", request_doc("{anyOf: [{type: string}]}"),
       request_doc("{anyOf: [{type: string}, {type: integer}]}"), "request-alternative-added",
       Level::info, ""},
      {"required property added", request_doc(object_a),
       request_doc("{type: object, properties: {a: {type: string}, b: {type: string}}, "
                   "required: [b]}"),
       "request-property-added-required", Level::breaking, "b"},
      {"optional property added", request_doc(object_a),
       request_doc("{type: object, properties: {a: {type: string}, b: {type: string}}}"),
       "request-property-added-optional", Level::info, "b"},
      {"property became required", request_doc(object_a),
       request_doc("{type: object, properties: {a: {type: string}}, required: [a]}"),
       "request-property-became-required", Level::breaking, "a"},
      {"property became optional",
       request_doc("{type: object, properties: {a: {type: string}}, required: [a]}"),
       request_doc(object_a), "request-property-became-optional", Level::info, "a"},
      {"property removed", request_doc(object_a), request_doc("{type: object, properties: {}}"),
       "request-property-removed", Level::warning, "a"},
      {"nested property became required",
       request_doc("{type: object, properties: {id: {type: object, properties: {userId: {type: "
                   "string}}}}}"),
       request_doc("{type: object, properties: {id: {type: object, properties: {userId: {type: "
                   "string}}, required: [userId]}}}"),
       "request-property-became-required", Level::breaking, "id.userId"},
  });
}

TEST(Diff, RequiredPropertyWithDefaultIsStillBreakingAndSaysSo) {
  const DiffReport report =
      run(request_doc("{type: object, properties: {a: {type: string}}}"),
          request_doc("{type: object, properties: {a: {type: string}, currency: {type: string, "
                      "default: EUR}}, required: [currency]}"));
  const Change* change = find(report, "request-property-added-required");
  ASSERT_NE(change, nullptr) << describe(report);
  EXPECT_EQ(change->level, Level::breaking);
  EXPECT_NE(change->message.find("default"), std::string::npos) << change->message;
  EXPECT_NE(change->message.find("\"EUR\""), std::string::npos) << change->message;
}

TEST(Diff, ReadOnlyAndWriteOnlyRequirementsFollowTheDirection) {
  // A required readOnly property is not sent: adding one breaks no request.
  const std::string base =
      cat({"{/orders: {post: {requestBody: {content: {application/json: "
           "{schema: {$ref: '#/components/schemas/Order'}}}}, responses: "
           "{'200': {description: ok, content: {application/json: {schema: "
           "{$ref: '#/components/schemas/Order'}}}}}}}}"});
  const std::string before =
      document(base, "{schemas: {Order: {type: object, properties: {a: {type: string}}}}}");
  const std::string with_read_only =
      document(base,
               "{schemas: {Order: {type: object, properties: {a: {type: string}, id: {type: "
               "string, readOnly: true}}, required: [id]}}}");
  DiffReport report = run(before, with_read_only);
  EXPECT_FALSE(report.has(Level::breaking)) << describe(report);
  EXPECT_NE(find(report, "response-property-added"), nullptr) << describe(report);

  // A required writeOnly property is never returned: removing it breaks no response, but
  // clients that sent it now send an unknown property.
  const std::string with_write_only =
      document(base,
               "{schemas: {Order: {type: object, properties: {a: {type: string}, secret: {type: "
               "string, writeOnly: true}}, required: [secret]}}}");
  report = run(with_write_only, before);
  EXPECT_EQ(find(report, "response-property-removed"), nullptr) << describe(report);
  EXPECT_NE(find(report, "request-property-removed"), nullptr) << describe(report);
  EXPECT_EQ(report.max_level(), Level::warning) << describe(report);
}

// --- schema rules, response side --------------------------------------------------------

TEST(Diff, ResponseSchemaRules) {
  const std::string required_a =
      "{type: object, properties: {a: {type: string}, b: {type: string}}, required: [a]}";
  check({
      {"integer to number breaks a response", response_doc("{type: integer}"),
       response_doc("{type: number}"), "response-type-changed", Level::breaking, ""},
      {"number to integer narrows a response", response_doc("{type: number}"),
       response_doc("{type: integer}"), "response-type-narrowed", Level::info, ""},
      {"type changed in an array item",
       response_doc("{type: array, items: {type: object, properties: {f: {type: string}}}}"),
       response_doc("{type: array, items: {type: object, properties: {f: {type: integer}}}}"),
       "response-type-changed", Level::breaking, "[].f"},
      {"format changed", response_doc("{type: string, format: date}"),
       response_doc("{type: string, format: date-time}"), "response-format-changed", Level::warning,
       ""},
      {"became nullable", response_doc("{type: object, properties: {name: {type: string}}}"),
       response_doc("{type: object, properties: {name: {type: string, nullable: true}}}"),
       "response-became-nullable", Level::breaking, "name"},
      {"3.1 null type reads like nullable", response_doc("{type: string}"),
       response_doc("{anyOf: [{type: string}, {type: 'null'}]}"), "response-became-nullable",
       Level::breaking, ""},
      {"enum value added", response_doc("{type: string, enum: [a]}"),
       response_doc("{type: string, enum: [a, b]}"), "response-enum-value-added", Level::warning,
       ""},
      {"enum value removed", response_doc("{type: string, enum: [a, b]}"),
       response_doc("{type: string, enum: [a]}"), "response-enum-value-removed", Level::info, ""},
      {"required property removed", response_doc(required_a),
       response_doc("{type: object, properties: {b: {type: string}}}"), "response-property-removed",
       Level::breaking, "a"},
      {"optional property removed", response_doc(required_a),
       response_doc("{type: object, properties: {a: {type: string}}, required: [a]}"),
       "response-property-removed", Level::warning, "b"},
      {"property became optional", response_doc(required_a),
       response_doc("{type: object, properties: {a: {type: string}, b: {type: string}}}"),
       "response-property-became-optional", Level::breaking, "a"},
      {"property added", response_doc("{type: object, properties: {a: {type: string}}}"),
       response_doc("{type: object, properties: {a: {type: string}, c: {type: integer}}, "
                    "required: [c]}"),
       "response-property-added", Level::info, "c"},
      {"oneOf alternative added", response_doc("{oneOf: [{type: string}, {type: boolean}]}"),
       response_doc("{oneOf: [{type: string}, {type: boolean}, {type: integer}]}"),
       "response-alternative-added", Level::warning, ""},
  });
}

TEST(Diff, SameStructuralChangeDependsOnDirection) {
  // A response may narrow what it returns, a request may widen what it accepts.
  EXPECT_FALSE(run(response_doc("{type: string, maxLength: 15}"),
                   response_doc("{type: string, maxLength: 10}"))
                   .has(Level::warning));
  EXPECT_FALSE(
      run(response_doc("{type: string, enum: [a, b]}"), response_doc("{type: string, enum: [a]}"))
          .has(Level::warning));
  EXPECT_FALSE(
      run(request_doc("{type: string, enum: [a]}"), request_doc("{type: string, enum: [a, b]}"))
          .has(Level::warning));
  EXPECT_FALSE(run(response_doc("{type: object, properties: {a: {type: string}}}"),
                   response_doc("{type: object, properties: {a: {type: string}}, required: [a]}"))
                   .has(Level::warning));
}

// --- parameters -------------------------------------------------------------------------

TEST(Diff, ParameterRules) {
  const std::string limit = "{name: limit, in: query, schema: {type: integer}}";
  check({
      {"required query parameter added", parameter_doc(""),
       parameter_doc("{name: limit, in: query, required: true, schema: {type: integer}}"),
       "request-parameter-added-required", Level::breaking, ""},
      {"required header added", parameter_doc(""),
       parameter_doc("{name: X-Tenant, in: header, required: true, schema: {type: string}}"),
       "request-parameter-added-required", Level::breaking, ""},
      {"optional parameter added", parameter_doc(""), parameter_doc(limit),
       "request-parameter-added-optional", Level::info, ""},
      {"parameter became required", parameter_doc(limit),
       parameter_doc("{name: limit, in: query, required: true, schema: {type: integer}}"),
       "request-parameter-became-required", Level::breaking, ""},
      {"parameter became optional",
       parameter_doc("{name: limit, in: query, required: true, schema: {type: integer}}"),
       parameter_doc(limit), "request-parameter-became-optional", Level::info, ""},
      {"parameter removed", parameter_doc(limit), parameter_doc(""), "request-parameter-removed",
       Level::warning, ""},
      {"parameter moved", parameter_doc(limit),
       parameter_doc("{name: limit, in: header, schema: {type: integer}}"),
       "request-parameter-moved", Level::breaking, ""},
      {"parameter type changed", parameter_doc(limit),
       parameter_doc("{name: limit, in: query, schema: {type: string}}"),
       "request-parameter-type-changed", Level::breaking, ""},
      {"parameter format changed",
       parameter_doc("{name: at, in: query, schema: {type: string, format: date}}"),
       parameter_doc("{name: at, in: query, schema: {type: string, format: date-time}}"),
       "request-parameter-format-changed", Level::warning, ""},
      {"parameter enum value removed",
       parameter_doc("{name: sort, in: query, schema: {type: string, enum: [asc, desc]}}"),
       parameter_doc("{name: sort, in: query, schema: {type: string, enum: [asc]}}"),
       "request-parameter-enum-value-removed", Level::breaking, ""},
      {"parameter became enum", parameter_doc("{name: sort, in: query, schema: {type: string}}"),
       parameter_doc("{name: sort, in: query, schema: {type: string, enum: [asc]}}"),
       "request-parameter-became-enum", Level::breaking, ""},
      {"parameter array items enum value removed",
       parameter_doc("{name: tags, in: query, schema: {type: array, items: {type: string, enum: "
                     "[a, b]}}}"),
       parameter_doc("{name: tags, in: query, schema: {type: array, items: {type: string, enum: "
                     "[a]}}}"),
       "request-parameter-enum-value-removed", Level::breaking, "[]"},
      {"parameter maxLength decreased",
       parameter_doc("{name: q, in: query, schema: {type: string, maxLength: 15}}"),
       parameter_doc("{name: q, in: query, schema: {type: string, maxLength: 10}}"),
       "request-parameter-constraint-tightened", Level::breaking, ""},
      {"parameter maximum increased",
       parameter_doc("{name: limit, in: query, schema: {type: integer, maximum: 10}}"),
       parameter_doc("{name: limit, in: query, schema: {type: integer, maximum: 100}}"),
       "request-parameter-constraint-loosened", Level::info, ""},
      {"parameter pattern changed",
       parameter_doc("{name: q, in: query, schema: {type: string, pattern: '[0-9a-f]+'}}"),
       parameter_doc("{name: q, in: query, schema: {type: string, pattern: '[0-9]+'}}"),
       "request-parameter-pattern-changed", Level::warning, ""},
      {"parameter no longer nullable",
       parameter_doc("{name: q, in: query, schema: {type: string, nullable: true}}"),
       parameter_doc("{name: q, in: query, schema: {type: string}}"), "request-became-not-nullable",
       Level::breaking, ""},
  });
}

TEST(Diff, ParameterLocationNamesTheParameter) {
  const DiffReport report =
      run(parameter_doc(""), parameter_doc("{name: X-Tenant, in: header, required: true, "
                                           "schema: {type: string}}"));
  ASSERT_EQ(report.changes.size(), 1U) << describe(report);
  const Change& change = report.changes[0];
  EXPECT_EQ(change.method, "GET");
  EXPECT_EQ(change.path, "/orders/{id}");
  EXPECT_EQ(change.operation(), "GET /orders/{id}");
  EXPECT_EQ(change.location.section, "parameter");
  EXPECT_EQ(change.location.parameter, "X-Tenant");
  EXPECT_EQ(change.location.parameter_in, "header");
  EXPECT_EQ(change.location.to_string(), "header parameter 'X-Tenant'");
}

// --- operations, bodies, responses ------------------------------------------------------

std::string two_operations(std::string_view get_extra) {
  return document(cat({"{/orders: {post: {responses: {'200': {description: ok}}}, get: {",
                       get_extra, "responses: {'200': {description: ok}}}}}"}));
}
const std::string kOnlyPost =
    document("{/orders: {post: {responses: {'200': {description: ok}}}}}");

TEST(Diff, OperationRules) {
  check({
      {"operation removed", two_operations(""), kOnlyPost, "operation-removed", Level::breaking,
       ""},
      {"deprecated operation removed", two_operations("deprecated: true, "), kOnlyPost,
       "operation-removed", Level::warning, ""},
      {"operation added", kOnlyPost, two_operations(""), "operation-added", Level::info, ""},
      {"operation deprecated", two_operations(""), two_operations("deprecated: true, "),
       "operation-deprecated", Level::info, ""},
      {"path removed",
       document("{/a: {get: {responses: {'200': {description: ok}}}}, /b: {get: "
                "{responses: {'200': {description: ok}}}}}"),
       document("{/a: {get: {responses: {'200': {description: ok}}}}}"), "operation-removed",
       Level::breaking, ""},
  });
}

TEST(Diff, SunsetIsJudgedAgainstNow) {
  const std::string base = two_operations("deprecated: true, x-sunset: '2025-06-30', ");
  DiffOptions options;
  options.now = core::parse_rfc3339("2025-07-01T00:00:00Z").value();
  DiffReport report = run(base, kOnlyPost, options);
  ASSERT_EQ(report.changes.size(), 1U) << describe(report);
  EXPECT_EQ(report.changes[0].rule, "operation-removed");
  EXPECT_EQ(report.changes[0].level, Level::warning);

  options.now = core::parse_rfc3339("2025-06-01T00:00:00Z").value();
  report = run(base, kOnlyPost, options);
  ASSERT_EQ(report.changes.size(), 1U) << describe(report);
  EXPECT_EQ(report.changes[0].level, Level::breaking);
  EXPECT_NE(report.changes[0].message.find("2025-06-30"), std::string::npos);

  // A sunset in the past is enough, deprecated or not; RFC 3339 times work too.
  options.now = core::parse_rfc3339("2025-07-01T00:00:00Z").value();
  report = run(two_operations("x-sunset: '2025-06-30T12:00:00Z', "), kOnlyPost, options);
  ASSERT_EQ(report.changes.size(), 1U) << describe(report);
  EXPECT_EQ(report.changes[0].level, Level::warning);
}

std::string body_doc(std::string_view body) {
  return document(cat({"{/orders: {post: {", body, "responses: {'200': {description: ok}}}}}"}));
}

TEST(Diff, RequestBodyRules) {
  const std::string json = "content: {application/json: {schema: {type: object}}}";
  check({
      {"required body added", body_doc(""),
       body_doc(cat({"requestBody: {required: true, ", json, "}, "})),
       "request-body-added-required", Level::breaking, ""},
      {"optional body added", body_doc(""), body_doc(cat({"requestBody: {", json, "}, "})),
       "request-body-added-optional", Level::info, ""},
      {"body became required", body_doc(cat({"requestBody: {", json, "}, "})),
       body_doc(cat({"requestBody: {required: true, ", json, "}, "})),
       "request-body-became-required", Level::breaking, ""},
      {"body became optional", body_doc(cat({"requestBody: {required: true, ", json, "}, "})),
       body_doc(cat({"requestBody: {", json, "}, "})), "request-body-became-optional", Level::info,
       ""},
      {"body removed", body_doc(cat({"requestBody: {", json, "}, "})), body_doc(""),
       "request-body-removed", Level::warning, ""},
      {"media type removed",
       body_doc("requestBody: {content: {application/json: {schema: {type: object}}, "
                "application/xml: {schema: {type: object}}}}, "),
       body_doc(cat({"requestBody: {", json, "}, "})), "request-media-type-removed",
       Level::breaking, ""},
      {"media type added", body_doc(cat({"requestBody: {", json, "}, "})),
       body_doc("requestBody: {content: {application/json: {schema: {type: object}}, "
                "application/xml: {schema: {type: object}}}}, "),
       "request-media-type-added", Level::info, ""},
  });
}

std::string responses_doc(std::string_view responses) {
  return document(cat({"{/orders: {get: {responses: ", responses, "}}}"}));
}

TEST(Diff, ResponseRules) {
  const std::string ok =
      "'200': {description: ok, content: {application/json: {schema: {type: "
      "object}}}}";
  const std::string header = [](std::string_view required) {
    return cat({"{'200': {description: ok, headers: {X-Rate-Limit: {", required,
                "schema: {type: integer}}}}}"});
  }("required: true, ");
  const std::string optional_header =
      "{'200': {description: ok, headers: {X-Rate-Limit: {schema: {type: integer}}}}}";
  check({
      {"success status removed", responses_doc(cat({"{", ok, ", '404': {description: no}}"})),
       responses_doc("{'404': {description: no}}"), "response-status-removed", Level::breaking, ""},
      {"2XX removed", responses_doc("{2XX: {description: ok}, '500': {description: no}}"),
       responses_doc("{'500': {description: no}}"), "response-status-removed", Level::breaking, ""},
      {"error status removed", responses_doc(cat({"{", ok, ", '404': {description: no}}"})),
       responses_doc(cat({"{", ok, "}"})), "response-status-removed", Level::info, ""},
      {"status added", responses_doc(cat({"{", ok, "}"})),
       responses_doc(cat({"{", ok, ", '404': {description: no}}"})), "response-status-added",
       Level::info, ""},
      {"media type removed",
       responses_doc("{'200': {description: ok, content: {application/json: {schema: {type: "
                     "object}}, text/csv: {schema: {type: string}}}}}"),
       responses_doc(cat({"{", ok, "}"})), "response-media-type-removed", Level::breaking, ""},
      {"media type added", responses_doc(cat({"{", ok, "}"})),
       responses_doc("{'200': {description: ok, content: {application/json: {schema: {type: "
                     "object}}, text/csv: {schema: {type: string}}}}}"),
       "response-media-type-added", Level::info, ""},
      {"required header removed", responses_doc(header),
       responses_doc("{'200': {description: ok}}"), "response-header-removed", Level::breaking, ""},
      {"optional header removed", responses_doc(optional_header),
       responses_doc("{'200': {description: ok}}"), "response-header-removed", Level::warning, ""},
      {"header became optional", responses_doc(header), responses_doc(optional_header),
       "response-header-became-optional", Level::breaking, ""},
      {"header added", responses_doc("{'200': {description: ok}}"), responses_doc(header),
       "response-header-added", Level::info, ""},
      {"header type changed", responses_doc(optional_header),
       responses_doc("{'200': {description: ok, headers: {X-Rate-Limit: {schema: {type: "
                     "string}}}}}"),
       "response-type-changed", Level::breaking, ""},
  });
  const DiffReport report = run(responses_doc(header), responses_doc("{'200': {description: ok}}"));
  ASSERT_EQ(report.changes.size(), 1U);
  EXPECT_EQ(report.changes[0].location.header, "x-rate-limit");
  EXPECT_EQ(report.changes[0].location.to_string(), "response 200 header 'x-rate-limit'");
}

TEST(Diff, StatusRangesAndMediaParametersAreNotRemovals) {
  // "200" now covered by "2XX": compared with the range.
  DiffReport report =
      run(responses_doc("{'200': {description: ok, content: {application/json: {schema: {type: "
                        "object, properties: {a: {type: string}}, required: [a]}}}}}"),
          responses_doc("{2XX: {description: ok, content: {application/json: {schema: {type: "
                        "object, properties: {b: {type: string}}}}}}}"));
  EXPECT_EQ(find(report, "response-status-removed"), nullptr) << describe(report);
  const Change* removed = find(report, "response-property-removed");
  ASSERT_NE(removed, nullptr) << describe(report);
  EXPECT_EQ(removed->location.property, "a");
  // The same media type with a charset parameter; a request range that covers the old one.
  report = run(responses_doc("{'200': {description: ok, content: {application/json: {schema: "
                             "{type: object}}}}}"),
               responses_doc("{'200': {description: ok, content: {'application/json; "
                             "charset=utf-8': {schema: {type: object}}}}}"));
  EXPECT_FALSE(report.has(Level::warning)) << describe(report);
  report = run(body_doc("requestBody: {content: {application/json: {schema: {type: object}}}}, "),
               body_doc("requestBody: {content: {'application/*': {schema: {type: object}}}}, "));
  EXPECT_FALSE(report.has(Level::warning)) << describe(report);
}

// --- security ---------------------------------------------------------------------------

std::string secured(std::string_view security, std::string_view schemes =
                                                   "{bearer: {type: http, scheme: bearer}, key: "
                                                   "{type: apiKey, in: header, name: X-Key}, "
                                                   "oauth: {type: oauth2, flows: {implicit: "
                                                   "{authorizationUrl: 'https://a', scopes: {read: "
                                                   "r, write: w}}}}}") {
  return document(cat({"{/orders: {get: {", security, "responses: {'200': {description: ok}}}}}"}),
                  cat({"{securitySchemes: ", schemes, "}"}));
}

TEST(Diff, SecurityRules) {
  check({
      {"requirement added", secured(""), secured("security: [{bearer: []}], "),
       "security-requirement-added", Level::breaking, ""},
      {"optional auth removed", secured("security: [{}, {bearer: []}], "),
       secured("security: [{bearer: []}], "), "security-requirement-added", Level::breaking, ""},
      {"another scheme", secured("security: [{bearer: []}], "), secured("security: [{key: []}], "),
       "security-requirement-added", Level::breaking, ""},
      {"scheme added to an alternative", secured("security: [{bearer: []}], "),
       secured("security: [{bearer: [], key: []}], "), "security-requirement-added",
       Level::breaking, ""},
      {"scope added", secured("security: [{oauth: [read]}], "),
       secured("security: [{oauth: [read, write]}], "), "security-scope-added", Level::breaking,
       ""},
      {"alternative added", secured("security: [{bearer: []}], "),
       secured("security: [{bearer: []}, {key: []}], "), "security-requirement-removed",
       Level::info, ""},
      {"requirement removed", secured("security: [{bearer: []}], "), secured(""),
       "security-requirement-removed", Level::info, ""},
      {"scope removed", secured("security: [{oauth: [read, write]}], "),
       secured("security: [{oauth: [read]}], "), "security-requirement-removed", Level::info, ""},
  });
  // The same scheme under another name is the same requirement.
  expect_no_changes(secured("security: [{bearer: []}], "),
                    secured("security: [{jwt: []}], ", "{jwt: {type: http, scheme: bearer}}"));
  // An old alternative still satisfied (here by a subset of what it held) is no break.
  const DiffReport report = run(secured("security: [{bearer: [], key: []}, {oauth: [read]}], "),
                                secured("security: [{bearer: []}, {oauth: [read]}], "));
  EXPECT_FALSE(report.has(Level::breaking)) << describe(report);
}

// --- things that are not changes --------------------------------------------------------

TEST(Diff, NonChanges) {
  // A renamed path parameter.
  expect_no_changes(
      document("{'/orders/{id}': {get: {parameters: [{name: id, in: path, required: true, "
               "schema: {type: string}}], responses: {'200': {description: ok}}}}}"),
      document("{'/orders/{orderId}': {get: {parameters: [{name: orderId, in: path, required: "
               "true, schema: {type: string}}], responses: {'200': {description: ok}}}}}"));
  // Inline <-> $ref with the same content, request and response.
  const std::string order =
      "{type: object, properties: {id: {type: string}, n: {type: integer}}, "
      "required: [id]}";
  expect_no_changes(request_doc(order), request_doc("{$ref: '#/components/schemas/Order'}",
                                                    cat({"{Order: ", order, "}"})));
  expect_no_changes(
      response_doc(cat({"{type: array, items: {$ref: '#/components/schemas/Order'}}"}),
                   cat({"{Order: ", order, "}"})),
      response_doc(cat({"{type: array, items: ", order, "}"})));
  // Reordered properties, enum values, required names, parameters.
  expect_no_changes(
      request_doc("{type: object, properties: {a: {type: string, enum: [x, y, z]}, b: {type: "
                  "integer}}, required: [a, b]}"),
      request_doc("{type: object, properties: {b: {type: integer}, a: {type: string, enum: [z, "
                  "x, y]}}, required: [b, a]}"));
  expect_no_changes(parameter_doc("{name: a, in: query, schema: {type: string}}, {name: b, in: "
                                  "header, schema: {type: string}}"),
                    parameter_doc("{name: B, in: header, schema: {type: string}}, {name: a, in: "
                                  "query, schema: {type: string}}"));
  // A oneOf in another order.
  expect_no_changes(response_doc("{oneOf: [{type: string}, {type: integer}]}"),
                    response_doc("{oneOf: [{type: integer}, {type: string}]}"));
  // A parameter moved from the path item to the operation.
  expect_no_changes(
      document("{'/orders/{id}': {parameters: [{name: id, in: path, required: true, schema: "
               "{type: string}}], get: {responses: {'200': {description: ok}}}}}"),
      document("{'/orders/{id}': {get: {parameters: [{name: id, in: path, required: true, "
               "schema: {type: string}}], responses: {'200': {description: ok}}}}}"));
}

TEST(Diff, AdditionsAreInfo) {
  const DiffReport report = run(
      document("{/orders: {post: {requestBody: {content: {application/json: {schema: {type: "
               "object, properties: {a: {type: string}}}}}}, responses: {'200': {description: "
               "ok, content: {application/json: {schema: {type: object, properties: {a: {type: "
               "string}}}}}}}}}}"),
      document("{/orders: {post: {parameters: [{name: q, in: query, schema: {type: string}}], "
               "requestBody: {content: {application/json: {schema: {type: object, properties: "
               "{a: {type: string}, b: {type: string}}}}}}, responses: {'200': {description: ok, "
               "content: {application/json: {schema: {type: object, properties: {a: {type: "
               "string}, c: {type: string}}}}}}, '404': {description: no}}}, get: {responses: "
               "{'200': {description: ok}}}}, /items: {get: {responses: {'200': {description: "
               "ok}}}}}"));
  EXPECT_EQ(report.max_level(), Level::info) << describe(report);
  EXPECT_EQ(report.count(Level::info), 6U) << describe(report);
}

// --- recursion and places ---------------------------------------------------------------

TEST(Diff, RecursiveSchemasTerminate) {
  const std::string base_schemas =
      "{Category: {type: object, properties: {name: {type: string}, children: {type: array, "
      "items: {$ref: '#/components/schemas/Category'}}}}}";
  const std::string revision_schemas =
      "{Category: {type: object, properties: {name: {type: integer}, children: {type: array, "
      "items: {$ref: '#/components/schemas/Category'}}}}}";
  const std::string root = "{$ref: '#/components/schemas/Category'}";
  DiffReport report = run(request_doc(root, base_schemas), request_doc(root, revision_schemas));
  ASSERT_EQ(report.changes.size(), 1U) << describe(report);
  EXPECT_EQ(report.changes[0].location.property, "name");

  // Unchanged recursion, and mutual recursion with a change.
  expect_no_changes(response_doc(root, base_schemas), response_doc(root, base_schemas));
  const std::string mutual_base =
      "{A: {type: object, properties: {b: {$ref: '#/components/schemas/B'}, x: {type: "
      "string}}}, B: {type: object, properties: {a: {$ref: '#/components/schemas/A'}}}}";
  const std::string mutual_revision =
      "{A: {type: object, properties: {b: {$ref: '#/components/schemas/B'}}}, B: {type: "
      "object, properties: {a: {$ref: '#/components/schemas/A'}}}}";
  report = run(response_doc("{$ref: '#/components/schemas/A'}", mutual_base),
               response_doc("{$ref: '#/components/schemas/A'}", mutual_revision));
  const Change* removed = find(report, "response-property-removed");
  ASSERT_NE(removed, nullptr) << describe(report);
  EXPECT_EQ(removed->location.property, "x");
  EXPECT_EQ(removed->level, Level::warning);
}

TEST(Diff, OneSchemaReportsPerPlaceAndOncePerPlace) {
  const std::string root =
      "{type: object, properties: {billing: {$ref: '#/components/schemas/Address'}, shipping: "
      "{$ref: '#/components/schemas/Address'}}}";
  const DiffReport report =
      run(request_doc(root, "{Address: {type: object, properties: {zip: {type: string}}}}"),
          request_doc(root, "{Address: {type: object, properties: {zip: {type: integer}}}}"));
  ASSERT_EQ(report.changes.size(), 2U) << describe(report);
  EXPECT_EQ(report.changes[0].location.property, "billing.zip");
  EXPECT_EQ(report.changes[1].location.property, "shipping.zip");

  // Two alternatives changed alike: one change at "<oneOf>.name".
  const std::string alternatives =
      "{oneOf: [{$ref: '#/components/schemas/Cat'}, {$ref: '#/components/schemas/Dog'}]}";
  const DiffReport twice =
      run(response_doc(alternatives,
                       "{Cat: {type: object, properties: {name: {type: string}, meow: "
                       "{type: string}}}, Dog: {type: object, properties: {name: {type: "
                       "string}, bark: {type: string}}}}"),
          response_doc(alternatives,
                       "{Cat: {type: object, properties: {name: {type: integer}, meow: "
                       "{type: string}}}, Dog: {type: object, properties: {name: {type: "
                       "integer}, bark: {type: string}}}}"));
  ASSERT_EQ(twice.changes.size(), 1U) << describe(twice);
  EXPECT_EQ(twice.changes[0].location.property, "<oneOf>.name");
}

TEST(Diff, NamedAlternativesCountEvenWhenShapedAlike) {
  // Cat and Rabbit have the same shape; removing Rabbit is still a removed alternative.
  const std::string schemas =
      "{Cat: {type: object, properties: {name: {type: string}}}, Rabbit: {type: object, "
      "properties: {name: {type: string}}}}";
  const DiffReport report =
      run(request_doc("{oneOf: [{$ref: '#/components/schemas/Cat'}, {$ref: "
                      "'#/components/schemas/Rabbit'}]}",
                      schemas),
          request_doc("{oneOf: [{$ref: '#/components/schemas/Cat'}]}", schemas));
  ASSERT_EQ(report.changes.size(), 1U) << describe(report);
  EXPECT_EQ(report.changes[0].rule, "request-alternative-removed");
  EXPECT_NE(report.changes[0].message.find("Rabbit"), std::string::npos);
}

// --- the report -------------------------------------------------------------------------

TEST(Diff, ReportIsOrderedAndCounted) {
  const std::string base = document(
      "{/b: {get: {responses: {'200': {description: ok}}}, post: {responses: {'200': "
      "{description: ok}}}}, /a: {put: {parameters: [{name: q, in: query, schema: {type: "
      "string}}], requestBody: {content: {application/json: {schema: {type: object, properties: "
      "{z: {type: string}, y: {type: string}}}}}}, responses: {'200': {description: ok}, '201': "
      "{description: ok}}}}}");
  const std::string revision = document(
      "{/a: {put: {parameters: [{name: q, in: query, required: true, schema: {type: string}}], "
      "requestBody: {content: {application/json: {schema: {type: object, properties: {z: "
      "{type: integer}}}}}}, responses: {'200': {description: ok}}}}, /c: {get: {responses: "
      "{'200': {description: ok}}}}}");
  const DiffReport report = run(base, revision);
  std::vector<std::string> seen;
  for (const Change& change : report.changes) {
    seen.push_back(change.operation() + " " + change.rule + " " + change.location.property);
  }
  const std::vector<std::string> expected = {
      "PUT /a request-parameter-became-required ",
      "PUT /a request-property-removed y",
      "PUT /a request-type-changed z",
      "PUT /a response-status-removed ",
      "GET /b operation-removed ",
      "POST /b operation-removed ",
      "GET /c operation-added ",
  };
  EXPECT_EQ(seen, expected) << describe(report);
  EXPECT_EQ(report.count(Level::breaking), 5U);
  EXPECT_EQ(report.count(Level::warning), 1U);
  EXPECT_EQ(report.count(Level::info), 1U);
  EXPECT_EQ(report.max_level(), Level::breaking);
  EXPECT_TRUE(report.has(Level::warning));

  EXPECT_EQ(DiffReport{}.max_level(), Level::info);
  EXPECT_FALSE(DiffReport{}.has(Level::info));
}

TEST(Diff, LocationsReadAsText) {
  Location location;
  location.section = "request";
  location.media_type = "application/json";
  location.property = "items[].price.currency";
  EXPECT_EQ(location.to_string(), "request body application/json: items[].price.currency");
  location = Location{};
  location.section = "parameter";
  location.parameter = "limit";
  location.parameter_in = "query";
  EXPECT_EQ(location.to_string(), "query parameter 'limit'");
  location = Location{};
  location.section = "response";
  location.status = "200";
  location.header = "x-rate-limit";
  EXPECT_EQ(location.to_string(), "response 200 header 'x-rate-limit'");
  location = Location{};
  location.section = "operation";
  EXPECT_EQ(location.to_string(), "operation");
  EXPECT_EQ(to_string(Level::breaking), "breaking");
  EXPECT_EQ(to_string(Level::warning), "warning");
  EXPECT_EQ(to_string(Level::info), "info");
}

TEST(Diff, RuleCatalogueIsUniqueAndDocumented) {
  std::set<std::string_view> ids;
  for (const RuleInfo& info : rules()) {
    EXPECT_TRUE(ids.insert(info.id).second) << "duplicate rule " << info.id;
    EXPECT_FALSE(info.summary.empty()) << info.id;
  }
  EXPECT_GE(ids.size(), 55U);
  EXPECT_EQ(ids.count("request-property-added-required"), 1U);
}

TEST(Diff, SwaggerAndOpenApiCompareAlike) {
  const std::string swagger =
      "{swagger: '2.0', info: {title: t, version: '1'}, paths: {/orders: {post: {consumes: "
      "[application/json], parameters: [{name: body, in: body, required: true, schema: {type: "
      "object, properties: {a: {type: string}}}}, {name: limit, in: query, type: integer}], "
      "responses: {'200': {description: ok}}}}}}";
  const std::string openapi = document(
      "{/orders: {post: {parameters: [{name: limit, in: query, schema: {type: integer}}], "
      "requestBody: {required: true, content: {application/json: {schema: {type: object, "
      "properties: {a: {type: string}}, required: [a]}}}}, responses: {'200': {description: "
      "ok}}}}}");
  const DiffReport report = run(swagger, openapi);
  ASSERT_EQ(report.changes.size(), 1U) << describe(report);
  EXPECT_EQ(report.changes[0].rule, "request-property-became-required");
}

// --- size -------------------------------------------------------------------------------

// A generated API of `operations` operations (half GET, half POST over operations / 2
// paths), each with parameters, a request body and a response built from shared and
// per-path schemas. `revision` changes one operation in a hundred.
std::string generated_document(int operations, bool revision) {
  std::string text = "openapi: 3.0.3\ninfo: {title: generated, version: '1'}\npaths:\n";
  const int paths = operations / 2;
  for (int i = 0; i < paths; ++i) {
    const bool changed = revision && i % 50 == 7;
    text += "  /resources" + std::to_string(i) + "/{id}:\n";
    text +=
        "    parameters:\n      - {name: id, in: path, required: true, schema: {type: "
        "string}}\n";
    text += "    get:\n      operationId: get" + std::to_string(i) + "\n";
    text += "      parameters:\n        - {name: limit, in: query, required: " +
            std::string(changed ? "true" : "false") + ", schema: {type: integer, maximum: 100}}\n";
    text += "        - {name: X-Tenant, in: header, schema: {type: string}}\n";
    text += "      responses:\n        '200':\n          description: ok\n";
    text +=
        "          content:\n            application/json:\n              schema: {$ref: "
        "'#/components/schemas/Resource" +
        std::to_string(i) + "'}\n";
    text += "        '404': {$ref: '#/components/responses/NotFound'}\n";
    text += "    post:\n      operationId: post" + std::to_string(i) + "\n";
    text +=
        "      requestBody:\n        required: true\n        content:\n"
        "          application/json:\n            schema: {$ref: "
        "'#/components/schemas/Resource" +
        std::to_string(i) + "'}\n";
    text +=
        "      responses:\n        '201':\n          description: created\n"
        "          content:\n            application/json:\n              schema: {$ref: "
        "'#/components/schemas/Resource" +
        std::to_string(i) + "'}\n";
  }
  text +=
      "components:\n  responses:\n    NotFound:\n      description: not found\n"
      "      content:\n        application/json:\n          schema: {$ref: "
      "'#/components/schemas/Error'}\n";
  text +=
      "  schemas:\n    Error: {type: object, properties: {code: {type: integer}, message: "
      "{type: string}}, required: [code]}\n";
  text +=
      "    Money: {type: object, properties: {amount: {type: number}, currency: {type: "
      "string, enum: [EUR, USD, GBP]}}, required: [amount, currency]}\n";
  text +=
      "    Tag: {type: object, properties: {name: {type: string, maxLength: 64}, children: "
      "{type: array, items: {$ref: '#/components/schemas/Tag'}}}}\n";
  for (int i = 0; i < paths; ++i) {
    const bool changed = revision && i % 50 == 7;
    text += "    Resource" + std::to_string(i) + ":\n      type: object\n";
    text += "      required: [name" + std::string(changed ? ", code" : "") + "]\n";
    text += "      properties:\n";
    text += "        id: {type: string, format: uuid, readOnly: true}\n";
    text += "        name: {type: string, maxLength: " + std::string(changed ? "40" : "80") + "}\n";
    text += "        price: {$ref: '#/components/schemas/Money'}\n";
    text += "        tags: {type: array, items: {$ref: '#/components/schemas/Tag'}}\n";
    text += "        status: {type: string, enum: [active, retired" +
            std::string(changed ? ", archived" : "") + "]}\n";
    if (changed) text += "        code: {type: string}\n";
    text += "        count: {type: " + std::string(changed ? "number" : "integer") + "}\n";
  }
  return text;
}

// 5,000 operations in about 3 MB per document: the size of a large public API. Under the
// sanitizers, which make it six times slower and check memory rather than scale, 1,000.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kLargeDocumentOperations = 1000;
#else
constexpr int kLargeDocumentOperations = 5000;
#endif

TEST(Diff, ALargeDocument) {
  constexpr int kOperations = kLargeDocumentOperations;
  // One path in 50 changes (GET and POST per path).
  constexpr int kChangedPaths = kOperations / 2 / 50;
  const std::string base_text = generated_document(kOperations, false);
  const std::string revision_text = generated_document(kOperations, true);
  const auto load_start = std::chrono::steady_clock::now();
  auto base = load_document(base_text);
  auto revision = load_document(revision_text);
  const auto load_end = std::chrono::steady_clock::now();
  ASSERT_TRUE(base.ok()) << base.error().message;
  ASSERT_TRUE(revision.ok()) << revision.error().message;
  ASSERT_EQ(base->operations.size(), static_cast<std::size_t>(kOperations));

  const auto diff_start = std::chrono::steady_clock::now();
  const DiffReport report = diff(*base, *revision);
  const auto diff_end = std::chrono::steady_clock::now();
  const auto ms = [](auto duration) {
    return std::chrono::duration_cast<std::chrono::microseconds>(duration).count() / 1000.0;
  };
  std::cout << "[ diff     ] " << kOperations << " operations, " << base_text.size() / 1024
            << " KiB per document: load both " << ms(load_end - load_start) << " ms, diff "
            << ms(diff_end - diff_start) << " ms, " << report.changes.size() << " changes\n";

  // Per changed path, GET has limit became required and the response's changes; POST has
  // the request's and the response's.
  EXPECT_EQ(find(report, "request-parameter-became-required") != nullptr, true);
  EXPECT_EQ(report.count(Level::breaking), kChangedPaths * 5U) << describe(report).substr(0, 4000);
  const auto count_rule = [&](std::string_view rule) {
    return std::count_if(report.changes.begin(), report.changes.end(),
                         [&](const Change& change) { return change.rule == rule; });
  };
  EXPECT_EQ(count_rule("request-parameter-became-required"), kChangedPaths);
  EXPECT_EQ(count_rule("request-property-added-required"), kChangedPaths);
  EXPECT_EQ(count_rule("request-constraint-tightened"), kChangedPaths);
  EXPECT_EQ(count_rule("response-type-changed"), 2 * kChangedPaths);
  EXPECT_EQ(count_rule("response-enum-value-added"), 2 * kChangedPaths);
  EXPECT_EQ(count_rule("request-type-widened"), kChangedPaths);
}

}  // namespace
}  // namespace glidepath::contract
