// The control plane's one owner of routing (routing/publisher.h): intents and keys in,
// gateway snapshots out, through a sink standing in for the workers. No sockets, no store.
#include "routing/publisher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "config/loader.h"
#include "metrics/series_registry.h"

namespace glidepath::routing {
namespace {

std::shared_ptr<const config::Config> config_with(const std::string& versions_yaml,
                                                  const std::string& extra = "") {
  const std::string text =
      "services:\n"
      "  - name: orders\n"
      "    match: {path_prefix: /orders}\n"
      "    preview: anyone\n"
      "    versions:\n" +
      versions_yaml + "    live: v1\n" + extra;
  auto loaded = config::load_config(text);
  EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors.front().message);
  return loaded.config;
}

const std::string kV1 = "      - {name: v1, upstreams: [127.0.0.1:9001]}\n";
const std::string kBilling =
    "  - name: billing\n"
    "    match: {path_prefix: /billing}\n"
    "    versions:\n"
    "      - {name: b1, upstreams: [127.0.0.1:9101]}\n"
    "    live: b1\n";

deploy::RoutingIntent canary(const std::string& version, int weight) {
  deploy::RoutingIntent intent;
  intent.live = "v1";
  intent.versions = {{version, {"127.0.0.1:9002"}, ""}};
  intent.canary = version;
  intent.canary_weight = weight;
  intent.preview_token = "gpp_token";
  return intent;
}

class PublisherTest : public testing::Test {
 protected:
  void start(std::shared_ptr<const config::Config> config,
             std::map<std::string, deploy::RoutingIntent> intents = {}) {
    RoutingPublisher::Options options;
    options.config = std::move(config);
    options.registry = &registry_;
    options.specs = [this](const std::string& path) {
      if (path == kSlowSpec) {
        // Stands in for a document that takes seconds to read; counted apart, as it is
        // read on another thread.
        ++slow_reads_;
        if (slow_gate_.valid()) slow_gate_.wait();
        return std::shared_ptr<const access::OperationMatcher>();
      }
      ++spec_reads_[path];
      return std::shared_ptr<const access::OperationMatcher>();
    };
    auto created = RoutingPublisher::create(std::move(options), std::move(intents), nullptr);
    ASSERT_TRUE(created.ok()) << created.error().message;
    publisher_ = std::move(*created);
    publisher_->attach([this](std::shared_ptr<const gateway::Snapshot> snapshot) {
      received_.push_back(snapshot);
      return adopt_;
    });
  }

  const gateway::ServiceRoute& route(const std::string& service) {
    const gateway::ServiceRoute* found = publisher_->snapshot()->find_service(service);
    EXPECT_NE(found, nullptr) << service;
    return *found;
  }

  metrics::SeriesRegistry registry_;
  std::unique_ptr<RoutingPublisher> publisher_;
  std::vector<std::shared_ptr<const gateway::Snapshot>> received_;
  std::map<std::string, int> spec_reads_;
  static constexpr const char* kSlowSpec = "/specs/slow.yaml";
  std::atomic<int> slow_reads_{0};
  std::shared_future<void> slow_gate_;
  bool adopt_ = true;
};

TEST_F(PublisherTest, ASlowDocumentLoadsWithoutHoldingUpPublications) {
  start(config_with(kV1, kBilling));
  std::promise<void> release;
  slow_gate_ = release.get_future().share();
  std::thread loader([&] { publisher_->preload_spec(kSlowSpec); });
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (slow_reads_ == 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::yield();
  ASSERT_EQ(slow_reads_, 1) << "the loader never started reading";
  // The read is still blocked: a publication (a rollback, say) goes through regardless.
  EXPECT_TRUE(publisher_->set_intent("orders", canary("v2", 10)).ok());
  EXPECT_EQ(received_.size(), 1u);
  release.set_value();
  loader.join();
  // A deployment naming the document then finds it read.
  deploy::RoutingIntent with_spec = canary("v2", 20);
  with_spec.versions[0].spec_path = kSlowSpec;
  ASSERT_TRUE(publisher_->set_intent("orders", with_spec).ok());
  EXPECT_EQ(slow_reads_, 1);
}

TEST_F(PublisherTest, TheFirstSnapshotIsBuiltFromTheIntentsAndNotPublished) {
  start(config_with(kV1), {{"orders", canary("v2", 10)}});
  const auto snapshot = publisher_->snapshot();
  EXPECT_EQ(snapshot->generation, 1u);
  EXPECT_TRUE(received_.empty()) << "the gateway starts with it";
  EXPECT_EQ(route("orders").weight_of(route("orders").find_version("v2") -
                                      route("orders").versions.data()),
            1000u);
  ASSERT_NE(snapshot->keys, nullptr);
}

TEST_F(PublisherTest, AWeightStepIsPublishedToTheWorkersWithTheNextGeneration) {
  start(config_with(kV1));
  ASSERT_TRUE(publisher_->set_intent("orders", canary("v2", 30)).ok());
  ASSERT_EQ(received_.size(), 1u);
  EXPECT_EQ(received_[0], publisher_->snapshot());
  EXPECT_EQ(received_[0]->generation, 2u);
  const gateway::ServiceRoute& orders = route("orders");
  const auto v2 = static_cast<uint32_t>(orders.find_version("v2") - orders.versions.data());
  EXPECT_EQ(orders.weight_of(v2), 3000u);
  EXPECT_EQ(orders.preview_token, "gpp_token");
  EXPECT_EQ(publisher_->intent("orders"), canary("v2", 30));
  ASSERT_TRUE(publisher_->set_intent("orders", canary("v2", 0)).ok());
  EXPECT_EQ(received_.back()->generation, 3u);
}

TEST_F(PublisherTest, ANewVersionAtZeroIsPinnableButGetsNoPublicTraffic) {
  start(config_with(kV1));
  ASSERT_TRUE(publisher_->set_intent("orders", canary("v2", 0)).ok());
  const gateway::ServiceRoute& orders = route("orders");
  gateway::RequestFacts facts;
  facts.pin = "v2";
  const gateway::VersionChoice pinned = gateway::choose_version(orders, facts, 0);
  EXPECT_EQ(pinned.error_status, 0) << pinned.error;
  EXPECT_EQ(orders.versions[pinned.version].name, "v2");
  for (uint64_t bits : {0ULL, 4999ULL, 9999ULL}) {
    const gateway::VersionChoice chosen = gateway::choose_version(orders, {}, bits);
    EXPECT_EQ(orders.versions[chosen.version].name, "v1");
  }
}

TEST_F(PublisherTest, AnIntentThatCannotBeBuiltChangesNothing) {
  start(config_with(kV1));
  ASSERT_TRUE(publisher_->set_intent("orders", canary("v2", 10)).ok());
  const auto before = publisher_->snapshot();
  deploy::RoutingIntent broken = canary("v3", 20);
  broken.versions.clear();  // v3 has no upstreams anywhere
  const auto refused = publisher_->set_intent("orders", broken);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("v3"), std::string::npos) << refused.error().message;
  EXPECT_EQ(publisher_->snapshot(), before);
  EXPECT_EQ(publisher_->intent("orders"), canary("v2", 10));
  EXPECT_EQ(received_.size(), 1u);
  EXPECT_FALSE(publisher_->set_intent("payments", canary("v2", 10)).ok())
      << "a service the config does not have";
}

TEST_F(PublisherTest, WorkersThatDoNotConfirmInTimeAreReportedButTheIntentStays) {
  start(config_with(kV1));
  adopt_ = false;
  const auto published = publisher_->set_intent("orders", canary("v2", 50));
  ASSERT_FALSE(published.ok());
  EXPECT_NE(published.error().message.find("did not adopt"), std::string::npos);
  EXPECT_EQ(publisher_->intent("orders"), canary("v2", 50));
  EXPECT_EQ(publisher_->snapshot()->generation, 2u);
}

TEST_F(PublisherTest, AVersionInThisProcesssConfigRoutesToItsOwnUpstreams) {
  // In a fleet each gateway's config may point a version at its own upstreams.
  const auto config = config_with(kV1 + "      - {name: v2, upstreams: [127.0.0.1:7777]}\n");
  const gateway::ServiceRuntime runtime =
      to_service_runtime(*config->find_service("orders"), canary("v2", 10));
  EXPECT_TRUE(runtime.added_versions.empty());
  EXPECT_EQ(runtime.canary, "v2");
  start(config);
  ASSERT_TRUE(publisher_->set_intent("orders", canary("v2", 10)).ok());
  const gateway::ServiceRoute& orders = route("orders");
  const auto& snapshot = *publisher_->snapshot();
  ASSERT_EQ(orders.find_version("v2")->upstreams.size(), 1u);
  EXPECT_EQ(snapshot.upstreams[orders.find_version("v2")->upstreams[0]].port, 7777);
}

TEST_F(PublisherTest, ALiveVersionNoOneKnowsIsIgnored) {
  const auto config = config_with(kV1);
  deploy::RoutingIntent intent;
  intent.live = "v7";
  const gateway::ServiceRuntime runtime =
      to_service_runtime(*config->find_service("orders"), intent);
  EXPECT_EQ(runtime.live, "") << "the config's live version stays in force";
  start(config, {{"orders", intent}});
  EXPECT_EQ(route("orders").versions[route("orders").live].name, "v1");
}

TEST_F(PublisherTest, ReplacingEveryIntentKeepsTheServicesThisProcessDrives) {
  start(config_with(kV1, kBilling));
  ASSERT_TRUE(publisher_->set_intent("orders", canary("v2", 40)).ok());
  deploy::RoutingIntent stale = canary("v2", 10);  // what the database had a moment ago
  deploy::RoutingIntent billing;
  billing.live = "b2";
  billing.versions = {{"b2", {"127.0.0.1:9102"}, ""}};
  deploy::RoutingIntent removed;
  removed.live = "x1";
  ASSERT_TRUE(publisher_
                  ->replace_intents({{"orders", stale}, {"billing", billing}, {"gone", removed}},
                                    {"orders"})
                  .ok());
  EXPECT_EQ(publisher_->intent("orders"), canary("v2", 40));
  EXPECT_EQ(publisher_->intent("billing"), billing);
  EXPECT_EQ(publisher_->intent("gone"), std::nullopt) << "not in the config";
  EXPECT_EQ(route("billing").versions[route("billing").live].name, "b2");

  // Without `keep`, the database's word goes.
  ASSERT_TRUE(publisher_->replace_intents({{"orders", stale}}).ok());
  EXPECT_EQ(publisher_->intent("orders"), stale);
  EXPECT_EQ(publisher_->intent("billing"), std::nullopt);
  EXPECT_EQ(route("billing").versions[route("billing").live].name, "b1");
}

TEST_F(PublisherTest, AKeyTableChangeIsPublishedWithTheRoutingKept) {
  start(config_with(kV1));
  ASSERT_TRUE(publisher_->set_intent("orders", canary("v2", 20)).ok());
  auto table = std::make_shared<const access::KeyTable>();
  ASSERT_TRUE(publisher_->set_keys(table).ok());
  EXPECT_EQ(publisher_->snapshot()->keys, table);
  EXPECT_EQ(received_.back(), publisher_->snapshot());
  EXPECT_EQ(publisher_->intent("orders"), canary("v2", 20));
}

TEST_F(PublisherTest, AVersionsDocumentIsReadOnceNotOnEveryPublish) {
  start(config_with("      - {name: v1, upstreams: [127.0.0.1:9001], spec: /specs/v1.yaml}\n"));
  deploy::RoutingIntent intent = canary("v2", 10);
  intent.versions[0].spec_path = "/specs/v2.yaml";
  for (int weight : {10, 50, 0}) {
    intent.canary_weight = weight;
    ASSERT_TRUE(publisher_->set_intent("orders", intent).ok());
  }
  EXPECT_EQ(spec_reads_["/specs/v1.yaml"], 1);
  EXPECT_EQ(spec_reads_["/specs/v2.yaml"], 1);
}

}  // namespace
}  // namespace glidepath::routing
