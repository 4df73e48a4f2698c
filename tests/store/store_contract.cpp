#include "store_contract.h"

#include <fmt/format.h>
#include <stdlib.h>

#include <chrono>
#include <system_error>

#include "deploy/alarm.h"
#include "deploy/strategy.h"

namespace glidepath::store::testing {

using access::ApiKeyRecord;
using access::UsageBucket;
using metrics::MetricWindow;

std::string backend_name(const ::testing::TestParamInfo<StoreBackend>& info) {
  return info.param.name;
}

void PrintTo(const StoreBackend& backend, std::ostream* out) {
  *out << backend.name;
}

ScratchDirectory::ScratchDirectory() {
  std::string pattern = (std::filesystem::temp_directory_path() / "glidepath-store-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "cannot create a scratch directory from " << pattern;
    return;
  }
  path_ = pattern;
}

ScratchDirectory::~ScratchDirectory() {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void StoreContractTest::SetUp() {
  scratch_ = std::make_unique<ScratchDirectory>();
  ASSERT_FALSE(scratch_->path().empty());
  auto factory = GetParam().prepare(scratch_->path());
  ASSERT_TRUE(factory.ok()) << factory.error().message;
  factory_ = std::move(*factory);
  store_ = open_another();
}

void StoreContractTest::TearDown() {
  store_.reset();
  scratch_.reset();
}

std::unique_ptr<Store> StoreContractTest::open_another() {
  auto opened = factory_();
  if (!opened.ok()) {
    ADD_FAILURE() << "opening the store failed: " << opened.error().message;
    return nullptr;
  }
  return std::move(*opened);
}

core::TimePoint at(int64_t seconds) {
  // 2026-01-01T00:00:00Z
  return core::TimePoint(std::chrono::seconds(1'767'225'600 + seconds));
}

deploy::Deployment make_deployment(const std::string& id, const std::string& service,
                                   core::TimePoint started) {
  deploy::DeploymentSpec spec;
  spec.service = service;
  spec.from_version = "v1";
  spec.to_version = "v2";
  spec.upstreams = {"127.0.0.1:9003"};
  spec.plan = deploy::Plan{
      "custom",
      deploy::StrategyKind::custom,
      {deploy::WeightStep{10}, deploy::PauseStep{std::chrono::minutes(5)}, deploy::WeightStep{100}},
      core::Duration{0}};
  spec.alarms = {deploy::default_alarm()};
  return deploy::new_deployment(id, std::move(spec), started);
}

deploy::Deployment make_rich_deployment(const std::string& id, const std::string& service,
                                        core::TimePoint started) {
  deploy::DeploymentSpec spec;
  spec.service = service;
  spec.from_version = "v1";
  spec.to_version = "v2-rc.1";
  spec.upstreams = {"127.0.0.1:9003", "[::1]:9004"};
  spec.api_spec = "specs/orders-v2.yaml";
  spec.plan = deploy::Plan{"BlueGreen",
                           deploy::StrategyKind::blue_green,
                           {deploy::WeightStep{0}, deploy::PauseStep{std::chrono::seconds(30)},
                            deploy::PauseStep{std::nullopt}, deploy::WeightStep{100}},
                           std::chrono::minutes(10)};
  deploy::AlarmRule latency;
  latency.name = "canary-latency";
  latency.metric = deploy::Metric::latency_p99;
  latency.version = deploy::AlarmTarget::canary;
  latency.comparison = deploy::Comparison::greater_or_equal;
  latency.threshold = 0.25;
  latency.relative_to_stable = true;
  latency.period = std::chrono::seconds(2);
  latency.evaluation_periods = 5;
  latency.datapoints_to_alarm = 3;
  latency.min_requests = 7;
  spec.alarms = {deploy::default_alarm(), latency};
  spec.hooks.pre_traffic =
      deploy::HookSpec{"http://127.0.0.1:7000/validate", {}, std::chrono::seconds(45)};
  spec.hooks.post_traffic =
      deploy::HookSpec{"", {"./smoke-test.sh", "--fast"}, std::chrono::seconds(60)};
  spec.on_breaking = deploy::ContractPolicy::warn;
  spec.check_contract = true;
  spec.allow_breaking = true;
  spec.evaluation_interval = std::chrono::milliseconds(500);

  deploy::Deployment d = deploy::new_deployment(id, std::move(spec), started);
  d.state = deploy::DeploymentState::paused;
  d.paused_from = deploy::DeploymentState::shifting;
  d.canary_weight = 25;
  d.step = 2;
  d.step_started_at = started + std::chrono::microseconds(1'234'567);
  d.paused_at = started + std::chrono::seconds(40);
  d.warm_until = started + std::chrono::minutes(11);
  d.pre_traffic = deploy::HookRun{deploy::HookStatus::succeeded, started + std::chrono::seconds(1),
                                  started + std::chrono::seconds(3), 2, "200 OK: \"fine\" ✓"};
  d.post_traffic.status = deploy::HookStatus::running;
  d.post_traffic.started_at = started + std::chrono::seconds(35);
  d.post_traffic.attempts = 1;
  d.alarms = {deploy::AlarmResult{"canary-errors", deploy::AlarmState::ok, 0.0125, 1},
              deploy::AlarmResult{"canary-latency", deploy::AlarmState::insufficient_data,
                                  std::nullopt, 0}};
  d.events.push_back({started + std::chrono::seconds(3), "hook", "pre_traffic succeeded"});
  d.events.push_back({started + std::chrono::seconds(40), "pause", "paused by operator"});
  d.reason = "line one\nline two, with 'quotes' and \\ backslash";
  d.updated_at = started + std::chrono::seconds(40);
  d.finished_at = started + std::chrono::hours(1);
  return d;
}

ApiKeyRecord make_api_key(const std::string& id, const std::string& consumer, int seed,
                          core::TimePoint created) {
  ApiKeyRecord key;
  key.id = id;
  key.consumer = consumer;
  key.contact = consumer + "@example.com";
  key.metadata = {{"team", "payments"}, {"tier", std::to_string(seed)}};
  key.key_hash = fmt::format("{:064x}", static_cast<unsigned>(seed) * 2654435761u + 1u);
  key.key_prefix = fmt::format("gp_{:04}", seed);
  key.created_at = created;
  return key;
}

UsageBucket make_bucket(const std::string& consumer, const std::string& service,
                        const std::string& operation, const std::string& status_class,
                        int64_t minute, uint64_t count, core::TimePoint first_seen,
                        core::TimePoint last_seen) {
  UsageBucket bucket;
  bucket.consumer = consumer;
  bucket.service = service;
  bucket.operation = operation;
  bucket.version = "v1";
  bucket.status_class = status_class;
  bucket.minute = minute;
  bucket.count = count;
  bucket.first_seen = first_seen;
  bucket.last_seen = last_seen;
  return bucket;
}

MetricWindow make_window(const std::string& service, const std::string& version, int64_t second,
                         const std::string& gateway, int seed) {
  MetricWindow window;
  window.service = service;
  window.version = version;
  window.second = second;
  window.gateway = gateway;
  const auto n = static_cast<uint64_t>(seed);
  metrics::SecondStats& stats = window.stats;
  stats.status_1xx = n % 3;
  stats.status_2xx = 100 + n;
  stats.status_3xx = 2 * n + 1;
  stats.status_4xx = n % 7;
  stats.status_5xx = n % 5 + 1;
  stats.requests =
      stats.status_1xx + stats.status_2xx + stats.status_3xx + stats.status_4xx + stats.status_5xx;
  stats.bytes_in = 1000 * n + 17;
  stats.bytes_out = 250'000 * n + 3;
  metrics::LatencyHistogram latency;
  for (uint64_t i = 0; i < stats.requests; ++i)
    latency.record(static_cast<int64_t>((i * 7919 + n * 104'729) % 2'000'000));
  if (seed % 2 == 1) latency.record(90'000'000);  // beyond the layout: the last bucket
  stats.latency = latency.to_sparse();
  return window;
}

}  // namespace glidepath::store::testing
