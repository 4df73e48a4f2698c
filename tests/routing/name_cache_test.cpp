// Upstream names resolved off the rollback path (routing/name_cache.h), with an injected
// resolver: a name can answer, fail, change its addresses, or hang.
#include "routing/name_cache.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>

#include "config/loader.h"
#include "metrics/series_registry.h"
#include "routing/publisher.h"

namespace glidepath::routing {
namespace {

// A resolver the test steers: answers from `table`, fails for names not in it, and hangs
// (until released) while `hang` is set, saying when a lookup is stuck.
class FakeResolver {
 public:
  NameCache::Lookup lookup() {
    return [this](const std::string& host, std::chrono::milliseconds) {
      std::unique_lock lock(mutex_);
      ++calls_[host];
      if (hang_) {
        ++stuck_;
        changed_.notify_all();
        changed_.wait(lock, [&] { return !hang_; });
      }
      const auto found = table_.find(host);
      if (found == table_.end()) {
        return core::Result<std::vector<std::string>>(
            core::fail("cannot resolve " + host + ": Name or service not known"));
      }
      return core::Result<std::vector<std::string>>(found->second);
    };
  }
  void set(const std::string& host, std::vector<std::string> addresses) {
    std::lock_guard lock(mutex_);
    table_[host] = std::move(addresses);
  }
  void hang(bool on) {
    std::lock_guard lock(mutex_);
    hang_ = on;
    changed_.notify_all();
  }
  void wait_until_stuck() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return stuck_ > 0; });
  }
  int calls(const std::string& host) {
    std::lock_guard lock(mutex_);
    return calls_[host];
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, std::vector<std::string>> table_;
  std::map<std::string, int> calls_;
  bool hang_ = false;
  int stuck_ = 0;
};

TEST(NameCache, ANameStandsForEveryAddressItResolvesTo) {
  FakeResolver resolver;
  resolver.set("api.internal", {"10.0.0.1", "10.0.0.2"});
  NameCache names(resolver.lookup());
  ASSERT_TRUE(
      names.learn(std::vector<core::HostPort>{{"api.internal", 8080}, {"10.9.9.9", 81}}).ok());
  EXPECT_EQ(names.addresses({"api.internal", 8080}),
            (std::vector<core::HostPort>{{"10.0.0.1", 8080}, {"10.0.0.2", 8080}}));
  EXPECT_EQ(names.addresses({"10.9.9.9", 81}), (std::vector<core::HostPort>{{"10.9.9.9", 81}}));
  // Learned once: a second accept of the same name asks no resolver.
  ASSERT_TRUE(names.learn(std::vector<core::HostPort>{{"api.internal", 9090}}).ok());
  EXPECT_EQ(resolver.calls("api.internal"), 1);
  EXPECT_EQ(resolver.calls("10.9.9.9"), 0) << "an address needs no lookup";
}

TEST(NameCache, ANameThatDoesNotResolveIsNamedAndTheOthersAreKept) {
  FakeResolver resolver;
  resolver.set("good.internal", {"10.0.0.1"});
  NameCache names(resolver.lookup());
  const auto learned =
      names.learn(std::vector<core::HostPort>{{"good.internal", 80}, {"typo.internal", 80}});
  ASSERT_FALSE(learned.ok());
  EXPECT_NE(learned.error().message.find("typo.internal"), std::string::npos)
      << learned.error().message;
  EXPECT_EQ(names.addresses({"good.internal", 80}),
            (std::vector<core::HostPort>{{"10.0.0.1", 80}}));
  // Unresolved: the name itself, which the gateway cannot connect to (502) until it does.
  EXPECT_EQ(names.addresses({"typo.internal", 80}),
            (std::vector<core::HostPort>{{"typo.internal", 80}}));
}

TEST(NameCache, ARefreshFollowsNewAddressesAndKeepsTheLastOnAFailure) {
  FakeResolver resolver;
  resolver.set("api.internal", {"10.0.0.1"});
  NameCache names(resolver.lookup());
  ASSERT_TRUE(names.learn(std::vector<core::HostPort>{{"api.internal", 80}}).ok());
  EXPECT_FALSE(names.refresh()) << "nothing changed";
  resolver.set("api.internal", {"10.0.0.3", "10.0.0.4"});
  EXPECT_TRUE(names.refresh());
  EXPECT_EQ(names.addresses({"api.internal", 80}).size(), 2u);
  resolver.set("other", {});
  resolver.set("api.internal", {});  // the resolver answers nothing: keep what we had
  EXPECT_FALSE(names.refresh());
  EXPECT_EQ(names.addresses({"api.internal", 80}),
            (std::vector<core::HostPort>{{"10.0.0.3", 80}, {"10.0.0.4", 80}}));
}

TEST(NameCache, TellsAddressesFromNames) {
  EXPECT_TRUE(NameCache::is_address("127.0.0.1"));
  EXPECT_TRUE(NameCache::is_address("::1"));
  EXPECT_FALSE(NameCache::is_address("localhost"));
  EXPECT_FALSE(NameCache::is_address("10.0.0"));
}

std::shared_ptr<const config::Config> config_with_named_upstreams() {
  auto loaded = config::load_config(
      "services:\n"
      "  - name: orders\n"
      "    match: {path_prefix: /orders}\n"
      "    versions:\n"
      "      - {name: v1, upstreams: [stable.internal:9001]}\n"
      "      - {name: v2, upstreams: [canary.internal:9002]}\n"
      "    live: v1\n");
  EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors.front().message);
  return loaded.config;
}

// Both versions' names known, as at start: stable.internal and canary.internal.
void learn_both(NameCache& names, const config::Config& config) {
  ASSERT_TRUE(names.learn(config.services[0].versions[0].upstreams).ok());
  ASSERT_TRUE(names.learn(config.services[0].versions[1].upstreams).ok());
}

deploy::RoutingIntent canary_at(int weight) {
  deploy::RoutingIntent intent;
  intent.live = "v1";
  intent.canary = "v2";
  intent.canary_weight = weight;
  return intent;
}

TEST(NameCache, EveryAddressOfANameIsAnUpstreamInTheSnapshot) {
  FakeResolver resolver;
  resolver.set("stable.internal", {"10.0.1.1", "10.0.1.2", "10.0.1.3"});
  resolver.set("canary.internal", {"10.0.2.1"});
  NameCache names(resolver.lookup());
  const auto config = config_with_named_upstreams();
  learn_both(names, *config);
  metrics::SeriesRegistry registry;
  auto publisher = RoutingPublisher::create({config, &registry, nullptr, &names}, {}, nullptr);
  ASSERT_TRUE(publisher.ok()) << publisher.error().message;
  const auto snapshot = (*publisher)->snapshot();
  const gateway::VersionRoute* v1 = snapshot->services[0].find_version("v1");
  ASSERT_NE(v1, nullptr);
  ASSERT_EQ(v1->upstreams.size(), 3u) << "round robin over every address";
  std::vector<std::string> hosts;
  for (uint32_t index : v1->upstreams)
    hosts.push_back(snapshot->upstreams[index].host);
  EXPECT_EQ(hosts, (std::vector<std::string>{"10.0.1.1", "10.0.1.2", "10.0.1.3"}));
  EXPECT_EQ(snapshot->upstreams[v1->upstreams[0]].port, 9001);

  // A refresh that moves the canary's address is published by republish().
  resolver.set("canary.internal", {"10.0.2.9"});
  ASSERT_TRUE(names.refresh());
  ASSERT_TRUE((*publisher)->republish().ok());
  const auto after = (*publisher)->snapshot();
  const gateway::VersionRoute* v2 = after->services[0].find_version("v2");
  ASSERT_EQ(v2->upstreams.size(), 1u);
  EXPECT_EQ(after->upstreams[v2->upstreams[0]].host, "10.0.2.9");
}

TEST(NameCache, ARollbackPublishesWhileTheResolverHangs) {
  FakeResolver resolver;
  resolver.set("stable.internal", {"10.0.1.1"});
  resolver.set("canary.internal", {"10.0.2.1"});
  NameCache names(resolver.lookup());
  const auto config = config_with_named_upstreams();
  learn_both(names, *config);
  metrics::SeriesRegistry registry;
  auto created = RoutingPublisher::create({config, &registry, nullptr, &names},
                                          {{"orders", canary_at(50)}}, nullptr);
  ASSERT_TRUE(created.ok()) << created.error().message;
  RoutingPublisher& publisher = **created;
  int published = 0;
  publisher.attach([&](std::shared_ptr<const gateway::Snapshot>) {
    ++published;
    return true;
  });

  // The background refresh is stuck in the resolver...
  resolver.hang(true);
  auto refreshing = std::async(std::launch::async, [&] { return names.refresh(); });
  resolver.wait_until_stuck();
  // ...and the alarm's rollback is published all the same: building a snapshot reads
  // only what the cache has. (Bounded: a publish that waited on the resolver would never
  // finish while it hangs.)
  auto rollback =
      std::async(std::launch::async, [&] { return publisher.set_intent("orders", canary_at(0)); });
  ASSERT_EQ(rollback.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "the rollback waited on the resolver";
  EXPECT_TRUE(rollback.get().ok());
  EXPECT_EQ(published, 1);
  const gateway::ServiceRoute& orders = publisher.snapshot()->services[0];
  EXPECT_EQ(
      orders.weight_of(static_cast<uint32_t>(orders.find_version("v2") - orders.versions.data())),
      0u);
  resolver.hang(false);
  EXPECT_FALSE(refreshing.get());
}

}  // namespace
}  // namespace glidepath::routing
