// The CLI's live view (src/cli/live_view.h), line by line: what `glidepath deploy --wait`
// and `glidepath status` show for a deployment object of the admin API.
#include "cli/live_view.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/admin_client.h"
#include "cli/follow.h"
#include "deploy/deployment.h"
#include "deploy/deployment_json.h"

namespace glidepath::cli {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// 2026-01-01T10:00:00Z
const core::TimePoint kStart = core::TimePoint(std::chrono::seconds(1767261600));

deploy::Deployment canary_at_ten_percent() {
  deploy::DeploymentSpec spec;
  spec.service = "orders";
  spec.from_version = "v1";
  spec.to_version = "v2";
  spec.plan = *deploy::plan_from_strategy("Canary10Percent5Minutes");
  deploy::AlarmRule latency = deploy::default_alarm();
  latency.name = "p99";
  latency.metric = deploy::Metric::latency_p99;
  latency.threshold = 0.25;
  spec.alarms = {deploy::default_alarm(), latency};
  deploy::Deployment d = deploy::new_deployment("dep_01JDX", spec, kStart);
  d.state = deploy::DeploymentState::shifting;
  d.canary_weight = 10;
  d.step = 1;  // the pause of 5m
  d.step_started_at = kStart + seconds(2);
  d.alarms = {deploy::AlarmResult{"canary-errors", deploy::AlarmState::ok, 0.012, 0},
              deploy::AlarmResult{"p99", deploy::AlarmState::insufficient_data, std::nullopt, 0}};
  d.events.push_back({kStart + seconds(1), "state", "pending → shifting"});
  d.events.push_back({kStart + seconds(1), "step", "step 1/3: weight 10%"});
  d.events.push_back({kStart + seconds(2), "weight", "0% → 10% of traffic on v2"});
  d.events.push_back({kStart + seconds(2), "step", "step 2/3: pause 5m"});
  d.updated_at = kStart + seconds(2);
  return d;
}

TEST(SplitBar, TheStableShareIsFilled) {
  EXPECT_EQ(render_split("v1", "v2", 10, 20, false), "v1 ██████████████████░░ 90% | v2 10%");
  EXPECT_EQ(render_split("v1", "v2", 0, 10, false), "v1 ██████████ 100% | v2 0%");
  EXPECT_EQ(render_split("v1", "v2", 100, 10, false), "v1 ░░░░░░░░░░ 0% | v2 100%");
  EXPECT_EQ(render_split("v1", "v2", 33, 10, false), "v1 ███████░░░ 67% | v2 33%");
  EXPECT_EQ(render_split("v1", "v2", 150, 4, false), "v1 ░░░░ 0% | v2 100%");  // clamped
}

TEST(SplitBar, ColourOnlyWhenAsked) {
  const std::string coloured = render_split("v1", "v2", 50, 4, true);
  EXPECT_THAT(coloured, HasSubstr("\x1b[32m██\x1b[0m\x1b[33m░░\x1b[0m"));
  EXPECT_EQ(render_split("v1", "v2", 50, 4, false).find('\x1b'), std::string::npos);
}

TEST(LiveView, ACanaryInItsPause) {
  const json d = deploy::to_json(canary_at_ten_percent());
  const auto lines = render_deployment(d, kStart + seconds(62), ViewOptions{100, false, 5});
  EXPECT_THAT(
      lines,
      ElementsAre("dep_01JDX  orders  v1 → v2  Canary10Percent5Minutes  started 10:00:00",
                  "  traffic  v1 ██████████████████░░ 90% | v2 10%",
                  "  state    shifting · step 2/3 (pause 5m) · next step in 4m00s",
                  "  alarms   canary-errors ok 1.2% (error_rate > 5%)",
                  "           p99 no data (latency_p99 > 250ms)", "  events",
                  "    10:00:00  created  deploying orders v1 → v2 with Canary10Percent5Minutes",
                  "    10:00:01  state    pending → shifting",
                  "    10:00:01  step     step 1/3: weight 10%",
                  "    10:00:02  weight   0% → 10% of traffic on v2",
                  "    10:00:02  step     step 2/3: pause 5m"));
}

TEST(LiveView, TooFewPeriodsToDecideIsNotCalledNoData) {
  // insufficient_data with a value: one period had enough requests (42.9% errors), the
  // others did not, so the alarm cannot decide yet. Saying "no data 42.9%" contradicts
  // itself; the value is the last one seen.
  deploy::Deployment d = canary_at_ten_percent();
  d.alarms = {deploy::AlarmResult{"canary-errors", deploy::AlarmState::insufficient_data, 0.429, 1},
              deploy::AlarmResult{"p99", deploy::AlarmState::insufficient_data, std::nullopt, 0}};
  const auto lines = render_deployment(deploy::to_json(d), kStart, ViewOptions{100, false, 0});
  ASSERT_GE(lines.size(), 5u);
  EXPECT_EQ(lines[3], "  alarms   canary-errors not enough data, last 42.9% (error_rate > 5%)");
  EXPECT_EQ(lines[4], "           p99 no data (latency_p99 > 250ms)");
  for (const std::string& line : lines) {
    EXPECT_THAT(line, Not(HasSubstr("no data 4"))) << line;
    EXPECT_THAT(line, Not(HasSubstr("no data -"))) << line;
  }
}

TEST(LiveView, OnlyTheLatestEventsAreShown) {
  const json d = deploy::to_json(canary_at_ten_percent());
  const auto lines = render_deployment(d, kStart + seconds(62), ViewOptions{100, false, 2});
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[lines.size() - 2], "    10:00:02  weight   0% → 10% of traffic on v2");
  EXPECT_EQ(lines.back(), "    10:00:02  step     step 2/3: pause 5m");
  EXPECT_EQ(lines[lines.size() - 3], "  events");
}

TEST(LiveView, NoLineIsWiderThanTheTerminal) {
  const json d = deploy::to_json(canary_at_ten_percent());
  for (int width : {30, 50, 80}) {
    for (const std::string& line : render_deployment(d, kStart, ViewOptions{width, true, 5})) {
      EXPECT_LE(static_cast<int>(fit_to_width(line, 1000).size()), 1000);
      // Count columns: code points outside escape sequences.
      int columns = 0;
      bool escape = false;
      for (unsigned char c : line) {
        if (c == 0x1b) escape = true;
        if (!escape && (c & 0xC0) != 0x80) ++columns;
        if (escape && c == 'm') escape = false;
      }
      EXPECT_LE(columns, width) << line;
    }
  }
}

TEST(LiveView, APausedDeploymentSaysHowToContinue) {
  deploy::Deployment d = canary_at_ten_percent();
  d.state = deploy::DeploymentState::paused;
  d.paused_at = kStart + seconds(32);  // 30 s into the 5 min pause
  const auto lines =
      render_deployment(deploy::to_json(d), kStart + seconds(600), ViewOptions{120, false, 5});
  EXPECT_EQ(lines[2],
            "  state    paused · step 2/3 (pause 5m) · paused, resume to continue (4m30s left in "
            "this step)");
}

TEST(LiveView, APauseUntilPromotedWaitsForPromote) {
  deploy::Deployment d = canary_at_ten_percent();
  d.spec.plan = *deploy::plan_from_steps(
      {deploy::WeightStep{20}, deploy::PauseStep{}, deploy::WeightStep{100}});
  d.canary_weight = 20;
  const auto lines = render_deployment(deploy::to_json(d), kStart + seconds(5), {});
  EXPECT_EQ(lines[1], "  traffic  v1 ████████████████░░░░ 80% | v2 20%");
  EXPECT_EQ(lines[2],
            "  state    shifting · step 2/3 (pause until promoted) · waiting for promote");
}

TEST(LiveView, ARollbackShowsItsReasonAndTheAlarm) {
  deploy::Deployment d = canary_at_ten_percent();
  d.state = deploy::DeploymentState::rolled_back;
  d.canary_weight = 0;
  d.alarms[0] = deploy::AlarmResult{"canary-errors", deploy::AlarmState::alarm, 1.0, 2};
  d.reason = "alarm canary-errors: error_rate 100% > 5% in 2 of 3 periods";
  d.finished_at = kStart + seconds(9);
  const auto lines = render_deployment(deploy::to_json(d), kStart + seconds(20), {});
  EXPECT_EQ(lines[1], "  traffic  v1 ████████████████████ 100% | v2 0%");
  EXPECT_EQ(lines[2], "  state    rolled_back · finished after 9s");
  EXPECT_EQ(lines[3], "  alarms   canary-errors alarm 100% (error_rate > 5%)");
  EXPECT_EQ(lines[5], "  reason   alarm canary-errors: error_rate 100% > 5% in 2 of 3 periods");
}

TEST(LiveView, HooksAndKeepWarmStates) {
  deploy::Deployment d = canary_at_ten_percent();
  d.state = deploy::DeploymentState::pre_traffic;
  d.pre_traffic.status = deploy::HookStatus::running;
  d.pre_traffic.started_at = kStart;
  EXPECT_EQ(render_deployment(deploy::to_json(d), kStart, {})[2],
            "  state    pre_traffic · pre-traffic hook running");
  d.state = deploy::DeploymentState::keeping_warm;
  d.warm_until = kStart + seconds(95);
  EXPECT_EQ(render_deployment(deploy::to_json(d), kStart, {})[2],
            "  state    keeping_warm · previous version kept warm for 1m35s");
}

TEST(LiveView, ColourOnATerminal) {
  deploy::Deployment d = canary_at_ten_percent();
  d.state = deploy::DeploymentState::rolled_back;
  d.reason = "aborted";
  const auto lines = render_deployment(deploy::to_json(d), kStart, ViewOptions{120, true, 5});
  EXPECT_THAT(lines[2], HasSubstr("\x1b[31mrolled_back\x1b[0m"));
  EXPECT_THAT(lines[3], HasSubstr("\x1b[32mok\x1b[0m"));
}

TEST(LiveView, SurvivesAnIncompleteObject) {
  EXPECT_NO_THROW(render_deployment(json::object(), kStart, {}));
  EXPECT_NO_THROW(render_deployment(json(nullptr), kStart, {}));
  EXPECT_NO_THROW(
      render_deployment(json{{"state", 5}, {"events", "x"}, {"alarms", {1, 2}}}, kStart, {}));
  const auto lines = render_deployment(json{{"id", "dep_1"}, {"state", "shifting"}}, kStart, {});
  EXPECT_EQ(lines[0], "dep_1    ? → ?  ");
  EXPECT_EQ(lines[2], "  state    shifting");
}

json services_json() {
  return json::parse(R"({"services": [
    {"name": "orders", "live": "v1", "hosts": ["api.example.com"], "path_prefix": "/orders",
     "versions": [{"name": "v1", "upstreams": ["127.0.0.1:9001"], "weight": 90},
                  {"name": "v2", "upstreams": ["127.0.0.1:9003"], "weight": 10}],
     "deployment": {"id": "dep_01", "state": "shifting", "from_version": "v1",
                    "to_version": "v2", "canary_weight": 10, "step": 1, "total_steps": 3}},
    {"name": "users", "live": "v3", "hosts": [], "path_prefix": "/users",
     "versions": [{"name": "v3", "upstreams": ["127.0.0.1:9101", "127.0.0.1:9102"],
                   "weight": 100}],
     "deployment": null},
    {"name": "split", "live": "a", "hosts": [], "path_prefix": "/",
     "versions": [{"name": "a", "upstreams": ["127.0.0.1:1"], "weight": 75},
                  {"name": "b", "upstreams": ["127.0.0.1:2"], "weight": 25}],
     "deployment": null}
  ]})");
}

TEST(ServicesView, OneLinePerService) {
  EXPECT_THAT(render_services(services_json(), ViewOptions{120, false, 5}),
              ElementsAre("SERVICE  LIVE  TRAFFIC                     DEPLOYMENT",
                          "orders   v1    v1 █████████░ 90% | v2 10%  dep_01 shifting step 2/3",
                          "users    v3    v3 100%                     -",
                          "split    a     a 75% | b 25%               -"));
  EXPECT_THAT(render_services(json{{"services", json::array()}}, {}), ElementsAre("no services"));
}

TEST(ServiceView, VersionsThenTheDeployment) {
  json users = services_json()["services"][1];
  EXPECT_THAT(
      render_service(users, kStart, ViewOptions{120, false, 5}),
      ElementsAre("users  live v3  hosts any  prefix /users",
                  "  v3   100%  127.0.0.1:9101, 127.0.0.1:9102", "  no deployment running"));
  json orders = services_json()["services"][0];
  orders["deployment"] = deploy::to_json(canary_at_ten_percent());
  const auto lines = render_service(orders, kStart + seconds(62), ViewOptions{120, false, 5});
  ASSERT_GE(lines.size(), 6u);
  EXPECT_EQ(lines[0], "orders  live v1  hosts api.example.com  prefix /orders");
  EXPECT_EQ(lines[1], "  v1    90%  127.0.0.1:9001");
  EXPECT_EQ(lines[2], "  v2    10%  127.0.0.1:9003");
  EXPECT_EQ(lines[3], "");
  EXPECT_EQ(lines[4], "dep_01JDX  orders  v1 → v2  Canary10Percent5Minutes  started 10:00:00");
}

TEST(EventLine, PlainAndTimestamped) {
  EXPECT_EQ(format_event_line(json{{"time", "2026-01-01T10:00:02.000Z"},
                                   {"type", "weight"},
                                   {"message", "0% → 10% of traffic on v2"}}),
            "2026-01-01T10:00:02.000Z  weight   0% → 10% of traffic on v2");
}

TEST(MetricValue, AsPeopleReadIt) {
  EXPECT_EQ(format_metric_value("error_rate", 0.05), "5%");
  EXPECT_EQ(format_metric_value("error_rate", 0.0123), "1.2%");
  EXPECT_EQ(format_metric_value("latency_p99", 0.4123), "412ms");
  EXPECT_EQ(format_metric_value("latency_p50", 1.5), "1.50s");
  EXPECT_EQ(format_metric_value("request_rate", 12.0), "12/s");
  EXPECT_EQ(format_metric_value("request_rate", 12.25), "12.2/s");
  EXPECT_EQ(format_metric_value("status_5xx", 7.0), "7");
  EXPECT_EQ(format_metric_value("error_rate", json(nullptr)), "-");
  EXPECT_EQ(format_metric_value("latency_p99", "250ms"), "250ms");
}

TEST(Remaining, RoundsUpToTheSecond) {
  EXPECT_EQ(format_remaining(core::Duration(0)), "0s");
  EXPECT_EQ(format_remaining(std::chrono::milliseconds(1)), "1s");
  EXPECT_EQ(format_remaining(seconds(59)), "59s");
  EXPECT_EQ(format_remaining(seconds(65)), "1m05s");
  EXPECT_EQ(format_remaining(seconds(7380)), "2h03m");
}

TEST(FitToWidth, CountsCharactersNotBytesAndKeepsColoursClosed) {
  EXPECT_EQ(fit_to_width("v1 → v2", 4), "v1 →");
  EXPECT_EQ(fit_to_width("██░░", 3), "██░");
  EXPECT_EQ(fit_to_width("abc", 10), "abc");
  EXPECT_EQ(fit_to_width("\x1b[31mred text\x1b[0m", 3), "\x1b[31mred\x1b[0m");
}

TEST(OutputWidth, TheTerminalsWidthOnATerminalAndNoLimitOtherwise) {
  EXPECT_EQ(output_width(true, 132, nullptr), 132);  // TIOCGWINSZ
  EXPECT_EQ(output_width(true, 132, "100"), 132);    // the terminal itself first
  EXPECT_EQ(output_width(true, 0, "100"), 100);      // no answer: $COLUMNS
  EXPECT_EQ(output_width(true, 0, nullptr), 80);     // neither
  EXPECT_EQ(output_width(true, 0, "wide"), 80);      // not a number
  EXPECT_EQ(output_width(true, 0, "100x"), 80);      // not only a number
  EXPECT_EQ(output_width(true, 0, "0"), 80);         // not a width
  EXPECT_EQ(output_width(true, 0, "-5"), 80);        // not a width
  EXPECT_EQ(output_width(false, 132, "100"), 0);     // a pipe or a log: never cut
  EXPECT_EQ(output_width(false, 0, nullptr), 0);
}

TEST(LiveView, WithoutAWidthNoLineIsCut) {
  deploy::Deployment d = canary_at_ten_percent();
  const std::string long_message(300, 'm');
  d.events.push_back({kStart + seconds(3), "step", long_message});
  const auto lines = render_deployment(deploy::to_json(d), kStart, ViewOptions{0, false, 1});
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "    10:00:03  step     " + long_message);
  EXPECT_EQ(lines[1], "  traffic  v1 ██████████████████░░ 90% | v2 10%");  // the full bar
  EXPECT_EQ(fit_to_width(long_message, 0), long_message);
}

TEST(NewEvents, EachEventIsPrintedOnce) {
  json events = json::array({json{{"type", "a"}}, json{{"type", "b"}}});
  auto first = new_events(events, 0, json());
  ASSERT_EQ(first.size(), 2u);
  events.push_back(json{{"type", "c"}});
  auto second = new_events(events, 2, json{{"type", "b"}});
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0]["type"], "c");
  // The server trimmed the oldest events: continue after the last one shown.
  json trimmed = json::array({json{{"type", "b"}}, json{{"type", "c"}}, json{{"type", "d"}}});
  auto third = new_events(trimmed, 3, json{{"type", "c"}});
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0]["type"], "d");
}

TEST(TerminalStates, AreTheThreeEnds) {
  EXPECT_TRUE(is_terminal_state("succeeded"));
  EXPECT_TRUE(is_terminal_state("rolled_back"));
  EXPECT_TRUE(is_terminal_state("failed"));
  EXPECT_FALSE(is_terminal_state("rolling_back"));
  EXPECT_FALSE(is_terminal_state("paused"));
}

}  // namespace
}  // namespace glidepath::cli
