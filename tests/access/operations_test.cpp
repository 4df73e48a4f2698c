// Operation naming (SPEC section 5): methods, folding literal paths, and matching request
// paths against an OpenAPI or Swagger document's path templates.
#include "access/operations.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

namespace glidepath::access {
namespace {

std::string folded(std::string_view path) {
  std::string out = "left over from the last request";
  fold_path(path, out);
  return out;
}

std::shared_ptr<const OperationMatcher> matcher_of(std::string_view text) {
  auto result = OperationMatcher::from_text(text);
  EXPECT_TRUE(result.ok()) << result.error().message;
  return result.ok() ? *result : nullptr;
}

// The error from_text gives, or "" when it accepted the document.
std::string error_of(std::string_view text) {
  auto result = OperationMatcher::from_text(text);
  return result.ok() ? std::string() : result.error().message;
}

// "" for no match: easier to compare than a pointer.
std::string matched(const OperationMatcher& matcher, std::string_view path) {
  const std::string* found = matcher.match(path);
  return found == nullptr ? std::string() : *found;
}

// ---- canonical_method --------------------------------------------------------------------

TEST(CanonicalMethod, StandardMethodsAsTheyAreOthersAsOther) {
  for (const char* method :
       {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}) {
    EXPECT_EQ(canonical_method(method), method);
  }
  EXPECT_EQ(canonical_method("get"), "OTHER");  // methods are case-sensitive (RFC 9110 9.1)
  EXPECT_EQ(canonical_method("BREW"), "OTHER");
  EXPECT_EQ(canonical_method("PROPFIND"), "OTHER");
  EXPECT_EQ(canonical_method(""), "OTHER");
  EXPECT_EQ(canonical_method("GET "), "OTHER");
}

// ---- fold_path ---------------------------------------------------------------------------

TEST(FoldPath, NumbersAreIds) {
  EXPECT_EQ(folded("/orders/123"), "/orders/{id}");
  EXPECT_EQ(folded("/orders/0/items/42"), "/orders/{id}/items/{id}");
  EXPECT_EQ(folded("/2024"), "/{id}");
}

TEST(FoldPath, UuidsInEitherCase) {
  EXPECT_EQ(folded("/users/123e4567-e89b-12d3-a456-426614174000"), "/users/{id}");
  EXPECT_EQ(folded("/users/123E4567-E89B-12D3-A456-426614174000/keys"), "/users/{id}/keys");
  // Short pieces of one are not ids.
  EXPECT_EQ(folded("/u/123e4567-e89b"), "/u/123e4567-e89b");
}

TEST(FoldPath, LongHexFoldsShortHexWordsDoNot) {
  EXPECT_EQ(folded("/commits/0123456789abcdef"), "/commits/{id}");  // 16 hex digits
  EXPECT_EQ(folded("/blobs/DEADBEEFDEADBEEFDEADBEEF"), "/blobs/{id}");
  EXPECT_EQ(folded("/commits/0123456789abcde"), "/commits/0123456789abcde");  // 15
  EXPECT_EQ(folded("/menu/cafe"), "/menu/cafe");
  EXPECT_EQ(folded("/beef/deadbeef/face"), "/beef/deadbeef/face");
}

TEST(FoldPath, UlidsAndBase64UrlTokens) {
  EXPECT_EQ(folded("/events/01ARZ3NDEKTSV4RRFFQ69G5FAV"), "/events/{id}");  // ULID
  EXPECT_EQ(folded("/reports/customer_subscriptions_v2"), "/reports/customer_subscriptions_v2");
  EXPECT_EQ(folded("/t/dGhpcyBpcyBhIHRva2VuIDEyMw"), "/t/{id}");  // base64url
  EXPECT_EQ(folded("/s/dGhpc19pc19hX3Rva2VuXzEyMw"), "/s/{id}");
  EXPECT_EQ(folded("/s/abc-DEF_123-ghi_456-jkl"), "/s/{id}");
  // Long words without a digit, or with characters outside base64url, stay.
  EXPECT_EQ(folded("/internationalization"), "/internationalization");
  EXPECT_EQ(folded("/a/ABCDEFGHIJKLMNOPQRSTUVWXYZ"), "/a/ABCDEFGHIJKLMNOPQRSTUVWXYZ");
  EXPECT_EQ(folded("/a/token.1234567890abcdefghij"), "/a/token.1234567890abcdefghij");
  // Short mixed tokens are not ids by these rules.
  EXPECT_EQ(folded("/a/abc123"), "/a/abc123");
}

TEST(FoldPath, WordsStay) {
  EXPECT_EQ(folded("/orders"), "/orders");
  EXPECT_EQ(folded("/v2/orders/me"), "/v2/orders/me");
  EXPECT_EQ(folded("/api/v1/users/me/settings"), "/api/v1/users/me/settings");
  EXPECT_EQ(folded("/reports/2024-01-31"), "/reports/2024-01-31");
}

TEST(FoldPath, QueryDropped) {
  EXPECT_EQ(folded("/orders/42?expand=items&id=7"), "/orders/{id}");
  EXPECT_EQ(folded("/orders?"), "/orders");
  EXPECT_EQ(folded("?q=1"), "/");
}

TEST(FoldPath, SlashesKeptAsTheyCame) {
  EXPECT_EQ(folded("/"), "/");
  EXPECT_EQ(folded(""), "/");  // an empty path is "/" (RFC 9110 4.2.3)
  EXPECT_EQ(folded("/orders/42/"), "/orders/{id}/");
  EXPECT_EQ(folded("//orders//42"), "//orders//{id}");
  EXPECT_EQ(folded("/orders///"), "/orders///");
}

TEST(FoldPath, PercentEncodedSegmentsAreComparedAsTheyAre) {
  EXPECT_EQ(folded("/files/%31%32%33"), "/files/%31%32%33");
  EXPECT_EQ(folded("/files/caf%C3%A9"), "/files/caf%C3%A9");
}

TEST(FoldPath, ReusesTheOutput) {
  std::string out;
  fold_path("/a/very/long/path/with/many/segments/1234", out);
  const size_t capacity = out.capacity();
  fold_path("/b/1", out);
  EXPECT_EQ(out, "/b/{id}");
  EXPECT_EQ(out.capacity(), capacity);
}

// ---- OperationMatcher: documents -------------------------------------------------------

constexpr std::string_view kOpenApi30 = R"(
openapi: 3.0.3
info: {title: Orders, version: "1.0"}
servers:
  - url: https://api.example.com/v1/
  - url: https://staging.example.com/other
paths:
  /orders:
    get:
      responses: {"200": {description: ok}}
  /orders/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: ok}}
  /orders/mine:
    get: {responses: {"200": {description: ok}}}
  /orders/{id}/items/{item}:
  x-internal-note: not a path
)";

TEST(OperationMatcher, OpenApi30Yaml) {
  const auto matcher = matcher_of(kOpenApi30);
  ASSERT_NE(matcher, nullptr);
  EXPECT_EQ(matcher->base_path(), "/v1");
  EXPECT_EQ(matcher->size(), 4u);  // x- extensions are not paths
  EXPECT_EQ(matched(*matcher, "/v1/orders"), "/orders");
  EXPECT_EQ(matched(*matcher, "/v1/orders/42"), "/orders/{id}");
  EXPECT_EQ(matched(*matcher, "/v1/orders/mine"), "/orders/mine");
  EXPECT_EQ(matched(*matcher, "/v1/orders/42/items/7"), "/orders/{id}/items/{item}");
  EXPECT_EQ(matched(*matcher, "/v1/customers"), "");
  EXPECT_EQ(matched(*matcher, "/v1/orders/42/items"), "");
  // A template segment needs a non-empty segment.
  EXPECT_EQ(matched(*matcher, "/v1/orders/"), "");
  EXPECT_EQ(matched(*matcher, "/v1/orders//items/7"), "");
  // Only the second server's path: not a base path.
  EXPECT_EQ(matched(*matcher, "/other/orders"), "");
}

TEST(OperationMatcher, RequestsWithoutTheBasePathMatchAsTheyAre) {
  const auto matcher = matcher_of(kOpenApi30);
  ASSERT_NE(matcher, nullptr);
  EXPECT_EQ(matched(*matcher, "/orders/42"), "/orders/{id}");
  // "/v10" is not under "/v1": matched whole, and nothing matches it.
  EXPECT_EQ(matched(*matcher, "/v10/orders"), "");
  EXPECT_EQ(matched(*matcher, "/v1orders"), "");
}

TEST(OperationMatcher, TheQueryIsIgnored) {
  const auto matcher = matcher_of(kOpenApi30);
  ASSERT_NE(matcher, nullptr);
  EXPECT_EQ(matched(*matcher, "/v1/orders?limit=10"), "/orders");
  EXPECT_EQ(matched(*matcher, "/v1/orders/42?fields=a/b"), "/orders/{id}");
}

TEST(OperationMatcher, OpenApi31Json) {
  const auto matcher = matcher_of(R"({
    "openapi": "3.1.0",
    "info": {"title": "Files", "version": "2"},
    "servers": [{"url": "/api"}],
    "webhooks": {"newFile": {"post": {}}},
    "paths": {
      "/": {"get": {"responses": {"200": {"description": "ok"}}}},
      "/files/{name}": {"get": {}},
      "/files/{name}.json": {"get": {}},
      "/files/latest.json": {"get": {}},
      "/files/{name}.tar.gz": {"get": {}},
      "/users/{id}/avatar.{ext}": {"$ref": "#/components/pathItems/avatar"},
      "x-generated-by": "tool"
    }
  })");
  ASSERT_NE(matcher, nullptr);
  EXPECT_EQ(matcher->base_path(), "/api");
  EXPECT_EQ(matcher->size(), 6u);
  EXPECT_EQ(matched(*matcher, "/api/"), "/");
  EXPECT_EQ(matched(*matcher, "/api"), "/");  // the base path itself is the root
  EXPECT_EQ(matched(*matcher, "/"), "/");
  EXPECT_EQ(matched(*matcher, "/api/files/report.json"), "/files/{name}.json");
  EXPECT_EQ(matched(*matcher, "/api/files/latest.json"), "/files/latest.json");
  EXPECT_EQ(matched(*matcher, "/api/files/report.txt"), "/files/{name}");
  EXPECT_EQ(matched(*matcher, "/api/files/backup.tar.gz"), "/files/{name}.tar.gz");
  // The variable part of "{name}.json" cannot be empty; the plain template takes it.
  EXPECT_EQ(matched(*matcher, "/api/files/.json"), "/files/{name}");
  EXPECT_EQ(matched(*matcher, "/api/users/7/avatar.png"), "/users/{id}/avatar.{ext}");
  EXPECT_EQ(matched(*matcher, "/api/users/7/avatar"), "");
}

TEST(OperationMatcher, CompactJsonWithoutSpaces) {
  const auto matcher = matcher_of(R"({"openapi":"3.1.0","paths":{"/a/{b}":{"get":{}},"/c":{}}})");
  ASSERT_NE(matcher, nullptr);
  EXPECT_EQ(matcher->base_path(), "");
  EXPECT_EQ(matched(*matcher, "/a/1"), "/a/{b}");
  EXPECT_EQ(matched(*matcher, "/c"), "/c");
}

TEST(OperationMatcher, Swagger20WithBasePath) {
  const auto matcher = matcher_of(R"(
swagger: "2.0"
info: {title: Pets, version: "1"}
host: petstore.example.com
basePath: /shop/
schemes: [https]
paths:
  /pets:
    get: {responses: {"200": {description: ok}}}
  /pets/{petId}:
    get: {responses: {"200": {description: ok}}}
    parameters: [{name: petId, in: path, required: true, type: string}]
)");
  ASSERT_NE(matcher, nullptr);
  EXPECT_EQ(matcher->base_path(), "/shop");
  EXPECT_EQ(matched(*matcher, "/shop/pets"), "/pets");
  EXPECT_EQ(matched(*matcher, "/shop/pets/rex"), "/pets/{petId}");
  EXPECT_EQ(matched(*matcher, "/pets/rex"), "/pets/{petId}");
}

TEST(OperationMatcher, SwaggerRootBasePathIsNoBasePath) {
  const auto matcher = matcher_of("swagger: '2.0'\nbasePath: /\npaths: {/a: {}}\n");
  ASSERT_NE(matcher, nullptr);
  EXPECT_EQ(matcher->base_path(), "");
  EXPECT_EQ(matched(*matcher, "/a"), "/a");
}

TEST(OperationMatcher, ServerVariablesAtTheirDefaults) {
  const auto matcher = matcher_of(R"(
openapi: 3.0.0
servers:
  - url: "{scheme}://{host}:{port}/{basePath}/"
    variables:
      scheme: {default: https, enum: [https, http]}
      host: {default: api.example.com}
      port: {default: "8443"}
      basePath: {default: v2}
paths:
  /things/{id}: {}
)");
  ASSERT_NE(matcher, nullptr);
  EXPECT_EQ(matcher->base_path(), "/v2");
  EXPECT_EQ(matched(*matcher, "/v2/things/1"), "/things/{id}");
}

TEST(OperationMatcher, ServerUrlsOfEveryShape) {
  const auto base_of = [](std::string_view url) {
    const std::string doc =
        "openapi: 3.0.0\nservers: [{url: '" + std::string(url) + "'}]\npaths: {}\n";
    const auto matcher = matcher_of(doc);
    return matcher == nullptr ? std::string("<error>") : std::string(matcher->base_path());
  };
  EXPECT_EQ(base_of("https://api.example.com"), "");
  EXPECT_EQ(base_of("https://api.example.com/"), "");
  EXPECT_EQ(base_of("https://api.example.com/v1"), "/v1");
  EXPECT_EQ(base_of("http://localhost:8080/api/v1/"), "/api/v1");
  EXPECT_EQ(base_of("https://api.example.com/v1?x=1"), "/v1");
  EXPECT_EQ(base_of("//cdn.example.com/base"), "/base");
  EXPECT_EQ(base_of("/"), "");
  EXPECT_EQ(base_of("/v1"), "/v1");
  EXPECT_EQ(base_of("v1"), "/v1");
}

TEST(OperationMatcher, NoServersNoBasePath) {
  const auto matcher = matcher_of("openapi: 3.0.0\npaths:\n  /a: {}\n");
  ASSERT_NE(matcher, nullptr);
  EXPECT_EQ(matcher->base_path(), "");
  const auto empty_servers = matcher_of("openapi: 3.0.0\nservers: []\npaths:\n  /a: {}\n");
  ASSERT_NE(empty_servers, nullptr);
  EXPECT_EQ(empty_servers->base_path(), "");
}

// ---- OperationMatcher: precedence ---------------------------------------------------------

TEST(OperationMatcher, LiteralBeatsTemplateWhateverTheDocumentOrder) {
  const auto matcher = matcher_of(R"(
openapi: 3.0.0
paths:
  /orders/{id}: {}
  /orders/mine: {}
  /a/{x}/c: {}
  /a/b/{y}: {}
)");
  ASSERT_NE(matcher, nullptr);
  EXPECT_EQ(matched(*matcher, "/orders/mine"), "/orders/mine");
  EXPECT_EQ(matched(*matcher, "/orders/yours"), "/orders/{id}");
  // Both match; the literal at the first position where they differ wins.
  EXPECT_EQ(matched(*matcher, "/a/b/c"), "/a/b/{y}");
  EXPECT_EQ(matched(*matcher, "/a/z/c"), "/a/{x}/c");
}

TEST(OperationMatcher, BacktracksFromALiteralDeadEnd) {
  const auto matcher = matcher_of(R"(
openapi: 3.0.0
paths:
  /a/b/d: {}
  /a/{x}/c: {}
  /files/{name}.json/meta: {}
  /files/{name}/raw: {}
)");
  ASSERT_NE(matcher, nullptr);
  EXPECT_EQ(matched(*matcher, "/a/b/d"), "/a/b/d");
  EXPECT_EQ(matched(*matcher, "/a/b/c"), "/a/{x}/c");
  EXPECT_EQ(matched(*matcher, "/files/x.json/meta"), "/files/{name}.json/meta");
  EXPECT_EQ(matched(*matcher, "/files/x.json/raw"), "/files/{name}/raw");
}

TEST(OperationMatcher, EqualTemplatesKeepTheFirst) {
  const auto matcher = matcher_of(R"(
openapi: 3.0.0
paths:
  /orders/{orderId}: {}
  /orders/{id}: {}
)");
  ASSERT_NE(matcher, nullptr);
  EXPECT_EQ(matcher->size(), 2u);
  EXPECT_EQ(matched(*matcher, "/orders/1"), "/orders/{orderId}");
}

TEST(OperationMatcher, SegmentCountsMustAgree) {
  const auto matcher = matcher_of("openapi: 3.0.0\npaths:\n  /a/{b}: {}\n  /a: {}\n");
  ASSERT_NE(matcher, nullptr);
  EXPECT_EQ(matched(*matcher, "/a/1/2"), "");
  EXPECT_EQ(matched(*matcher, "/a"), "/a");
  EXPECT_EQ(matched(*matcher, "/a/"), "");  // "/a/" is its own path
  EXPECT_EQ(matched(*matcher, ""), "");     // "/": no root template here
}

TEST(OperationMatcher, PercentEncodedRequestSegmentsMatchAsTheyAre) {
  const auto matcher = matcher_of("openapi: 3.0.0\npaths:\n  /caf%C3%A9: {}\n  /x/{n}: {}\n");
  ASSERT_NE(matcher, nullptr);
  EXPECT_EQ(matched(*matcher, "/caf%C3%A9"), "/caf%C3%A9");
  EXPECT_EQ(matched(*matcher, "/x/a%2Fb"), "/x/{n}");
}

TEST(OperationMatcher, EmptyPathsMatchNothing) {
  const auto matcher = matcher_of("openapi: 3.1.0\npaths: {}\n");
  ASSERT_NE(matcher, nullptr);
  EXPECT_EQ(matcher->size(), 0u);
  EXPECT_EQ(matcher->match("/"), nullptr);
  const OperationMatcher empty;
  EXPECT_EQ(empty.match("/anything"), nullptr);
}

TEST(OperationMatcher, ManyTemplatesStayFast) {
  std::string doc = "openapi: 3.0.0\npaths:\n";
  for (int i = 0; i < 2000; ++i) {
    doc += "  /r" + std::to_string(i) + "/{id}/s/{sub}: {}\n";
  }
  const auto matcher = matcher_of(doc);
  ASSERT_NE(matcher, nullptr);
  EXPECT_EQ(matcher->size(), 2000u);
  EXPECT_EQ(matched(*matcher, "/r1999/1/s/2"), "/r1999/{id}/s/{sub}");
  EXPECT_EQ(matched(*matcher, "/r2000/1/s/2"), "");
}

// ---- OperationMatcher: broken documents -------------------------------------------------

TEST(OperationMatcherErrors, NotYaml) {
  const std::string error = error_of("openapi: 3.0.0\npaths: {\"/a\": [1, 2\n");
  EXPECT_NE(error.find("YAML syntax error"), std::string::npos) << error;
  EXPECT_NE(error.find("line"), std::string::npos) << error;
  EXPECT_NE(error_of("{\"openapi\": \"3.1.0\", \"paths\": {\"/a\": {}"), "");
  EXPECT_NE(error_of("\t- a\n  - : b\n- - ]"), "");
}

TEST(OperationMatcherErrors, EmptyInput) {
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
  EXPECT_NE(error_of("  \n# only a comment\n").find("empty"), std::string::npos);
  EXPECT_NE(error_of("---\n...\n").find("empty"), std::string::npos);
}

TEST(OperationMatcherErrors, ScalarOrListDocument) {
  const std::string scalar = error_of("just some text");
  EXPECT_NE(scalar.find("got 'just some text'"), std::string::npos) << scalar;
  const std::string list = error_of("- /orders\n- /orders/{id}\n");
  EXPECT_NE(list.find("got a list"), std::string::npos) << list;
}

TEST(OperationMatcherErrors, PathsMissingOrNotAMapping) {
  EXPECT_NE(error_of("openapi: 3.0.0\ninfo: {title: t}\n").find("no `paths`"), std::string::npos);
  const std::string list = error_of("openapi: 3.0.0\npaths:\n  - /orders\n");
  EXPECT_NE(list.find("paths: expected a mapping of path templates, got a list"), std::string::npos)
      << list;
  EXPECT_NE(error_of("openapi: 3.0.0\npaths:\n").find("got null"), std::string::npos);
  EXPECT_NE(error_of("openapi: 3.0.0\npaths: /orders\n").find("got '/orders'"), std::string::npos);
}

TEST(OperationMatcherErrors, PathKeyWithoutSlash) {
  const std::string error = error_of("openapi: 3.0.0\npaths:\n  /ok: {}\n  orders/{id}: {}\n");
  EXPECT_EQ(error, "line 4: paths: 'orders/{id}' does not start with '/'");
}

TEST(OperationMatcherErrors, EveryBadKeyIsReported) {
  const std::string error =
      error_of("openapi: 3.0.0\npaths:\n  a: {}\n  /b: 7\n  [c]: {}\n  /d: [get]\n");
  EXPECT_NE(error.find("line 3: paths: 'a' does not start with '/'"), std::string::npos) << error;
  EXPECT_NE(error.find("line 4: paths./b: expected a path item (a mapping), got '7'"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("line 5: paths: a key must be a path, got a list"), std::string::npos)
      << error;
  EXPECT_NE(error.find("paths./d: expected a path item (a mapping), got a list"), std::string::npos)
      << error;
}

TEST(OperationMatcherErrors, BadBasePathOrServers) {
  EXPECT_NE(error_of("swagger: '2.0'\nbasePath: [a]\npaths: {}\n").find("basePath"),
            std::string::npos);
  EXPECT_NE(
      error_of("openapi: 3.0.0\nservers: {url: /v1}\npaths: {}\n").find("servers: expected a list"),
      std::string::npos);
  EXPECT_NE(error_of("openapi: 3.0.0\nservers: [/v1]\npaths: {}\n").find("servers[0]"),
            std::string::npos);
  EXPECT_NE(
      error_of("openapi: 3.0.0\nservers: [{description: x}]\npaths: {}\n").find("servers[0].url"),
      std::string::npos);
  const std::string variable =
      error_of("openapi: 3.0.0\nservers: [{url: 'https://{host}/v1'}]\npaths: {}\n");
  EXPECT_NE(variable.find("{host} has no default"), std::string::npos) << variable;
}

TEST(OperationMatcherErrors, TwoDocuments) {
  const std::string error = error_of("openapi: 3.0.0\npaths: {}\n---\nopenapi: 3.0.0\npaths: {}\n");
  EXPECT_NE(error.find("only one YAML document"), std::string::npos) << error;
  // A trailing marker is not a second document.
  EXPECT_EQ(error_of("openapi: 3.0.0\npaths: {}\n---\n"), "");
}

TEST(OperationMatcherErrors, DeepNestingIsRefusedBeforeTheParserRecursesFar) {
  const std::string flow = "openapi: 3.0.0\npaths: " + std::string(100'000, '[');
  EXPECT_NE(error_of(flow).find("nested more than"), std::string::npos);
  std::string block = "openapi: 3.0.0\npaths:\n";
  for (int i = 0; i < 1000; ++i) {
    block += std::string(static_cast<size_t>(2 * i + 2), ' ') + "- a:\n";
  }
  EXPECT_NE(error_of(block).find("nested"), std::string::npos);
  // Generated specs nest a few dozen levels: fine.
  std::string nested = "{\"openapi\": \"3.0.0\", \"paths\": {\"/a\": {\"x\": ";
  for (int i = 0; i < 100; ++i)
    nested += "{\"p\": ";
  nested += "1" + std::string(100, '}') + "}}}";
  EXPECT_EQ(error_of(nested), "");
}

TEST(OperationMatcherErrors, AliasBombsCostNoMoreThanTheirText) {
  std::string doc = "openapi: 3.0.0\nx-a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 12; ++i) {
    doc += "x-a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 9; ++j)
      doc += (j ? ", *a" : "*a") + std::to_string(i - 1);
    doc += "]\n";
  }
  doc += "paths: {/a: *a11, /b: {}}\n";
  const auto started = std::chrono::steady_clock::now();
  const std::string error = error_of(doc);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  // /a's path item is an alias to a list: reported, not expanded.
  EXPECT_NE(error.find("paths./a: expected a path item"), std::string::npos) << error;
}

TEST(OperationMatcherErrors, SelfReferencingAnchor) {
  EXPECT_EQ(error_of("openapi: 3.0.0\npaths: &p {/a: *p}\n"), "");
}

TEST(OperationMatcherErrors, YamlCppEndlessDocuments) {
  // The input that made yaml-cpp 0.7 produce documents without end (see fuzz_config).
  EXPECT_NE(error_of(",- services\n-'mname[*'m"), "");
}

TEST(OperationMatcherErrors, TooManySegments) {
  std::string key;
  for (int i = 0; i < 200; ++i)
    key += "/s";
  EXPECT_NE(error_of("openapi: 3.0.0\npaths: {" + key + ": {}}\n").find("segments"),
            std::string::npos);
}

// ---- from_file -----------------------------------------------------------------------------

TEST(OperationMatcherFile, ReadsAFileAndNamesItInErrors) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("glidepath_operations_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string good = (dir / "good.yaml").string();
  const std::string bad = (dir / "bad.json").string();
  std::ofstream(good) << kOpenApi30;
  std::ofstream(bad) << R"({"openapi": "3.1.0"})";

  const auto matcher = OperationMatcher::from_file(good);
  ASSERT_TRUE(matcher.ok()) << matcher.error().message;
  EXPECT_EQ(matched(**matcher, "/v1/orders/mine"), "/orders/mine");

  const auto broken = OperationMatcher::from_file(bad);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().message.rfind(bad + ": ", 0), 0u) << broken.error().message;

  const auto missing = OperationMatcher::from_file((dir / "missing.yaml").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("missing.yaml: cannot read"), std::string::npos);
  std::filesystem::remove_all(dir);
}

// ---- operation_of ------------------------------------------------------------------------

TEST(OperationOf, TheTemplateWhenTheDocumentHasOne) {
  const auto matcher = matcher_of(kOpenApi30);
  ASSERT_NE(matcher, nullptr);
  std::string scratch;
  std::string out = "stale";
  operation_of("GET", "/v1/orders/42?expand=items", matcher.get(), scratch, out);
  EXPECT_EQ(out, "GET /orders/{id}");
  operation_of("DELETE", "/v1/orders/mine", matcher.get(), scratch, out);
  EXPECT_EQ(out, "DELETE /orders/mine");
}

TEST(OperationOf, TheFoldedPathOtherwise) {
  const auto matcher = matcher_of(kOpenApi30);
  ASSERT_NE(matcher, nullptr);
  std::string scratch;
  std::string out;
  operation_of("POST", "/v1/customers/42/notes?x=1", matcher.get(), scratch, out);
  EXPECT_EQ(out, "POST /v1/customers/{id}/notes");
  operation_of("GET", "/orders/123/items/5f0c5f0c5f0c5f0c5f0c", nullptr, scratch, out);
  EXPECT_EQ(out, "GET /orders/{id}/items/{id}");
  operation_of("brew", "/pot/1", nullptr, scratch, out);
  EXPECT_EQ(out, "OTHER /pot/{id}");
  operation_of("GET", "", nullptr, scratch, out);
  EXPECT_EQ(out, "GET /");
}

}  // namespace
}  // namespace glidepath::access
