// A deployment survives its process (SPEC section 3): `glidepath serve` is killed with
// SIGKILL in the middle of a deployment, started again with the same config and SQLite
// file, and the deployment carries on from where it was.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "deployment_harness.h"

namespace glidepath::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Whether an event from `from_index` on mentions the restart.
bool log_mentions_restart(const Json& d, size_t from_index) {
  const Json& events = d["events"];
  for (size_t i = from_index; i < events.size(); ++i) {
    const std::string text =
        lower(events[i].value("type", "") + " " + events[i].value("message", ""));
    if (text.find("restart") != std::string::npos || text.find("resum") != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST(DeploymentRestart, AKilledServerResumesTheDeploymentWhereItWas) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  ServeProcess serve(one_service(v1.address()));
  const Json created = start_deployment(
      serve, "orders",
      {{"version", "v2"},
       {"upstreams", {v2.address()}},
       {"steps", Json::array({{{"weight", 30}}, {{"pause", Json::object()}}, {{"weight", 100}}})}});
  const std::string id = created["id"];
  const Json before = wait_for(
      serve, id, [](const Json& d) { return d["canary_weight"] == 30; }, 10s, "30%");
  const size_t events_before = before["events"].size();

  serve.kill();
  serve.start();

  // Still the same deployment, still waiting at 30%...
  const AdminReply r = serve.get("/v1/deployments/" + id);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["state"], "shifting") << event_log(r.json);
  EXPECT_EQ(r.json["canary_weight"], 30);
  const AdminReply service = serve.get("/v1/services/orders");
  ASSERT_TRUE(service.json["deployment"].is_object()) << service.body;
  EXPECT_EQ(service.json["deployment"]["id"], id);

  // ... and the gateway routes with the weights it had: both versions answer.
  {
    SteadyLoad load(serve.port(), "/orders/1", std::chrono::milliseconds(1));
    ASSERT_TRUE(load.wait_for_answers(300));
    load.stop();
    const auto counts = load.counts();
    EXPECT_EQ(counts.failed, 0u) << ::testing::PrintToString(counts.failures);
    ASSERT_EQ(counts.by_version.count("v2"), 1u) << "v2 got no traffic after the restart";
    ASSERT_EQ(counts.by_version.count("v1"), 1u);
    const double share =
        static_cast<double>(counts.by_version.at("v2")) / static_cast<double>(counts.ok);
    EXPECT_GT(share, 0.15);
    EXPECT_LT(share, 0.45);
  }

  // A second deployment is still refused: the store knows this one is active.
  EXPECT_EQ(serve
                .post("/v1/services/orders/deployments",
                      {{"version", "v3"}, {"upstreams", {v2.address()}}})
                .status,
            409);

  ASSERT_EQ(serve.admin("POST", "/v1/deployments/" + id + "/promote").status, 200);
  const Json done = wait_until_finished(serve, id, 15s);
  ASSERT_EQ(done["state"], "succeeded") << event_log(done);
  // The log kept what happened before the crash, and says the controller picked it up.
  ASSERT_GE(done["events"].size(), events_before);
  for (size_t i = 0; i < events_before; ++i)
    EXPECT_EQ(done["events"][i], before["events"][i]) << i;
  EXPECT_TRUE(log_mentions_restart(done, events_before))
      << "no event after the restart mentions it:\n"
      << event_log(done);
  EXPECT_EQ(serve.get("/v1/services/orders").json["live"], "v2");
}

TEST(DeploymentRestart, ATimedPauseCarriesOnAfterARestart) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  ServeProcess serve(one_service(v1.address()));
  const Json created = start_deployment(
      serve, "orders",
      {{"version", "v2"},
       {"upstreams", {v2.address()}},
       {"steps", Json::array({{{"weight", 40}}, {{"pause", "2s"}}, {{"weight", 100}}})}});
  const std::string id = created["id"];
  wait_for(
      serve, id, [](const Json& d) { return d["canary_weight"] == 40; }, 10s, "40%");
  serve.kill();
  serve.start();
  const Json done = wait_until_finished(serve, id, 20s);
  EXPECT_EQ(done["state"], "succeeded") << event_log(done);
  EXPECT_EQ(done["canary_weight"], 100);
}

}  // namespace
}  // namespace glidepath::testing
