#include "admin/deployment_requests.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace glidepath::admin {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string error_of(std::string_view body) {
  auto r = parse_deployment_request("orders", body);
  EXPECT_FALSE(r.ok()) << body;
  return r.ok() ? std::string() : r.error().message;
}

TEST(DeploymentRequest, TheSmallestRequestNamesOnlyTheVersion) {
  auto r = parse_deployment_request("orders", R"({"version": "v2"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->service, "orders");
  EXPECT_EQ(r->version, "v2");
  EXPECT_TRUE(r->upstreams.empty());
  EXPECT_FALSE(r->strategy);
  EXPECT_FALSE(r->steps);
  EXPECT_FALSE(r->alarms);
  EXPECT_FALSE(r->hooks);
  EXPECT_EQ(r->spec, "");
  EXPECT_FALSE(r->allow_breaking);
}

TEST(DeploymentRequest, ReadsEveryField) {
  auto r = parse_deployment_request("orders", R"({
    "version": "v2.1",
    "upstreams": ["127.0.0.1:9003", "localhost:9004", "[::1]:9005"],
    "strategy": "Canary20Percent30Seconds",
    "alarms": [{"name": "errors", "threshold": 0.1, "evaluation_periods": 5,
                "datapoints_to_alarm": 3, "min_requests": 20},
               {"name": "slow", "metric": "latency_p99", "threshold": "250ms",
                "comparison": ">=", "version": "canary", "relative_to_stable": true,
                "period": "2s"}],
    "hooks": {"pre_traffic": {"http": "http://127.0.0.1:7000/validate", "timeout": "30s"},
              "post_traffic": {"command": ["./smoke.sh", "--fast"]},
              "on_event": null},
    "spec": "/specs/orders-v2.yaml",
    "allow_breaking": true
  })");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->version, "v2.1");
  EXPECT_EQ(r->upstreams,
            (std::vector<std::string>{"127.0.0.1:9003", "localhost:9004", "[::1]:9005"}));
  EXPECT_EQ(r->strategy, "Canary20Percent30Seconds");
  ASSERT_TRUE(r->alarms);
  ASSERT_EQ(r->alarms->size(), 2u);
  const deploy::AlarmRule& errors = (*r->alarms)[0];
  EXPECT_EQ(errors.name, "errors");
  EXPECT_EQ(errors.metric, deploy::Metric::error_rate);
  EXPECT_DOUBLE_EQ(errors.threshold, 0.1);
  EXPECT_EQ(errors.evaluation_periods, 5);
  EXPECT_EQ(errors.datapoints_to_alarm, 3);
  EXPECT_EQ(errors.min_requests, 20u);
  const deploy::AlarmRule& slow = (*r->alarms)[1];
  EXPECT_EQ(slow.metric, deploy::Metric::latency_p99);
  EXPECT_DOUBLE_EQ(slow.threshold, 0.25);
  EXPECT_EQ(slow.comparison, deploy::Comparison::greater_or_equal);
  EXPECT_TRUE(slow.relative_to_stable);
  EXPECT_EQ(slow.period, seconds(2));
  ASSERT_TRUE(r->hooks);
  ASSERT_TRUE(r->hooks->pre_traffic);
  EXPECT_EQ(r->hooks->pre_traffic->http, "http://127.0.0.1:7000/validate");
  EXPECT_EQ(r->hooks->pre_traffic->timeout, seconds(30));
  ASSERT_TRUE(r->hooks->post_traffic);
  EXPECT_EQ(r->hooks->post_traffic->command, (std::vector<std::string>{"./smoke.sh", "--fast"}));
  EXPECT_EQ(r->hooks->post_traffic->timeout, seconds(60));  // the default
  EXPECT_FALSE(r->hooks->on_event);
  EXPECT_EQ(r->spec, "/specs/orders-v2.yaml");
  EXPECT_TRUE(r->allow_breaking);
}

TEST(DeploymentRequest, AnHttpsHookCarriesItsCaFileAndClientCertificate) {
  auto r = parse_deployment_request("orders", R"({
    "version": "v2",
    "hooks": {"pre_traffic": {"http": "https://checks.internal/validate",
                              "ca_file": "/etc/glidepath/hooks-ca.pem",
                              "client_cert": "/etc/glidepath/client.pem",
                              "client_key": "/etc/glidepath/client-key.pem"}}
  })");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->hooks && r->hooks->pre_traffic);
  EXPECT_EQ(r->hooks->pre_traffic->ca_file, "/etc/glidepath/hooks-ca.pem");
  EXPECT_EQ(r->hooks->pre_traffic->client_cert, "/etc/glidepath/client.pem");
  EXPECT_EQ(r->hooks->pre_traffic->client_key, "/etc/glidepath/client-key.pem");
}

TEST(DeploymentRequest, ReadsCustomStepsIncludingAPauseUntilPromoted) {
  auto r = parse_deployment_request(
      "orders",
      R"({"version": "v2", "steps": [{"weight": 5}, {"pause": "30s"}, {"weight": 25},
          {"pause": {}}, {"weight": 100}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->steps);
  const std::vector<deploy::Step> expected = {deploy::WeightStep{5}, deploy::PauseStep{seconds(30)},
                                              deploy::WeightStep{25}, deploy::PauseStep{},
                                              deploy::WeightStep{100}};
  EXPECT_EQ(*r->steps, expected);
  EXPECT_FALSE(r->strategy);
}

TEST(DeploymentRequest, NullFieldsAreAbsentFields) {
  auto r = parse_deployment_request(
      "orders",
      R"({"version": "v2", "upstreams": null, "strategy": null, "steps": null, "alarms": null,
          "hooks": null, "spec": null, "allow_breaking": null})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->strategy);
  EXPECT_FALSE(r->steps);
  EXPECT_FALSE(r->alarms);
  EXPECT_FALSE(r->hooks);
}

TEST(DeploymentRequest, AnEmptyAlarmListIsKept) {
  auto r = parse_deployment_request("orders", R"({"version": "v2", "alarms": []})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->alarms);
  EXPECT_TRUE(r->alarms->empty());
}

TEST(DeploymentRequest, EveryMistakeIsReportedWithItsPath) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      // The body itself.
      {"", "body: a JSON object is required"},
      {"   \n", "body: a JSON object is required"},
      {"{\"version\": ", "body: not valid JSON"},
      {"[1, 2]", "body: must be a JSON object"},
      {"\"v2\"", "body: must be a JSON object"},
      // version
      {"{}", "version: is required"},
      {R"({"version": 2})", "version: must be a string"},
      {R"({"version": ""})", "version: invalid version name"},
      {R"({"version": "v2 beta"})", "version: invalid version name 'v2 beta'"},
      {R"({"version": "-v2"})", "version: invalid version name"},
      // Unknown fields, with a suggestion when one is close.
      {R"({"version": "v2", "stratgy": "AllAtOnce"})",
       "stratgy: unknown field (did you mean 'strategy'?)"},
      {R"({"version": "v2", "colour": "blue"})", "colour: unknown field (expected version,"},
      // upstreams
      {R"({"version": "v2", "upstreams": "127.0.0.1:9003"})", "upstreams: must be a list"},
      {R"({"version": "v2", "upstreams": []})", "upstreams: must not be empty"},
      {R"({"version": "v2", "upstreams": ["127.0.0.1:9003", 9004]})",
       "upstreams[1]: must be a \"host:port\" string"},
      {R"({"version": "v2", "upstreams": ["127.0.0.1"]})", "upstreams[0]: "},
      {R"({"version": "v2", "upstreams": ["127.0.0.1:0"]})", "upstreams[0]: "},
      {R"({"version": "v2", "upstreams": ["127.0.0.1:70000"]})", "upstreams[0]: "},
      {R"({"version": "v2", "upstreams": ["127.0.0.1:9003", "127.0.0.1:9003"]})",
       "upstreams[1]: '127.0.0.1:9003' is listed twice"},
      // strategy and steps
      {R"({"version": "v2", "strategy": "AllAtOnce", "steps": [{"weight": 100}]})",
       "steps: give either strategy or steps, not both"},
      {R"({"version": "v2", "strategy": 5})", "strategy: must be a string"},
      {R"({"version": "v2", "strategy": "Canary10Percent5Hours"})",
       "strategy: unknown strategy 'Canary10Percent5Hours'"},
      {R"({"version": "v2", "steps": {"weight": 10}})", "steps: must be a list"},
      {R"({"version": "v2", "steps": []})", "steps: must not be empty"},
      {R"({"version": "v2", "steps": [{"weight": 10}, {"weight": 120}]})",
       "steps[1]: weight: must be 0-100"},
      {R"({"version": "v2", "steps": [{"weight": 10}, {"pause": "soon"}]})", "steps[1]: pause: "},
      {R"({"version": "v2", "steps": [{"weight": 10}, {"wait": "1s"}]})", "steps[1]: a step is"},
      {R"({"version": "v2", "steps": [{"weight": 10, "pause": "1s"}]})", "steps[0]: a step is"},
      {R"({"version": "v2", "steps": [{"weight": 50}, {"weight": 10}]})", "steps: "},
      // alarms
      {R"({"version": "v2", "alarms": {"name": "x"}})", "alarms: must be a list"},
      {R"({"version": "v2", "alarms": ["x"]})", "alarms[0]: must be an object"},
      {R"({"version": "v2", "alarms": [{"threshold": 0.1}]})", "alarms[0].name: is required"},
      {R"({"version": "v2", "alarms": [{"name": "a", "threshold": "high"}]})",
       "alarms[0].threshold: must be a number"},
      {R"({"version": "v2", "alarms": [{"name": "a", "metric": "errors"}]})",
       "alarms[0].metric: unknown value 'errors'"},
      {R"({"version": "v2", "alarms": [{"name": "a", "comparison": "=="}]})",
       "alarms[0].comparison: unknown value '=='"},
      {R"({"version": "v2", "alarms": [{"name": "a", "period": "1x"}]})", "alarms[0].period: "},
      {R"({"version": "v2", "alarms": [{"name": "a", "evaluation_periods": 2,
          "datapoints_to_alarm": 3}]})",
       "alarms[0].datapoints_to_alarm: "},
      {R"({"version": "v2", "alarms": [{"name": "a"}, {"name": "b", "treshold": 1}]})",
       "alarms[1].treshold: unknown field (did you mean 'threshold'?)"},
      {R"({"version": "v2", "alarms": [{"name": "a"}, {"name": "a"}]})",
       "alarms[1].name: 'a' is already the name of alarms[0]"},
      // hooks
      {R"({"version": "v2", "hooks": []})", "hooks: must be an object"},
      {R"({"version": "v2", "hooks": {"pre-traffic": {"http": "http://x"}}})",
       "hooks.pre-traffic: unknown field (did you mean 'pre_traffic'?)"},
      {R"({"version": "v2", "hooks": {"pre_traffic": "http://x"}})",
       "hooks.pre_traffic: must be an object"},
      {R"({"version": "v2", "hooks": {"pre_traffic": {}}})",
       "hooks.pre_traffic.http or command: one of the two is required"},
      {R"({"version": "v2", "hooks": {"pre_traffic": {"http": "http://x", "command": ["y"]}}})",
       "hooks.pre_traffic.http or command: give one, not both"},
      {R"({"version": "v2", "hooks": {"post_traffic": {"http": "ftp://x"}}})",
       "hooks.post_traffic.http: must be an http:// or https:// URL"},
      {R"({"version": "v2", "hooks": {"post_traffic": {"command": "./x.sh"}}})",
       "hooks.post_traffic.command: must be a list of strings"},
      {R"({"version": "v2", "hooks": {"post_traffic": {"command": ["x"], "timeout": "0s"}}})",
       "hooks.post_traffic.timeout: must be positive"},
      {R"({"version": "v2", "hooks": {"post_traffic": {"command": ["x"], "timeout": "soon"}}})",
       "hooks.post_traffic.timeout: "},
      {R"({"version": "v2", "hooks": {"on_event": {"url": "http://x"}}})",
       "hooks.on_event.url: unknown field"},
      {R"({"version": "v2", "hooks": {"on_event": {"http": "http://x", "ca_file": "/ca.pem"}}})",
       "hooks.on_event.ca_file: only for an https:// hook"},
      {R"({"version": "v2", "hooks": {"on_event": {"http": "https://x", "client_key": "/k"}}})",
       "hooks.on_event.client_key: needs client_cert"},
      {R"({"version": "v2", "hooks": {"on_event": {"http": "https://x", "ca_file": 1}}})",
       "hooks.on_event.ca_file: must be a string"},
      // spec and allow_breaking
      {R"({"version": "v2", "spec": 3})", "spec: must be a string"},
      {R"({"version": "v2", "allow_breaking": "yes"})", "allow_breaking: must be true or false"},
  };
  for (const auto& [body, expected] : cases) {
    EXPECT_THAT(error_of(body), StartsWith(expected)) << body;
  }
}

TEST(DeploymentCommand, PromoteTakesAnOptionalFullFlag) {
  auto plain = parse_command("promote", "");
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  ASSERT_TRUE(std::holds_alternative<deploy::Promote>(*plain));
  EXPECT_FALSE(std::get<deploy::Promote>(*plain).full);

  auto full = parse_command("promote", R"({"full": true})");
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_TRUE(std::get<deploy::Promote>(*full).full);

  auto empty_object = parse_command("promote", "{}");
  ASSERT_TRUE(empty_object.ok());
  auto null_body = parse_command("promote", "null");
  ASSERT_TRUE(null_body.ok());
}

TEST(DeploymentCommand, AbortRecordsWhoAndWhy) {
  auto plain = parse_command("abort", "");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(std::get<deploy::Abort>(*plain).reason, "aborted via admin API");
  auto with_reason = parse_command("abort", R"({"reason": "wrong build"})");
  ASSERT_TRUE(with_reason.ok());
  EXPECT_EQ(std::get<deploy::Abort>(*with_reason).reason, "aborted via admin API: wrong build");
}

TEST(DeploymentCommand, PauseAndResumeTakeNoFields) {
  auto pause = parse_command("pause", "");
  ASSERT_TRUE(pause.ok());
  EXPECT_TRUE(std::holds_alternative<deploy::Pause>(*pause));
  auto resume = parse_command("resume", "{}");
  ASSERT_TRUE(resume.ok());
  EXPECT_TRUE(std::holds_alternative<deploy::Resume>(*resume));
}

TEST(DeploymentCommand, MistakesAreReportedWithTheirPath) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"promote", R"({"full": "yes"})", "full: must be true or false"},
      {"promote", R"({"ful": true})", "ful: unknown field (did you mean 'full'?)"},
      {"promote", "{nope", "body: not valid JSON"},
      {"promote", "[]", "body: must be a JSON object"},
      {"abort", R"({"reason": 5})", "reason: must be a string"},
      {"abort", R"({"why": "x"})", "why: unknown field"},
      {"abort", R"({"reason": ")" + std::string(1001, 'x') + R"("})",
       "reason: at most 1000 characters"},
      {"pause", R"({"full": true})", "full: unknown field"},
      {"resume", R"({"x": 1})", "x: unknown field"},
      {"restart", "", "command: unknown command 'restart'"},
  };
  for (const auto& [command, body, expected] : cases) {
    auto r = parse_command(command, body);
    ASSERT_FALSE(r.ok()) << command << " " << body;
    EXPECT_THAT(r.error().message, StartsWith(expected)) << command << " " << body;
  }
}

TEST(HookResultRequest, ReadsTheStatusAndMessage) {
  auto ok = parse_hook_result("pre_traffic", R"({"status": "succeeded"})");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->kind, deploy::HookKind::pre_traffic);
  EXPECT_TRUE(ok->succeeded);
  EXPECT_EQ(ok->message, "");

  auto failed =
      parse_hook_result("post_traffic", R"({"status": "failed", "message": "3 checks failed"})");
  ASSERT_TRUE(failed.ok()) << failed.error().message;
  EXPECT_EQ(failed->kind, deploy::HookKind::post_traffic);
  EXPECT_FALSE(failed->succeeded);
  EXPECT_EQ(failed->message, "3 checks failed");
}

TEST(HookResultRequest, MistakesAreReportedWithTheirPath) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"on_event", R"({"status": "succeeded"})", "hook: on_event is a notification"},
      {"smoke", R"({"status": "succeeded"})", "hook: unknown hook 'smoke'"},
      {"pre_traffic", "", "body: a JSON object is required"},
      {"pre_traffic", "{}", "status: is required"},
      {"pre_traffic", R"({"status": true})", "status: must be \"succeeded\" or \"failed\""},
      {"pre_traffic", R"({"status": "ok"})", "status: must be \"succeeded\" or \"failed\", got"},
      {"pre_traffic", R"({"status": "failed", "message": 1})", "message: must be a string"},
      {"pre_traffic", R"({"status": "failed", "reason": "x"})", "reason: unknown field"},
  };
  for (const auto& [hook, body, expected] : cases) {
    auto r = parse_hook_result(hook, body);
    ASSERT_FALSE(r.ok()) << hook << " " << body;
    EXPECT_THAT(r.error().message, StartsWith(expected)) << hook << " " << body;
  }
}

TEST(ErrorStatus, ThePrefixDecidesTheStatus) {
  EXPECT_EQ(status_for_error(core::Error{"invalid: version: v9 has no upstreams"}), 400);
  EXPECT_EQ(status_for_error(core::Error{"not found: deployment 'dep_x'"}), 404);
  EXPECT_EQ(status_for_error(core::Error{"conflict: orders already has dep_1 running"}), 409);
  EXPECT_EQ(status_for_error(core::Error{"disk I/O error"}), 500);
  // Only a prefix counts.
  EXPECT_EQ(status_for_error(core::Error{"saving: conflict: stale"}), 500);
  EXPECT_EQ(status_for_error(core::Error{"Invalid: capital"}), 500);
}

}  // namespace
}  // namespace glidepath::admin
