// Swagger 2.0 documents normalised into the same model as OpenAPI 3.
#include <gtest/gtest.h>

#include <string>

#include "contract/compare.h"
#include "contract/loader.h"

namespace glidepath::contract {
namespace {

constexpr std::string_view kPetstore = R"(
swagger: "2.0"
info: {title: Petstore, version: "1.0.0"}
basePath: /v2
consumes: [application/json, application/xml]
produces: [application/json]
securityDefinitions:
  basicAuth: {type: basic}
  key: {type: apiKey, in: header, name: api_key}
  petstore_auth: {type: oauth2, flow: implicit, authorizationUrl: "https://x", scopes: {write:pets: w}}
security: [{basicAuth: []}]
parameters:
  Limit: {name: limit, in: query, type: integer, format: int32, maximum: 100, exclusiveMaximum: true, default: 20}
paths:
  /pets:
    parameters: [{$ref: "#/parameters/Limit"}]
    get:
      parameters:
        - {name: tags, in: query, type: array, items: {type: string, enum: [a, b]}, collectionFormat: multi}
        - {name: X-Id, in: header, required: true, type: string, pattern: "^[a-z]+$"}
      responses:
        "200":
          description: ok
          headers:
            X-Rate-Limit: {type: integer, minimum: 0}
          schema: {type: array, items: {$ref: "#/definitions/Pet"}}
        default: {$ref: "#/responses/Error"}
    post:
      security: [{petstore_auth: ["write:pets"]}]
      parameters:
        - {name: pet, in: body, required: true, schema: {$ref: "#/definitions/Pet"}}
      responses:
        "201": {description: created}
  /pets/{petId}/photo:
    post:
      consumes: [multipart/form-data]
      produces: [application/json, text/plain]
      parameters:
        - {name: petId, in: path, required: true, type: integer}
        - {name: caption, in: formData, type: string, maxLength: 80}
        - {name: file, in: formData, required: true, type: file}
      responses:
        "200": {description: ok, schema: {type: string}}
  /pets/{petId}/name:
    put:
      parameters:
        - {name: petId, in: path, required: true, type: integer}
        - {name: name, in: formData, required: true, type: string}
      responses:
        "204": {description: done}
responses:
  Error: {description: error, schema: {$ref: "#/definitions/Error"}}
definitions:
  Pet:
    type: object
    required: [name]
    discriminator: kind
    properties:
      name: {type: string, x-nullable: true}
      kind: {type: string}
      friends: {type: array, items: {$ref: "#/definitions/Pet"}}
  Error: {type: object, properties: {code: {type: integer}}}
)";

Document load_ok(std::string_view text) {
  auto document = load_document(text);
  EXPECT_TRUE(document.ok()) << (document.ok() ? "" : document.error().message);
  return document.ok() ? std::move(document).value() : Document{};
}

TEST(ContractSwagger, ReadsTheDocument) {
  const Document document = load_ok(kPetstore);
  EXPECT_EQ(document.source, SourceKind::swagger2);
  EXPECT_EQ(document.title, "Petstore");
  EXPECT_EQ(document.base_path, "/v2");
  ASSERT_EQ(document.operations.size(), 4U);
  EXPECT_EQ(document.security_schemes.at("basicAuth").type, "http");
  EXPECT_EQ(document.security_schemes.at("basicAuth").scheme, "basic");
  EXPECT_EQ(document.security_schemes.at("key").name, "api_key");
  EXPECT_EQ(document.security_schemes.at("petstore_auth").type, "oauth2");
}

TEST(ContractSwagger, LiftsParameterKeywordsIntoSchemas) {
  const Document document = load_ok(kPetstore);
  const Operation* get = document.find("GET", "/pets");
  ASSERT_NE(get, nullptr);
  ASSERT_EQ(get->parameters.size(), 3U);
  EXPECT_EQ(get->parameters[0].name, "X-Id");
  EXPECT_TRUE(get->parameters[0].required);
  EXPECT_EQ(document.schema(get->parameters[0].schema).pattern, "^[a-z]+$");
  const Parameter& limit = get->parameters[1];
  EXPECT_EQ(limit.name, "limit");
  const Schema& limit_schema = document.schema(limit.schema);
  EXPECT_EQ(limit_schema.types, TypeSet::of(Type::integer));
  EXPECT_EQ(limit_schema.format, "int32");
  EXPECT_EQ(limit_schema.maximum->value, 100);
  EXPECT_TRUE(limit_schema.maximum->exclusive);
  EXPECT_EQ(limit_schema.default_value, "20");
  EXPECT_TRUE(limit_schema.required.empty()) << "the parameter's `required` is not a schema's";
  const Parameter& tags = get->parameters[2];
  EXPECT_EQ(tags.style, "form");
  EXPECT_EQ(tags.explode, true);
  const Schema& tag = document.schema(document.schema(tags.schema).items);
  EXPECT_EQ(tag.enum_values->size(), 2U);

  // A lifted 2.0 parameter equals the 3.0 parameter schema with the same meaning.
  auto v30 = load_document(R"(
openapi: 3.0.0
info: {title: t, version: "1"}
paths:
  /pets:
    get:
      parameters:
        - name: limit
          in: query
          schema: {type: integer, format: int32, maximum: 100, exclusiveMaximum: true, default: 20}
      responses: {"200": {description: ok}}
)");
  ASSERT_TRUE(v30.ok()) << v30.error().message;
  EXPECT_TRUE(
      equivalent(document, limit.schema, *v30, v30->operations.at(0).parameters.at(0).schema));
}

TEST(ContractSwagger, ResponsesUseProducesAndLiftedHeaders) {
  const Document document = load_ok(kPetstore);
  const Operation* get = document.find("GET", "/pets");
  const Response& ok = get->responses.at("200");
  ASSERT_EQ(ok.content.size(), 1U);
  const Schema& list = document.schema(ok.content.at("application/json"));
  const Schema& pet = document.schema(list.items);
  EXPECT_EQ(pet.ref_name, "Pet");
  EXPECT_EQ(pet.discriminator, "kind");
  EXPECT_EQ(document.schema(pet.properties.at("friends")).items, list.items);
  EXPECT_TRUE(document.schema(pet.properties.at("name")).types.has(Type::null))
      << "x-nullable is read as nullable";
  EXPECT_EQ(document.schema(ok.headers.at("x-rate-limit").schema).minimum->value, 0);
  EXPECT_FALSE(ok.headers.at("x-rate-limit").required);
  EXPECT_EQ(document.schema(get->responses.at("default").content.at("application/json")).ref_name,
            "Error");
  ASSERT_EQ(get->security.size(), 1U);
  EXPECT_EQ(get->security[0].count("basicAuth"), 1U);

  const Operation* photo = document.find("POST", "/pets/{id}/photo");
  ASSERT_NE(photo, nullptr);
  EXPECT_EQ(photo->responses.at("200").content.size(), 2U);
}

TEST(ContractSwagger, BodyParameterBecomesARequestBody) {
  const Document document = load_ok(kPetstore);
  const Operation* post = document.find("POST", "/pets");
  ASSERT_NE(post, nullptr);
  ASSERT_TRUE(post->request_body.has_value());
  EXPECT_TRUE(post->request_body->required);
  ASSERT_EQ(post->request_body->content.size(), 2U) << "one entry per consumes type";
  EXPECT_EQ(document.schema(post->request_body->content.at("application/xml")).ref_name, "Pet");
  EXPECT_EQ(post->parameters.size(), 1U) << "the path-level limit stays; the body is no parameter";
  ASSERT_EQ(post->security.size(), 1U);
  EXPECT_EQ(post->security[0].at("petstore_auth"), (std::set<std::string>{"write:pets"}));
}

TEST(ContractSwagger, FormDataBecomesAnObjectBody) {
  const Document document = load_ok(kPetstore);
  const Operation* photo = document.find("POST", "/pets/{id}/photo");
  ASSERT_TRUE(photo->request_body.has_value());
  EXPECT_TRUE(photo->request_body->required);
  ASSERT_EQ(photo->request_body->content.count("multipart/form-data"), 1U);
  const Schema& form = document.schema(photo->request_body->content.at("multipart/form-data"));
  EXPECT_EQ(form.types, TypeSet::of(Type::object));
  EXPECT_EQ(form.required, (std::set<std::string>{"file"}));
  const Schema& file = document.schema(form.properties.at("file"));
  EXPECT_EQ(file.types, TypeSet::of(Type::string));
  EXPECT_EQ(file.format, "binary");
  EXPECT_EQ(document.schema(form.properties.at("caption")).max_length, 80U);
  ASSERT_EQ(photo->parameters.size(), 1U);
  EXPECT_EQ(photo->parameters[0].in, "path");

  // Without multipart in consumes and without files: urlencoded.
  const Operation* rename = document.find("PUT", "/pets/{id}/name");
  ASSERT_NE(rename, nullptr);
  ASSERT_TRUE(rename->request_body.has_value());
  EXPECT_EQ(rename->request_body->content.count("application/x-www-form-urlencoded"), 1U);
}

TEST(ContractSwagger, BodyWithoutConsumesIsJson) {
  const Document document = load_ok(R"(
swagger: "2.0"
info: {title: t, version: "1"}
paths:
  /a:
    put:
      parameters: [{name: b, in: body, schema: {type: object}}]
      responses: {"200": {description: ok, schema: {type: string}}}
)");
  const Operation& put = document.operations.at(0);
  EXPECT_FALSE(put.request_body->required);
  EXPECT_EQ(put.request_body->content.count("application/json"), 1U);
  EXPECT_EQ(put.responses.at("200").content.count("application/json"), 1U);
}

TEST(ContractSwagger, ABodyWithoutSchemaIsAnError) {
  auto document = load_document(R"(
swagger: "2.0"
info: {title: t, version: "1"}
paths:
  /a:
    put:
      parameters: [{name: b, in: body}]
      responses: {"200": {description: ok}}
)");
  ASSERT_FALSE(document.ok());
  EXPECT_NE(document.error().message.find("/paths/~1a/put/parameters/0"), std::string::npos)
      << document.error().message;
}

}  // namespace
}  // namespace glidepath::contract
