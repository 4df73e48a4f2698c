// Each kind of strategy through the real binary (SPEC section 3), under a steady load:
// a healthy canary succeeds without one failed request, a failing one is rolled back by
// the default alarm, and AllAtOnce, Linear and BlueGreen take the steps their names say.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "deployment_harness.h"

namespace glidepath::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// Weights the deployment went through, from its "weight" events ("0% → 20% of ...").
std::vector<int> weights_of(const Json& d) {
  std::vector<int> weights;
  for (const Json& e : d["events"]) {
    if (e.value("type", "") != "weight") continue;
    const std::string message = e.value("message", "");
    const size_t arrow = message.find("→ ");
    if (arrow == std::string::npos) continue;
    weights.push_back(std::stoi(message.substr(arrow + std::string("→ ").size())));
  }
  return weights;
}

void expect_no_failures(const SteadyLoad::Counts& counts) {
  EXPECT_EQ(counts.failed, 0u) << "failed requests, first ones: "
                               << ::testing::PrintToString(counts.failures);
}

TEST(DeploymentStrategies, AHealthyCanaryUnderLoadSucceedsWithoutOneFailedRequest) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  ServeProcess serve(one_service(v1.address()));
  SteadyLoad load(serve.port());
  ASSERT_TRUE(load.wait_for_answers(50));

  const Json created = start_deployment(
      serve, "orders",
      {{"version", "v2"},
       {"upstreams", {v2.address()}},
       {"steps", Json::array({{{"weight", 20}}, {{"pause", "2s"}}, {{"weight", 100}}})}});
  ASSERT_TRUE(created.is_object());
  const std::string id = created["id"];
  EXPECT_THAT(id, ::testing::StartsWith("dep_"));
  EXPECT_EQ(created["service"], "orders");
  EXPECT_EQ(created["from_version"], "v1");
  EXPECT_EQ(created["to_version"], "v2");

  // While at 20%, both versions answer.
  const Json at_twenty = wait_for(
      serve, id, [](const Json& d) { return d["canary_weight"] == 20 || is_finished(d); }, 10s,
      "20% on v2");
  EXPECT_EQ(at_twenty["canary_weight"], 20) << event_log(at_twenty);
  const Json done = wait_until_finished(serve, id);
  ASSERT_EQ(done["state"], "succeeded") << event_log(done);
  EXPECT_EQ(done["canary_weight"], 100);
  EXPECT_EQ(weights_of(done), (std::vector<int>{20, 100}));
  EXPECT_TRUE(done["finished_at"].is_string());
  EXPECT_TRUE(done["reason"].is_null());

  // Afterwards every request goes to v2.
  const auto before = load.counts();
  ASSERT_TRUE(load.wait_for_answers(100));
  const auto after = load.counts();
  load.stop();
  EXPECT_EQ(
      after.by_version.at("v2") - (before.by_version.count("v2") ? before.by_version.at("v2") : 0),
      after.ok - before.ok);
  EXPECT_GT(after.by_version.at("v1"), 0u);
  expect_no_failures(after);

  const AdminReply service = serve.get("/v1/services/orders");
  ASSERT_EQ(service.status, 200) << service.body;
  EXPECT_EQ(service.json["live"], "v2");
  EXPECT_TRUE(service.json["deployment"].is_null());
  for (const Json& v : service.json["versions"]) {
    EXPECT_EQ(v["weight"], v["name"] == "v2" ? 100.0 : 0.0) << v;
  }
}

TEST(DeploymentStrategies, AFailingCanaryIsRolledBackByTheDefaultAlarm) {
  SampleBackend v1("v1");
  SampleBackend v2("v2", {"--error-rate", "1.0"});
  ServeProcess serve(one_service(v1.address()));
  SteadyLoad load(serve.port());
  ASSERT_TRUE(load.wait_for_answers(50));

  const Json created = start_deployment(
      serve, "orders",
      {{"version", "v2"},
       {"upstreams", {v2.address()}},
       {"steps", Json::array({{{"weight", 30}}, {{"pause", "60s"}}, {{"weight", 100}}})}});
  const std::string id = created["id"];
  const auto started = std::chrono::steady_clock::now();
  const Json done = wait_until_finished(serve, id, 20s);
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_EQ(done["state"], "rolled_back") << event_log(done);
  EXPECT_EQ(done["canary_weight"], 0);
  EXPECT_THAT(done.value("reason", ""), HasSubstr("canary-errors"));
  ASSERT_FALSE(done["alarms"].empty());
  EXPECT_EQ(done["alarms"][0]["name"], "canary-errors");
  EXPECT_EQ(done["alarms"][0]["state"], "alarm");
  EXPECT_TRUE(has_event(done, "alarm", "canary-errors"));
  // SPEC section 3: detection plus rollback take at most a few seconds.
  EXPECT_LT(took, 10s);

  // From now on v1 answers everything, and nothing fails.
  ASSERT_TRUE(load.wait_for_answers(20));  // requests in flight at the switch are done
  const auto before = load.counts();
  ASSERT_TRUE(load.wait_for_answers(100));
  const auto after = load.counts();
  load.stop();
  EXPECT_EQ(after.failed, before.failed) << ::testing::PrintToString(after.failures);
  EXPECT_EQ(after.by_version.at("v1") - before.by_version.at("v1"), after.ok - before.ok);
  EXPECT_GT(before.failed, 0u);  // the canary's 500s were real

  const AdminReply service = serve.get("/v1/services/orders");
  EXPECT_EQ(service.json["live"], "v1");
  EXPECT_TRUE(service.json["deployment"].is_null());
}

TEST(DeploymentStrategies, AllAtOnceSwitchesEverythingInOneStep) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  ServeProcess serve(one_service(v1.address()));
  SteadyLoad load(serve.port());
  ASSERT_TRUE(load.wait_for_answers(30));
  const Json created = start_deployment(
      serve, "orders",
      {{"version", "v2"}, {"upstreams", {v2.address()}}, {"strategy", "AllAtOnce"}});
  EXPECT_EQ(created["strategy"], "AllAtOnce");
  const Json done = wait_until_finished(serve, created["id"], 15s);
  ASSERT_EQ(done["state"], "succeeded") << event_log(done);
  EXPECT_EQ(weights_of(done), (std::vector<int>{100}));
  ASSERT_TRUE(load.wait_for_answers(30));
  load.stop();
  expect_no_failures(load.counts());
  EXPECT_GT(load.counts().by_version.at("v2"), 0u);
}

TEST(DeploymentStrategies, LinearAddsItsIncrementEveryInterval) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  ServeProcess serve(one_service(v1.address()));
  SteadyLoad load(serve.port());
  const Json created = start_deployment(serve, "orders",
                                        {{"version", "v2"},
                                         {"upstreams", {v2.address()}},
                                         {"strategy", "Linear50PercentEvery2Seconds"}});
  const std::string id = created["id"];
  const Json half = wait_for(
      serve, id, [](const Json& d) { return d["canary_weight"] == 50 || is_finished(d); }, 10s,
      "50%");
  EXPECT_EQ(half["canary_weight"], 50);
  const auto at_half = std::chrono::steady_clock::now();
  const Json done = wait_until_finished(serve, id);
  ASSERT_EQ(done["state"], "succeeded") << event_log(done);
  EXPECT_EQ(weights_of(done), (std::vector<int>{50, 100}));
  // The step after 50% waits its interval (less the polling granularity).
  EXPECT_GE(std::chrono::steady_clock::now() - at_half, 1500ms);
  load.stop();
  expect_no_failures(load.counts());
}

TEST(DeploymentStrategies, BlueGreenSwitchesAtOnceAndKeepsTheOldVersionWarm) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  ServeProcess serve(one_service(v1.address(), "      keep_previous_warm: 2s\n"));
  SteadyLoad load(serve.port());
  ASSERT_TRUE(load.wait_for_answers(30));
  const Json created = start_deployment(
      serve, "orders",
      {{"version", "v2"}, {"upstreams", {v2.address()}}, {"strategy", "BlueGreen"}});
  const std::string id = created["id"];
  const Json warm = wait_for_state(serve, id, "keeping_warm", 10s);
  EXPECT_EQ(warm["canary_weight"], 100);
  EXPECT_TRUE(warm["warm_until"].is_string());
  // The old version is still routable (for an instant rollback) while warm.
  const AdminReply service = serve.get("/v1/services/orders");
  bool v1_listed = false;
  for (const Json& v : service.json["versions"])
    v1_listed = v1_listed || v["name"] == "v1";
  EXPECT_TRUE(v1_listed) << service.body;

  const Json done = wait_until_finished(serve, id, 15s);
  ASSERT_EQ(done["state"], "succeeded") << event_log(done);
  EXPECT_EQ(weights_of(done), (std::vector<int>{100}));
  EXPECT_TRUE(has_event(done, "keep_warm"));
  ASSERT_TRUE(load.wait_for_answers(30));
  load.stop();
  expect_no_failures(load.counts());
}

}  // namespace
}  // namespace glidepath::testing
