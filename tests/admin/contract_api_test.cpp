// POST /v1/contract/diff in process (SPEC section 7): two documents' text in, the JSON
// report of docs/contract.md out; 400 with {"error"} naming the field or the document for
// every bad input, and refs to other files refused rather than read.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "admin/admin_api.h"
#include "admin/contract_requests.h"
#include "store/sqlite/sqlite_store.h"

namespace glidepath::admin {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr const char* kBase = R"(openapi: 3.0.3
info: {title: Orders, version: "1.0"}
paths:
  /orders/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: the order
          content:
            application/json:
              schema:
                type: object
                required: [id, total]
                properties:
                  id: {type: string}
                  total: {type: number}
  /orders:
    delete:
      responses:
        "204": {description: gone}
)";

// The order lost `total`, DELETE /orders is gone, GET /health is new.
constexpr const char* kRevision = R"(openapi: 3.0.3
info: {title: Orders, version: "2.0"}
paths:
  /orders/{orderId}:
    get:
      parameters:
        - {name: orderId, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: the order
          content:
            application/json:
              schema:
                type: object
                required: [id]
                properties:
                  id: {type: string}
  /health:
    get:
      responses:
        "200": {description: ok}
)";

class ContractApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::open_sqlite_store(":memory:");
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    AdminDeps deps;
    deps.snapshot = [] { return std::shared_ptr<const gateway::Snapshot>(); };
    deps.gateway_stats = [] { return gateway::GatewayStats{}; };
    deps.store = store_.get();
    deps.clock = &clock_;
    api_ = std::make_unique<AdminApi>(std::move(deps));
  }

  Response call(const std::string& method, const std::string& body) {
    Request r;
    r.method = method;
    r.target = "/v1/contract/diff";
    r.path = r.target;
    r.body = body;
    return api_->handle(r);
  }

  // The error of a 400 answer to `body`.
  std::string bad_request(const std::string& body) {
    const Response r = call("POST", body);
    EXPECT_EQ(r.status, 400) << r.body;
    const json j = json::parse(r.body, nullptr, false);
    EXPECT_TRUE(j.is_object() && j.contains("error") && j["error"].is_string()) << r.body;
    return j.value("error", "");
  }

  std::unique_ptr<store::Store> store_;
  core::ManualClock clock_{core::TimePoint(std::chrono::hours(24 * 365 * 56))};
  std::unique_ptr<AdminApi> api_;
};

TEST_F(ContractApiTest, AnswersTheJsonReport) {
  const Response r = call("POST", json{{"base", kBase}, {"revision", kRevision}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  const json report = json::parse(r.body);
  EXPECT_EQ(report["base"], "Orders 1.0");
  EXPECT_EQ(report["revision"], "Orders 2.0");
  ASSERT_TRUE(report["summary"].is_object());
  EXPECT_GE(report["summary"]["breaking"].get<int>(), 1);
  EXPECT_TRUE(report["summary"]["warning"].is_number_unsigned());
  EXPECT_TRUE(report["summary"]["info"].is_number_unsigned());
  ASSERT_TRUE(report["changes"].is_array());
  bool removed = false;
  for (const json& change : report["changes"]) {
    for (const char* key : {"level", "rule", "operation", "method", "path", "message"}) {
      EXPECT_TRUE(change[key].is_string()) << key << " in " << change.dump();
    }
    EXPECT_TRUE(change["location"].is_object());
    if (change["rule"] == "operation-removed" && change["operation"] == "DELETE /orders") {
      removed = true;
      EXPECT_EQ(change["level"], "breaking");
    }
  }
  EXPECT_TRUE(removed) << r.body;
}

TEST_F(ContractApiTest, IdenticalDocumentsHaveNoChanges) {
  const Response r = call("POST", json{{"base", kBase}, {"revision", kBase}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const json report = json::parse(r.body);
  EXPECT_EQ(report["changes"], json::array());
  EXPECT_EQ(report["summary"], json({{"breaking", 0}, {"warning", 0}, {"info", 0}}));
}

TEST_F(ContractApiTest, TakesAJsonDocumentAsAnObjectOrAsText) {
  const json document = {
      {"openapi", "3.0.3"},
      {"info", {{"title", "T"}, {"version", "1"}}},
      {"paths", {{"/a", {{"get", {{"responses", {{"200", {{"description", "ok"}}}}}}}}}}}};
  const Response r = call("POST", json{{"base", document}, {"revision", document.dump()}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["changes"], json::array());
}

TEST_F(ContractApiTest, BadBodiesAre400WithTheField) {
  EXPECT_THAT(bad_request(""), StartsWith("body: "));
  EXPECT_THAT(bad_request("{not json"), HasSubstr("not valid JSON"));
  EXPECT_THAT(bad_request("[1]"), StartsWith("body: "));
  EXPECT_THAT(bad_request(json{{"revision", kRevision}}.dump()), StartsWith("base: required"));
  EXPECT_THAT(bad_request(json{{"base", kBase}}.dump()), StartsWith("revision: required"));
  EXPECT_THAT(bad_request(json{{"base", kBase}, {"revision", 3}}.dump()),
              StartsWith("revision: must be"));
  EXPECT_THAT(bad_request(json{{"base", kBase}, {"revision", kRevision}, {"bsae", ""}}.dump()),
              HasSubstr("unknown field"));
  EXPECT_THAT(
      bad_request(json{{"base_path", "/etc/passwd"}, {"revision_path", "/etc/passwd"}}.dump()),
      HasSubstr("base_path: unknown field"));
}

TEST_F(ContractApiTest, UnloadableDocumentsSayWhichOne) {
  EXPECT_THAT(
      bad_request(
          json{{"base", "openapi: 3.0.0\npaths: {\n  /a: [\n"}, {"revision", kRevision}}.dump()),
      StartsWith("base: "));
  const std::string revision_error =
      bad_request(json{{"base", kBase}, {"revision", "info: {title: t}\npaths: {}\n"}}.dump());
  EXPECT_THAT(revision_error, StartsWith("revision: "));
  EXPECT_THAT(revision_error, HasSubstr("not an OpenAPI document"));
  // Where in the document: the loader's pointer and line.
  const std::string located = bad_request(json{
      {"base", kBase},
      {"revision", "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get: 3\n"}}
                                              .dump());
  EXPECT_THAT(located, StartsWith("revision: "));
  EXPECT_THAT(located, HasSubstr("line 5"));
}

TEST_F(ContractApiTest, RefsToOtherFilesAreRefusedNotRead) {
  const std::string document = R"(openapi: 3.0.3
info: {title: T, version: "1"}
paths:
  /a:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "../../../../etc/passwd#/x"}
)";
  const std::string error = bad_request(json{{"base", kBase}, {"revision", document}}.dump());
  EXPECT_THAT(error, StartsWith("revision: "));
  EXPECT_THAT(error, HasSubstr("refs to other files are refused by the admin API"));
  EXPECT_THAT(error, Not(HasSubstr("root:")));

  const std::string remote = R"(openapi: 3.0.3
info: {title: T, version: "1"}
paths:
  /a:
    get:
      responses:
        "200": {$ref: "https://example.com/r.yaml#/x"}
)";
  EXPECT_THAT(bad_request(json{{"base", remote}, {"revision", kRevision}}.dump()),
              StartsWith("base: "));
}

TEST_F(ContractApiTest, OnlyPost) {
  const Response r = call("GET", "");
  EXPECT_EQ(r.status, 405);
  bool allow = false;
  for (const auto& [name, value] : r.headers)
    allow = allow || (name == "Allow" && value == "POST");
  EXPECT_TRUE(allow);
}

TEST(ContractDiffRequest, ParsesBothDocuments) {
  auto parsed = parse_contract_diff_request(R"({"base": "a", "revision": "b"})");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->base, "a");
  EXPECT_EQ(parsed->revision, "b");
  EXPECT_FALSE(parse_contract_diff_request(R"({"base": null, "revision": "b"})").ok());
}

}  // namespace
}  // namespace glidepath::admin
