// A fleet through the real binary (SPEC sections 3, 7 and 9): two `--role gateway` and
// two `--role controller` processes share one throwaway PostgreSQL cluster. The leader
// (advisory lock) drives each deployment; every gateway learns each weight through
// LISTEN/NOTIFY and reports its per-second metrics to the database, where the leader
// merges them before it evaluates alarms. A steady load runs through both gateways and
// counts every failed request; a SIGKILLed leader and a database restart must cost none.
//
// Timings (weight propagation, takeover) are printed for docs/BENCHMARKS.md, never
// asserted: a loaded CI machine must not fail a correct fleet.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "support/fleet_harness.h"

namespace glidepath::testing {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// About 150 requests a second through each gateway, on one keep-alive connection.
constexpr auto kPace = std::chrono::milliseconds(6);
constexpr auto kLoadLimit = std::chrono::seconds(60);

// Two controllers and two gateways on one database; the gateways may route a version to
// upstreams of their own (each process has its own config file).
struct Fleet {
  Fleet(const PgCluster& db, const std::string& controller_services,
        const std::string& gateway_a_services, const std::string& gateway_b_services)
      : controller_a("controller A", "controller", db.url(), controller_services),
        controller_b("controller B", "controller", db.url(), controller_services),
        gateway_a("gateway A", "gateway", db.url(), gateway_a_services),
        gateway_b("gateway B", "gateway", db.url(), gateway_b_services) {}

  std::vector<FleetProcess*> controllers() { return {&controller_a, &controller_b}; }
  std::vector<FleetProcess*> gateways() { return {&gateway_a, &gateway_b}; }
  std::vector<FleetProcess*> all() {
    return {&controller_a, &controller_b, &gateway_a, &gateway_b};
  }
  FleetProcess* other_controller(const FleetProcess* c) {
    return c == &controller_a ? &controller_b : &controller_a;
  }

  FleetProcess controller_a;
  FleetProcess controller_b;
  FleetProcess gateway_a;
  FleetProcess gateway_b;
};

void expect_no_failures(const SteadyLoad& load, const std::string& gateway) {
  const SteadyLoad::Counts counts = load.counts();
  EXPECT_EQ(counts.failed, 0u) << "failed requests through " << gateway << " (of "
                               << counts.ok + counts.failed
                               << "), first ones: " << ::testing::PrintToString(counts.failures);
}

uint64_t answered_by(const SteadyLoad::Counts& counts, const std::string& version) {
  const auto it = counts.by_version.find(version);
  return it == counts.by_version.end() ? 0 : it->second;
}

std::vector<int> weights_of(const std::vector<WeightChange>& changes) {
  std::vector<int> weights;
  for (const WeightChange& c : changes)
    weights.push_back(c.weight);
  return weights;
}

// The messages of "step" events that occur more than once.
std::vector<std::string> repeated_steps(const Json& d) {
  std::vector<std::string> repeated;
  std::set<std::string> seen;
  if (!d.is_object() || !d.contains("events")) return repeated;
  for (const Json& e : d["events"]) {
    if (e.value("type", "") != "step") continue;
    const std::string message = e.value("message", "");
    if (!seen.insert(message).second) repeated.push_back(message);
  }
  return repeated;
}

// Every process, whatever its role, reads the deployment from the database.
void expect_every_process_reads(Fleet& fleet, const std::string& id, const std::string& state) {
  for (FleetProcess* p : fleet.all()) {
    if (!p->running()) continue;
    const AdminReply r = p->get("/v1/deployments/" + id);
    EXPECT_EQ(r.status, 200) << p->name() << ": " << r.body << r.error;
    EXPECT_EQ(r.json.is_object() ? r.json.value("state", "") : "", state)
        << p->name() << ": " << r.body;
  }
}

// A deployment through the fleet, v2 on `v2_upstream` (or, when empty, on the upstreams
// each process's config gives v2).
Json deployment_request(const std::string& v2_upstream, const Json& steps) {
  Json body{{"version", "v2"}, {"steps", steps}};
  if (!v2_upstream.empty()) body["upstreams"] = Json::array({v2_upstream});
  return body;
}

TEST(Fleet, ACanarySucceedsAcrossTheFleet) {
  PgCluster db;
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  const std::string services = fleet_service(v1.address());
  Fleet fleet(db, services, services, services);
  const std::vector<FleetProcess*> gateways = fleet.gateways();

  // Every process says what it is and that its store is fine; one controller leads.
  for (FleetProcess* p : fleet.all()) {
    const AdminReply health = p->get("/healthz");
    ASSERT_EQ(health.status, 200) << p->name() << ": " << health.body << health.error;
    EXPECT_EQ(health.json.value("role", ""), p->role()) << p->name() << ": " << health.body;
    EXPECT_EQ(health.json.value("status", ""), "ok") << p->name() << ": " << health.body;
    ASSERT_TRUE(health.json.contains("store") && health.json["store"].is_object()) << health.body;
    EXPECT_EQ(health.json["store"].value("status", ""), "ok") << p->name() << ": " << health.body;
    if (p->has_controller()) {
      EXPECT_TRUE(health.json.contains("controller") && health.json["controller"].is_object() &&
                  health.json["controller"]["leader"].is_boolean())
          << p->name() << ": " << health.body;
    }
    const auto up = prometheus_value(p->get("/metrics").body, "glidepath_store_up");
    EXPECT_EQ(up, std::optional<double>(1)) << p->name() << ": glidepath_store_up";
  }
  FleetProcess* leader = wait_for_leader(fleet.controllers());
  ASSERT_NE(leader, nullptr);
  FleetProcess* standby = fleet.other_controller(leader);
  ASSERT_TRUE(wait_for_weight(gateways, "orders", "v1", 100, "v1"));

  const Json request = deployment_request(v2.address(), Json::array({{{"weight", 10}},
                                                                     {{"pause", "2s"}},
                                                                     {{"weight", 50}},
                                                                     {{"pause", "2s"}},
                                                                     {{"weight", 100}}}));
  SteadyLoad load_a(fleet.gateway_a.port(), "/orders/1", kPace, kLoadLimit);
  SteadyLoad load_b(fleet.gateway_b.port(), "/orders/1", kPace, kLoadLimit);
  ASSERT_TRUE(load_a.wait_for_answers(50));
  ASSERT_TRUE(load_b.wait_for_answers(50));
  WeightWatcher watcher(gateways, "orders", "v2");

  const Json created = start_fleet_deployment(*leader, "orders", request);
  ASSERT_TRUE(created.is_object() && created.contains("id")) << created;
  const std::string id = created["id"];
  const Json done = wait_for_deployment_end(fleet.gateway_a, id, 40s);
  ASSERT_EQ(done.value("state", ""), "succeeded") << event_log(done);
  EXPECT_EQ(done["canary_weight"], 100);
  expect_every_process_reads(fleet, id, "succeeded");

  // Both gateways route everything to v2 now, and said so as each weight arrived.
  EXPECT_TRUE(wait_for_weight(gateways, "orders", "v2", 100, "v2"));
  const auto before_a = load_a.counts();
  const auto before_b = load_b.counts();
  ASSERT_TRUE(load_a.wait_for_answers(50));
  ASSERT_TRUE(load_b.wait_for_answers(50));
  watcher.stop();
  load_a.stop();
  load_b.stop();
  expect_no_failures(load_a, "gateway A");
  expect_no_failures(load_b, "gateway B");
  for (const auto& [before, after, name] : {std::tuple{before_a, load_a.counts(), "gateway A"},
                                            std::tuple{before_b, load_b.counts(), "gateway B"}}) {
    EXPECT_GT(answered_by(before, "v2"), 0u) << name << " sent nothing to v2 during the canary";
    EXPECT_EQ(answered_by(after, "v2") - answered_by(before, "v2"), after.ok - before.ok)
        << name << " still sends requests to v1: " << ::testing::PrintToString(after.by_version);
  }

  const std::vector<WeightChange> changes = weight_changes(done);
  EXPECT_EQ(weights_of(changes), (std::vector<int>{10, 50, 100})) << event_log(done);
  const Propagation propagation =
      weight_propagation(changes, {watcher.seen(0), watcher.seen(1)}, {"gateway A", "gateway B"});
  EXPECT_TRUE(propagation.missing.empty())
      << "weight changes a gateway never showed (polled " << watcher.polls(0) << " and "
      << watcher.polls(1) << " times): " << ::testing::PrintToString(propagation.missing) << "\n"
      << event_log(done);
  if (!propagation.latencies_ms.empty()) {
    std::vector<double> sorted = propagation.latencies_ms;
    std::sort(sorted.begin(), sorted.end());
    const size_t n = sorted.size();
    const double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    std::printf("fleet: weight propagation ms: median %.1f, max %.1f over %zu changes\n", median,
                sorted.back(), n);
    std::fflush(stdout);
  }

  // A deployment asked of any process is driven by the leader (SPEC section 9): a standby
  // and a gateway pass it on, and answer with the leader's answer.
  int round = 3;
  for (FleetProcess* p : {standby, &fleet.gateway_a}) {
    const std::string version = fmt::format("v{}", round++);
    const Json another{
        {"version", version}, {"upstreams", {v2.address()}}, {"strategy", "AllAtOnce"}};
    const AdminReply passed_on = p->post("/v1/services/orders/deployments", another);
    ASSERT_EQ(passed_on.status, 201) << p->name() << ": " << passed_on.body << passed_on.error;
    const std::string forwarded_id = passed_on.json.value("id", "");
    const Json finished = wait_for_deployment_end(*leader, forwarded_id);
    EXPECT_EQ(finished.value("state", ""), "succeeded") << p->name() << ": " << event_log(finished);
    EXPECT_EQ(finished.value("to_version", ""), version);
  }
}

TEST(Fleet, ACanaryFailingOnOneGatewayIsRolledBackOnBoth) {
  PgCluster db;
  SampleBackend v1("v1");
  SampleBackend v2_healthy("v2");
  SampleBackend v2_failing("v2", {"--error-rate", "0.5"});
  // v2 is in every config; only gateway B's points at the failing backend.
  Fleet fleet(db, fleet_service(v1.address(), v2_healthy.address()),
              fleet_service(v1.address(), v2_healthy.address()),
              fleet_service(v1.address(), v2_failing.address()));
  const std::vector<FleetProcess*> gateways = fleet.gateways();
  FleetProcess* leader = wait_for_leader(fleet.controllers());
  ASSERT_NE(leader, nullptr);
  ASSERT_TRUE(wait_for_weight(gateways, "orders", "v1", 100, "v1"));

  SteadyLoad load_a(fleet.gateway_a.port(), "/orders/1", kPace, kLoadLimit);
  SteadyLoad load_b(fleet.gateway_b.port(), "/orders/1", kPace, kLoadLimit);
  ASSERT_TRUE(load_a.wait_for_answers(50));
  ASSERT_TRUE(load_b.wait_for_answers(50));

  Json request = deployment_request("", Json::array({{{"weight", 10}},
                                                     {{"pause", "1s"}},
                                                     {{"weight", 50}},
                                                     {{"pause", "60s"}},
                                                     {{"weight", 100}}}));
  request["alarms"] =
      Json::array({{{"name", "errors"}, {"metric", "error_rate"}, {"threshold", 0.05}}});
  const Json created = start_fleet_deployment(*leader, "orders", request);
  ASSERT_TRUE(created.is_object() && created.contains("id")) << created;
  const std::string id = created["id"];
  const Json done = wait_for_deployment_end(fleet.gateway_a, id, 40s);
  ASSERT_EQ(done.value("state", ""), "rolled_back") << event_log(done);
  EXPECT_THAT(done.value("reason", ""), HasSubstr("errors")) << event_log(done);
  EXPECT_FALSE(has_event(done, "weight", "→ 100%")) << event_log(done);
  expect_every_process_reads(fleet, id, "rolled_back");

  // The rollback reached both gateways: v1 takes everything again on each.
  ASSERT_TRUE(wait_for_weight(gateways, "orders", "v1", 100, "v1"));
  const auto before_a = load_a.counts();
  const auto before_b = load_b.counts();
  ASSERT_TRUE(load_a.wait_for_answers(100));
  ASSERT_TRUE(load_b.wait_for_answers(100));
  load_a.stop();
  load_b.stop();
  const auto after_a = load_a.counts();
  const auto after_b = load_b.counts();
  // Gateway A's v2 was healthy: not one failure there. Gateway B's failures were v2's,
  // and ended with the rollback.
  expect_no_failures(load_a, "gateway A");
  EXPECT_GT(answered_by(before_a, "v2"), 0u) << "gateway A sent nothing to v2 during the canary";
  EXPECT_GT(before_b.failed, 0u) << "gateway B's v2 never failed: the test proves nothing";
  for (const std::string& failure : after_b.failures) {
    EXPECT_THAT(failure, HasSubstr("from v2")) << "gateway B failed other than through v2";
  }
  for (const auto& [before, after, name] :
       {std::tuple{before_a, after_a, "gateway A"}, std::tuple{before_b, after_b, "gateway B"}}) {
    EXPECT_EQ(after.failed, before.failed)
        << name
        << " failed requests after the rollback: " << ::testing::PrintToString(after.failures);
    EXPECT_EQ(answered_by(after, "v2"), answered_by(before, "v2"))
        << name << " still sends requests to v2 after the rollback";
  }
}

TEST(Fleet, TheStandbyTakesOverWhenTheLeaderIsKilled) {
  PgCluster db;
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  const std::string services = fleet_service(v1.address());
  Fleet fleet(db, services, services, services);
  const std::vector<FleetProcess*> gateways = fleet.gateways();
  FleetProcess* leader = wait_for_leader(fleet.controllers());
  ASSERT_NE(leader, nullptr);
  FleetProcess* standby = fleet.other_controller(leader);
  ASSERT_TRUE(wait_for_weight(gateways, "orders", "v1", 100, "v1"));

  SteadyLoad load_a(fleet.gateway_a.port(), "/orders/1", kPace, kLoadLimit);
  SteadyLoad load_b(fleet.gateway_b.port(), "/orders/1", kPace, kLoadLimit);
  ASSERT_TRUE(load_a.wait_for_answers(50));
  ASSERT_TRUE(load_b.wait_for_answers(50));

  const Json created =
      start_fleet_deployment(*leader, "orders",
                             deployment_request(v2.address(), Json::array({{{"weight", 10}},
                                                                           {{"pause", "3s"}},
                                                                           {{"weight", 30}},
                                                                           {{"pause", "3s"}},
                                                                           {{"weight", 60}},
                                                                           {{"pause", "3s"}},
                                                                           {{"weight", 100}}})));
  ASSERT_TRUE(created.is_object() && created.contains("id")) << created;
  const std::string id = created["id"];
  const Json at_thirty = wait_for_deployment(
      fleet.gateway_a, id, [](const Json& d) { return d["canary_weight"] == 30 || is_finished(d); },
      15s, "30%");
  ASSERT_EQ(at_thirty["canary_weight"], 30) << event_log(at_thirty);

  const auto killed_at = SteadyClock::now();
  leader->kill();
  std::optional<SteadyClock::duration> takeover;
  const auto deadline = killed_at + 20s;
  while (SteadyClock::now() < deadline) {
    if (says_leader(*standby) == true) {
      takeover = SteadyClock::now() - killed_at;
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(takeover.has_value())
      << standby->name() << " never said it leads; /healthz: " << standby->get("/healthz").body;
  std::printf("fleet: takeover ms: %lld\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(*takeover).count()));
  std::fflush(stdout);
  EXPECT_EQ(wait_for_leader(fleet.controllers()), standby);

  const Json done = wait_for_deployment_end(fleet.gateway_a, id, 40s);
  ASSERT_EQ(done.value("state", ""), "succeeded") << event_log(done);
  EXPECT_TRUE(has_event(done, "resume")) << "no resume event:\n" << event_log(done);
  EXPECT_THAT(repeated_steps(done), ::testing::IsEmpty()) << event_log(done);
  EXPECT_EQ(weights_of(weight_changes(done)), (std::vector<int>{10, 30, 60, 100}))
      << event_log(done);
  expect_every_process_reads(fleet, id, "succeeded");
  EXPECT_TRUE(wait_for_weight(gateways, "orders", "v2", 100, "v2"));

  ASSERT_TRUE(load_a.wait_for_answers(50));
  ASSERT_TRUE(load_b.wait_for_answers(50));
  load_a.stop();
  load_b.stop();
  expect_no_failures(load_a, "gateway A");
  expect_no_failures(load_b, "gateway B");
}

TEST(Fleet, TheDatabaseRestartsMidDeployment) {
  PgCluster db;
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  const std::string services = fleet_service(v1.address());
  Fleet fleet(db, services, services, services);
  const std::vector<FleetProcess*> gateways = fleet.gateways();
  FleetProcess* leader = wait_for_leader(fleet.controllers());
  ASSERT_NE(leader, nullptr);
  ASSERT_TRUE(wait_for_weight(gateways, "orders", "v1", 100, "v1"));

  SteadyLoad load_a(fleet.gateway_a.port(), "/orders/1", kPace, kLoadLimit);
  SteadyLoad load_b(fleet.gateway_b.port(), "/orders/1", kPace, kLoadLimit);
  ASSERT_TRUE(load_a.wait_for_answers(50));
  ASSERT_TRUE(load_b.wait_for_answers(50));

  const Json created = start_fleet_deployment(
      *leader, "orders",
      deployment_request(v2.address(),
                         Json::array({{{"weight", 20}}, {{"pause", "3s"}}, {{"weight", 100}}})));
  ASSERT_TRUE(created.is_object() && created.contains("id")) << created;
  const std::string id = created["id"];
  const Json at_twenty = wait_for_deployment(
      fleet.gateway_a, id, [](const Json& d) { return d["canary_weight"] == 20 || is_finished(d); },
      15s, "20%");
  ASSERT_EQ(at_twenty["canary_weight"], 20) << event_log(at_twenty);
  ASSERT_TRUE(wait_for_weight(gateways, "orders", "v2", 20));

  // The restart, in two halves (halt, then start on the same port with the same data) so
  // the outage can be observed: each gateway serves on with its last snapshot and says it
  // is degraded.
  ASSERT_TRUE(db.halt());
  for (FleetProcess* g : gateways) {
    EXPECT_TRUE(wait_for_store_status(*g, "error", 20s));
    const AdminReply health = g->get("/healthz");
    EXPECT_EQ(health.status, 200) << g->name() << ": " << health.body << health.error;
    EXPECT_EQ(health.json.is_object() ? health.json.value("status", "") : "", "degraded")
        << g->name() << ": " << health.body;
  }
  EXPECT_TRUE(wait_for_weight(gateways, "orders", "v2", 20));
  ASSERT_TRUE(load_a.wait_for_answers(100));
  ASSERT_TRUE(load_b.wait_for_answers(100));
  ASSERT_TRUE(db.start());

  for (FleetProcess* p : fleet.all())
    EXPECT_TRUE(wait_for_store_status(*p, "ok", 30s));
  EXPECT_NE(wait_for_leader(fleet.controllers(), 30s), nullptr);
  const Json done = wait_for_deployment_end(fleet.gateway_a, id, 40s);
  ASSERT_EQ(done.value("state", ""), "succeeded") << event_log(done);
  EXPECT_EQ(weights_of(weight_changes(done)), (std::vector<int>{20, 100})) << event_log(done);
  EXPECT_THAT(repeated_steps(done), ::testing::IsEmpty()) << event_log(done);
  EXPECT_TRUE(wait_for_weight(gateways, "orders", "v2", 100, "v2"));
  for (FleetProcess* g : gateways) {
    const AdminReply health = g->get("/healthz");
    EXPECT_EQ(health.json.is_object() ? health.json.value("status", "") : "", "ok")
        << g->name() << ": " << health.body;
  }

  ASSERT_TRUE(load_a.wait_for_answers(50));
  ASSERT_TRUE(load_b.wait_for_answers(50));
  load_a.stop();
  load_b.stop();
  expect_no_failures(load_a, "gateway A");
  expect_no_failures(load_b, "gateway B");
}

}  // namespace
}  // namespace glidepath::testing
