// The contract gate and `glidepath impact` through the real binary (SPEC section 6): a
// breaking change that a consumer with a key has called stops the deployment in
// checking_contract with the consumer named; --allow-breaking lets it go on and says so;
// `glidepath impact` shows the same join and exits 1 when the gate would block.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/access_harness.h"
#include "support/process.h"

namespace glidepath::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// v1 returns {id, total}; v2 drops `total` (breaking for whoever reads it) and renames the
// path parameter (no change).
std::string spec(bool with_total) {
  return std::string(
             "openapi: 3.0.3\n"
             "info: {title: Orders, version: '") +
         (with_total ? "1" : "2") +
         "'}\n"
         "paths:\n"
         "  /orders/{" +
         (with_total ? "id" : "orderId") +
         "}:\n"
         "    get:\n"
         "      responses:\n"
         "        '200':\n"
         "          description: one order\n"
         "          content:\n"
         "            application/json:\n"
         "              schema:\n"
         "                type: object\n"
         "                required: [id" +
         (with_total ? ", total" : "") +
         "]\n"
         "                properties:\n"
         "                  id: {type: string}\n" +
         (with_total ? "                  total: {type: number}\n" : "") +
         "  /orders:\n"
         "    get:\n"
         "      responses: {'200': {description: the orders}}\n";
}

class ContractGate : public ::testing::Test {
 protected:
  void SetUp() override {
    AccessServerOptions options;
    options.files = {{"orders-v1.yaml", spec(true)},
                     {"orders-v2.yaml", spec(false)},
                     {"orders-v1-again.yaml", spec(true)}};
    server_ = std::make_unique<AccessServer>(
        service_yaml("orders", "/orders", {{"v1", v1_.address(), "orders-v1.yaml"}},
                     "    api_keys: required\n"),
        options);
    acme_ = create_key(*server_, "acme", {{"contact", "api@acme.example"}});
    ASSERT_FALSE(acme_.key.empty());
    HttpClient client = server_->client();
    for (int i = 0; i < 5; ++i) {
      ASSERT_EQ(client.request("GET", "/orders/" + std::to_string(i), key_header(acme_.key)).status,
                200);
    }
    wait_for_usage(*server_, "acme", 5);
  }

  std::string path(const std::string& name) const { return server_->dir().path() + "/" + name; }

  Json deploy(bool allow_breaking) {
    const AdminReply created =
        server_->post("/v1/services/orders/deployments",
                      Json{{"version", "v2"},
                           {"upstreams", Json::array({v2_.address()})},
                           {"spec", path("orders-v2.yaml")},
                           {"steps", Json::array({{{"weight", 10}}, {{"pause", {}}}})},
                           {"allow_breaking", allow_breaking}});
    EXPECT_EQ(created.status, 201) << created.body;
    return created.json;
  }

  SampleBackend v1_{"v1"};
  SampleBackend v2_{"v2"};
  std::unique_ptr<AccessServer> server_;
  ApiKey acme_;
};

TEST_F(ContractGate, ABreakingChangeSomeoneCallsStopsTheDeploymentAndNamesThem) {
  const Json created = deploy(false);
  const std::string id = created.value("id", "");
  ASSERT_FALSE(id.empty());
  const Json done = wait_for_deployment(
      *server_, id, [](const Json& d) { return d.value("state", "") == "failed"; }, 10s,
      "the gate to stop the deployment");
  const std::string reason = done.value("reason", "");
  EXPECT_THAT(reason, HasSubstr("response-property-removed"));
  EXPECT_THAT(reason, HasSubstr("acme"));
  EXPECT_THAT(reason, HasSubstr("new major version"));
  EXPECT_EQ(done.value("canary_weight", -1), 0);
  // No request reached v2.
  HttpClient client = server_->client();
  for (int i = 0; i < 20; ++i) {
    const HttpResponse r = client.request("GET", "/orders/7", key_header(acme_.key));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.header("x-glidepath-version"), "v1");
  }
}

TEST_F(ContractGate, AllowBreakingGoesOnAndIsRecorded) {
  const std::string id = deploy(true).value("id", "");
  ASSERT_FALSE(id.empty());
  const Json shifting = wait_for_deployment(
      *server_, id,
      [](const Json& d) {
        return d.value("state", "") == "paused" || d.value("canary_weight", 0) == 10;
      },
      10s, "the deployment to shift");
  bool recorded = false;
  for (const Json& e : shifting.value("events", Json::array())) {
    recorded = recorded || (e.value("type", "") == "contract" &&
                            e.value("message", "").find("--allow-breaking") != std::string::npos);
  }
  EXPECT_TRUE(recorded) << shifting.dump(2);
}

TEST_F(ContractGate, ImpactShowsWhoWouldBeHitAndExitsOneWhenTheGateWouldBlock) {
  const ProcessResult breaking =
      run_process({glidepath_binary(), "impact", "orders", "--spec", path("orders-v2.yaml"),
                   "--admin", server_->admin_url()});
  EXPECT_EQ(breaking.exit_code, 1) << breaking.out << breaking.err;
  EXPECT_THAT(breaking.out, HasSubstr("GET /orders/{orderId}"));
  EXPECT_THAT(breaking.out, HasSubstr("acme"));
  EXPECT_THAT(breaking.out, HasSubstr("api@acme.example"));

  const ProcessResult json =
      run_process({glidepath_binary(), "impact", "orders", "--spec", path("orders-v2.yaml"),
                   "--admin", server_->admin_url(), "--json"});
  const Json report = Json::parse(json.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << json.out;
  EXPECT_EQ(report["summary"]["affected_consumers"], 1);
  EXPECT_EQ(report["gate"]["verdict"], "block");
  EXPECT_EQ(report["breaking"][0]["consumers"][0]["requests"], 5);

  const ProcessResult same =
      run_process({glidepath_binary(), "impact", "orders", "--spec", path("orders-v1-again.yaml"),
                   "--admin", server_->admin_url()});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  EXPECT_THAT(same.out, HasSubstr("0 breaking"));

  const ProcessResult missing = run_process({glidepath_binary(), "impact", "orders", "--spec",
                                             path("nope.yaml"), "--admin", server_->admin_url()});
  EXPECT_EQ(missing.exit_code, 2);
}

TEST_F(ContractGate, AVersionTheCliCreatedGetsItsDocumentWithAttachSpec) {
  // v2 deployed with --upstream and no --spec: nothing to check against once it is live.
  const AdminReply created = server_->post("/v1/services/orders/deployments",
                                           Json{{"version", "v2"},
                                                {"upstreams", Json::array({v2_.address()})},
                                                {"strategy", "AllAtOnce"}});
  ASSERT_EQ(created.status, 201) << created.body;
  wait_for_deployment(
      *server_, created.json.value("id", ""),
      [](const Json& d) { return d.value("state", "") == "succeeded"; }, 10s, "v2 to go live");
  const ProcessResult before =
      run_process({glidepath_binary(), "impact", "orders", "--spec", path("orders-v1-again.yaml"),
                   "--admin", server_->admin_url()});
  EXPECT_NE(before.exit_code, 0);
  EXPECT_THAT(before.out + before.err, HasSubstr("glidepath attach-spec orders --version v2"));

  const ProcessResult attached =
      run_process({glidepath_binary(), "attach-spec", "orders", "--version", "v2", "--spec",
                   path("orders-v2.yaml"), "--admin", server_->admin_url()});
  ASSERT_EQ(attached.exit_code, 0) << attached.out << attached.err;
  EXPECT_THAT(attached.out, HasSubstr("orders v2: spec " + path("orders-v2.yaml")));
  const ProcessResult after =
      run_process({glidepath_binary(), "impact", "orders", "--spec", path("orders-v1-again.yaml"),
                   "--admin", server_->admin_url()});
  EXPECT_EQ(after.exit_code, 0) << after.out << after.err;
  EXPECT_THAT(after.out, HasSubstr("0 breaking"));

  // What it refuses, and why.
  const auto put = [&](const std::string& version, const Json& body) {
    return server_->admin("PUT", "/v1/services/orders/versions/" + version + "/spec", body.dump());
  };
  AdminReply r = put("v1", {{"spec", path("orders-v1.yaml")}});
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_THAT(r.json.value("error", ""), HasSubstr("set its `spec:` there"));
  r = put("v9", {{"spec", path("orders-v1.yaml")}});
  EXPECT_EQ(r.status, 404) << r.body;
  r = put("v2", {{"spec", path("missing.yaml")}});
  EXPECT_EQ(r.status, 400) << r.body;
  r = put("v2", {{"spec", "orders-v2.yaml"}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_THAT(r.json.value("error", ""), HasSubstr("absolute path"));
  r = put("v2", Json::object());
  EXPECT_EQ(r.status, 400) << r.body;
  r = server_->admin("POST", "/v1/services/orders/versions/v2/spec", "{}");
  EXPECT_EQ(r.status, 405) << r.body;
}

}  // namespace
}  // namespace glidepath::testing
