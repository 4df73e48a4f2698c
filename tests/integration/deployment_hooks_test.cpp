// The owner's validation hooks (SPEC sections 2 and 4) through the real binary: a command
// hook that fails, one that outlives its timeout, and an asynchronous HTTP hook (202)
// whose result arrives later through the admin API.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "deployment_harness.h"

namespace glidepath::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

Json all_at_once(const SampleBackend& v2, Json hooks) {
  return Json{{"version", "v2"},
              {"upstreams", {v2.address()}},
              {"strategy", "AllAtOnce"},
              {"hooks", std::move(hooks)}};
}

TEST(DeploymentHooks, AFailingPreTrafficCommandStopsTheDeploymentBeforeAnyTraffic) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  ServeProcess serve(one_service(v1.address()));
  SteadyLoad load(serve.port());
  const Json created = start_deployment(
      serve, "orders", all_at_once(v2, {{"pre_traffic", {{"command", {"false"}}}}}));
  const Json done = wait_until_finished(serve, created["id"], 15s);
  ASSERT_EQ(done["state"], "failed") << event_log(done);
  EXPECT_EQ(done["canary_weight"], 0);
  EXPECT_THAT(done.value("reason", ""), HasSubstr("pre_traffic"));
  EXPECT_EQ(done["hooks"]["pre_traffic"]["status"], "failed");
  EXPECT_TRUE(has_event(done, "hook", "failed"));
  ASSERT_TRUE(load.wait_for_answers(20));
  load.stop();
  const auto counts = load.counts();
  EXPECT_EQ(counts.failed, 0u) << ::testing::PrintToString(counts.failures);
  EXPECT_EQ(counts.by_version.count("v2"), 0u);  // never saw public traffic
  EXPECT_EQ(serve.get("/v1/services/orders").json["live"], "v1");
}

TEST(DeploymentHooks, AHookThatOutlivesItsTimeoutFails) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  ServeProcess serve(one_service(v1.address()));
  const auto started = std::chrono::steady_clock::now();
  const Json created = start_deployment(
      serve, "orders",
      all_at_once(v2, {{"pre_traffic", {{"command", {"sleep", "5"}}, {"timeout", "1s"}}}}));
  const Json done = wait_until_finished(serve, created["id"], 15s);
  ASSERT_EQ(done["state"], "failed") << event_log(done);
  EXPECT_THAT(done.value("reason", ""), HasSubstr("pre_traffic"));
  EXPECT_THAT(done["hooks"]["pre_traffic"].value("message", ""), HasSubstr("timed out"));
  // Stopped at its timeout, not when the command would have ended.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4500ms);
}

TEST(DeploymentHooks, AFailingPostTrafficHookRollsBack) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  ServeProcess serve(one_service(v1.address()));
  const Json created = start_deployment(
      serve, "orders", all_at_once(v2, {{"post_traffic", {{"command", {"sh", "-c", "exit 3"}}}}}));
  const Json done = wait_until_finished(serve, created["id"], 15s);
  ASSERT_EQ(done["state"], "rolled_back") << event_log(done);
  EXPECT_EQ(done["canary_weight"], 0);
  EXPECT_THAT(done.value("reason", ""), HasSubstr("post_traffic"));
  EXPECT_EQ(serve.get("/v1/services/orders").json["live"], "v1");
}

TEST(DeploymentHooks, AnAsynchronousHttpHookWaitsForItsResult) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  HookEndpoint endpoint(202);
  ServeProcess serve(one_service(v1.address()));
  const Json created = start_deployment(
      serve, "orders",
      all_at_once(v2,
                  {{"pre_traffic", {{"http", endpoint.url("/validate")}, {"timeout", "60s"}}}}));
  const std::string id = created["id"];
  ASSERT_TRUE(endpoint.wait_for_requests(1));
  const std::string call = endpoint.requests().front();
  EXPECT_THAT(call, ::testing::StartsWith("POST /validate"));
  EXPECT_THAT(call, HasSubstr(id));

  // 202 means running: the deployment waits in pre_traffic, weight 0.
  const Json waiting = wait_for_state(serve, id, "pre_traffic", 5s);
  EXPECT_EQ(waiting["hooks"]["pre_traffic"]["status"], "running");
  EXPECT_EQ(waiting["canary_weight"], 0);

  const AdminReply r = serve.post("/v1/deployments/" + id + "/hooks/pre_traffic",
                                  {{"status", "succeeded"}, {"message", "all 12 checks passed"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json, Json({{"ok", true}}));
  const Json done = wait_until_finished(serve, id, 15s);
  ASSERT_EQ(done["state"], "succeeded") << event_log(done);
  EXPECT_EQ(done["hooks"]["pre_traffic"]["status"], "succeeded");
  EXPECT_TRUE(has_event(done, "hook", "succeeded"));
}

// SPEC section 4: with `preview: anyone`, any caller may pin the version a deployment
// brings, from the moment the deployment exists: a blue/green version is tested through
// the preview header while the pre-traffic hook still runs, by callers without the
// deployment's preview token as much as by the hook.
TEST(DeploymentHooks, AnyoneMayPinTheNewVersionDuringPreTrafficWhenPreviewIsOpen) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  HookEndpoint endpoint(202);
  ServeProcess serve(one_service(v1.address()) + "    preview: anyone\n");
  const Json created = start_deployment(
      serve, "orders",
      {{"version", "v2"},
       {"upstreams", {v2.address()}},
       {"strategy", "BlueGreen"},
       {"hooks", {{"pre_traffic", {{"http", endpoint.url("/validate")}, {"timeout", "60s"}}}}}});
  const std::string id = created["id"];
  const Json waiting = wait_for_state(serve, id, "pre_traffic", 5s);
  EXPECT_EQ(waiting["canary_weight"], 0);

  HttpClient client("127.0.0.1", serve.port());
  const HttpResponse pinned = client.request("GET", "/orders/1", {{"X-Glidepath-Version", "v2"}});
  ASSERT_TRUE(pinned.ok()) << pinned.error;
  EXPECT_EQ(pinned.status, 200) << pinned.body;
  EXPECT_EQ(pinned.header("X-Glidepath-Version"), "v2");
  // Public traffic still goes to v1 only.
  const HttpResponse plain = client.request("GET", "/orders/1");
  EXPECT_EQ(plain.status, 200) << plain.body;
  EXPECT_EQ(plain.header("X-Glidepath-Version"), "v1");

  const AdminReply r =
      serve.post("/v1/deployments/" + id + "/abort", {{"reason", "preview checked"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(wait_until_finished(serve, id, 10s)["state"], "failed");
}

TEST(DeploymentHooks, AnAsynchronousHookCanReportFailure) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  HookEndpoint endpoint(202);
  ServeProcess serve(one_service(v1.address()));
  const Json created = start_deployment(
      serve, "orders", all_at_once(v2, {{"pre_traffic", {{"http", endpoint.url()}}}}));
  const std::string id = created["id"];
  ASSERT_TRUE(endpoint.wait_for_requests(1));
  wait_for_state(serve, id, "pre_traffic", 5s);
  // The wrong hook is refused: post_traffic is not running.
  AdminReply wrong =
      serve.post("/v1/deployments/" + id + "/hooks/post_traffic", {{"status", "succeeded"}});
  EXPECT_GE(wrong.status, 400) << wrong.body;
  EXPECT_LT(wrong.status, 500) << wrong.body;

  const AdminReply r = serve.post("/v1/deployments/" + id + "/hooks/pre_traffic",
                                  {{"status", "failed"}, {"message", "checkout broken"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const Json done = wait_until_finished(serve, id, 15s);
  ASSERT_EQ(done["state"], "failed") << event_log(done);
  EXPECT_THAT(done.value("reason", ""), HasSubstr("checkout broken"));
}

}  // namespace
}  // namespace glidepath::testing
