// Manual control and the admin API's contract (SPEC sections 1, 3 and 7) through the real
// binary: pause, resume, promote, abort; a pause that waits for promote; one deployment
// per service; clear 4xx answers to bad requests; the event stream.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include "deployment_harness.h"

namespace glidepath::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;

Json steps(std::initializer_list<Json> list) {
  Json out = Json::array();
  for (const Json& step : list)
    out.push_back(step);
  return out;
}

// The deployment's state stays `state` for `window` (checked every 50 ms).
void expect_holds(const ServeProcess& serve, const std::string& id, const std::string& state,
                  int weight, std::chrono::milliseconds window) {
  const auto end = std::chrono::steady_clock::now() + window;
  while (std::chrono::steady_clock::now() < end) {
    const AdminReply r = serve.get("/v1/deployments/" + id);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.json["state"], state) << event_log(r.json);
    ASSERT_EQ(r.json["canary_weight"], weight);
    std::this_thread::sleep_for(50ms);
  }
}

TEST(DeploymentControl, PauseResumePromoteAndAbort) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  ServeProcess serve(one_service(v1.address()));
  const Json created = start_deployment(serve, "orders",
                                        {{"version", "v2"},
                                         {"upstreams", {v2.address()}},
                                         {"steps", steps({{{"weight", 10}},
                                                          {{"pause", "30s"}},
                                                          {{"weight", 50}},
                                                          {{"pause", "30s"}},
                                                          {{"weight", 100}}})}});
  const std::string id = created["id"];
  const std::string path = "/v1/deployments/" + id;
  wait_for(
      serve, id, [](const Json& d) { return d["canary_weight"] == 10; }, 10s, "10%");

  AdminReply r = serve.admin("POST", path + "/pause");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["state"], "paused");
  EXPECT_EQ(r.json["canary_weight"], 10);
  expect_holds(serve, id, "paused", 10, 1500ms);
  // Pausing twice is refused with a reason.
  r = serve.admin("POST", path + "/pause");
  EXPECT_GE(r.status, 400);
  EXPECT_LT(r.status, 500);
  EXPECT_TRUE(r.json.contains("error")) << r.body;

  r = serve.admin("POST", path + "/resume", "{}");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["state"], "shifting");

  // Promote skips the 30 s pause: on to 50%, then the next pause.
  r = serve.admin("POST", path + "/promote");
  ASSERT_EQ(r.status, 200) << r.body;
  const Json at_fifty = wait_for(
      serve, id, [](const Json& d) { return d["canary_weight"] == 50; }, 5s, "50% after promote");
  EXPECT_TRUE(has_event(at_fifty, "promote"));
  EXPECT_EQ(at_fifty["state"], "shifting");

  r = serve.admin("POST", path + "/abort", R"({"reason": "enough testing"})");
  ASSERT_EQ(r.status, 200) << r.body;
  const Json done = wait_until_finished(serve, id, 10s);
  ASSERT_EQ(done["state"], "rolled_back") << event_log(done);
  EXPECT_EQ(done["canary_weight"], 0);
  EXPECT_THAT(done.value("reason", ""), HasSubstr("enough testing"));
  EXPECT_THAT(done.value("reason", ""), HasSubstr("admin API"));
  EXPECT_TRUE(has_event(done, "abort", "enough testing"));

  // A finished deployment takes no more commands.
  for (const char* command : {"promote", "abort", "pause", "resume"}) {
    r = serve.admin("POST", path + "/" + command);
    EXPECT_GE(r.status, 400) << command;
    EXPECT_LT(r.status, 500) << command << r.body;
    EXPECT_TRUE(r.json.contains("error")) << command;
  }
}

TEST(DeploymentControl, APauseWithoutDurationWaitsForPromote) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  ServeProcess serve(one_service(v1.address()));
  const Json created = start_deployment(
      serve, "orders",
      {{"version", "v2"},
       {"upstreams", {v2.address()}},
       {"steps", steps({{{"weight", 20}}, {{"pause", Json::object()}}, {{"weight", 100}}})}});
  const std::string id = created["id"];
  wait_for(
      serve, id, [](const Json& d) { return d["canary_weight"] == 20; }, 10s, "20%");
  // Nothing moves on its own: a few evaluation intervals pass at 20%.
  expect_holds(serve, id, "shifting", 20, 2500ms);

  // While it waits, the service shows it as its active deployment.
  AdminReply service = serve.get("/v1/services/orders");
  ASSERT_EQ(service.status, 200);
  ASSERT_TRUE(service.json["deployment"].is_object()) << service.body;
  EXPECT_EQ(service.json["deployment"]["id"], id);
  AdminReply list = serve.get("/v1/services");
  EXPECT_EQ(list.json["services"][0]["deployment"]["id"], id);
  EXPECT_EQ(list.json["services"][0]["deployment"]["canary_weight"], 20);

  AdminReply r = serve.admin("POST", "/v1/deployments/" + id + "/promote");
  ASSERT_EQ(r.status, 200) << r.body;
  const Json done = wait_until_finished(serve, id, 10s);
  EXPECT_EQ(done["state"], "succeeded") << event_log(done);
}

TEST(DeploymentControl, PromoteFullSkipsEveryRemainingStep) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  ServeProcess serve(one_service(v1.address()));
  const Json created = start_deployment(serve, "orders",
                                        {{"version", "v2"},
                                         {"upstreams", {v2.address()}},
                                         {"steps", steps({{{"weight", 5}},
                                                          {{"pause", "1m"}},
                                                          {{"weight", 50}},
                                                          {{"pause", "1m"}},
                                                          {{"weight", 100}}})}});
  const std::string id = created["id"];
  wait_for(
      serve, id, [](const Json& d) { return d["canary_weight"] == 5; }, 10s, "5%");
  AdminReply r = serve.admin("POST", "/v1/deployments/" + id + "/promote", R"({"full": true})");
  ASSERT_EQ(r.status, 200) << r.body;
  const Json done = wait_until_finished(serve, id, 10s);
  EXPECT_EQ(done["state"], "succeeded") << event_log(done);
}

TEST(DeploymentControl, ASecondDeploymentOfTheSameServiceIsRefused) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  SampleBackend v3("v3");
  ServeProcess serve(one_service(v1.address()));
  const Json first =
      start_deployment(serve, "orders",
                       {{"version", "v2"},
                        {"upstreams", {v2.address()}},
                        {"steps", steps({{{"weight", 10}}, {{"pause", Json::object()}}})}});
  const std::string id = first["id"];

  AdminReply second = serve.post("/v1/services/orders/deployments",
                                 {{"version", "v3"}, {"upstreams", {v3.address()}}});
  EXPECT_EQ(second.status, 409) << second.body;
  EXPECT_THAT(second.json.value("error", ""), HasSubstr(id));

  // Once the first has ended, the next may start.
  ASSERT_EQ(serve.admin("POST", "/v1/deployments/" + id + "/abort").status, 200);
  wait_until_finished(serve, id, 10s);
  const Json third = start_deployment(
      serve, "orders",
      {{"version", "v3"}, {"upstreams", {v3.address()}}, {"strategy", "AllAtOnce"}});
  EXPECT_EQ(wait_until_finished(serve, third["id"], 10s)["state"], "succeeded");

  // Newest first.
  AdminReply list = serve.get("/v1/deployments?service=orders");
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(list.json["deployments"].size(), 2u);
  EXPECT_EQ(list.json["deployments"][0]["id"], third["id"]);
  EXPECT_EQ(list.json["deployments"][1]["id"], id);
  EXPECT_EQ(serve.get("/v1/deployments?service=orders&limit=1").json["deployments"].size(), 1u);
}

TEST(DeploymentControl, AVersionKeepsItsUpstreamsUnlessTheCallerSaysOtherwise) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  SampleBackend other("v2-elsewhere");
  ServeProcess serve(one_service(v1.address()));
  const Json first = start_deployment(
      serve, "orders",
      {{"version", "v2"}, {"upstreams", {v2.address()}}, {"steps", steps({{{"pause", {}}}})}});
  AdminReply r =
      serve.admin("POST", "/v1/deployments/" + first["id"].get<std::string>() + "/abort");
  ASSERT_EQ(r.status, 200) << r.body;
  wait_until_finished(serve, first["id"], 10s);

  // The same name with other upstreams is refused, naming the ones it has.
  r = serve.post("/v1/services/orders/deployments",
                 {{"version", "v2"}, {"upstreams", {other.address()}}});
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_THAT(r.json.value("error", ""), HasSubstr("already points at " + v2.address()));
  EXPECT_THAT(r.json.value("error", ""), HasSubstr("replace_upstreams"));
  // The same upstreams (or none: the ones it has) are fine, and so is saying so.
  r = serve.post("/v1/services/orders/deployments", {{"version", "v2"},
                                                     {"upstreams", {other.address()}},
                                                     {"replace_upstreams", true},
                                                     {"steps", steps({{{"pause", {}}}})}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json["spec"]["upstreams"], Json::array({other.address()})) << r.body;
}

TEST(DeploymentControl, UpstreamNamesAreResolvedAndEveryAddressServes) {
  // `localhost` names 127.0.0.1 (where the backend listens) and, on most machines, ::1
  // (where nothing does): the address that refuses is skipped, none of 20 requests fails.
  SampleBackend v1("v1");
  ServeProcess serve(one_service("localhost:" + std::to_string(v1.port())));
  HttpClient client("127.0.0.1", serve.port());
  for (int i = 0; i < 20; ++i) {
    const HttpResponse r = client.request("GET", "/orders/" + std::to_string(i));
    ASSERT_EQ(r.status, 200) << i << ": " << r.error << r.body;
    EXPECT_EQ(r.header("X-Glidepath-Version"), "v1");
  }
  // A deployment may name its upstreams too.
  SampleBackend v2("v2");
  const Json created = start_deployment(serve, "orders",
                                        {{"version", "v2"},
                                         {"upstreams", {"localhost:" + std::to_string(v2.port())}},
                                         {"strategy", "AllAtOnce"}});
  EXPECT_EQ(wait_until_finished(serve, created["id"], 10s)["state"], "succeeded");
  const HttpResponse after = client.request("GET", "/orders/after");
  ASSERT_EQ(after.status, 200) << after.error << after.body;
  EXPECT_EQ(after.header("X-Glidepath-Version"), "v2");
}

TEST(DeploymentControl, AnUpstreamNameThatDoesNotResolveIsRefusedUpFront) {
  SampleBackend v1("v1");
  ServeProcess serve(one_service(v1.address()));
  // RFC 6761: names under .invalid never resolve.
  const AdminReply r =
      serve.post("/v1/services/orders/deployments",
                 {{"version", "v2"}, {"upstreams", {"no-such-host.invalid:9000"}}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_THAT(r.json.value("error", ""), HasSubstr("upstreams: cannot resolve"));
  EXPECT_THAT(r.json.value("error", ""), HasSubstr("no-such-host.invalid"));
  EXPECT_EQ(serve.get("/v1/services/orders").json["deployment"], nullptr);
}

TEST(DeploymentControl, BadRequestsGetAClearFourHundredAnswer) {
  SampleBackend v1("v1");
  ServeProcess serve(one_service(v1.address()), "s3cret-token");
  struct Case {
    std::string method;
    std::string target;
    std::string body;
    int status;
    std::string error;  // the start of the error message
  };
  const std::vector<Case> cases = {
      {"POST", "/v1/services/orders/deployments", "{\"version\": ", 400, "body: not valid JSON"},
      {"POST", "/v1/services/orders/deployments", "[]", 400, "body: must be a JSON object"},
      {"POST", "/v1/services/orders/deployments", "{}", 400, "version: is required"},
      {"POST", "/v1/services/orders/deployments", R"({"version": "v2", "upstreams": ["nohost"]})",
       400, "upstreams[0]: "},
      {"POST", "/v1/services/orders/deployments",
       R"({"version": "v2", "upstreams": ["127.0.0.1:9"], "steps": [{"weight": 10}, {"weight": 5}]})",
       400, "steps: "},
      {"POST", "/v1/services/orders/deployments",
       R"({"version": "v2", "upstreams": ["127.0.0.1:9"], "strategy": "Canary5Percent"})", 400,
       "strategy: unknown strategy"},
      {"POST", "/v1/services/orders/deployments",
       R"({"version": "v2", "upstreams": ["127.0.0.1:9"], "alarms": [{"name": "x", "threshold": "high"}]})",
       400, "alarms[0].threshold: "},
      {"POST", "/v1/services/orders/deployments", R"({"version": "v2", "upstrams": []})", 400,
       "upstrams: unknown field (did you mean 'upstreams'?)"},
      // A version the config does not know needs its upstreams.
      {"POST", "/v1/services/orders/deployments", R"({"version": "v9"})", 400, "invalid: "},
      {"POST", "/v1/services/nope/deployments", R"({"version": "v2"})", 404, "not found: "},
      {"GET", "/v1/services/nope", "", 404, "not found: service 'nope'"},
      {"GET", "/v1/deployments/dep_nope", "", 404, "not found: "},
      {"POST", "/v1/deployments/dep_nope/promote", "", 404, "not found: "},
      {"POST", "/v1/deployments/dep_nope/hooks/pre_traffic", R"({"status": "succeeded"})", 404,
       "not found: "},
      {"POST", "/v1/deployments/dep_nope/hooks/pre_traffic", R"({"status": "done"})", 400,
       "status: "},
      {"POST", "/v1/deployments/dep_nope/promote", R"({"full": 1})", 400, "full: "},
      {"GET", "/v1/deployments?service=orders&limit=0", "", 400, "limit: "},
      {"GET", "/v1/events?since=abc", "", 400, "since: "},
      {"GET", "/v1/nothing", "", 404, "no such endpoint"},
      {"DELETE", "/v1/deployments/dep_x", "", 405, "DELETE is not allowed"},
      {"GET", "/v1/deployments/dep_x/promote", "", 405, "GET is not allowed"},
      {"PUT", "/v1/services/orders/deployments", "{}", 405, "PUT is not allowed"},
  };
  for (const Case& c : cases) {
    const AdminReply r = serve.admin(c.method, c.target, c.body);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.target << " " << c.body << "\n" << r.body;
    EXPECT_THAT(r.json.value("error", ""), StartsWith(c.error))
        << c.method << " " << c.target << " " << c.body;
    EXPECT_THAT(r.content_type, StartsWith("application/json"));
  }
  const AdminReply not_allowed = serve.admin("DELETE", "/v1/deployments/dep_x");
  EXPECT_THAT(not_allowed.body, HasSubstr("use GET"));

  // No token, or a wrong one: 401 before anything else is looked at.
  AdminReply r = serve.admin("GET", "/v1/services", "", /*with_token=*/false);
  EXPECT_EQ(r.status, 401);
  EXPECT_THAT(r.json.value("error", ""), HasSubstr("Bearer"));
  r = serve.admin("POST", "/v1/services/orders/deployments", R"({"version": "v2"})", false,
                  {{"Authorization", "Bearer wrong"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(serve.admin("GET", "/v1/events", "", false).status, 401);
  EXPECT_EQ(serve.get("/v1/services").status, 200);
}

// An open event stream, read as bytes arrive (bounded by each call's timeout).
class EventReader {
 public:
  EventReader(const ServeProcess& serve, const std::string& target,
              const std::string& last_event_id = "")
      : client_("127.0.0.1", serve.admin_port()) {
    std::string request = "GET " + target + " HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n";
    if (!last_event_id.empty()) request += "Last-Event-ID: " + last_event_id + "\r\n";
    request += "\r\n";
    EXPECT_TRUE(client_.send_raw(request));
  }

  // Reads until `text` has arrived; false on timeout or when the server closed first.
  bool read_until(const std::string& text, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (received.find(text) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{client_.fd(), POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) != 1) return false;
      char buffer[4096];
      const ssize_t n = ::recv(client_.fd(), buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      received.append(buffer, static_cast<size_t>(n));
    }
    return true;
  }

  std::string received;

 private:
  HttpClient client_;
};

TEST(DeploymentControl, TheEventStreamReplaysAndFollows) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  SampleBackend v3("v3");
  ServeProcess serve(one_service(v1.address()));
  const Json first = start_deployment(
      serve, "orders",
      {{"version", "v2"}, {"upstreams", {v2.address()}}, {"strategy", "AllAtOnce"}});
  wait_until_finished(serve, first["id"], 10s);

  // Everything since the start, as server-sent events.
  const std::string first_id = first["id"];
  EventReader replay(serve, "/v1/events?since=0");
  ASSERT_TRUE(replay.read_until("event: succeeded\n")) << replay.received;
  EXPECT_THAT(replay.received, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(replay.received, HasSubstr("Content-Type: text/event-stream"));
  EXPECT_THAT(replay.received, HasSubstr("\r\n\r\nretry: 1000\n\nid: 1\nevent: created\ndata: {"));
  EXPECT_THAT(replay.received, HasSubstr("\"deployment_id\":\"" + first_id + "\""));

  // Last-Event-ID: only what came after it (and it wins over ?since=).
  EventReader resumed(serve, "/v1/events?since=0", "2");
  ASSERT_TRUE(resumed.read_until("event: succeeded\n")) << resumed.received;
  EXPECT_THAT(resumed.received, HasSubstr("\nid: 3\n"));
  EXPECT_EQ(resumed.received.find("\nid: 1\n"), std::string::npos);
  EXPECT_EQ(resumed.received.find("\nid: 2\n"), std::string::npos);

  // Live: a stream that is open (its first bytes arrived: the subscription exists) sees
  // the next deployment's events as they happen, and none of the earlier ones.
  EventReader live(serve, "/v1/events");
  ASSERT_TRUE(live.read_until("retry: 1000\n\n")) << live.received;
  const Json second = start_deployment(
      serve, "orders",
      {{"version", "v3"}, {"upstreams", {v3.address()}}, {"strategy", "AllAtOnce"}});
  const std::string second_id = second["id"];
  ASSERT_TRUE(live.read_until("event: succeeded\n")) << live.received;
  EXPECT_THAT(live.received, HasSubstr("\"deployment_id\":\"" + second_id + "\""));
  EXPECT_THAT(live.received, HasSubstr("event: created\n"));
  EXPECT_EQ(live.received.find(first_id), std::string::npos);

  // Filtered by deployment.
  EventReader only_first(serve, "/v1/events?since=0&deployment=" + first_id);
  ASSERT_TRUE(only_first.read_until("event: succeeded\n")) << only_first.received;
  EXPECT_EQ(only_first.received.find(second_id), std::string::npos);
}

}  // namespace
}  // namespace glidepath::testing
