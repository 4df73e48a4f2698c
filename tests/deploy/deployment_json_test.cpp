#include "deploy/deployment_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace glidepath::deploy {
namespace {

using nlohmann::json;
using std::chrono::minutes;
using std::chrono::seconds;

const core::TimePoint kStart =
    core::TimePoint(std::chrono::hours(24 * 365 * 56)) + std::chrono::microseconds(123457);

Deployment full_deployment() {
  DeploymentSpec spec;
  spec.service = "orders";
  spec.from_version = "v1";
  spec.to_version = "v2";
  spec.upstreams = {"127.0.0.1:9003", "127.0.0.1:9004"};
  spec.api_spec = "specs/orders-v2.yaml";
  spec.plan =
      *plan_from_steps({WeightStep{5}, PauseStep{seconds(30)}, PauseStep{}, WeightStep{25}});
  AlarmRule latency = default_alarm();
  latency.name = "p99";
  latency.metric = Metric::latency_p99;
  latency.threshold = 0.25;
  latency.relative_to_stable = true;
  latency.period = seconds(2);
  spec.alarms = {default_alarm(), latency};
  spec.hooks.pre_traffic = HookSpec{"http://127.0.0.1:7000/validate", {}, seconds(60)};
  spec.hooks.post_traffic = HookSpec{"", {"./smoke-test.sh", "--fast"}, seconds(90)};
  spec.hooks.on_event = HookSpec{"https://events.internal/events",
                                 {},
                                 seconds(5),
                                 "/etc/glidepath/ca.pem",
                                 "/etc/glidepath/client.pem",
                                 "/etc/glidepath/client-key.pem"};
  spec.on_breaking = ContractPolicy::block;
  spec.check_contract = true;
  spec.allow_breaking = true;
  spec.evaluation_interval = std::chrono::milliseconds(250);
  Deployment d = new_deployment("dep_01JDX", spec, kStart);
  d.state = DeploymentState::paused;
  d.paused_from = DeploymentState::shifting;
  d.canary_weight = 5;
  d.step = 2;
  d.step_started_at = kStart + seconds(31);
  d.paused_at = kStart + seconds(40);
  d.pre_traffic = HookRun{HookStatus::succeeded, kStart, kStart + seconds(3), 1, "ok"};
  d.post_traffic = HookRun{};
  d.alarms = {AlarmResult{"canary-errors", AlarmState::ok, 0.01, 0},
              AlarmResult{"p99", AlarmState::insufficient_data, std::nullopt, 0}};
  d.events.push_back(DeploymentEvent{kStart + seconds(1), "weight", "0% → 5% of traffic on v2"});
  d.reason = "";
  d.updated_at = kStart + seconds(40);
  return d;
}

TEST(DeploymentJson, RoundTripsExactly) {
  const Deployment d = full_deployment();
  auto back = deployment_from_json_text(to_json_text(d));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, d);

  Deployment finished = d;
  finished.state = DeploymentState::rolled_back;
  finished.reason = "alarm canary-errors fired";
  finished.finished_at = kStart + minutes(1);
  finished.warm_until = kStart + minutes(11);
  auto back2 = deployment_from_json_text(to_json_text(finished));
  ASSERT_TRUE(back2.ok()) << back2.error().message;
  EXPECT_EQ(*back2, finished);
}

TEST(DeploymentJson, CarriesTheAdminApiFields) {
  const json j = to_json(full_deployment());
  for (const char* key :
       {"id", "service", "from_version", "to_version", "strategy", "state", "canary_weight", "step",
        "started_at", "updated_at", "alarms", "events", "reason"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["state"], "paused");
  EXPECT_EQ(j["strategy"], "custom");
  EXPECT_EQ(j["canary_weight"], 5);
  EXPECT_EQ(
      j["alarms"][0],
      (json{
          {"name", "canary-errors"}, {"state", "ok"}, {"value", 0.01}, {"breaching_periods", 0}}));
  EXPECT_TRUE(j["alarms"][1]["value"].is_null());
  EXPECT_EQ(j["events"][0]["type"], "created");
  EXPECT_EQ(j["started_at"], "2025-12-18T00:00:00.123457Z");
  EXPECT_TRUE(j["reason"].is_null());
}

TEST(DeploymentJson, StepForms) {
  EXPECT_EQ(to_json(Step{WeightStep{10}}), json::parse(R"({"weight":10})"));
  EXPECT_EQ(to_json(Step{PauseStep{seconds(30)}}), json::parse(R"({"pause":"30s"})"));
  EXPECT_EQ(to_json(Step{PauseStep{}}), json::parse(R"({"pause":{}})"));
  EXPECT_EQ(*step_from_json(json::parse(R"({"pause":"1m"})")), Step{PauseStep{minutes(1)}});
  EXPECT_EQ(*step_from_json(json::parse(R"({"pause":{}})")), Step{PauseStep{}});
  for (const char* bad :
       {R"({"weight":120})", R"({"weight":"10"})", R"({"pause":"soon"})", R"({"pause":5})",
        R"({"weight":10,"pause":"1s"})", R"([])", R"({"wait":"1s"})"}) {
    EXPECT_FALSE(step_from_json(json::parse(bad)).ok()) << bad;
  }
}

TEST(DeploymentJson, AlarmRulesFromTheAdminApi) {
  auto rule = alarm_rule_from_json(json::parse(
      R"({"name":"slow","metric":"latency_p99","threshold":"250ms","evaluation_periods":5,
          "datapoints_to_alarm":3})"));
  ASSERT_TRUE(rule.ok()) << rule.error().message;
  EXPECT_EQ(rule->metric, Metric::latency_p99);
  EXPECT_DOUBLE_EQ(rule->threshold, 0.25);
  EXPECT_EQ(rule->evaluation_periods, 5);
  EXPECT_EQ(rule->min_requests, 10u);  // defaults fill what is not given

  auto bad = alarm_rule_from_json(
      json::parse(R"({"name":"x","evaluation_periods":3,"datapoints_to_alarm":4})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "datapoints_to_alarm: must be <= evaluation_periods (3)");

  auto wrong_type = alarm_rule_from_json(json::parse(R"({"name":"x","metric":"errors"})"));
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.error().message, "metric: unknown value 'errors'");
}

TEST(DeploymentJson, HookSpecsAreValidated) {
  EXPECT_TRUE(hook_spec_from_json(json::parse(R"({"http":"http://a:1/x","timeout":"5s"})")).ok());
  EXPECT_FALSE(hook_spec_from_json(json::parse(R"({"http":"ftp://a"})")).ok());
  EXPECT_FALSE(hook_spec_from_json(json::parse(R"({})")).ok());
  EXPECT_FALSE(hook_spec_from_json(json::parse(R"({"command":[1,2]})")).ok());
  // TLS files only for https://, and a key only with its certificate.
  auto tls = hook_spec_from_json(
      json::parse(R"({"http":"https://a/x","ca_file":"/ca.pem","client_cert":"/c.pem"})"));
  ASSERT_TRUE(tls.ok()) << tls.error().message;
  EXPECT_EQ(tls->ca_file, "/ca.pem");
  EXPECT_EQ(tls->client_cert, "/c.pem");
  auto plain = hook_spec_from_json(json::parse(R"({"http":"http://a/x","ca_file":"/ca.pem"})"));
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().message, "ca_file: only for an https:// hook");
  auto command = hook_spec_from_json(json::parse(R"({"command":["x"],"client_cert":"/c.pem"})"));
  ASSERT_FALSE(command.ok());
  EXPECT_EQ(command.error().message, "client_cert: only for an https:// hook");
  auto key_alone =
      hook_spec_from_json(json::parse(R"({"http":"https://a/x","client_key":"/k.pem"})"));
  ASSERT_FALSE(key_alone.ok());
  EXPECT_EQ(key_alone.error().message,
            "client_key: needs client_cert (the certificate it belongs to)");
}

TEST(DeploymentJson, BrokenDocumentsAreErrorsNotCrashes) {
  const std::string good = to_json_text(full_deployment());
  for (const std::string& text :
       {std::string(""), std::string("null"), std::string("[]"), std::string("{"),
        good.substr(0, good.size() / 2), std::string(R"({"id":"x"})"),
        std::string(R"({"id":5,"spec":{}})")}) {
    EXPECT_FALSE(deployment_from_json_text(text).ok()) << text;
  }
  json j = json::parse(good);
  j["canary_weight"] = 101;
  auto r = deployment_from_json(j);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "canary_weight: must be 0-100");
  j = json::parse(good);
  j["spec"]["plan"]["steps"][0] = json{{"weight", "x"}};
  r = deployment_from_json(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("spec: spec.plan: steps[0]"), std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace glidepath::deploy
