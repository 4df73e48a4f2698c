// Loading OpenAPI 3.0 / 3.1 documents: operations, parameters, bodies, responses,
// security, and $ref resolution inside one file and across files.
#include "contract/loader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "contract/compare.h"

namespace glidepath::contract {
namespace {

Document load_ok(std::string_view text, const LoadOptions& options = {}) {
  auto document = load_document(text, options);
  EXPECT_TRUE(document.ok()) << (document.ok() ? "" : document.error().message);
  return document.ok() ? std::move(document).value() : Document{};
}

const Schema& schema_of(const Document& document, SchemaRef ref) {
  EXPECT_TRUE(ref.valid());
  return document.schema(ref);
}

constexpr std::string_view kOrders30 = R"(
openapi: 3.0.3
info: {title: Orders, version: "1.2"}
servers: [{url: "https://api.example.com/v1/"}]
security: [{apiKey: []}]
paths:
  /orders/{orderId}:
    parameters:
      - {name: orderId, in: path, schema: {type: string}}
      - {name: X-Trace, in: header, schema: {type: string}}
      - {name: verbose, in: query, schema: {type: boolean}}
    get:
      operationId: getOrder
      parameters:
        - {name: verbose, in: query, required: true, schema: {type: integer}}
        - {name: x-trace, in: header, required: true, schema: {type: string}}
        - {name: Accept, in: header, schema: {type: string}}
      responses:
        "200":
          description: the order
          headers:
            X-Rate-Limit: {required: true, schema: {type: integer}}
          content:
            Application/JSON: {schema: {$ref: "#/components/schemas/Order"}}
        4xx: {$ref: "#/components/responses/Problem"}
    delete:
      deprecated: true
      x-sunset: "2026-01-01"
      security: []
      responses:
        "204": {description: gone}
  /orders:
    post:
      security: [{oauth: [write, read]}, {}]
      requestBody: {$ref: "#/components/requestBodies/NewOrder"}
      responses:
        "201": {description: created}
components:
  securitySchemes:
    apiKey: {type: apiKey, in: header, name: X-Key}
    oauth: {type: oauth2, flows: {}}
  responses:
    Problem:
      description: problem
      content:
        application/problem+json: {schema: {type: object}}
  requestBodies:
    NewOrder:
      required: true
      content:
        application/json: {schema: {$ref: "#/components/schemas/Order"}}
  schemas:
    Order:
      type: object
      required: [id]
      properties:
        id: {type: string, readOnly: true}
        total: {type: number, minimum: 0}
)";

TEST(ContractLoader, ReadsAnOpenApi30Document) {
  const Document document = load_ok(kOrders30);
  EXPECT_EQ(document.source, SourceKind::openapi30);
  EXPECT_EQ(document.title, "Orders");
  EXPECT_EQ(document.version, "1.2");
  EXPECT_EQ(document.base_path, "/v1");
  ASSERT_EQ(document.operations.size(), 3U);
  // Ordered by key.
  EXPECT_EQ(document.operations[0].key(), "DELETE /orders/{}");
  EXPECT_EQ(document.operations[1].key(), "GET /orders/{}");
  EXPECT_EQ(document.operations[2].key(), "POST /orders");

  const Operation* get = document.find("GET", "/orders/{id}");
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->path, "/orders/{orderId}");
  EXPECT_EQ(get->operation_id, "getOrder");
  EXPECT_FALSE(get->deprecated);
  // Path-level parameters merged; the operation's replace them by (name, in), header names
  // case-insensitively; Accept is ignored (OpenAPI 3.0 4.7.12.1).
  ASSERT_EQ(get->parameters.size(), 3U);
  EXPECT_EQ(get->parameters[0].in, "header");
  EXPECT_EQ(get->parameters[0].name, "x-trace");
  EXPECT_TRUE(get->parameters[0].required);
  EXPECT_EQ(get->parameters[1].in, "path");
  EXPECT_TRUE(get->parameters[1].required) << "a path parameter is always required";
  EXPECT_EQ(get->parameters[2].name, "verbose");
  EXPECT_TRUE(get->parameters[2].required);
  EXPECT_TRUE(schema_of(document, get->parameters[2].schema).types.has(Type::integer));

  ASSERT_EQ(get->responses.size(), 2U);
  const Response& ok = get->responses.at("200");
  ASSERT_EQ(ok.content.count("application/json"), 1U) << "media types are lower-cased";
  const Schema& order = schema_of(document, ok.content.at("application/json"));
  EXPECT_EQ(order.ref_name, "Order");
  EXPECT_EQ(order.properties.size(), 2U);
  ASSERT_EQ(ok.headers.count("x-rate-limit"), 1U);
  EXPECT_TRUE(ok.headers.at("x-rate-limit").required);
  ASSERT_EQ(get->responses.count("4XX"), 1U) << "status ranges are upper-cased";
  EXPECT_EQ(get->responses.at("4XX").content.count("application/problem+json"), 1U);

  // Document-level security applies unless the operation has its own.
  ASSERT_EQ(get->security.size(), 1U);
  EXPECT_EQ(get->security[0].count("apiKey"), 1U);
  const Operation* remove = document.find("DELETE", "/orders/{x}");
  ASSERT_NE(remove, nullptr);
  EXPECT_TRUE(remove->deprecated);
  EXPECT_EQ(remove->sunset, "2026-01-01");
  EXPECT_TRUE(remove->security.empty());

  const Operation* post = document.find("POST", "/orders");
  ASSERT_NE(post, nullptr);
  ASSERT_EQ(post->security.size(), 2U);
  EXPECT_EQ(post->security[0].at("oauth"), (std::set<std::string>{"read", "write"}));
  EXPECT_TRUE(post->security[1].empty());
  ASSERT_TRUE(post->request_body.has_value());
  EXPECT_TRUE(post->request_body->required);
  // The same $ref target is one node in the arena.
  EXPECT_EQ(post->request_body->content.at("application/json"), ok.content.at("application/json"));
  EXPECT_EQ(document.security_schemes.at("apiKey").in, "header");
  EXPECT_EQ(document.security_schemes.at("oauth").type, "oauth2");
}

TEST(ContractLoader, ReadOnlyAndWriteOnlyShapeWhatIsRequired) {
  const Document document = load_ok(R"(
openapi: 3.0.0
info: {title: t, version: "1"}
paths:
  /users:
    post:
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [id, password, name]
              properties:
                id: {type: string, readOnly: true}
                password: {type: string, writeOnly: true}
                name: {type: string}
      responses: {"200": {description: ok}}
)");
  const Schema& user = document.schema(
      document.find("POST", "/users")->request_body->content.at("application/json"));
  EXPECT_FALSE(required_in_request(document, user, "id"));
  EXPECT_TRUE(required_in_response(document, user, "id"));
  EXPECT_TRUE(required_in_request(document, user, "password"));
  EXPECT_FALSE(required_in_response(document, user, "password"));
  EXPECT_TRUE(required_in_request(document, user, "name"));
  EXPECT_TRUE(required_in_response(document, user, "name"));
  EXPECT_FALSE(required_in_request(document, user, "other"));
}

TEST(ContractLoader, ReadsAnOpenApi31JsonDocument) {
  const Document document = load_ok(R"({
  "openapi": "3.1.0",
  "info": {"title": "Pets", "version": "2"},
  "paths": {
    "/pets/{id}": {
      "get": {
        "parameters": [{"name": "id", "in": "path", "required": true,
                        "schema": {"type": ["integer", "null"], "exclusiveMinimum": 0}}],
        "responses": {"200": {"description": "ok", "content": {"application/json": {
          "schema": {"$ref": "#/$defs/Pet", "description": "annotations beside a $ref"}}}}}
      }
    }
  },
  "$defs": {"Pet": {"type": "object", "properties": {"name": {"const": "rex"}}}}
})");
  EXPECT_EQ(document.source, SourceKind::openapi31);
  const Operation* get = document.find("GET", "/pets/{petId}");
  ASSERT_NE(get, nullptr);
  const Schema& id = document.schema(get->parameters.at(0).schema);
  EXPECT_TRUE(id.types.has(Type::integer));
  EXPECT_TRUE(id.types.has(Type::null));
  ASSERT_TRUE(id.minimum.has_value());
  EXPECT_EQ(id.minimum->value, 0);
  EXPECT_TRUE(id.minimum->exclusive);
  const Schema& pet = document.schema(get->responses.at("200").content.at("application/json"));
  EXPECT_EQ(pet.ref_name, "Pet");
  EXPECT_EQ(document.schema(pet.properties.at("name")).const_value, "\"rex\"");
}

TEST(ContractLoader, ThreeOneRefWithSiblingsMergesThem) {
  const Document document = load_ok(R"(
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /a:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Name", maxLength: 10}
components:
  schemas:
    Name: {type: string, minLength: 1}
)");
  const Schema& name = document.schema(
      document.find("GET", "/a")->responses.at("200").content.at("application/json"));
  EXPECT_TRUE(name.types.has(Type::string));
  EXPECT_EQ(name.min_length, 1U);
  EXPECT_EQ(name.max_length, 10U);
}

TEST(ContractLoader, ParametersWithContentAndStyle) {
  const Document document = load_ok(R"(
openapi: 3.0.1
info: {title: t, version: "1"}
paths:
  /search:
    get:
      parameters:
        - name: filter
          in: query
          content:
            application/json: {schema: {type: object, properties: {color: {type: string}}}}
        - {name: tags, in: query, style: pipeDelimited, explode: false,
           schema: {type: array, items: {type: string}}}
        - {name: session, in: cookie, deprecated: true, schema: {type: string}}
      responses: {default: {description: error}}
)");
  const Operation* get = document.find("GET", "/search");
  ASSERT_NE(get, nullptr);
  ASSERT_EQ(get->parameters.size(), 3U);
  EXPECT_EQ(get->parameters[0].in, "cookie");
  EXPECT_TRUE(get->parameters[0].deprecated);
  const Parameter& filter = get->parameters[1];
  EXPECT_EQ(filter.name, "filter");
  EXPECT_FALSE(filter.schema.valid());
  ASSERT_EQ(filter.content.count("application/json"), 1U);
  const Parameter& tags = get->parameters[2];
  EXPECT_EQ(tags.style, "pipeDelimited");
  EXPECT_EQ(tags.explode, false);
  EXPECT_TRUE(document.schema(document.schema(tags.schema).items).types.has(Type::string));
  EXPECT_EQ(get->responses.count("default"), 1U);
}

TEST(ContractLoader, PathKeysIgnoreParameterNames) {
  EXPECT_EQ(path_key("/a/{id}"), "/a/{}");
  EXPECT_EQ(path_key("/a/{orderId}"), "/a/{}");
  EXPECT_EQ(path_key("/a/{id}/b/{n}.json"), "/a/{}/b/{}.json");
  EXPECT_EQ(path_key("/a/{broken"), "/a/{broken");
  const Document before = load_ok(R"(
openapi: 3.0.0
info: {title: t, version: "1"}
paths:
  /books/{bookId}:
    get:
      parameters: [{name: bookId, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: ok}}
)");
  const Document after = load_ok(R"(
openapi: 3.0.0
info: {title: t, version: "1"}
paths:
  /books/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: ok}}
)");
  EXPECT_EQ(before.operations.at(0).key(), after.operations.at(0).key());
  EXPECT_NE(after.find("GET", "/books/{bookId}"), nullptr);
}

TEST(ContractLoader, PointerEscapesAndPercentEncoding) {
  const Document document = load_ok(R"(
openapi: 3.0.0
info: {title: t, version: "1"}
paths:
  /a/b:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json: {schema: {type: integer}}
  /c:
    get:
      responses:
        "200": {$ref: "#/paths/~1a~1b/get/responses/200"}
        "201": {$ref: "#/components/responses/with%20space"}
        "202": {$ref: "#/components/responses/tilde~0name"}
components:
  responses:
    with space: {description: s, content: {text/plain: {schema: {type: string}}}}
    tilde~name: {description: t, content: {text/plain: {schema: {type: boolean}}}}
)");
  const Operation* c = document.find("GET", "/c");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(document.schema(c->responses.at("200").content.at("application/json"))
                  .types.has(Type::integer));
  EXPECT_TRUE(
      document.schema(c->responses.at("201").content.at("text/plain")).types.has(Type::string));
  EXPECT_TRUE(
      document.schema(c->responses.at("202").content.at("text/plain")).types.has(Type::boolean));
}

TEST(ContractLoader, RefChainsAndParameterRefs) {
  const Document document = load_ok(R"(
openapi: 3.0.0
info: {title: t, version: "1"}
paths:
  /a:
    parameters: [{$ref: "#/components/parameters/Limit"}]
    get:
      responses: {"200": {description: ok}}
components:
  parameters:
    Limit: {$ref: "#/components/parameters/RealLimit"}
    RealLimit: {name: limit, in: query, schema: {$ref: "#/components/schemas/A"}}
  schemas:
    A: {$ref: "#/components/schemas/B"}
    B: {$ref: "#/components/schemas/C"}
    C: {type: integer, maximum: 100}
)");
  const Operation* get = document.find("GET", "/a");
  ASSERT_NE(get, nullptr);
  ASSERT_EQ(get->parameters.size(), 1U);
  EXPECT_EQ(get->parameters[0].name, "limit");
  const Schema& limit = document.schema(get->parameters[0].schema);
  EXPECT_EQ(limit.ref_name, "C");
  EXPECT_EQ(limit.maximum->value, 100);
}

// Files in a temporary directory, removed afterwards.
class ContractFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("contract_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "specs");
    std::filesystem::create_directories(dir_ / "common");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, std::string_view text) { std::ofstream(dir_ / name) << text; }
  std::filesystem::path dir_;
};

TEST_F(ContractFiles, ResolvesRefsToOtherFiles) {
  write("specs/api.yaml", R"(
openapi: 3.0.0
info: {title: t, version: "1"}
paths:
  /orders:
    $ref: "paths.yaml#/orders"
  /items:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json: {schema: {$ref: "../common/schemas.yaml#/components/schemas/Item"}}
)");
  write("specs/paths.yaml", R"(
orders:
  get:
    parameters: [{$ref: "../common/parameters.yaml"}]
    responses:
      "200":
        description: ok
        content:
          application/json: {schema: {$ref: "../common/schemas.yaml#/components/schemas/Order"}}
)");
  write("common/parameters.yaml", "{name: page, in: query, schema: {type: integer}}\n");
  write("common/schemas.yaml", R"(
components:
  schemas:
    Order:
      type: object
      properties:
        items: {type: array, items: {$ref: "#/components/schemas/Item"}}
        owner: {$ref: "people.yaml#/Person"}
    Item: {type: object, properties: {sku: {type: string}}}
)");
  write("common/people.yaml", "Person: {type: object, properties: {name: {type: string}}}\n");

  auto loaded = load_document_file(dir_ / "specs" / "api.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  const Document& document = *loaded;
  const Operation* orders = document.find("GET", "/orders");
  ASSERT_NE(orders, nullptr);
  ASSERT_EQ(orders->parameters.size(), 1U);
  EXPECT_EQ(orders->parameters[0].name, "page");
  const Schema& order = document.schema(orders->responses.at("200").content.at("application/json"));
  EXPECT_EQ(order.ref_name, "Order");
  const SchemaRef item_in_order = document.schema(order.properties.at("items")).items;
  const SchemaRef item =
      document.find("GET", "/items")->responses.at("200").content.at("application/json");
  EXPECT_EQ(item_in_order, item) << "the same target through two files is one node";
  EXPECT_EQ(document.schema(order.properties.at("owner")).ref_name, "Person");
}

TEST_F(ContractFiles, AMissingFileIsAnErrorNamingIt) {
  write("specs/api.yaml", R"(
openapi: 3.0.0
info: {title: t, version: "1"}
paths:
  /a:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json: {schema: {$ref: "../nowhere/missing.yaml#/X"}}
)");
  auto loaded = load_document_file(dir_ / "specs" / "api.yaml");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("missing.yaml"), std::string::npos)
      << loaded.error().message;
  EXPECT_NE(loaded.error().message.find("/content/application~1json/schema"), std::string::npos)
      << loaded.error().message;
}

TEST_F(ContractFiles, AMissingMainFileIsAnError) {
  auto loaded = load_document_file(dir_ / "nope.yaml");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("nope.yaml"), std::string::npos);
}

TEST(ContractLoader, ReadsOtherFilesThroughTheGivenReader) {
  std::map<std::string, std::string> files = {
      {"/virtual/types.yaml", "Money: {type: string, pattern: '^[0-9]+$'}\n"}};
  LoadOptions options;
  options.base_dir = "/virtual";
  options.read_file = [&](const std::filesystem::path& path) -> core::Result<std::string> {
    auto found = files.find(path.string());
    if (found == files.end()) return core::fail("no such file");
    return found->second;
  };
  const Document document = load_ok(R"(
openapi: 3.0.0
info: {title: t, version: "1"}
paths:
  /a:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json: {schema: {$ref: "./types.yaml#/Money"}}
)",
                                    options);
  const Schema& money =
      document.schema(document.operations.at(0).responses.at("200").content.at("application/json"));
  EXPECT_EQ(money.pattern, "^[0-9]+$");
  EXPECT_EQ(money.ref_name, "Money");
}

}  // namespace
}  // namespace glidepath::contract
