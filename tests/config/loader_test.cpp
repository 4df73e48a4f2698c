// Loading valid documents: the SPEC section 2 example field by field, the defaults of a
// minimal service, ${VAR} expansion, files, and inputs that are odd but must not crash.
#include "config/loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <variant>

#include "test_support.h"

namespace glidepath::config {
namespace {

using namespace std::chrono_literals;
using testing::data_path;
using testing::describe;
using testing::empty_env;
using testing::env_of;

constexpr std::string_view kMinimal = R"(
services:
  - name: orders
    versions:
      - name: v1
        upstreams: [127.0.0.1:9001]
    live: v1
)";

LoadResult load(std::string_view yaml, const EnvLookup& env = empty_env()) {
  return load_config(yaml, env);
}

core::HostPort hp(std::string host, uint16_t port) {
  return core::HostPort{std::move(host), port};
}

TEST(SpecExample, EveryFieldLandsWhereItShould) {
  const LoadResult result =
      load_config_file(data_path("spec_example.yaml"), env_of({{"GLIDEPATH_ADMIN_TOKEN", "tok"}}));
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_TRUE(result.errors.empty());
  EXPECT_TRUE(result.warnings.empty()) << describe(result);
  const Config& c = *result.config;

  EXPECT_EQ(c.gateway.listen, hp("127.0.0.1", 8080));
  EXPECT_EQ(c.gateway.workers, 0);
  EXPECT_EQ(c.gateway.header_timeout, 10s);
  EXPECT_EQ(c.gateway.request_timeout, 30s);
  EXPECT_EQ(c.gateway.idle_timeout, 60s);
  EXPECT_EQ(c.gateway.connect_timeout, 5s);
  EXPECT_EQ(c.gateway.max_header_bytes, 16384u);
  EXPECT_EQ(c.gateway.max_body_bytes, 10485760u);

  EXPECT_EQ(c.admin.listen, hp("127.0.0.1", 9090));
  EXPECT_EQ(c.admin.token, "tok");
  EXPECT_EQ(c.store.kind, StoreKind::sqlite);
  EXPECT_EQ(c.store.sqlite_path, "glidepath.db");

  ASSERT_EQ(c.services.size(), 1u);
  const ServiceConfig& s = c.services[0];
  EXPECT_EQ(s.name, "orders");
  EXPECT_EQ(c.find_service("orders"), &s);
  EXPECT_EQ(c.find_service("nope"), nullptr);
  EXPECT_EQ(s.match.hosts, std::vector<std::string>{"api.example.com"});
  EXPECT_EQ(s.match.path_prefix, "/orders");
  EXPECT_FALSE(s.match.strip_prefix);
  EXPECT_EQ(s.api_keys, ApiKeyMode::required);
  EXPECT_EQ(s.api_key_source, ApiKeySource::header);
  EXPECT_EQ(s.stickiness, (Stickiness{StickinessKind::api_key, ""}));
  EXPECT_EQ(s.preview, PreviewMode::keys);

  ASSERT_EQ(s.versions.size(), 2u);
  EXPECT_EQ(s.versions[0].name, "v1");
  EXPECT_EQ(s.versions[0].upstreams,
            (std::vector<core::HostPort>{hp("127.0.0.1", 9001), hp("127.0.0.1", 9002)}));
  // Resolved against the config file's directory.
  const auto expected_spec =
      (std::filesystem::absolute(data_path("specs/orders-v1.yaml"))).lexically_normal();
  EXPECT_EQ(s.versions[0].spec, expected_spec.string());
  EXPECT_EQ(s.versions[1].name, "v2");
  EXPECT_EQ(s.versions[1].upstreams, (std::vector<core::HostPort>{hp("127.0.0.1", 9003)}));
  EXPECT_EQ(s.versions[1].spec, "");
  EXPECT_EQ(s.live, "v1");
  EXPECT_EQ(&s.live_version(), &s.versions[0]);
  EXPECT_EQ(s.traffic, (std::vector<VersionWeight>{{"v1", 90}, {"v2", 10}}));
  EXPECT_EQ(s.weight_of("v1"), 90);
  EXPECT_EQ(s.weight_of("v2"), 10);
  EXPECT_EQ(s.weight_of("v3"), 0);

  const DeploymentDefaults& d = s.deployment;
  EXPECT_EQ(d.plan.strategy, "Canary10Percent5Minutes");
  EXPECT_EQ(d.plan.kind, deploy::StrategyKind::canary);
  EXPECT_EQ(d.plan.steps,
            (std::vector<deploy::Step>{deploy::WeightStep{10}, deploy::PauseStep{5min},
                                       deploy::WeightStep{100}}));
  EXPECT_EQ(d.evaluation_interval, 1s);
  ASSERT_EQ(d.alarms.size(), 1u);
  const deploy::AlarmRule& a = d.alarms[0];
  EXPECT_EQ(a.name, "canary-errors");
  EXPECT_EQ(a.metric, deploy::Metric::error_rate);
  EXPECT_EQ(a.version, deploy::AlarmTarget::canary);
  EXPECT_EQ(a.comparison, deploy::Comparison::greater);
  EXPECT_DOUBLE_EQ(a.threshold, 0.05);
  EXPECT_FALSE(a.relative_to_stable);
  EXPECT_EQ(a.period, 1s);
  EXPECT_EQ(a.evaluation_periods, 3);
  EXPECT_EQ(a.datapoints_to_alarm, 2);
  EXPECT_EQ(a.min_requests, 10u);

  ASSERT_TRUE(d.hooks.pre_traffic.has_value());
  EXPECT_EQ(d.hooks.pre_traffic->http, "http://127.0.0.1:7000/validate");
  EXPECT_TRUE(d.hooks.pre_traffic->command.empty());
  EXPECT_EQ(d.hooks.pre_traffic->timeout, 60s);
  ASSERT_TRUE(d.hooks.post_traffic.has_value());
  EXPECT_EQ(d.hooks.post_traffic->command, std::vector<std::string>{"./smoke-test.sh"});
  EXPECT_EQ(d.hooks.post_traffic->http, "");
  ASSERT_TRUE(d.hooks.on_event.has_value());
  EXPECT_EQ(d.hooks.on_event->http, "http://127.0.0.1:7000/events");
  EXPECT_EQ(d.on_breaking, deploy::ContractPolicy::block_if_used);
  EXPECT_EQ(d.blue_green.keep_previous_warm, 10min);
  EXPECT_EQ(d.blue_green.bake, 0s);
}

TEST(SpecExample, LoadsFromTextWithoutTouchingSpecPaths) {
  std::ifstream in(data_path("spec_example.yaml"));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(text.empty());
  const LoadResult result = load(text);
  ASSERT_TRUE(result.ok()) << describe(result);
  // Unset without a default: empty, so the admin API needs no token.
  EXPECT_EQ(result.config->admin.token, "");
  EXPECT_EQ(result.config->services[0].versions[0].spec, "specs/orders-v1.yaml");
}

TEST(Defaults, MinimalServiceGetsEveryDefault) {
  const LoadResult result = load(kMinimal);
  ASSERT_TRUE(result.ok()) << describe(result);
  const Config& c = *result.config;
  EXPECT_EQ(c.gateway, GatewayConfig{});
  EXPECT_EQ(c.gateway.listen, hp("127.0.0.1", 8080));
  EXPECT_EQ(c.gateway.websocket_idle_timeout, 300s);
  EXPECT_EQ(c.gateway.websocket_drain, 5s);
  EXPECT_EQ(c.admin, AdminConfig{});
  EXPECT_EQ(c.admin.listen, hp("127.0.0.1", 9090));
  EXPECT_EQ(c.store, StoreConfig{});
  EXPECT_EQ(to_string(c.store), "sqlite:glidepath.db");

  const ServiceConfig& s = c.services.at(0);
  EXPECT_TRUE(s.match.hosts.empty());
  EXPECT_EQ(s.match.path_prefix, "/");
  EXPECT_FALSE(s.match.strip_prefix);
  EXPECT_EQ(s.api_keys, ApiKeyMode::optional);
  EXPECT_EQ(s.api_key_source, ApiKeySource::header);
  EXPECT_EQ(s.stickiness.kind, StickinessKind::api_key);
  EXPECT_EQ(s.preview, PreviewMode::keys);
  EXPECT_TRUE(s.traffic.empty());
  EXPECT_EQ(s.weight_of("v1"), 100);

  const DeploymentDefaults& d = s.deployment;
  auto expected_plan = deploy::plan_from_strategy("Canary10Percent5Minutes");
  ASSERT_TRUE(expected_plan.ok());
  EXPECT_EQ(d.plan, *expected_plan);
  EXPECT_EQ(d.blue_green, deploy::BlueGreenOptions{});
  EXPECT_EQ(d.evaluation_interval, 1s);
  EXPECT_EQ(d.alarms, std::vector<deploy::AlarmRule>{deploy::default_alarm()});
  EXPECT_EQ(d.hooks, deploy::Hooks{});
  EXPECT_EQ(d.on_breaking, deploy::ContractPolicy::block_if_used);
}

TEST(Defaults, MinimalFileMatchesMinimalText) {
  const LoadResult from_file = load_config_file(data_path("minimal.yaml"), empty_env());
  const LoadResult from_text = load(kMinimal);
  ASSERT_TRUE(from_file.ok()) << describe(from_file);
  ASSERT_TRUE(from_text.ok());
  EXPECT_EQ(*from_file.config, *from_text.config);
}

TEST(Samples, ExtensionsSampleLoads) {
  const LoadResult result = load_config_file(data_path("extensions.yaml"), empty_env());
  ASSERT_TRUE(result.ok()) << describe(result);
  const Config& c = *result.config;
  EXPECT_EQ(c.gateway.listen, hp("0.0.0.0", 8080));
  EXPECT_EQ(c.admin.token, "${literal}");
  const ServiceConfig& s = c.services.at(0);
  EXPECT_EQ(s.traffic, (std::vector<VersionWeight>{{"v1", 95}, {"v2", 5}}));
  EXPECT_TRUE(deploy::waits_for_promote(s.deployment.plan));
  EXPECT_EQ(deploy::planned_duration(s.deployment.plan), 90s);
  ASSERT_EQ(s.deployment.alarms.size(), 2u);
  EXPECT_EQ(s.deployment.alarms[1].comparison, deploy::Comparison::greater_or_equal);  // merged
  EXPECT_DOUBLE_EQ(s.deployment.alarms[1].threshold, 0.25);
  EXPECT_DOUBLE_EQ(s.deployment.alarms[0].threshold, 0.05);
}

TEST(Defaults, EmptyAlarmListStillGetsTheDefaultAlarm) {
  const LoadResult result = load(std::string(kMinimal) + "    deployment: {alarms: []}\n");
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_EQ(result.config->services[0].deployment.alarms,
            std::vector<deploy::AlarmRule>{deploy::default_alarm()});
}

TEST(EnvExpansion, ExpandsScalarsBeforeTheyAreTyped) {
  constexpr std::string_view kYaml = R"(
gateway:
  listen: ${GW_HOST:-0.0.0.0}:${GW_PORT}
  workers: ${WORKERS:-4}
  request_timeout: ${TIMEOUT:-45s}
admin:
  token: ${GLIDEPATH_ADMIN_TOKEN}
store: ${STORE:-sqlite:/var/lib/glidepath.db}
services:
  - name: ${SERVICE_NAME:-orders}
    versions:
      - name: v1
        upstreams: ["${UPSTREAM}"]
    live: v1
)";
  const LoadResult result = load(kYaml, env_of({{"GW_PORT", "8443"},
                                                {"GLIDEPATH_ADMIN_TOKEN", "s3cret"},
                                                {"UPSTREAM", "10.0.0.7:9001"},
                                                {"WORKERS", "8"}}));
  ASSERT_TRUE(result.ok()) << describe(result);
  const Config& c = *result.config;
  EXPECT_EQ(c.gateway.listen, hp("0.0.0.0", 8443));
  EXPECT_EQ(c.gateway.workers, 8);
  EXPECT_EQ(c.gateway.request_timeout, 45s);
  EXPECT_EQ(c.admin.token, "s3cret");
  EXPECT_EQ(c.store.sqlite_path, "/var/lib/glidepath.db");
  EXPECT_EQ(c.services[0].name, "orders");
  EXPECT_EQ(c.services[0].versions[0].upstreams, std::vector<core::HostPort>{hp("10.0.0.7", 9001)});
}

TEST(EnvExpansion, UnsetVariableInATypedFieldIsAnErrorAboutTheEmptyValue) {
  const LoadResult result = load("gateway: {workers: \"${WORKERS}\"}\n" + std::string(kMinimal));
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.errors.size(), 1u) << describe(result);
  EXPECT_EQ(result.errors[0].path, "gateway.workers");
  EXPECT_EQ(result.errors[0].message, "expected an integer, got ''");
  EXPECT_EQ(result.errors[0].line, 1);
}

TEST(EnvExpansion, KeysAreNotExpanded) {
  const LoadResult result =
      load("${SECTION}: {}\n" + std::string(kMinimal), env_of({{"SECTION", "gateway"}}));
  ASSERT_EQ(result.errors.size(), 1u) << describe(result);
  EXPECT_EQ(result.errors[0].path, "${SECTION}");
}

TEST(Steps, CustomStepsMakeACustomPlan) {
  const LoadResult result = load(std::string(kMinimal) + R"(    deployment:
      steps: [{weight: 5}, {pause: 30s}, {weight: "25%"}, {pause: {duration: 1m}},
              {pause: {}}, {pause: ~}, {weight: 100}]
)");
  ASSERT_TRUE(result.ok()) << describe(result);
  const deploy::Plan& plan = result.config->services[0].deployment.plan;
  EXPECT_EQ(plan.kind, deploy::StrategyKind::custom);
  EXPECT_EQ(plan.steps, (std::vector<deploy::Step>{deploy::WeightStep{5}, deploy::PauseStep{30s},
                                                   deploy::WeightStep{25}, deploy::PauseStep{1min},
                                                   deploy::PauseStep{}, deploy::PauseStep{},
                                                   deploy::WeightStep{100}}));
}

TEST(Steps, AFinalFullShiftIsAdded) {
  const LoadResult result =
      load(std::string(kMinimal) + "    deployment: {steps: [{weight: 50}, {pause: 10s}]}\n");
  ASSERT_TRUE(result.ok()) << describe(result);
  const deploy::Plan& plan = result.config->services[0].deployment.plan;
  ASSERT_FALSE(plan.steps.empty());
  EXPECT_EQ(plan.steps.back(), deploy::Step{deploy::WeightStep{100}});
}

TEST(Strategy, BlueGreenTakesItsOptions) {
  const LoadResult result = load(std::string(kMinimal) + R"(    deployment:
      strategy: BlueGreen
      bake: 30s
      keep_previous_warm: 2m
)");
  ASSERT_TRUE(result.ok()) << describe(result);
  const DeploymentDefaults& d = result.config->services[0].deployment;
  EXPECT_EQ(d.plan.kind, deploy::StrategyKind::blue_green);
  EXPECT_EQ(d.plan.keep_previous_warm, 2min);
  EXPECT_EQ(d.plan.steps,
            (std::vector<deploy::Step>{deploy::PauseStep{30s}, deploy::WeightStep{100}}));
  EXPECT_EQ(d.blue_green, (deploy::BlueGreenOptions{30s, 2min}));
}

TEST(Strategy, AnyPercentageAndIntervalWorks) {
  for (std::string_view name :
       {"AllAtOnce", "Canary20Percent30Seconds", "Linear10PercentEvery1Minute",
        "Linear25PercentEvery3Minutes", "Canary10Percent30Minutes"}) {
    const LoadResult result =
        load(std::string(kMinimal) + "    deployment: {strategy: " + std::string(name) + "}\n");
    ASSERT_TRUE(result.ok()) << name << "\n" << describe(result);
    EXPECT_EQ(result.config->services[0].deployment.plan.strategy, name);
  }
}

struct ThresholdCase {
  std::string metric;
  std::string threshold;
  double expected;
};

class ThresholdTest : public ::testing::TestWithParam<ThresholdCase> {};

TEST_P(ThresholdTest, ReadsTheMetricsUnit) {
  const ThresholdCase& c = GetParam();
  const std::string yaml = std::string(kMinimal) +
                           "    deployment:\n"
                           "      alarms:\n"
                           "        - {name: a, metric: " +
                           c.metric + ", threshold: " + c.threshold + "}\n";
  const LoadResult result = load(yaml);
  ASSERT_TRUE(result.ok()) << describe(result);
  ASSERT_EQ(result.config->services[0].deployment.alarms.size(), 1u);
  EXPECT_DOUBLE_EQ(result.config->services[0].deployment.alarms[0].threshold, c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Units, ThresholdTest,
    ::testing::Values(
        ThresholdCase{"latency_p99", "250ms", 0.25}, ThresholdCase{"latency_p90", "1s", 1.0},
        ThresholdCase{"latency_p50", "1500us", 0.0015},
        ThresholdCase{"latency_p99", "0.3", 0.3},  // bare number: seconds
        ThresholdCase{"latency_p99", "2", 2.0}, ThresholdCase{"error_rate", "0.05", 0.05},
        ThresholdCase{"error_rate", "\"5%\"", 0.05}, ThresholdCase{"error_rate", "\"0.5%\"", 0.005},
        ThresholdCase{"error_rate", "1", 1.0}, ThresholdCase{"status_5xx", "20", 20.0},
        ThresholdCase{"request_rate", "1.5e3", 1500.0}));

TEST(Alarms, EveryFieldIsRead) {
  const LoadResult result = load(std::string(kMinimal) + R"(    deployment:
      alarms:
        - name: slow
          metric: latency_p99
          version: canary
          comparison: ">="
          threshold: -50ms
          relative_to_stable: true
          period: 2s
          evaluation_periods: 5
          datapoints_to_alarm: 5
          min_requests: 0
        - name: stable-down
          metric: request_rate
          version: stable
          comparison: LessThanThreshold
          threshold: 1
)");
  ASSERT_TRUE(result.ok()) << describe(result);
  const auto& alarms = result.config->services[0].deployment.alarms;
  ASSERT_EQ(alarms.size(), 2u);
  deploy::AlarmRule slow;
  slow.name = "slow";
  slow.metric = deploy::Metric::latency_p99;
  slow.comparison = deploy::Comparison::greater_or_equal;
  slow.threshold = -0.05;
  slow.relative_to_stable = true;
  slow.period = 2s;
  slow.evaluation_periods = 5;
  slow.datapoints_to_alarm = 5;
  slow.min_requests = 0;
  EXPECT_EQ(alarms[0], slow);
  EXPECT_EQ(alarms[1].version, deploy::AlarmTarget::stable);
  EXPECT_EQ(alarms[1].comparison, deploy::Comparison::less);
  EXPECT_EQ(alarms[1].metric, deploy::Metric::request_rate);
}

TEST(Service, ExtensionsAndAlternativeSpellings) {
  const LoadResult result = load(R"(
gateway:
  max_header_bytes: 32KiB
  max_body_bytes: 1MB
  connect_timeout: 250ms
  websocket_idle_timeout: 10m
  websocket_drain: 0
store: postgresql://glide@db.internal:5432/glidepath
services:
  - name: orders
    match:
      hosts: API.Example.com, *.orders.example.com
      path_prefix: /orders
      strip_prefix: yes
    api_keys: "off"
    api_key_source: bearer
    stickiness: header:X-User-Id
    preview: anyone
    versions:
      - name: v1
        upstreams: "127.0.0.1:9001, [::1]:9002"
    live: v1
    deployment:
      contract: {on_breaking: warn}
      evaluation_interval: 250ms
      hooks:
        pre_traffic: {command: ./check.sh, timeout: 5m}
  - name: users
    stickiness: cookie:session
    preview: "off"
    versions: [{name: v1, upstreams: [localhost:7001]}]
    live: v1
)");
  ASSERT_TRUE(result.ok()) << describe(result);
  const Config& c = *result.config;
  EXPECT_EQ(c.gateway.max_header_bytes, 32u * 1024);
  EXPECT_EQ(c.gateway.max_body_bytes, 1000u * 1000);
  EXPECT_EQ(c.gateway.connect_timeout, 250ms);
  EXPECT_EQ(c.gateway.websocket_idle_timeout, 10min);
  EXPECT_EQ(c.gateway.websocket_drain, 0s);  // zero: tunnels close as soon as traffic moves
  EXPECT_EQ(c.store.kind, StoreKind::postgres);
  EXPECT_EQ(c.store.postgres_url, "postgresql://glide@db.internal:5432/glidepath");
  EXPECT_EQ(to_string(c.store), "postgresql://glide@db.internal:5432/glidepath");
  const ServiceConfig& orders = c.services[0];
  EXPECT_EQ(orders.match.hosts,
            (std::vector<std::string>{"api.example.com", "*.orders.example.com"}));
  EXPECT_TRUE(orders.match.strip_prefix);
  EXPECT_EQ(orders.api_keys, ApiKeyMode::off);
  EXPECT_EQ(orders.api_key_source, ApiKeySource::bearer);
  EXPECT_EQ(orders.stickiness, (Stickiness{StickinessKind::header, "X-User-Id"}));
  EXPECT_EQ(to_string(orders.stickiness), "header:X-User-Id");
  EXPECT_EQ(orders.preview, PreviewMode::anyone);
  EXPECT_EQ(orders.versions[0].upstreams,
            (std::vector<core::HostPort>{hp("127.0.0.1", 9001), hp("::1", 9002)}));
  EXPECT_EQ(orders.deployment.on_breaking, deploy::ContractPolicy::warn);
  EXPECT_EQ(orders.deployment.evaluation_interval, 250ms);
  ASSERT_TRUE(orders.deployment.hooks.pre_traffic.has_value());
  EXPECT_EQ(orders.deployment.hooks.pre_traffic->command, std::vector<std::string>{"./check.sh"});
  EXPECT_EQ(orders.deployment.hooks.pre_traffic->timeout, 5min);
  EXPECT_FALSE(orders.deployment.hooks.post_traffic.has_value());
  const ServiceConfig& users = c.services[1];
  EXPECT_EQ(users.stickiness, (Stickiness{StickinessKind::cookie, "session"}));
  EXPECT_EQ(users.preview, PreviewMode::off);
  EXPECT_EQ(users.versions[0].upstreams, std::vector<core::HostPort>{hp("localhost", 7001)});
}

TEST(Service, SamePrefixOnDifferentHostsIsFine) {
  const LoadResult result = load(R"(
services:
  - name: a
    match: {hosts: [a.example.com], path_prefix: /api}
    versions: [{name: v1, upstreams: [127.0.0.1:9001]}]
    live: v1
  - name: b
    match: {hosts: [b.example.com], path_prefix: /api}
    versions: [{name: v1, upstreams: [127.0.0.1:9002]}]
    live: v1
  - name: c
    match: {path_prefix: /api}
    versions: [{name: v1, upstreams: [127.0.0.1:9003]}]
    live: v1
)");
  EXPECT_TRUE(result.ok()) << describe(result);
}

TEST(Yaml, AnchorsAndMergeKeysWork) {
  const LoadResult result = load(R"(
services:
  - name: orders
    versions:
      - name: v1
        upstreams: &pool [127.0.0.1:9001, 127.0.0.1:9002]
      - name: v2
        upstreams: *pool
    live: v1
    deployment:
      alarms:
        - &errors
          name: errors
          metric: error_rate
          threshold: 0.01
          evaluation_periods: 5
        - <<: *errors
          name: stable-errors
          version: stable
)");
  ASSERT_TRUE(result.ok()) << describe(result);
  const ServiceConfig& s = result.config->services[0];
  EXPECT_EQ(s.versions[0].upstreams, s.versions[1].upstreams);
  const auto& alarms = s.deployment.alarms;
  ASSERT_EQ(alarms.size(), 2u);
  EXPECT_EQ(alarms[1].name, "stable-errors");
  EXPECT_EQ(alarms[1].version, deploy::AlarmTarget::stable);
  EXPECT_DOUBLE_EQ(alarms[1].threshold, 0.01);
  EXPECT_EQ(alarms[1].evaluation_periods, 5);
}

TEST(Warnings, AdminOpenToTheNetworkWithoutATokenIsWarnedAbout) {
  const LoadResult open = load("admin:\n  listen: 0.0.0.0:9090\n" + std::string(kMinimal));
  ASSERT_TRUE(open.ok()) << describe(open);
  ASSERT_EQ(open.warnings.size(), 1u);
  EXPECT_EQ(open.warnings[0].path, "admin.listen");
  EXPECT_EQ(open.warnings[0].line, 2);
  EXPECT_NE(open.warnings[0].message.find("without a token"), std::string::npos);

  const LoadResult with_token =
      load("admin: {listen: 0.0.0.0:9090, token: t}\n" + std::string(kMinimal));
  ASSERT_TRUE(with_token.ok());
  EXPECT_TRUE(with_token.warnings.empty());
}

TEST(Files, MissingFileIsOneError) {
  const LoadResult result = load_config_file("/nonexistent/glidepath.yaml", empty_env());
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_NE(result.errors[0].message.find("cannot read /nonexistent/glidepath.yaml"),
            std::string::npos);
}

TEST(Files, DirectoryIsOneError) {
  const LoadResult result = load_config_file(data_path(""), empty_env());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_NE(result.errors[0].message.find("is a directory"), std::string::npos);
}

TEST(Files, MissingSpecFileIsReportedWithItsPath) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("glidepath-config-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "specs");
  { std::ofstream(dir / "specs" / "present.yaml") << "openapi: 3.0.0\n"; }
  {
    std::ofstream out(dir / "glidepath.yaml");
    out << "services:\n"
           "  - name: orders\n"
           "    versions:\n"
           "      - {name: v1, upstreams: [127.0.0.1:9001], spec: specs/present.yaml}\n"
           "      - name: v2\n"
           "        upstreams: [127.0.0.1:9002]\n"
           "        spec: specs/missing.yaml\n"
           "    live: v1\n";
  }
  const LoadResult result = load_config_file((dir / "glidepath.yaml").string(), empty_env());
  std::filesystem::remove_all(dir);
  ASSERT_EQ(result.errors.size(), 1u) << describe(result);
  EXPECT_EQ(result.errors[0].path, "services[0].versions[1].spec");
  EXPECT_EQ(result.errors[0].line, 7);
  EXPECT_NE(result.errors[0].message.find("no such file: "), std::string::npos);
  EXPECT_NE(result.errors[0].message.find("specs/missing.yaml"), std::string::npos);
}

TEST(Files, HookTlsFilesAreRelativeToTheConfigFileAndMustExist) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("glidepath-config-hook-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "certs");
  { std::ofstream(dir / "certs" / "hooks-ca.pem") << "-----BEGIN CERTIFICATE-----\n"; }
  { std::ofstream(dir / "certs" / "client.pem") << "-----BEGIN CERTIFICATE-----\n"; }
  auto write = [&](const std::string& hook_lines) {
    std::ofstream out(dir / "glidepath.yaml");
    out << "services:\n"
           "  - name: orders\n"
           "    versions:\n"
           "      - {name: v1, upstreams: [127.0.0.1:9001]}\n"
           "    live: v1\n"
           "    deployment:\n"
           "      hooks:\n"
           "        pre_traffic:\n"
           "          http: https://checks.internal/validate\n"
        << hook_lines;
  };
  write(
      "          ca_file: certs/hooks-ca.pem\n"
      "          client_cert: certs/client.pem\n"
      "          client_key: /absolute/is/kept.pem\n");
  LoadResult result = load_config_file((dir / "glidepath.yaml").string(), empty_env());
  EXPECT_EQ(result.errors.size(), 1u) << describe(result);  // the absolute key is missing
  write(
      "          ca_file: certs/hooks-ca.pem\n"
      "          client_cert: certs/client.pem\n");
  result = load_config_file((dir / "glidepath.yaml").string(), empty_env());
  ASSERT_TRUE(result.ok()) << describe(result);
  const auto& hook = result.config->services[0].deployment.hooks.pre_traffic;
  ASSERT_TRUE(hook.has_value());
  EXPECT_EQ(hook->ca_file, (dir / "certs" / "hooks-ca.pem").string());
  EXPECT_EQ(hook->client_cert, (dir / "certs" / "client.pem").string());
  EXPECT_EQ(hook->client_key, "");
  write("          ca_file: certs/missing-ca.pem  # line 10\n");
  result = load_config_file((dir / "glidepath.yaml").string(), empty_env());
  std::filesystem::remove_all(dir);
  ASSERT_EQ(result.errors.size(), 1u) << describe(result);
  EXPECT_EQ(result.errors[0].path, "services[0].deployment.hooks.pre_traffic.ca_file");
  EXPECT_EQ(result.errors[0].line, 10);
  EXPECT_NE(result.errors[0].message.find("no such file: "), std::string::npos);
  EXPECT_NE(result.errors[0].message.find("certs/missing-ca.pem"), std::string::npos);
}

TEST(Files, HookTlsFilesFromTextAreKeptAsWritten) {
  const LoadResult result = load(
      "services:\n"
      "  - name: orders\n"
      "    versions:\n"
      "      - {name: v1, upstreams: [127.0.0.1:9001]}\n"
      "    live: v1\n"
      "    deployment:\n"
      "      hooks:\n"
      "        on_event: {http: \"https://events.internal/\", ca_file: certs/ca.pem}\n");
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_EQ(result.config->services[0].deployment.hooks.on_event->ca_file, "certs/ca.pem");
}

TEST(FormatError, FileLinePathMessage) {
  EXPECT_EQ(format_error({"services[0].deployment.alarms[1].datapoints_to_alarm",
                          "must be <= evaluation_periods (3)", 23},
                         "glidepath.yaml"),
            "glidepath.yaml:23: services[0].deployment.alarms[1].datapoints_to_alarm: must be <= "
            "evaluation_periods (3)");
  EXPECT_EQ(format_error({"services", "at least one service is required", 0}, "g.yaml"),
            "g.yaml: services: at least one service is required");
  EXPECT_EQ(format_error({"", "YAML syntax error: end of map not found", 3}, "g.yaml"),
            "g.yaml:3: YAML syntax error: end of map not found");
}

TEST(FormatError, TheFiveMistakesFileReadsWell) {
  const LoadResult result = load_config_file(data_path("five_mistakes.yaml"), empty_env());
  ASSERT_EQ(result.errors.size(), 5u) << describe(result);
  std::vector<std::string> lines;
  for (const ConfigError& e : result.errors)
    lines.push_back(format_error(e, "five_mistakes.yaml"));
  EXPECT_EQ(lines[0],
            "five_mistakes.yaml:2: gateway.listen: invalid address '127.0.0.1:80800': port must "
            "be 1-65535 (expected host:port, e.g. 127.0.0.1:9001)");
  EXPECT_EQ(lines[1], "five_mistakes.yaml:3: gateway.workers: must be between 0 and 1024, got -1");
  EXPECT_EQ(lines[2].rfind("five_mistakes.yaml:4: store: must be sqlite:PATH", 0), 0u) << lines[2];
  EXPECT_EQ(lines[3].rfind("five_mistakes.yaml:12: services[0].live: names no version", 0), 0u)
      << lines[3];
  EXPECT_EQ(lines[4],
            "five_mistakes.yaml:17: services[0].deployment.alarms[0].datapoints_to_alarm: must be "
            "<= evaluation_periods (3)");
}

}  // namespace
}  // namespace glidepath::config
