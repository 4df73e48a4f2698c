// The controller loop in simulated time: a real SQLite store, a metrics history fed by
// the test, a fake publisher standing in for the gateway, and a ManualClock.
#include "controller/controller.h"

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <future>
#include <optional>

#include "config/loader.h"
#include "controller/hook_runner.h"
#include "metrics/history.h"
#include "metrics/series_registry.h"
#include "store/sqlite/sqlite_store.h"

namespace glidepath::controller {
namespace {

using std::chrono::seconds;

const core::TimePoint kStart = core::TimePoint(std::chrono::hours(24 * 365 * 56));

struct Published {
  std::string service;
  deploy::RoutingIntent routing;
};

class ControllerTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("glidepath-controller-" + std::to_string(::getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    use_config(R"(
services:
  - name: orders
    match: {path_prefix: /orders}
    versions:
      - {name: v1, upstreams: [127.0.0.1:9001]}
    live: v1
    deployment:
      strategy: Canary10Percent1Minute
)");
  }

  void use_config(const std::string& yaml) {
    auto loaded = config::load_config(yaml);
    ASSERT_TRUE(loaded.ok()) << loaded.errors.front().message;
    config_ = loaded.config;
    open();
  }
  void TearDown() override {
    controller_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void open() {
    controller_.reset();
    store_.reset();
    auto store = store::open_sqlite_store((dir_ / "glidepath.db").string());
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    ControllerDeps deps;
    deps.config = config_;
    deps.store = store_.get();
    deps.history = &history_;
    deps.registry = &registry_;
    deps.hooks = &hooks_;
    deps.clock = &clock_;
    deps.gateway_url = "http://127.0.0.1:8080";
    deps.publish = [this](const std::string& service, const deploy::RoutingIntent& routing) {
      published_.push_back({service, routing});
      // The real publisher interns series ids when it builds the snapshot.
      (void)registry_.intern(service, routing.live.empty() ? "v1" : routing.live);
      if (!routing.canary.empty()) (void)registry_.intern(service, routing.canary);
      return core::Result<void>();
    };
    if (contract_verdict_) {
      deps.check_contract = [this](const std::string& service, const std::string& base,
                                   const std::string& revision, deploy::ContractPolicy policy) {
        contract_checks_.push_back({service, base, revision});
        EXPECT_EQ(policy, deploy::ContractPolicy::block_if_used);
        std::promise<deploy::ContractObservation> verdict;  // in at once
        verdict.set_value(*contract_verdict_);
        return verdict.get_future();
      };
    }
    controller_ = std::make_unique<Controller>(std::move(deps));
    ASSERT_TRUE(controller_->resume().ok());
  }

  // One second of traffic for a version: `requests` with `errors` 5xx among them.
  void traffic(const std::string& version, int64_t second, uint64_t requests, uint64_t errors) {
    auto id = registry_.intern("orders", version);
    ASSERT_TRUE(id.ok());
    metrics::RequestCounts counts;
    counts.requests = requests;
    counts.status_5xx = errors;
    counts.status_2xx = requests - errors;
    metrics::LatencyHistogram latency;
    for (uint64_t i = 0; i < requests; ++i)
      latency.record(1000);
    history_.add(*id, second, counts, latency);
  }

  // Advances one second: that second's traffic lands, then the controller ticks.
  void second_passes(uint64_t v1_requests, uint64_t v2_requests, uint64_t v2_errors) {
    const int64_t s = core::epoch_second(clock_.now());
    traffic("v1", s, v1_requests, 0);
    traffic("v2", s, v2_requests, v2_errors);
    clock_.advance(seconds(1));
    controller_->tick();
  }

  DeploymentRequest request_v2() {
    DeploymentRequest r;
    r.service = "orders";
    r.version = "v2";
    r.upstreams = {"127.0.0.1:9002"};
    return r;
  }

  std::filesystem::path dir_;
  std::shared_ptr<const config::Config> config_;
  std::unique_ptr<store::Store> store_;
  metrics::MetricsHistory history_;
  metrics::SeriesRegistry registry_;
  HookRunner hooks_;
  core::ManualClock clock_{kStart};
  std::vector<Published> published_;
  std::unique_ptr<Controller> controller_;
  // With a verdict, the controller's contract gate answers it (and records its inputs).
  std::optional<deploy::ContractObservation> contract_verdict_;
  std::vector<std::array<std::string, 3>> contract_checks_;
};

constexpr const char* kConfigWithSpec = R"(
services:
  - name: orders
    match: {path_prefix: /orders}
    versions:
      - {name: v1, upstreams: [127.0.0.1:9001], spec: /specs/orders-v1.yaml}
    live: v1
    deployment:
      strategy: Canary10Percent1Minute
)";

TEST_F(ControllerTest, ABlockedContractStopsTheDeploymentBeforeAnyTraffic) {
  contract_verdict_ = deploy::ContractObservation{deploy::ContractVerdict::blocked,
                                                  "1 breaking change(s); acme affected"};
  use_config(kConfigWithSpec);
  DeploymentRequest request = request_v2();
  request.spec = "/specs/orders-v2.yaml";
  auto created = controller_->create(request);
  ASSERT_TRUE(created.ok()) << created.error().message;
  ASSERT_EQ(contract_checks_.size(), 1u);
  EXPECT_EQ(contract_checks_[0], (std::array<std::string, 3>{"orders", "/specs/orders-v1.yaml",
                                                             "/specs/orders-v2.yaml"}));
  clock_.advance(seconds(1));
  controller_->tick();
  auto stored = store_->get_deployment(created->id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  const deploy::Deployment& d = (*stored)->deployment;
  EXPECT_EQ(d.state, deploy::DeploymentState::failed);
  EXPECT_NE(d.reason.find("acme affected"), std::string::npos) << d.reason;
  for (const Published& p : published_)
    EXPECT_EQ(p.routing.canary_weight, 0);
  EXPECT_EQ(contract_checks_.size(), 1u);  // checked once
}

TEST_F(ControllerTest, AllowBreakingOrAWarningLetsTheDeploymentGoOnWithAnEvent) {
  contract_verdict_ = deploy::ContractObservation{deploy::ContractVerdict::blocked, "breaks"};
  use_config(kConfigWithSpec);
  DeploymentRequest request = request_v2();
  request.spec = "/specs/orders-v2.yaml";
  request.allow_breaking = true;
  auto created = controller_->create(request);
  ASSERT_TRUE(created.ok()) << created.error().message;
  second_passes(90, 0, 0);
  auto active = controller_->active_of("orders");
  ASSERT_TRUE(active.has_value());
  EXPECT_EQ(active->state, deploy::DeploymentState::shifting);
  bool allowed = false;
  for (const auto& e : active->events)
    allowed = allowed ||
              (e.type == "contract" && e.message.find("--allow-breaking") != std::string::npos);
  EXPECT_TRUE(allowed);
}

TEST_F(ControllerTest, WithoutADocumentForBothVersionsThereIsNothingToCheck) {
  contract_verdict_ = deploy::ContractObservation{deploy::ContractVerdict::blocked, "breaks"};
  use_config(kConfigWithSpec);
  auto created = controller_->create(request_v2());  // v2 brings no document
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(created->state, deploy::DeploymentState::shifting);
  EXPECT_TRUE(contract_checks_.empty());
}

TEST_F(ControllerTest, TheNewVersionIsRoutableAtZeroFromTheMomentTheDeploymentIsCreated) {
  // Preview pins reach the new version before any public traffic does (blue/green testing).
  auto created = controller_->create(request_v2());
  ASSERT_TRUE(created.ok()) << created.error().message;
  ASSERT_GE(published_.size(), 2u);
  EXPECT_EQ(published_.front().service, "orders");
  EXPECT_EQ(published_.front().routing.canary, "v2");
  EXPECT_EQ(published_.front().routing.canary_weight, 0);
  EXPECT_FALSE(published_.front().routing.preview_token.empty());
  ASSERT_EQ(published_.front().routing.versions.size(), 1u);
  EXPECT_EQ(published_.front().routing.versions[0].name, "v2");
  EXPECT_EQ(published_.back().routing.canary_weight, 10);  // then the first step
}

TEST_F(ControllerTest, AHealthyCanaryShiftsThenPromotesTheNewVersion) {
  auto created = controller_->create(request_v2());
  ASSERT_TRUE(created.ok()) << created.error().message;
  EXPECT_EQ(created->state, deploy::DeploymentState::shifting);
  EXPECT_EQ(created->canary_weight, 10);
  ASSERT_FALSE(published_.empty());
  EXPECT_EQ(published_.back().routing.canary, "v2");
  EXPECT_EQ(published_.back().routing.canary_weight, 10);
  ASSERT_EQ(published_.back().routing.versions.size(), 1u);
  EXPECT_EQ(published_.back().routing.versions[0].name, "v2");

  for (int i = 0; i < 61; ++i)
    second_passes(90, 10, 0);
  EXPECT_FALSE(controller_->active_of("orders").has_value());
  auto stored = store_->get_deployment(created->id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->deployment.state, deploy::DeploymentState::succeeded);
  EXPECT_EQ(published_.back().routing.live, "v2");
  EXPECT_TRUE(published_.back().routing.canary.empty());
  auto service = store_->get_service("orders");
  ASSERT_TRUE(service.ok() && service->has_value());
  EXPECT_EQ((*service)->live_version, "v2");
}

TEST_F(ControllerTest, FailingCanaryIsRolledBackWithinTwoSeconds) {
  auto created = controller_->create(request_v2());
  ASSERT_TRUE(created.ok());
  second_passes(90, 20, 0);
  second_passes(90, 20, 0);
  // The canary starts failing: the second bad second trips the default alarm (2 of 3).
  second_passes(90, 20, 15);
  EXPECT_EQ(controller_->active_of("orders")->state, deploy::DeploymentState::shifting);
  second_passes(90, 20, 15);
  EXPECT_EQ(published_.back().routing.canary_weight, 0);  // traffic already back on v1
  second_passes(90, 0, 0);
  auto stored = store_->get_deployment(created->id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->deployment.state, deploy::DeploymentState::rolled_back);
  EXPECT_NE((*stored)->deployment.reason.find("alarm canary-errors fired"), std::string::npos)
      << (*stored)->deployment.reason;
  EXPECT_EQ(published_.back().routing.live, "v1");
}

TEST_F(ControllerTest, ASecondDeploymentOfTheServiceIsRefused) {
  ASSERT_TRUE(controller_->create(request_v2()).ok());
  DeploymentRequest again = request_v2();
  again.version = "v3";
  auto refused = controller_->create(again);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message.rfind("conflict: service orders already has deployment", 0), 0u)
      << refused.error().message;
}

TEST_F(ControllerTest, BadRequestsSayWhatIsWrong) {
  DeploymentRequest r = request_v2();
  r.upstreams.clear();
  auto missing = controller_->create(r);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message,
            "invalid: upstreams: required for version v2, which the config does not list");
  r = request_v2();
  r.version = "v1";
  EXPECT_EQ(controller_->create(r).error().message,
            "invalid: version: v1 is already the live version of orders");
  r = request_v2();
  r.strategy = "Canary10Percent";
  EXPECT_EQ(controller_->create(r).error().message.rfind("invalid: strategy: unknown strategy", 0),
            0u);
  r = request_v2();
  r.service = "users";
  EXPECT_EQ(controller_->create(r).error().message, "not found: unknown service 'users'");
}

TEST_F(ControllerTest, AProcessRestartResumesTheDeploymentWhereItWas) {
  auto created = controller_->create(request_v2());
  ASSERT_TRUE(created.ok());
  for (int i = 0; i < 20; ++i)
    second_passes(90, 10, 0);
  // The process dies; a new one opens the same store and resumes.
  published_.clear();
  open();
  ASSERT_FALSE(published_.empty());
  EXPECT_EQ(published_.back().routing.canary, "v2");
  EXPECT_EQ(published_.back().routing.canary_weight, 10);  // the weight it had, at once
  for (int i = 0; i < 45; ++i)
    second_passes(90, 10, 0);
  auto stored = store_->get_deployment(created->id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->deployment.state, deploy::DeploymentState::succeeded);
}

TEST_F(ControllerTest, CommandsApplyAtOnce) {
  auto created = controller_->create(request_v2());
  ASSERT_TRUE(created.ok());
  auto paused = controller_->command(created->id, deploy::Pause{});
  ASSERT_TRUE(paused.ok()) << paused.error().message;
  EXPECT_EQ(paused->state, deploy::DeploymentState::paused);
  auto promoted = controller_->command(created->id, deploy::Promote{});
  ASSERT_TRUE(promoted.ok()) << promoted.error().message;
  EXPECT_EQ(promoted->state, deploy::DeploymentState::succeeded);
  auto again = controller_->command(created->id, deploy::Abort{});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message.rfind("conflict: deployment", 0), 0u) << again.error().message;
  EXPECT_EQ(controller_->command("dep_nope", deploy::Abort{}).error().message,
            "not found: no deployment dep_nope");
}

TEST_F(ControllerTest, AbortRollsBackImmediately) {
  auto created = controller_->create(request_v2());
  ASSERT_TRUE(created.ok());
  auto aborted = controller_->command(created->id, deploy::Abort{"aborted by test"});
  ASSERT_TRUE(aborted.ok()) << aborted.error().message;
  EXPECT_EQ(published_.back().routing.canary_weight, 0);
  EXPECT_EQ(aborted->state, deploy::DeploymentState::rolled_back);
  EXPECT_EQ(aborted->reason, "aborted by test");
}

}  // namespace
}  // namespace glidepath::controller
