// The admin API's endpoints in process (SPEC section 7): a real controller and SQLite
// store in simulated time, a snapshot rebuilt from what the controller publishes, and
// requests handed straight to AdminApi::handle — routing, statuses and bodies, without
// sockets.
#include "admin/admin_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "config/loader.h"
#include "controller/controller.h"
#include "controller/hook_runner.h"
#include "metrics/history.h"
#include "metrics/series_registry.h"
#include "routing/publisher.h"
#include "store/sqlite/sqlite_store.h"

namespace glidepath::admin {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const core::TimePoint kStart = core::TimePoint(std::chrono::hours(24 * 365 * 56));

class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = config::load_config(R"(
services:
  - name: orders
    match: {path_prefix: /orders}
    versions:
      - {name: v1, upstreams: [127.0.0.1:9001]}
    live: v1
  - name: users
    match: {path_prefix: /users}
    versions:
      - {name: u1, upstreams: [127.0.0.1:9101]}
    live: u1
)");
    ASSERT_TRUE(loaded.ok()) << loaded.errors.front().message;
    config_ = loaded.config;
    auto store = store::open_sqlite_store(":memory:");
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    auto publisher = routing::RoutingPublisher::create({config_, &registry_, nullptr}, {}, nullptr);
    ASSERT_TRUE(publisher.ok()) << publisher.error().message;
    publisher_ = std::move(*publisher);
  }

  void TearDown() override {
    api_.reset();
    controller_.reset();
  }

  // The API with a controller (or without: deployment endpoints answer 503); `fleet`
  // adjusts the admin's dependencies as a fleet's runtime would.
  void start(bool with_controller = true, std::function<void(AdminDeps&)> fleet = nullptr) {
    if (with_controller) {
      controller::ControllerDeps deps;
      deps.config = config_;
      deps.store = store_.get();
      deps.history = &history_;
      deps.registry = &registry_;
      deps.hooks = &hooks_;
      deps.clock = &clock_;
      deps.gateway_url = "http://127.0.0.1:8080";
      deps.publish = [this](const std::string& service, const deploy::RoutingIntent& intent) {
        return publisher_->set_intent(service, intent);
      };
      controller_ = std::make_unique<controller::Controller>(std::move(deps));
      ASSERT_TRUE(controller_->resume().ok());
    }
    AdminDeps deps;
    deps.config = config_;
    deps.snapshot = [this] { return publisher_->snapshot(); };
    deps.gateway_stats = [] { return gateway::GatewayStats{}; };
    deps.store = store_.get();
    deps.registry = &registry_;
    deps.history = &history_;
    deps.controller = controller_.get();
    deps.clock = &clock_;
    if (fleet) fleet(deps);
    api_ = std::make_unique<AdminApi>(std::move(deps));
  }

  Response call(const std::string& method, const std::string& target, const std::string& body = "",
                const std::string& last_event_id = "", bool forwarded = false) {
    Request r;
    r.forwarded = forwarded;
    r.authorization = "Bearer t0ken";
    r.method = method;
    r.target = target;
    r.body = body;
    r.last_event_id = last_event_id;
    const size_t q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) {
      std::string rest = target.substr(q + 1);
      while (!rest.empty()) {
        const size_t amp = rest.find('&');
        const std::string pair = rest.substr(0, amp);
        const size_t eq = pair.find('=');
        r.query[pair.substr(0, eq)] = eq == std::string::npos ? "" : pair.substr(eq + 1);
        if (amp == std::string::npos) break;
        rest = rest.substr(amp + 1);
      }
    }
    return api_->handle(r);
  }
  json body_of(const Response& r) { return json::parse(r.body); }

  json create_v2(const std::string& steps = R"([{"weight": 10}, {"pause": {}}])") {
    const Response r =
        call("POST", "/v1/services/orders/deployments",
             R"({"version": "v2", "upstreams": ["127.0.0.1:9002"], "steps": )" + steps + "}");
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body);
  }

  std::shared_ptr<const config::Config> config_;
  std::unique_ptr<store::Store> store_;
  metrics::SeriesRegistry registry_;
  metrics::MetricsHistory history_;
  controller::HookRunner hooks_;
  core::ManualClock clock_{kStart};
  std::unique_ptr<routing::RoutingPublisher> publisher_;
  std::unique_ptr<controller::Controller> controller_;
  std::unique_ptr<AdminApi> api_;
};

TEST_F(AdminApiTest, CreatesADeploymentAndShowsItEverywhere) {
  start();
  const json created = create_v2();
  const std::string id = created["id"];
  EXPECT_THAT(id, StartsWith("dep_"));
  EXPECT_EQ(created["service"], "orders");
  EXPECT_EQ(created["to_version"], "v2");
  EXPECT_EQ(created["state"], "shifting");
  EXPECT_EQ(created["canary_weight"], 10);

  Response r = call("GET", "/v1/deployments/" + id);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r)["id"], id);

  r = call("GET", "/v1/services/orders");
  ASSERT_EQ(r.status, 200) << r.body;
  json service = body_of(r);
  EXPECT_EQ(service["name"], "orders");
  EXPECT_EQ(service["live"], "v1");
  EXPECT_EQ(service["path_prefix"], "/orders");
  EXPECT_EQ(service["deployment"]["id"], id);
  ASSERT_EQ(service["versions"].size(), 2u);
  for (const json& v : service["versions"]) {
    if (v["name"] == "v2") {
      EXPECT_EQ(v["weight"], 10.0);
      EXPECT_EQ(v["upstreams"], json::array({"127.0.0.1:9002"}));
    } else {
      EXPECT_EQ(v["weight"], 90.0);
    }
  }

  r = call("GET", "/v1/services");
  json all = body_of(r);
  EXPECT_EQ(all["services"][0]["deployment"]["id"], id);
  EXPECT_EQ(all["services"][0]["deployment"]["total_steps"], 3);  // + the final 100%
  EXPECT_TRUE(all["services"][1]["deployment"].is_null());
  EXPECT_TRUE(body_of(call("GET", "/v1/services/users"))["deployment"].is_null());

  r = call("GET", "/v1/deployments?service=orders");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r)["deployments"].size(), 1u);
  EXPECT_EQ(body_of(call("GET", "/v1/deployments?service=users"))["deployments"].size(), 0u);
  EXPECT_EQ(body_of(call("GET", "/v1/services/orders/deployments"))["deployments"].size(), 1u);
  EXPECT_EQ(body_of(call("GET", "/v1/deployments?active=true"))["deployments"].size(), 1u);

  EXPECT_THAT(call("GET", "/metrics").body,
              HasSubstr("glidepath_deployment_state{service=\"orders\",state=\"shifting\"} 1"));
  EXPECT_THAT(call("GET", "/metrics").body,
              HasSubstr("glidepath_deployment_state{service=\"users\",state=\"none\"} 1"));
}

TEST_F(AdminApiTest, ASecondDeploymentIsAConflictNamingTheFirst) {
  start();
  const std::string id = create_v2()["id"];
  const Response r = call("POST", "/v1/services/orders/deployments",
                          R"({"version": "v3", "upstreams": ["127.0.0.1:9003"]})");
  EXPECT_EQ(r.status, 409);
  EXPECT_THAT(body_of(r)["error"].get<std::string>(), HasSubstr(id));
}

TEST_F(AdminApiTest, CommandsAnswerWithTheDeployment) {
  start();
  const std::string id = create_v2()["id"];
  const std::string path = "/v1/deployments/" + id;
  Response r = call("POST", path + "/pause");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r)["state"], "paused");
  r = call("POST", path + "/pause");
  EXPECT_GE(r.status, 400);
  EXPECT_LT(r.status, 500);
  r = call("POST", path + "/resume");
  EXPECT_EQ(body_of(r)["state"], "shifting");
  r = call("POST", path + "/abort", R"({"reason": "wrong build"})");
  ASSERT_EQ(r.status, 200) << r.body;
  const json aborted = body_of(r);
  EXPECT_THAT(aborted["reason"].get<std::string>(),
              HasSubstr("aborted via admin API: wrong build"));
  EXPECT_EQ(call("POST", path + "/promote").status / 100, 4);
  EXPECT_EQ(call("POST", "/v1/deployments/dep_nope/promote").status, 404);
}

TEST_F(AdminApiTest, AnAsynchronousHookResult) {
  start();
  const std::string id = create_v2()["id"];
  // No hook is running: the controller refuses, with a 4xx.
  Response r =
      call("POST", "/v1/deployments/" + id + "/hooks/pre_traffic", R"({"status": "succeeded"})");
  EXPECT_EQ(r.status / 100, 4) << r.body;
  r = call("POST", "/v1/deployments/dep_nope/hooks/pre_traffic", R"({"status": "succeeded"})");
  EXPECT_EQ(r.status, 404) << r.body;
  r = call("POST", "/v1/deployments/" + id + "/hooks/on_event", R"({"status": "succeeded"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(body_of(r)["error"].get<std::string>(), StartsWith("hook: "));
}

TEST_F(AdminApiTest, RoutingStatuses) {
  start();
  struct Case {
    std::string method;
    std::string target;
    int status;
  };
  for (const Case& c : std::vector<Case>{
           {"GET", "/v1/nothing", 404},
           {"GET", "/v1/services/", 404},
           {"GET", "/v1/services/orders/x", 404},
           {"GET", "/v1/deployments/x/y/z/w", 404},
           {"POST", "/v1/deployments/x/explode", 404},
           {"GET", "/v1/services/nope", 404},
           {"GET", "/v1/services/nope/metrics", 404},
           {"POST", "/v1/services", 405},
           {"DELETE", "/v1/services/orders", 405},
           {"PATCH", "/v1/deployments", 405},
           {"GET", "/v1/deployments/x/abort", 405},
           {"GET", "/v1/deployments/x/hooks/pre_traffic", 405},
           {"POST", "/v1/events", 405},
           {"POST", "/healthz", 405},
           {"GET", "/v1/deployments?limit=5000", 400},
           {"GET", "/v1/deployments?active=maybe", 400},
           {"GET", "/v1/deployments?service=nope", 404},
           {"GET", "/v1/events?since=-1", 400},
           {"POST", "/v1/services/nope/deployments", 404},
       }) {
    const Response r = call(c.method, c.target, "{}");
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.target << ": " << r.body;
    EXPECT_TRUE(json::parse(r.body).contains("error")) << c.target;
    if (r.status == 405) {
      ASSERT_FALSE(r.headers.empty());
      EXPECT_EQ(r.headers.front().first, "Allow");
    }
  }
}

TEST_F(AdminApiTest, WithoutAControllerDeploymentEndpointsAreUnavailable) {
  start(/*with_controller=*/false);
  EXPECT_EQ(call("POST", "/v1/services/orders/deployments", R"({"version": "v2"})").status, 503);
  EXPECT_EQ(call("POST", "/v1/deployments/dep_x/promote").status, 503);
  EXPECT_EQ(call("POST", "/v1/deployments/dep_x/hooks/pre_traffic", "{}").status, 503);
  EXPECT_EQ(call("GET", "/v1/events").status, 503);
  // Reads from the store still work.
  EXPECT_EQ(call("GET", "/v1/deployments").status, 200);
  EXPECT_EQ(call("GET", "/v1/deployments/dep_x").status, 404);
  const Response service = call("GET", "/v1/services/orders");
  ASSERT_EQ(service.status, 200);
  EXPECT_TRUE(body_of(service)["deployment"].is_null());
}

std::string header_of(const Response& r, std::string_view name) {
  for (const auto& [key, value] : r.headers) {
    if (key == name) return value;
  }
  return "";
}

// A fleet's standby controller (SPEC section 9): it reads the fleet's state from the
// store, and a call that would change a deployment names the leader.
TEST_F(AdminApiTest, AStandbyReadsTheStoreAndNamesTheLeader) {
  bool leading = true;
  start(true, [&](AdminDeps& deps) {
    deps.role = "controller";
    deps.leading = [&] { return leading; };
    deps.leader = [] { return std::string("http://10.0.0.7:9090"); };
  });
  const json created = create_v2();
  leading = false;  // another controller leads now; this one's copy is stale
  const Response refused =
      call("POST", "/v1/deployments/" + created["id"].get<std::string>() + "/abort");
  EXPECT_EQ(refused.status, 503);
  EXPECT_THAT(refused.body, HasSubstr("standby"));
  EXPECT_THAT(refused.body, HasSubstr("http://10.0.0.7:9090"));
  EXPECT_EQ(header_of(refused, "X-Glidepath-Leader"), "http://10.0.0.7:9090");
  const Response service = call("GET", "/v1/services/orders");
  ASSERT_EQ(service.status, 200);
  EXPECT_EQ(body_of(service)["deployment"]["id"], created["id"]) << "read from the store";
  const json health = body_of(call("GET", "/healthz"));
  EXPECT_EQ(health["role"], "controller");
  EXPECT_EQ(health["controller"]["leader"], false);
  EXPECT_EQ(health["controller"]["leader_admin"], "http://10.0.0.7:9090");
}

// A fleet's process whose database is away: one with a gateway still serves (its last
// snapshot), so it stays in rotation as degraded; one without is down.
TEST_F(AdminApiTest, WithoutItsDatabaseAGatewayIsDegradedAndAControllerIsDown) {
  start(false, [](AdminDeps& deps) {
    deps.role = "gateway";
    deps.store_problem = [] { return std::string("reading services: connection refused"); };
  });
  const Response gateway = call("GET", "/healthz");
  EXPECT_EQ(gateway.status, 200);
  EXPECT_EQ(body_of(gateway)["status"], "degraded");
  EXPECT_EQ(body_of(gateway)["store"]["status"], "error");
  EXPECT_THAT(call("GET", "/metrics").body, HasSubstr("glidepath_store_up 0\n"));

  api_.reset();
  start(true, [](AdminDeps& deps) {
    deps.role = "controller";
    deps.gateway_stats = nullptr;
    deps.store_problem = [] { return std::string("reading services: connection refused"); };
  });
  const Response controller = call("GET", "/healthz");
  EXPECT_EQ(controller.status, 503);
  EXPECT_FALSE(body_of(controller).contains("gateway"));
}

// A gateway or a standby passes deployment calls on to the leader, once, with the
// caller's credentials, and answers with the leader's answer.
TEST_F(AdminApiTest, DeploymentCallsAreForwardedToTheLeaderOnce) {
  std::mutex mutex;
  std::vector<Request> seen;
  ServerOptions options;
  options.listen = {"127.0.0.1", 0};
  auto leader = HttpServer::start(options, [&](const Request& r) {
    std::lock_guard lock(mutex);
    seen.push_back(r);
    Response answer = Response::json(201, R"({"id":"dep_from_leader"})");
    answer.headers.emplace_back("Location", "/v1/deployments/dep_from_leader");
    return answer;
  });
  ASSERT_TRUE(leader.ok()) << leader.error().message;
  const std::string url = "http://127.0.0.1:" + std::to_string((*leader)->port());
  start(false, [&](AdminDeps& deps) {
    deps.role = "gateway";
    deps.leader = [url] { return url; };
    deps.forward_to_leader = true;
  });
  const std::string body = R"({"version": "v2", "upstreams": ["127.0.0.1:9002"]})";
  const Response answered = call("POST", "/v1/services/orders/deployments", body);
  EXPECT_EQ(answered.status, 201) << answered.body;
  EXPECT_EQ(body_of(answered)["id"], "dep_from_leader");
  EXPECT_EQ(header_of(answered, "Location"), "/v1/deployments/dep_from_leader");
  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].method, "POST");
    EXPECT_EQ(seen[0].target, "/v1/services/orders/deployments");
    EXPECT_EQ(seen[0].body, body);
    EXPECT_EQ(seen[0].authorization, "Bearer t0ken");
    EXPECT_TRUE(seen[0].forwarded);
  }
  // Already forwarded once: answered here, not passed around the fleet.
  const Response again = call("POST", "/v1/deployments/dep_x/abort", "", "", /*forwarded=*/true);
  EXPECT_EQ(again.status, 503);
  EXPECT_THAT(again.body, HasSubstr("--role gateway"));
  (*leader)->stop();
  // A leader that does not answer is a 503 that says so.
  const Response lost = call("POST", "/v1/deployments/dep_x/abort");
  EXPECT_EQ(lost.status, 503);
  EXPECT_THAT(lost.body, HasSubstr("did not answer"));
}

TEST_F(AdminApiTest, TheEventStreamCarriesTheControllersEvents) {
  start();
  Response stream = call("GET", "/v1/events");
  ASSERT_EQ(stream.status, 200) << stream.body;
  ASSERT_TRUE(stream.stream);
  EXPECT_THAT(stream.content_type, StartsWith("text/event-stream"));
  EXPECT_EQ(stream.stream->take(), "retry: 1000\n\n");

  const std::string id = create_v2()["id"];
  const std::string live = stream.stream->take();
  EXPECT_THAT(live, HasSubstr("event: created\n"));
  EXPECT_THAT(live, HasSubstr("event: weight\n"));
  EXPECT_THAT(live, HasSubstr("\"deployment_id\":\"" + id + "\""));

  // A reconnecting client names the last id it saw.
  Response replay = call("GET", "/v1/events", "", "1");
  ASSERT_TRUE(replay.stream);
  const std::string replayed = replay.stream->take();
  EXPECT_EQ(replayed.find("id: 1\n"), std::string::npos);
  EXPECT_THAT(replayed, HasSubstr("id: 2\n"));
  Response since = call("GET", "/v1/events?since=0&deployment=" + id);
  EXPECT_THAT(since.stream->take(), HasSubstr("id: 1\n"));
}

// In a fleet every process's stream carries the fleet's events, whichever process wrote
// them: here a gateway (no controller) publishes what another process appended.
TEST_F(AdminApiTest, AFleetProcessStreamsEventsOthersStored) {
  start(false, [](AdminDeps& deps) {
    deps.role = "gateway";
    deps.events_from_store = true;
  });
  Response stream = call("GET", "/v1/events");
  ASSERT_EQ(stream.status, 200) << stream.body;
  ASSERT_TRUE(stream.stream);
  EXPECT_EQ(stream.stream->take(), "retry: 1000\n\n");
  const deploy::DeploymentEvent event{kStart, "weight", "0% → 10% of traffic on v2"};
  auto appended = store_->append_event("orders", "", event);
  ASSERT_TRUE(appended.ok()) << appended.error().message;
  EXPECT_EQ(stream.stream->take(), "") << "nothing before the process is told";
  api_->publish_stored_events();
  const std::string live = stream.stream->take();
  EXPECT_THAT(live, HasSubstr("id: " + std::to_string(*appended) + "\n"));
  EXPECT_THAT(live, HasSubstr("event: weight\n"));
  api_->publish_stored_events();
  EXPECT_EQ(stream.stream->take(), "") << "each event once";
}

}  // namespace
}  // namespace glidepath::admin
