// Broken and hostile documents: each is refused with a message that says where, and
// none crashes or hangs.
#include <gtest/gtest.h>

#include <string>

#include "contract/compare.h"
#include "contract/loader.h"

namespace glidepath::contract {
namespace {

// The error message of loading `text`, or "" when it loads.
std::string error_of(std::string_view text, const LoadOptions& options = {}) {
  auto document = load_document(text, options);
  return document.ok() ? std::string() : document.error().message;
}

constexpr std::string_view kHead = R"(openapi: 3.0.0
info: {title: t, version: "1"}
)";

std::string with_head(std::string_view rest) {
  return std::string(kHead) + std::string(rest);
}

#define EXPECT_ERROR_HAS(message, part) \
  EXPECT_NE((message).find(part), std::string::npos) << "message: " << (message)

TEST(ContractErrors, BrokenYaml) {
  const std::string message = error_of("openapi: 3.0.0\npaths: {\n  /a: [\n");
  EXPECT_ERROR_HAS(message, "YAML syntax error");
  EXPECT_ERROR_HAS(message, "line ");
  EXPECT_ERROR_HAS(error_of(""), "empty");
  EXPECT_ERROR_HAS(error_of("openapi: 3.0.0\n---\nopenapi: 3.0.0\n"), "only one YAML document");
  EXPECT_ERROR_HAS(error_of("- a list\n"), "expected a mapping");
}

TEST(ContractErrors, UnknownVersions) {
  EXPECT_ERROR_HAS(error_of("info: {title: t}\npaths: {}\n"), "not an OpenAPI document");
  EXPECT_ERROR_HAS(error_of("openapi: 2.0.0\npaths: {}\n"), "unsupported OpenAPI version '2.0.0'");
  EXPECT_ERROR_HAS(error_of("openapi: 4.0.0\npaths: {}\n"), "unsupported OpenAPI version");
  EXPECT_ERROR_HAS(error_of("swagger: '1.2'\npaths: {}\n"), "unsupported Swagger version");
  EXPECT_ERROR_HAS(error_of("openapi: [3]\n"), "expected a string");
  EXPECT_EQ(error_of("openapi: 3.0.0\n"), "") << "a document without paths has no operations";
}

TEST(ContractErrors, RefToNowhereNamesTheRefAndWhereItIs) {
  const std::string message = error_of(with_head(R"(paths:
  /a:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Missing"}
components: {schemas: {Other: {type: string}}}
)"));
  EXPECT_ERROR_HAS(message, "'#/components/schemas/Missing' points to nothing");
  EXPECT_ERROR_HAS(message, "#/paths/~1a/get/responses/200/content/application~1json/schema/$ref");
  EXPECT_ERROR_HAS(message, "line 11");
  EXPECT_ERROR_HAS(error_of(with_head("paths: {/a: {$ref: '#/nothing'}}\n")), "points to nothing");
  EXPECT_ERROR_HAS(error_of(with_head("paths: {/a: {$ref: 'no-pointer'}}\n")), "has no directory");
  EXPECT_ERROR_HAS(error_of(with_head("paths: {/a: {$ref: '#x'}}\n")), "not a JSON pointer");
  EXPECT_ERROR_HAS(error_of(with_head("paths: {/a: {$ref: [1]}}\n")), "expected a string");
}

TEST(ContractErrors, RemoteRefsAreRefused) {
  EXPECT_ERROR_HAS(
      error_of(with_head("paths: {/a: {$ref: 'https://example.com/api.yaml#/paths/~1a'}}\n")),
      "remote $ref not supported");
  EXPECT_ERROR_HAS(error_of(with_head("paths: {/a: {$ref: 'HTTP://example.com/x.yaml'}}\n")),
                   "remote $ref not supported");
  EXPECT_ERROR_HAS(error_of(with_head("paths: {/a: {$ref: '//example.com/x.yaml'}}\n")),
                   "remote $ref not supported");
  EXPECT_ERROR_HAS(error_of(with_head("paths: {/a: {$ref: 'urn:uuid:1234'}}\n")),
                   "unsupported $ref");
}

TEST(ContractErrors, RefCyclesAndLongChainsStop) {
  const std::string cycle = error_of(with_head(R"(paths:
  /a:
    get:
      responses:
        "200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/A"}}}}
components:
  schemas:
    A: {$ref: "#/components/schemas/B"}
    B: {$ref: "#/components/schemas/A"}
)"));
  EXPECT_ERROR_HAS(cycle, "$ref hops");
  EXPECT_ERROR_HAS(error_of(with_head("paths: {/a: {$ref: '#/paths/~1a'}}\n")), "$ref hops");

  // A long chain of schema refs is not recursion: it loads, whatever its length.
  std::string chain = with_head(R"(paths:
  /a:
    get:
      responses:
        "200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/S0"}}}}
components:
  schemas:
)");
  constexpr int kLength = 5000;
  for (int i = 0; i < kLength; ++i) {
    chain += "    S" + std::to_string(i) +
             ": {type: object, properties: {next: {$ref: '#/components/schemas/S" +
             std::to_string(i + 1) + "'}}}\n";
  }
  chain += "    S" + std::to_string(kLength) + ": {type: string}\n";
  auto document = load_document(chain);
  ASSERT_TRUE(document.ok()) << document.error().message;
  EXPECT_GT(document->schemas.size(), static_cast<size_t>(kLength));
  const SchemaRef root =
      document->operations.at(0).responses.at("200").content.at("application/json");
  // Too deep to compare fully: "different" is the safe answer, and it comes back.
  EXPECT_FALSE(equivalent(*document, root, *document, SchemaRef{root.index + 1}));
}

TEST(ContractErrors, DeepNestingIsRefused) {
  std::string deep = with_head(
      "paths:\n  /a:\n    get:\n      responses:\n        \"200\":\n"
      "          description: ok\n          content:\n"
      "            application/json:\n              schema: ");
  for (int i = 0; i < 400; ++i)
    deep += "{properties: {a: ";
  deep += "{}";
  for (int i = 0; i < 400; ++i)
    deep += "}}";
  deep += "\n";
  EXPECT_ERROR_HAS(error_of(deep), "nested more than");
  EXPECT_ERROR_HAS(error_of(std::string(100000, '[')), "nested more than");
}

TEST(ContractErrors, AliasBombsAreBounded) {
  // Each level names the previous one ten times: 10^9 schemas if expanded.
  std::string bomb = with_head(R"(paths:
  /a:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: *l9
)");
  std::string anchors = "x-anchors:\n  l0: &l0 {type: string}\n";
  for (int level = 1; level <= 9; ++level) {
    anchors += "  l" + std::to_string(level) + ": &l" + std::to_string(level) +
               " {type: object, properties: {";
    for (int i = 0; i < 10; ++i) {
      anchors += (i ? ", p" : "p") + std::to_string(i) + ": *l" + std::to_string(level - 1);
    }
    anchors += "}}\n";
  }
  bomb = std::string(kHead) + anchors + bomb.substr(kHead.size());
  const std::string message = error_of(bomb);
  EXPECT_ERROR_HAS(message, "more than");

  // Enum values are bounded the same way.
  std::string values = std::string(kHead) + "x-v:\n  v0: &v0 [a, b, c, d, e, f, g, h]\n";
  for (int level = 1; level <= 9; ++level) {
    values += "  v" + std::to_string(level) + ": &v" + std::to_string(level) + " [";
    for (int i = 0; i < 8; ++i)
      values += (i ? ", *v" : "*v") + std::to_string(level - 1);
    values += "]\n";
  }
  values += R"(paths:
  /a:
    get:
      responses:
        "200": {description: ok, content: {application/json: {schema: {enum: [*v9]}}}}
)";
  EXPECT_ERROR_HAS(error_of(values), "too large");
}

TEST(ContractErrors, SelfReferentialAliasTerminates) {
  // yaml-cpp registers an anchor before its content, so this node contains itself.
  const std::string text = with_head(R"(paths:
  /a:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: &s {type: object, properties: {self: *s}}
)");
  auto document = load_document(text);
  // Either answer is fine as long as it comes back; a model must be consistent.
  if (document.ok()) {
    EXPECT_FALSE(document->schemas.empty());
  }
}

TEST(ContractErrors, SchemaCountIsBounded) {
  LoadOptions options;
  options.max_schemas = 3;
  EXPECT_ERROR_HAS(error_of(with_head(R"(paths:
  /a:
    get:
      responses:
        "200": {description: ok, content: {application/json: {schema: {properties: {a: {}, b: {}, c: {}}}}}}
)"),
                            options),
                   "more than 3 schemas");
}

TEST(ContractErrors, WrongShapesSayWhatWasExpected) {
  EXPECT_ERROR_HAS(error_of(with_head("paths: [1]\n")), "expected a mapping of paths");
  EXPECT_ERROR_HAS(error_of(with_head("paths: {a: {}}\n")), "must start with '/'");
  EXPECT_ERROR_HAS(error_of(with_head("paths: {/a: {get: 3}}\n")), "expected an operation");
  EXPECT_ERROR_HAS(error_of(with_head("paths: {/a: {get: {parameters: {}}}}\n")),
                   "expected a list of parameters");
  EXPECT_ERROR_HAS(error_of(with_head("paths: {/a: {get: {parameters: [{in: query}]}}}\n")),
                   "needs a 'name'");
  EXPECT_ERROR_HAS(error_of(with_head("paths: {/a: {get: {parameters: [{name: a, in: body}]}}}\n")),
                   "unknown parameter location");
  EXPECT_ERROR_HAS(
      error_of(with_head("paths: {/a: {get: {responses: {'200': {content: {a/b: {schema: {type: "
                         "strin}}}}}}}}\n")),
      "unknown type 'strin'");
  EXPECT_ERROR_HAS(
      error_of(with_head("paths: {/a: {get: {responses: {'200': {content: {a/b: {schema: "
                         "{maxLength: -1}}}}}}}}\n")),
      "non-negative integer");
  EXPECT_ERROR_HAS(
      error_of(with_head("paths: {/a: {get: {responses: {'200': {content: {a/b: {schema: "
                         "{minimum: abc}}}}}}}}\n")),
      "expected a number");
  EXPECT_ERROR_HAS(error_of(with_head("paths: {/a: {get: {deprecated: maybe}}}\n")),
                   "expected true or false");
  EXPECT_ERROR_HAS(error_of(with_head("paths:\n  /a/{x}: {get: {}}\n  /a/{y}: {get: {}}\n")),
                   "same path template");
  EXPECT_ERROR_HAS(error_of(with_head("paths: {/a: {get: {security: {a: []}}}}\n")),
                   "security requirements");
}

}  // namespace
}  // namespace glidepath::contract
