// The Store contract (store/store.h), run against every backend that instantiates it.
#include "store_contract.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "store/migrations.h"

namespace glidepath::store::testing {

using access::UsageBucket;
using deploy::DeployedVersion;
using deploy::ServiceState;
using metrics::MetricWindow;
namespace {

using deploy::DeploymentEvent;
using deploy::DeploymentState;
using ::testing::HasSubstr;

// Runs a store call that must succeed and returns its value.
template <typename T>
T must(core::Result<T> result) {
  EXPECT_TRUE(result.ok()) << result.error().message;
  if (!result.ok()) throw std::runtime_error(result.error().message);
  return std::move(result).value();
}
void must(core::Result<void> result) {
  EXPECT_TRUE(result.ok()) << result.error().message;
  if (!result.ok()) throw std::runtime_error(result.error().message);
}

std::vector<std::string> ids_of(const std::vector<StoredDeployment>& deployments) {
  std::vector<std::string> ids;
  for (const auto& stored : deployments)
    ids.push_back(stored.deployment.id);
  return ids;
}

// --- Schema ---

TEST_P(StoreContractTest, SchemaIsAtTheLatestVersionAndReopeningChangesNothing) {
  EXPECT_EQ(must(store_->schema_version()), latest_schema_version());
  must(store_->upsert_service(ServiceState{"orders", "v1", {}, std::nullopt, at(0)}));

  auto second = open_another();
  ASSERT_NE(second, nullptr);
  auto third = open_another();
  ASSERT_NE(third, nullptr);
  EXPECT_EQ(must(third->schema_version()), latest_schema_version());
  EXPECT_EQ(must(third->list_services()).size(), 1u);
}

TEST_P(StoreContractTest, MigrationsAreNumberedInOrderWithoutGaps) {
  int expected = 1;
  for (const Migration& migration : migrations()) {
    EXPECT_EQ(migration.version, expected++);
    EXPECT_FALSE(migration.description.empty());
  }
  EXPECT_EQ(latest_schema_version(), expected - 1);
}

// --- Services ---

TEST_P(StoreContractTest, ServiceStateIsStoredReplacedAndListedByName) {
  EXPECT_EQ(must(store_->get_service("orders")), std::nullopt);

  ServiceState orders{"orders",
                      "v2",
                      {DeployedVersion{"v2", {"127.0.0.1:9003", "127.0.0.1:9004"}, "specs/v2.yaml"},
                       DeployedVersion{"v3", {"10.0.0.1:80"}, ""}},
                      std::map<std::string, int>{{"v1", 90}, {"v2", 10}},
                      at(5)};
  must(store_->upsert_service(orders));
  must(store_->upsert_service(ServiceState{"billing", "v7", {}, std::nullopt, at(6)}));
  EXPECT_EQ(must(store_->get_service("orders")), orders);

  orders.live_version = "v3";
  orders.traffic.reset();
  orders.versions.pop_back();
  orders.updated_at = at(9);
  must(store_->upsert_service(orders));
  EXPECT_EQ(must(store_->get_service("orders")), orders);

  auto services = must(store_->list_services());
  ASSERT_EQ(services.size(), 2u);
  EXPECT_EQ(services[0].name, "billing");
  EXPECT_EQ(services[1], orders);
}

TEST_P(StoreContractTest, ServiceWithoutNameIsRefused) {
  auto result = store_->upsert_service(ServiceState{"", "v1", {}, std::nullopt, at(0)});
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, HasSubstr("no name"));
}

// --- Deployments ---

TEST_P(StoreContractTest, CreatedDeploymentIsReadBackAtRevisionOne) {
  const auto deployment = make_deployment("dep_1", "orders", at(0));
  const auto created = must(store_->create_deployment(deployment));
  EXPECT_EQ(created.revision, 1);
  EXPECT_EQ(created.deployment, deployment);

  auto read = must(store_->get_deployment("dep_1"));
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->deployment, deployment);
  EXPECT_EQ(read->revision, 1);
  EXPECT_EQ(must(store_->get_deployment("dep_unknown")), std::nullopt);
}

TEST_P(StoreContractTest, CreatingAppendsTheDeploymentsEventsToTheLog) {
  const auto deployment = make_deployment("dep_1", "orders", at(0));
  ASSERT_EQ(deployment.events.size(), 1u);
  must(store_->create_deployment(deployment));

  auto events = must(store_->events_after(0, 10));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].service, "orders");
  EXPECT_EQ(events[0].deployment_id, "dep_1");
  EXPECT_EQ(events[0].event, deployment.events[0]);
  EXPECT_EQ(must(store_->last_event_id()), events[0].id);
}

TEST_P(StoreContractTest, DeploymentWithoutIdOrServiceIsRefused) {
  EXPECT_FALSE(store_->create_deployment(make_deployment("", "orders", at(0))).ok());
  EXPECT_FALSE(store_->create_deployment(make_deployment("dep_1", "", at(0))).ok());
}

TEST_P(StoreContractTest, DuplicateDeploymentIdIsAConflict) {
  auto first = make_deployment("dep_1", "orders", at(0));
  first.state = DeploymentState::succeeded;
  must(store_->create_deployment(first));
  auto again = store_->create_deployment(make_deployment("dep_1", "billing", at(1)));
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(is_conflict(again.error())) << again.error().message;
  EXPECT_THAT(again.error().message, HasSubstr("dep_1 already exists"));
}

TEST_P(StoreContractTest, ListIsNewestFirstAndFiltersByServiceActivityAndLimit) {
  for (int i = 0; i < 4; ++i) {
    auto d = make_deployment("dep_orders_" + std::to_string(i), "orders", at(i * 100));
    if (i < 3) d.state = i == 1 ? DeploymentState::rolled_back : DeploymentState::succeeded;
    must(store_->create_deployment(d));
  }
  must(store_->create_deployment(make_deployment("dep_billing", "billing", at(150))));

  EXPECT_THAT(ids_of(must(store_->list_deployments({}))),
              ::testing::ElementsAre("dep_orders_3", "dep_orders_2", "dep_billing", "dep_orders_1",
                                     "dep_orders_0"));
  EXPECT_THAT(
      ids_of(must(store_->list_deployments({"orders", false, 100}))),
      ::testing::ElementsAre("dep_orders_3", "dep_orders_2", "dep_orders_1", "dep_orders_0"));
  EXPECT_THAT(ids_of(must(store_->list_deployments({"orders", false, 2}))),
              ::testing::ElementsAre("dep_orders_3", "dep_orders_2"));
  EXPECT_THAT(ids_of(must(store_->list_deployments({std::nullopt, true, 100}))),
              ::testing::ElementsAre("dep_orders_3", "dep_billing"));
  EXPECT_THAT(ids_of(must(store_->list_deployments({"billing", true, 0}))),
              ::testing::ElementsAre("dep_billing"));
  EXPECT_TRUE(must(store_->list_deployments({"nothing", false, 0})).empty());
  EXPECT_THAT(ids_of(must(store_->active_deployments())),
              ::testing::ElementsAre("dep_billing", "dep_orders_3"));
}

TEST_P(StoreContractTest, SecondActiveDeploymentOfAServiceIsRefusedNamingTheRunningOne) {
  auto first = must(store_->create_deployment(make_deployment("dep_first", "orders", at(0))));
  const int64_t events_before = must(store_->last_event_id());

  auto second = store_->create_deployment(make_deployment("dep_second", "orders", at(10)));
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(is_conflict(second.error())) << second.error().message;
  EXPECT_THAT(second.error().message, HasSubstr("dep_first"));
  EXPECT_THAT(second.error().message, HasSubstr("orders"));
  EXPECT_THAT(second.error().message, HasSubstr("already has an active deployment"));
  // Refused as a whole: neither the row nor its events were written.
  EXPECT_EQ(must(store_->get_deployment("dep_second")), std::nullopt);
  EXPECT_EQ(must(store_->last_event_id()), events_before);

  // Another service is not affected.
  must(store_->create_deployment(make_deployment("dep_billing", "billing", at(10))));

  // Once the first reaches a terminal state, the service may deploy again.
  first.deployment.state = DeploymentState::rolled_back;
  first.deployment.reason = "alarm canary-errors";
  must(store_->save_deployment(first.deployment, first.revision, {}));
  must(store_->create_deployment(make_deployment("dep_second", "orders", at(20))));
}

TEST_P(StoreContractTest, MakingAFinishedDeploymentActiveWhileAnotherRunsIsRefused) {
  auto first = make_deployment("dep_first", "orders", at(0));
  first.state = DeploymentState::failed;
  must(store_->create_deployment(first));
  must(store_->create_deployment(make_deployment("dep_second", "orders", at(10))));

  first.state = DeploymentState::shifting;
  auto saved = store_->save_deployment(first, 1, {});
  ASSERT_FALSE(saved.ok());
  EXPECT_TRUE(is_conflict(saved.error())) << saved.error().message;
  EXPECT_THAT(saved.error().message, HasSubstr("dep_second"));
  EXPECT_EQ(must(store_->get_deployment("dep_first"))->deployment.state, DeploymentState::failed);
}

TEST_P(StoreContractTest, SaveWritesTheStateAndAppendsNewEventsInOrder) {
  auto stored = must(store_->create_deployment(make_deployment("dep_1", "orders", at(0))));
  const int64_t created_event = must(store_->last_event_id());

  deploy::Deployment d = stored.deployment;
  const std::vector<DeploymentEvent> step_one = {
      {at(1), "state", "pending → shifting"},
      {at(1), "weight", "canary weight 10%"},
  };
  d.state = DeploymentState::shifting;
  d.canary_weight = 10;
  d.updated_at = at(1);
  d.events.insert(d.events.end(), step_one.begin(), step_one.end());
  const int64_t revision = must(store_->save_deployment(d, stored.revision, step_one));
  EXPECT_EQ(revision, 2);

  const std::vector<DeploymentEvent> step_two = {{at(301), "weight", "canary weight 100%"}};
  d.canary_weight = 100;
  d.step = 2;
  d.updated_at = at(301);
  d.events.insert(d.events.end(), step_two.begin(), step_two.end());
  EXPECT_EQ(must(store_->save_deployment(d, revision, step_two)), 3);

  auto read = must(store_->get_deployment("dep_1"));
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->deployment, d);
  EXPECT_EQ(read->revision, 3);

  auto events = must(store_->events_after(created_event, 100));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].event, step_one[0]);
  EXPECT_EQ(events[1].event, step_one[1]);
  EXPECT_EQ(events[2].event, step_two[0]);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].id, created_event + 1 + static_cast<int64_t>(i));
    EXPECT_EQ(events[i].deployment_id, "dep_1");
    EXPECT_EQ(events[i].service, "orders");
  }
  // Replay resumes after any id, and respects the limit.
  auto tail = must(store_->events_after(events[0].id, 1));
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail[0], events[1]);
  EXPECT_TRUE(must(store_->events_after(events[2].id, 10)).empty());
}

TEST_P(StoreContractTest, StaleRevisionIsRefusedAndWritesNothing) {
  const auto created = must(store_->create_deployment(make_deployment("dep_1", "orders", at(0))));
  // Two controllers read the same revision.
  auto mine = must(store_->get_deployment("dep_1")).value();
  auto theirs = must(store_->get_deployment("dep_1")).value();

  theirs.deployment.state = DeploymentState::shifting;
  theirs.deployment.canary_weight = 10;
  const std::vector<DeploymentEvent> their_events = {{at(1), "weight", "canary weight 10%"}};
  must(store_->save_deployment(theirs.deployment, theirs.revision, their_events));
  const int64_t events_after_theirs = must(store_->last_event_id());

  mine.deployment.state = DeploymentState::rolling_back;
  const std::vector<DeploymentEvent> my_events = {{at(2), "abort", "aborted"}};
  auto stale = store_->save_deployment(mine.deployment, mine.revision, my_events);
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(is_conflict(stale.error())) << stale.error().message;
  EXPECT_THAT(stale.error().message, HasSubstr("dep_1"));
  EXPECT_THAT(stale.error().message, HasSubstr("revision 2"));

  auto read = must(store_->get_deployment("dep_1")).value();
  EXPECT_EQ(read.revision, created.revision + 1);
  EXPECT_EQ(read.deployment, theirs.deployment);
  EXPECT_EQ(must(store_->last_event_id()), events_after_theirs);

  // Read again, then the write goes through.
  read.deployment.state = DeploymentState::rolling_back;
  EXPECT_EQ(must(store_->save_deployment(read.deployment, read.revision, my_events)), 3);
}

TEST_P(StoreContractTest, SavingAnUnknownDeploymentIsNotFound) {
  auto saved = store_->save_deployment(make_deployment("dep_nope", "orders", at(0)), 1, {});
  ASSERT_FALSE(saved.ok());
  EXPECT_TRUE(is_not_found(saved.error())) << saved.error().message;
  EXPECT_THAT(saved.error().message, HasSubstr("dep_nope"));
}

TEST_P(StoreContractTest, DeploymentCannotMoveToAnotherService) {
  auto stored = must(store_->create_deployment(make_deployment("dep_1", "orders", at(0))));
  stored.deployment.spec.service = "billing";
  auto saved = store_->save_deployment(stored.deployment, stored.revision, {});
  ASSERT_FALSE(saved.ok());
  EXPECT_FALSE(is_conflict(saved.error()));
  EXPECT_THAT(saved.error().message, HasSubstr("belongs to service orders"));
}

TEST_P(StoreContractTest, SaveWithServiceUpdateWritesBothTogether) {
  auto stored = must(store_->create_deployment(make_deployment("dep_1", "orders", at(0))));
  stored.deployment.state = DeploymentState::succeeded;
  stored.deployment.canary_weight = 100;
  stored.deployment.finished_at = at(400);
  const ServiceState promoted{
      "orders", "v2", {DeployedVersion{"v2", {"127.0.0.1:9003"}, ""}}, std::nullopt, at(400)};
  const std::vector<DeploymentEvent> events = {{at(400), "state", "succeeded"}};
  must(store_->save_deployment(stored.deployment, stored.revision, events, &promoted));
  EXPECT_EQ(must(store_->get_service("orders")), promoted);
  EXPECT_EQ(must(store_->get_deployment("dep_1"))->deployment, stored.deployment);

  // A refused save writes neither.
  const ServiceState other{"orders", "v9", {}, std::nullopt, at(500)};
  EXPECT_FALSE(store_->save_deployment(stored.deployment, stored.revision, {}, &other).ok());
  EXPECT_EQ(must(store_->get_service("orders")), promoted);
}

TEST_P(StoreContractTest, DeploymentReadsBackIdenticallyAfterARestart) {
  const auto deployment = make_rich_deployment("dep_rich", "orders", at(0));
  {
    auto writer = open_another();
    ASSERT_NE(writer, nullptr);
    must(writer->create_deployment(deployment));
  }
  store_.reset();  // every Store on the database is closed: the process restarted

  auto restarted = open_another();
  ASSERT_NE(restarted, nullptr);
  auto read = must(restarted->get_deployment("dep_rich"));
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->deployment, deployment);
  EXPECT_EQ(read->revision, 1);
  auto active = must(restarted->active_deployments());
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].deployment, deployment);
}

TEST_P(StoreContractTest, WritesOfOneStoreAreSeenByAnotherOnTheSameDatabase) {
  auto other = open_another();
  ASSERT_NE(other, nullptr);
  auto stored = must(store_->create_deployment(make_deployment("dep_1", "orders", at(0))));
  auto seen = must(other->get_deployment("dep_1"));
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(*seen, stored);

  // The other process's controller refuses a second deployment as well.
  EXPECT_FALSE(other->create_deployment(make_deployment("dep_2", "orders", at(1))).ok());
  // And its stale write is refused after this one saved.
  stored.deployment.canary_weight = 10;
  must(store_->save_deployment(stored.deployment, stored.revision, {}));
  auto stale = other->save_deployment(seen->deployment, seen->revision, {});
  ASSERT_FALSE(stale.ok());
  EXPECT_TRUE(is_conflict(stale.error()));
}

TEST_P(StoreContractTest, TextThatCannotBeStoredIsAnErrorNotAnException) {
  auto deployment = make_deployment("dep_1", "orders", at(0));
  deployment.reason = "bad byte \xff here";
  auto created = store_->create_deployment(deployment);
  ASSERT_FALSE(created.ok());
  EXPECT_THAT(created.error().message, HasSubstr("dep_1"));
  EXPECT_EQ(must(store_->get_deployment("dep_1")), std::nullopt);

  auto key = make_api_key("key_a", "alice", 1, at(0));
  key.metadata["note"] = "\xc3";
  auto key_created = store_->create_api_key(key);
  ASSERT_FALSE(key_created.ok());
  EXPECT_THAT(key_created.error().message, HasSubstr("metadata"));
}

// --- Event log ---

TEST_P(StoreContractTest, EventLogAppendsWithIncreasingIdsAndReplays) {
  EXPECT_EQ(must(store_->last_event_id()), 0);
  EXPECT_TRUE(must(store_->events_after(0, 10)).empty());

  must(store_->create_deployment(make_deployment("dep_1", "orders", at(0))));
  const int64_t a = must(store_->append_event("orders", "", {at(1), "traffic", "split 90/10"}));
  const int64_t b = must(store_->append_event("orders", "dep_1", {at(2), "alarm", "ok → alarm"}));
  EXPECT_GT(a, 0);
  EXPECT_EQ(b, a + 1);
  EXPECT_EQ(must(store_->last_event_id()), b);

  auto events = must(store_->events_after(a - 1, 10));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], (EventRecord{a, "orders", "", {at(1), "traffic", "split 90/10"}}));
  EXPECT_EQ(events[1], (EventRecord{b, "orders", "dep_1", {at(2), "alarm", "ok → alarm"}}));
  EXPECT_EQ(must(store_->events_after(0, 2)).size(), 2u);
  EXPECT_TRUE(must(store_->events_after(0, 0)).empty());
}

TEST_P(StoreContractTest, EventOfAnUnknownDeploymentIsNotFound) {
  auto appended = store_->append_event("orders", "dep_ghost", {at(1), "state", "x"});
  ASSERT_FALSE(appended.ok());
  EXPECT_TRUE(is_not_found(appended.error())) << appended.error().message;
  EXPECT_THAT(appended.error().message, HasSubstr("dep_ghost"));
  EXPECT_EQ(must(store_->last_event_id()), 0);
  EXPECT_FALSE(store_->append_event("", "", {at(1), "state", "x"}).ok());
}

// --- API keys ---

TEST_P(StoreContractTest, ApiKeysAreCreatedFoundByIdAndHashAndListed) {
  auto alice = make_api_key("key_a", "alice", 1, at(10));
  alice.rate = "100/s";
  alice.quota = "100000/day";
  alice.preview = true;
  const auto bob = make_api_key("key_b", "bob", 2, at(20));
  must(store_->create_api_key(bob));
  must(store_->create_api_key(alice));

  EXPECT_EQ(must(store_->get_api_key("key_a")), alice);
  EXPECT_EQ(must(store_->get_api_key("key_zzz")), std::nullopt);
  EXPECT_EQ(must(store_->find_api_key_by_hash(bob.key_hash)), bob);
  EXPECT_EQ(must(store_->find_api_key_by_hash(std::string(64, 'f'))), std::nullopt);
  auto keys = must(store_->list_api_keys());
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0], alice);  // oldest first
  EXPECT_EQ(keys[1], bob);
}

TEST_P(StoreContractTest, DuplicateOrMalformedApiKeysAreRefused) {
  must(store_->create_api_key(make_api_key("key_a", "alice", 1, at(0))));

  auto same_id = store_->create_api_key(make_api_key("key_a", "alice", 2, at(1)));
  ASSERT_FALSE(same_id.ok());
  EXPECT_TRUE(is_conflict(same_id.error())) << same_id.error().message;

  auto same_hash = store_->create_api_key(make_api_key("key_b", "bob", 1, at(1)));
  ASSERT_FALSE(same_hash.ok());
  EXPECT_TRUE(is_conflict(same_hash.error())) << same_hash.error().message;

  auto bad_hash = make_api_key("key_c", "carol", 3, at(1));
  bad_hash.key_hash = "not-a-sha256";
  auto malformed = store_->create_api_key(bad_hash);
  ASSERT_FALSE(malformed.ok());
  EXPECT_THAT(malformed.error().message, HasSubstr("64 lowercase hex"));

  EXPECT_FALSE(store_->create_api_key(make_api_key("", "dave", 4, at(1))).ok());
  EXPECT_EQ(must(store_->list_api_keys()).size(), 1u);
}

TEST_P(StoreContractTest, RevokingSetsRevokedAtOnceAndKeepsTheKeyFindable) {
  const auto key = make_api_key("key_a", "alice", 1, at(0));
  must(store_->create_api_key(key));

  auto revoked = must(store_->revoke_api_key("key_a", at(50)));
  EXPECT_EQ(revoked.revoked_at, at(50));
  EXPECT_TRUE(revoked.revoked());
  auto found = must(store_->find_api_key_by_hash(key.key_hash));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*found, revoked);

  auto twice = store_->revoke_api_key("key_a", at(60));
  ASSERT_FALSE(twice.ok());
  EXPECT_TRUE(is_conflict(twice.error())) << twice.error().message;
  EXPECT_THAT(twice.error().message, HasSubstr("already revoked"));
  EXPECT_EQ(must(store_->get_api_key("key_a"))->revoked_at, at(50));

  auto unknown = store_->revoke_api_key("key_nope", at(60));
  ASSERT_FALSE(unknown.ok());
  EXPECT_TRUE(is_not_found(unknown.error())) << unknown.error().message;
  EXPECT_THAT(unknown.error().message, HasSubstr("key_nope"));
}

// --- Usage ---

TEST_P(StoreContractTest, UsageBatchesAddCountsAndWidenFirstAndLastSeen) {
  const int64_t minute = 1'767'225'600;  // at(0), a minute start
  const std::vector<UsageBucket> first = {
      make_bucket("alice", "orders", "GET /orders/{id}", "2xx", minute, 5, at(10), at(20)),
      make_bucket("alice", "orders", "GET /orders/{id}", "5xx", minute, 1, at(15), at(15)),
  };
  const std::vector<UsageBucket> second = {
      make_bucket("alice", "orders", "GET /orders/{id}", "2xx", minute, 7, at(5), at(18)),
      make_bucket("alice", "orders", "GET /orders/{id}", "2xx", minute + 60, 2, at(61), at(62)),
  };
  must(store_->add_usage(first));
  must(store_->add_usage(second));

  auto buckets = must(store_->query_usage({}));
  ASSERT_EQ(buckets.size(), 3u);
  EXPECT_EQ(buckets[0],
            make_bucket("alice", "orders", "GET /orders/{id}", "2xx", minute, 12, at(5), at(20)));
  EXPECT_EQ(buckets[1], first[1]);
  EXPECT_EQ(buckets[2], second[1]);
}

TEST_P(StoreContractTest, UsageQueriesFilterByConsumerServiceAndSince) {
  const int64_t m0 = 1'767'225'600;
  must(store_->add_usage(std::vector<UsageBucket>{
      make_bucket("alice", "orders", "GET /orders", "2xx", m0, 1, at(0), at(0)),
      make_bucket("alice", "billing", "POST /invoices", "4xx", m0 + 60, 2, at(60), at(60)),
      make_bucket("bob", "orders", "GET /orders", "2xx", m0 + 120, 3, at(120), at(120)),
  }));

  auto count_of = [](const std::vector<UsageBucket>& buckets) {
    uint64_t total = 0;
    for (const auto& b : buckets)
      total += b.count;
    return total;
  };
  EXPECT_EQ(count_of(must(store_->query_usage({"alice", std::nullopt, 0}))), 3u);
  EXPECT_EQ(count_of(must(store_->query_usage({std::nullopt, "orders", 0}))), 4u);
  EXPECT_EQ(count_of(must(store_->query_usage({"alice", "orders", 0}))), 1u);
  EXPECT_EQ(count_of(must(store_->query_usage({std::nullopt, std::nullopt, m0 + 60}))), 5u);
  EXPECT_EQ(count_of(must(store_->query_usage({std::nullopt, "orders", m0 + 60}))), 3u);
  EXPECT_TRUE(must(store_->query_usage({"carol", std::nullopt, 0})).empty());
}

TEST_P(StoreContractTest, UsageBatchWithAnInvalidBucketWritesNothing) {
  const int64_t m0 = 1'767'225'600;
  auto added = store_->add_usage(std::vector<UsageBucket>{
      make_bucket("alice", "orders", "GET /orders", "2xx", m0, 1, at(0), at(0)),
      make_bucket("alice", "orders", "GET /orders", "2xx", m0 + 7, 1, at(7), at(7)),
  });
  ASSERT_FALSE(added.ok());
  EXPECT_THAT(added.error().message, HasSubstr("not the start of a minute"));
  EXPECT_TRUE(must(store_->query_usage({})).empty());
  must(store_->add_usage(std::span<const UsageBucket>{}));  // an empty batch is fine
}

// --- Quota counters ---

TEST_P(StoreContractTest, QuotaCountersAddPerKeyAndPeriodAndSurviveReopening) {
  must(store_->create_api_key(make_api_key("key_a", "alice", 1, at(0))));
  must(store_->create_api_key(make_api_key("key_b", "bob", 2, at(0))));
  const int64_t day = 1'767'225'600;

  EXPECT_EQ(must(store_->get_quota_usage("key_a", day)), 0u);
  EXPECT_EQ(must(store_->add_quota_usage("key_a", day, 5)), 5u);
  EXPECT_EQ(must(store_->add_quota_usage("key_a", day, 7)), 12u);
  EXPECT_EQ(must(store_->add_quota_usage("key_a", day + 86'400, 1)), 1u);
  EXPECT_EQ(must(store_->add_quota_usage("key_b", day, 3)), 3u);

  store_.reset();
  auto reopened = open_another();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(must(reopened->get_quota_usage("key_a", day)), 12u);
  EXPECT_EQ(must(reopened->get_quota_usage("key_a", day + 86'400)), 1u);
  EXPECT_EQ(must(reopened->get_quota_usage("key_b", day)), 3u);
  EXPECT_EQ(must(reopened->get_quota_usage("key_b", day + 86'400)), 0u);
}

TEST_P(StoreContractTest, QuotaOfAnUnknownKeyIsNotFound) {
  auto added = store_->add_quota_usage("key_ghost", 0, 1);
  ASSERT_FALSE(added.ok());
  EXPECT_TRUE(is_not_found(added.error())) << added.error().message;
  EXPECT_THAT(added.error().message, HasSubstr("key_ghost"));
}

// --- Concurrency ---

TEST_P(StoreContractTest, ConcurrentWritersOnTwoStoresKeepExactCounts) {
  auto other = open_another();
  ASSERT_NE(other, nullptr);
  must(store_->create_api_key(make_api_key("key_a", "alice", 1, at(0))));
  const int64_t minute = 1'767'225'600;

  constexpr int kThreads = 4;
  constexpr int kIterations = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    // Threads share each Store (its mutex) and the two Stores share the file (its locks).
    Store& store = t % 2 == 0 ? *store_ : *other;
    threads.emplace_back([&store, &failures, t, minute] {
      for (int i = 0; i < kIterations; ++i) {
        const auto seen = at(t * 1000 + i);
        const std::vector<UsageBucket> batch = {
            make_bucket("alice", "orders", "GET /orders", "2xx", minute, 2, seen, seen),
            make_bucket("alice", "orders", "GET /orders", "5xx", minute, 1, seen, seen)};
        if (!store.add_usage(batch).ok()) ++failures;
        if (!store.add_quota_usage("key_a", minute, 3).ok()) ++failures;
        if (!store.append_event("orders", "", {seen, "test", std::to_string(t)}).ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  ASSERT_EQ(failures.load(), 0);

  constexpr uint64_t kRounds = kThreads * kIterations;
  auto buckets = must(store_->query_usage({}));
  ASSERT_EQ(buckets.size(), 2u);
  EXPECT_EQ(buckets[0].count, 2 * kRounds);
  EXPECT_EQ(buckets[1].count, kRounds);
  EXPECT_EQ(buckets[0].first_seen, at(0));
  EXPECT_EQ(buckets[0].last_seen, at((kThreads - 1) * 1000 + kIterations - 1));
  EXPECT_EQ(must(other->get_quota_usage("key_a", minute)), 3 * kRounds);

  auto events = must(other->events_after(0, 10'000));
  ASSERT_EQ(events.size(), kRounds);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].id, static_cast<int64_t>(i) + 1);
  }
}

TEST_P(StoreContractTest, ConcurrentCreatesAdmitOneActiveDeploymentPerService) {
  auto other = open_another();
  ASSERT_NE(other, nullptr);
  constexpr int kThreads = 4;
  std::atomic<int> created{0};
  std::atomic<int> refused{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    Store& store = t % 2 == 0 ? *store_ : *other;
    threads.emplace_back([&, t] {
      for (const std::string service : {"orders", "billing"}) {
        auto result = store.create_deployment(
            make_deployment("dep_" + service + "_" + std::to_string(t), service, at(t)));
        if (result.ok()) {
          ++created;
        } else if (is_conflict(result.error())) {
          ++refused;
        } else {
          ++failed;
        }
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(created.load(), 2);
  EXPECT_EQ(refused.load(), 2 * kThreads - 2);
  auto active = must(store_->active_deployments());
  ASSERT_EQ(active.size(), 2u);
  std::set<std::string> services;
  for (const auto& stored : active)
    services.insert(stored.deployment.spec.service);
  EXPECT_EQ(services, (std::set<std::string>{"billing", "orders"}));
}

// --- Metric windows (SPEC section 9) ---

constexpr int64_t kSecond = 1'767'225'600;  // at(0)
constexpr uint64_t kInt64Max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

// (second, service, version, gateway) of each window, for comparing orders.
std::vector<std::string> keys_of(const std::vector<MetricWindow>& windows) {
  std::vector<std::string> keys;
  for (const MetricWindow& w : windows)
    keys.push_back(fmt::format("{} {}/{} {}", w.second - kSecond, w.service, w.version, w.gateway));
  return keys;
}

TEST_P(StoreContractTest, MetricWindowsRoundTripWithTheirLatencyHistograms) {
  MetricWindow big = make_window("orders", "v2", kSecond, "gw-a", 3);
  big.stats.requests = kInt64Max;  // the largest storable count reads back exactly
  big.stats.bytes_out = kInt64Max - 1;
  MetricWindow quiet = make_window("orders", "v1", kSecond, "gw-a", 4);
  quiet.stats = metrics::SecondStats{};  // no requests: no latency either
  const std::vector<MetricWindow> written = {big, quiet,
                                             make_window("orders", "v1", kSecond, "gw-b", 5)};
  ASSERT_GT(big.stats.latency.buckets().size(), 10u);
  ASSERT_EQ(big.stats.latency.buckets().back().index, metrics::kBucketCount - 1);
  must(store_->put_metric_windows(written));

  const auto read = must(store_->metric_windows(kSecond, kSecond + 1));
  ASSERT_EQ(read.size(), 3u);
  EXPECT_EQ(read[0], quiet);
  EXPECT_EQ(read[1], written[2]);
  EXPECT_EQ(read[2], big);
  EXPECT_EQ(read[2].stats.latency.percentile(0.99), big.stats.latency.percentile(0.99));
  // Another process (a controller) reads what the gateway wrote.
  auto controller = open_another();
  ASSERT_NE(controller, nullptr);
  EXPECT_EQ(must(controller->metric_windows(kSecond, kSecond + 1)), read);
}

TEST_P(StoreContractTest, WindowWithTheSameKeyIsReplacedNotAdded) {
  must(store_->put_metric_windows(
      std::vector<MetricWindow>{make_window("orders", "v1", kSecond, "gw-a", 1),
                                make_window("orders", "v1", kSecond, "gw-b", 2)}));
  // A gateway re-sending after a lost reply, with what it knows now.
  const MetricWindow resent = make_window("orders", "v1", kSecond, "gw-a", 9);
  must(store_->put_metric_windows(std::span(&resent, 1)));
  auto read = must(store_->metric_windows(kSecond, kSecond + 1));
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0], resent);
  EXPECT_EQ(read[1], make_window("orders", "v1", kSecond, "gw-b", 2));

  // Within one batch, the later of two windows with one key wins.
  must(store_->put_metric_windows(
      std::vector<MetricWindow>{make_window("orders", "v1", kSecond, "gw-b", 20),
                                make_window("orders", "v1", kSecond, "gw-a", 10),
                                make_window("orders", "v1", kSecond, "gw-b", 21)}));
  read = must(store_->metric_windows(kSecond, kSecond + 1));
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0], make_window("orders", "v1", kSecond, "gw-a", 10));
  EXPECT_EQ(read[1], make_window("orders", "v1", kSecond, "gw-b", 21));
}

TEST_P(StoreContractTest, WindowsAreOrderedBySecondServiceVersionAndGatewayInByteOrder) {
  // Byte order puts upper case first ("Zeta" < "billing"), whatever the database's locale.
  must(store_->put_metric_windows(std::vector<MetricWindow>{
      make_window("orders", "v1", kSecond + 1, "gw-a", 1),
      make_window("orders", "v2", kSecond, "gw-b", 2),
      make_window("billing", "v1", kSecond, "gw-a", 3),
      make_window("orders", "v2", kSecond, "gw-a", 4),
      make_window("Zeta", "v1", kSecond, "gw-a", 5),
      make_window("orders", "V2", kSecond, "gw-a", 6),
      make_window("orders", "v1", kSecond, "gw-a", 7),
  }));
  EXPECT_THAT(keys_of(must(store_->metric_windows(kSecond, kSecond + 2))),
              ::testing::ElementsAre("0 Zeta/v1 gw-a", "0 billing/v1 gw-a", "0 orders/V2 gw-a",
                                     "0 orders/v1 gw-a", "0 orders/v2 gw-a", "0 orders/v2 gw-b",
                                     "1 orders/v1 gw-a"));
}

TEST_P(StoreContractTest, WindowRangeIncludesItsStartAndExcludesItsEnd) {
  std::vector<MetricWindow> windows;
  for (int64_t s = -2; s < 5; ++s)
    windows.push_back(make_window("orders", "v1", kSecond + s, "gw-a", static_cast<int>(s + 2)));
  windows.push_back(make_window("orders", "v1", -5, "gw-a", 1));  // before the epoch
  must(store_->put_metric_windows(windows));

  EXPECT_THAT(keys_of(must(store_->metric_windows(kSecond + 1, kSecond + 3))),
              ::testing::ElementsAre("1 orders/v1 gw-a", "2 orders/v1 gw-a"));
  EXPECT_EQ(must(store_->metric_windows(kSecond - 3, kSecond + 1)).size(), 3u);
  EXPECT_TRUE(must(store_->metric_windows(kSecond + 3, kSecond + 3)).empty());
  EXPECT_TRUE(must(store_->metric_windows(kSecond + 3, kSecond)).empty());
  EXPECT_TRUE(must(store_->metric_windows(kSecond + 5, kSecond + 100)).empty());
  EXPECT_EQ(must(store_->metric_windows(-10, -4)).size(), 1u);
  EXPECT_EQ(must(store_->metric_windows(std::numeric_limits<int64_t>::min(),
                                        std::numeric_limits<int64_t>::max()))
                .size(),
            windows.size());
}

TEST_P(StoreContractTest, PruningDeletesOlderWindowsAndCountsThem) {
  std::vector<MetricWindow> windows;
  for (int64_t s = 0; s < 5; ++s) {
    for (const char* gateway : {"gw-a", "gw-b"})
      windows.push_back(make_window("orders", "v1", kSecond + s, gateway, static_cast<int>(s)));
  }
  must(store_->put_metric_windows(windows));
  EXPECT_EQ(must(store_->prune_metric_windows(kSecond)), 0u);
  EXPECT_EQ(must(store_->prune_metric_windows(kSecond + 2)), 4u);
  EXPECT_EQ(must(store_->prune_metric_windows(kSecond + 2)), 0u);
  auto left = must(store_->metric_windows(kSecond - 10, kSecond + 10));
  ASSERT_EQ(left.size(), 6u);
  EXPECT_EQ(left.front().second, kSecond + 2);
  EXPECT_EQ(must(store_->prune_metric_windows(kSecond + 100)), 6u);
  EXPECT_TRUE(must(store_->metric_windows(kSecond - 10, kSecond + 10)).empty());
}

TEST_P(StoreContractTest, InvalidWindowsRefuseTheWholeBatchNamingTheWindow) {
  struct Bad {
    const char* name;
    MetricWindow window;
    const char* message;
  };
  auto with = [](auto change) {
    MetricWindow w = make_window("orders", "v1", kSecond, "gw-a", 1);
    change(w);
    return w;
  };
  const Bad cases[] = {
      {"no service", with([](MetricWindow& w) { w.service.clear(); }), "service"},
      {"no version", with([](MetricWindow& w) { w.version.clear(); }), "version"},
      {"no gateway", with([](MetricWindow& w) { w.gateway.clear(); }), "gateway"},
      {"service with a slash", with([](MetricWindow& w) { w.service = "a/b"; }), "service"},
      {"version with a NUL", with([](MetricWindow& w) { w.version = std::string("v\0 1", 3); }),
       "version"},
      {"gateway with a space", with([](MetricWindow& w) { w.gateway = "gw a"; }), "gateway"},
      {"gateway too long", with([](MetricWindow& w) { w.gateway = std::string(256, 'g'); }),
       "gateway"},
      {"latency with min above max", with([](MetricWindow& w) {
         metrics::LatencyHistogram dense;
         dense.add_buckets(5, std::vector<uint32_t>{1}, 5, 6, 5);
         w.stats.latency = dense.to_sparse();
       }),
       "latency"},
  };
  for (const Bad& bad : cases) {
    SCOPED_TRACE(bad.name);
    const std::vector<MetricWindow> batch = {make_window("orders", "v1", kSecond, "gw-z", 2),
                                             bad.window};
    auto written = store_->put_metric_windows(batch);
    ASSERT_FALSE(written.ok());
    EXPECT_THAT(written.error().message, HasSubstr(bad.message));
    EXPECT_THAT(written.error().message, HasSubstr("window 1"));
  }
  EXPECT_TRUE(must(store_->metric_windows(kSecond, kSecond + 1)).empty());
  must(store_->put_metric_windows(std::span<const MetricWindow>{}));  // an empty batch is fine
}

TEST_P(StoreContractTest, CountsAboveInt64MaxAreRefusedNotWrapped) {
  MetricWindow requests = make_window("orders", "v1", kSecond, "gw-a", 1);
  requests.stats.requests = kInt64Max + 1;
  auto refused = store_->put_metric_windows(std::span(&requests, 1));
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("requests 9223372036854775808"));
  EXPECT_THAT(refused.error().message, HasSubstr("largest storable"));

  MetricWindow bytes = make_window("orders", "v1", kSecond, "gw-a", 1);
  bytes.stats.bytes_out = std::numeric_limits<uint64_t>::max();
  refused = store_->put_metric_windows(std::span(&bytes, 1));
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("bytes_out"));

  // A latency sum past INT64_MAX (a dense histogram adds without bound).
  MetricWindow latency = make_window("orders", "v1", kSecond, "gw-a", 1);
  metrics::LatencyHistogram dense;
  dense.record(std::numeric_limits<int64_t>::max(), 2);
  latency.stats.latency = dense.to_sparse();
  refused = store_->put_metric_windows(std::span(&latency, 1));
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("latency_sum_us"));

  // A bucket count saturated by merges: the count could not be read back.
  MetricWindow saturated = make_window("orders", "v1", kSecond, "gw-a", 1);
  saturated.stats.latency =
      metrics::SparseHistogram::from_parts({{5, std::numeric_limits<uint32_t>::max()}}, 5, 5, 5)
          .value();
  saturated.stats.latency.merge(saturated.stats.latency);
  refused = store_->put_metric_windows(std::span(&saturated, 1));
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("not the sum of the bucket counts"));

  EXPECT_TRUE(must(store_->metric_windows(kSecond, kSecond + 1)).empty());
}

// A controller's view of a fleet: many gateways' windows for a few seconds in one batch.
TEST_P(StoreContractTest, ThousandsOfWindowsGoInOneCallAndComeBackSorted) {
  std::vector<MetricWindow> windows;
  int seed = 0;
  for (int gateway = 9; gateway >= 0; --gateway) {
    for (int64_t s = 3; s >= 0; --s) {
      for (int service = 0; service < 5; ++service) {
        for (int version = 0; version < 10; ++version) {
          windows.push_back(make_window(fmt::format("svc{}", service), fmt::format("v{}", version),
                                        kSecond + s, fmt::format("gw-{}", gateway), seed++ % 50));
        }
      }
    }
  }
  ASSERT_EQ(windows.size(), 2000u);
  must(store_->put_metric_windows(windows));
  must(store_->put_metric_windows(windows));  // all replaced, none added

  std::vector<MetricWindow> expected = windows;
  std::sort(expected.begin(), expected.end(), [](const MetricWindow& a, const MetricWindow& b) {
    return std::tie(a.second, a.service, a.version, a.gateway) <
           std::tie(b.second, b.service, b.version, b.gateway);
  });
  auto read = must(store_->metric_windows(kSecond, kSecond + 4));
  ASSERT_EQ(read.size(), expected.size());
  EXPECT_TRUE(read == expected);
  EXPECT_EQ(must(store_->metric_windows(kSecond + 1, kSecond + 2)).size(), 500u);
  EXPECT_EQ(must(store_->prune_metric_windows(kSecond + 4)), 2000u);
}

}  // namespace
}  // namespace glidepath::store::testing
