// The deployment state machine in simulated time: no test here sleeps, and a
// thirty-minute canary runs in microseconds.
#include "deploy/reconcile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "deploy/deployment_json.h"

namespace glidepath::deploy {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

const core::TimePoint kStart = core::TimePoint(std::chrono::hours(24 * 365 * 56));

Plan plan(std::string_view name, BlueGreenOptions options = {}) {
  auto p = plan_from_strategy(name, options);
  EXPECT_TRUE(p.ok()) << p.error().message;
  return *p;
}

DeploymentSpec spec_with(Plan p) {
  DeploymentSpec s;
  s.service = "orders";
  s.from_version = "v1";
  s.to_version = "v2";
  s.plan = std::move(p);
  s.alarms = {default_alarm()};
  return s;
}

AlarmResult alarm_result(AlarmState state, std::optional<double> value = std::nullopt,
                         int breaching = 0) {
  return AlarmResult{"canary-errors", state, value, breaching};
}

template <typename A>
std::vector<A> actions_of(const ReconcileResult& r) {
  std::vector<A> out;
  for (const Action& a : r.actions) {
    if (const auto* typed = std::get_if<A>(&a)) out.push_back(*typed);
  }
  return out;
}

bool has_event(const Deployment& d, std::string_view type, std::string_view text = "") {
  return std::any_of(d.events.begin(), d.events.end(), [&](const DeploymentEvent& e) {
    return e.type == type && e.message.find(text) != std::string::npos;
  });
}

// A controller loop in simulated time: each tick evaluates nothing itself but asks the
// test's callbacks for alarm results and hook outcomes, applies weight actions to a fake
// data plane at once, and records the weight timeline.
struct Simulation {
  Deployment deployment;
  core::TimePoint now = kStart;
  int applied_weight = 0;
  std::function<std::vector<AlarmResult>(const Simulation&)> alarms = [](const Simulation&) {
    return std::vector<AlarmResult>{alarm_result(AlarmState::ok, 0.0)};
  };
  std::optional<HookObservation> pre_traffic;
  std::optional<HookObservation> post_traffic;
  std::optional<ContractObservation> contract;
  std::vector<std::pair<core::Duration, int>> weight_changes;  // (since start, weight)
  std::vector<HookKind> hooks_started;
  int contract_checks = 0;
  std::optional<std::string> live_version;
  int ticks = 0;

  explicit Simulation(DeploymentSpec spec)
      : deployment(new_deployment("dep_1", std::move(spec), kStart)) {}

  ReconcileResult tick() {
    Observations observed;
    observed.alarms = alarms(*this);
    observed.pre_traffic = pre_traffic;
    observed.post_traffic = post_traffic;
    observed.contract = contract;
    observed.applied_canary_weight = applied_weight;
    ReconcileResult r = reconcile(deployment, observed, now);
    apply(r);
    ++ticks;
    return r;
  }

  void apply(const ReconcileResult& r) {
    for (const Action& a : r.actions) {
      if (const auto* w = std::get_if<SetCanaryWeight>(&a)) {
        if (w->canary_weight != applied_weight)
          weight_changes.emplace_back(now - kStart, w->canary_weight);
        applied_weight = w->canary_weight;
      } else if (const auto* h = std::get_if<StartHook>(&a)) {
        hooks_started.push_back(h->kind);
        HookObservation running{HookStatus::running, ""};
        (h->kind == HookKind::pre_traffic ? pre_traffic : post_traffic) = running;
      } else if (std::holds_alternative<CheckContract>(a)) {
        ++contract_checks;
      } else if (const auto* live = std::get_if<SetLiveVersion>(&a)) {
        live_version = live->version;
      }
    }
    deployment = r.deployment;
  }

  core::Result<ReconcileResult> command(const Command& c) {
    auto r = apply_command(deployment, c, now);
    if (r.ok()) apply(*r);
    return r;
  }

  // Ticks every `interval` until the deployment finishes or `limit` passes.
  void run(core::Duration limit, core::Duration interval = seconds(1)) {
    const core::TimePoint end = now + limit;
    tick();
    while (is_active(deployment.state) && now < end) {
      now += interval;
      tick();
    }
  }
};

TEST(Reconcile, AllAtOnceWithoutHooksSucceedsInOnePass) {
  Simulation sim(spec_with(plan("AllAtOnce")));
  ReconcileResult r = sim.tick();
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(sim.deployment.state, DeploymentState::succeeded);
  EXPECT_EQ(sim.deployment.canary_weight, 100);
  EXPECT_EQ(actions_of<SetCanaryWeight>(r), (std::vector<SetCanaryWeight>{{100}}));
  EXPECT_EQ(actions_of<SetLiveVersion>(r), (std::vector<SetLiveVersion>{{"v2"}}));
  EXPECT_EQ(sim.deployment.finished_at, kStart);
  EXPECT_EQ(sim.deployment.updated_at, kStart);
  // Every event is also emitted for on_event hooks and the event stream.
  EXPECT_EQ(actions_of<EmitEvent>(r).size(), sim.deployment.events.size() - 1);  // not "created"
}

TEST(Reconcile, Canary10Percent30MinutesRunsToTheMinuteInSimulatedTime) {
  Simulation sim(spec_with(plan("Canary10Percent30Minutes")));
  sim.run(minutes(40));
  EXPECT_EQ(sim.deployment.state, DeploymentState::succeeded);
  EXPECT_EQ(sim.weight_changes,
            (std::vector<std::pair<core::Duration, int>>{{seconds(0), 10}, {minutes(30), 100}}));
  EXPECT_EQ(sim.live_version, "v2");
  EXPECT_EQ(sim.ticks, 30 * 60 + 1);
  EXPECT_EQ(sim.deployment.finished_at, kStart + minutes(30));
}

TEST(Reconcile, LinearShiftsEveryInterval) {
  Simulation sim(spec_with(plan("Linear10PercentEvery1Minute")));
  sim.run(minutes(20));
  ASSERT_EQ(sim.deployment.state, DeploymentState::succeeded);
  std::vector<std::pair<core::Duration, int>> expected;
  for (int i = 0; i < 10; ++i)
    expected.emplace_back(minutes(i), (i + 1) * 10);
  EXPECT_EQ(sim.weight_changes, expected);
}

TEST(Reconcile, ATickThatArrivesLateNeverShortensTheNextStep) {
  Simulation sim(spec_with(plan("Linear25PercentEvery1Minute")));
  sim.tick();
  sim.now += seconds(75);  // the controller was busy (or restarting) for 75 s
  sim.tick();
  EXPECT_EQ(sim.applied_weight, 50);
  sim.now += seconds(59);  // the next step still gets its full minute from here
  sim.tick();
  EXPECT_EQ(sim.applied_weight, 50);
  sim.now += seconds(1);
  sim.tick();
  EXPECT_EQ(sim.applied_weight, 75);
}

TEST(Reconcile, AlarmDuringCanaryRollsBackInTheSameTick) {
  Simulation sim(spec_with(plan("Canary10Percent5Minutes")));
  sim.alarms = [](const Simulation& s) {
    if (s.now - kStart >= seconds(42)) {
      return std::vector<AlarmResult>{alarm_result(AlarmState::alarm, 0.31, 2)};
    }
    return std::vector<AlarmResult>{alarm_result(AlarmState::ok, 0.0)};
  };
  sim.run(minutes(1));
  EXPECT_EQ(sim.deployment.state, DeploymentState::rolled_back);
  // Off traffic at the very tick the alarm was seen.
  EXPECT_EQ(sim.weight_changes,
            (std::vector<std::pair<core::Duration, int>>{{seconds(0), 10}, {seconds(42), 0}}));
  EXPECT_EQ(sim.deployment.reason,
            "alarm canary-errors fired: error_rate 0.31 of canary > 0.05 in 2 of the last 3 "
            "periods of 1s");
  EXPECT_TRUE(has_event(sim.deployment, "alarm", "canary-errors: ok → alarm (0.31)"));
  EXPECT_TRUE(has_event(sim.deployment, "rolled_back"));
  EXPECT_FALSE(sim.live_version.has_value());
  EXPECT_EQ(sim.deployment.finished_at, kStart + seconds(43));
}

TEST(Reconcile, RollingBackWaitsForTheDataPlaneAndResendsTheWeight) {
  Simulation sim(spec_with(plan("Canary10Percent5Minutes")));
  sim.tick();
  sim.alarms = [](const Simulation&) {
    return std::vector<AlarmResult>{alarm_result(AlarmState::alarm, 0.5, 3)};
  };
  Observations stale;
  stale.alarms = sim.alarms(sim);
  stale.applied_canary_weight = 10;  // no worker has applied the rollback yet
  ReconcileResult r = reconcile(sim.deployment, stale, sim.now);
  EXPECT_EQ(r.deployment.state, DeploymentState::rolling_back);
  EXPECT_EQ(actions_of<SetCanaryWeight>(r), (std::vector<SetCanaryWeight>{{0}}));
  ReconcileResult again = reconcile(r.deployment, stale, sim.now + seconds(1));
  EXPECT_EQ(again.deployment.state, DeploymentState::rolling_back);
  EXPECT_EQ(actions_of<SetCanaryWeight>(again), (std::vector<SetCanaryWeight>{{0}}));
  stale.applied_canary_weight = 0;
  ReconcileResult done = reconcile(again.deployment, stale, sim.now + seconds(2));
  EXPECT_EQ(done.deployment.state, DeploymentState::rolled_back);
}

TEST(Reconcile, InsufficientDataNeverRollsBack) {
  Simulation sim(spec_with(plan("Canary10Percent5Minutes")));
  sim.alarms = [](const Simulation&) {
    return std::vector<AlarmResult>{alarm_result(AlarmState::insufficient_data)};
  };
  sim.run(minutes(6));
  EXPECT_EQ(sim.deployment.state, DeploymentState::succeeded);
}

TEST(Reconcile, AlarmWhileOnlyPreviewTrafficFailsWithoutRollback) {
  DeploymentSpec spec = spec_with(plan("Canary10Percent5Minutes"));
  spec.hooks.pre_traffic = HookSpec{"http://127.0.0.1:7000/validate", {}, seconds(60)};
  Simulation sim(std::move(spec));
  sim.tick();
  ASSERT_EQ(sim.deployment.state, DeploymentState::pre_traffic);
  sim.alarms = [](const Simulation&) {
    return std::vector<AlarmResult>{alarm_result(AlarmState::alarm, 1.0, 3)};
  };
  sim.now += seconds(1);
  sim.tick();
  EXPECT_EQ(sim.deployment.state, DeploymentState::failed);
  EXPECT_TRUE(sim.weight_changes.empty());
  EXPECT_NE(sim.deployment.reason.find("alarm canary-errors fired"), std::string::npos);
}

TEST(Reconcile, AlarmsOnlyLogChangesOfState) {
  Simulation sim(spec_with(plan("Canary10Percent5Minutes")));
  sim.run(seconds(10));
  const auto alarm_events =
      std::count_if(sim.deployment.events.begin(), sim.deployment.events.end(),
                    [](const DeploymentEvent& e) { return e.type == "alarm"; });
  EXPECT_EQ(alarm_events, 1);  // insufficient_data → ok once, not every second
  ASSERT_EQ(sim.deployment.alarms.size(), 1u);
  EXPECT_EQ(sim.deployment.alarms[0].state, AlarmState::ok);
}

TEST(Reconcile, PreTrafficHookGatesTheFirstShift) {
  DeploymentSpec spec = spec_with(plan("Canary10Percent5Minutes"));
  spec.hooks.pre_traffic = HookSpec{"http://127.0.0.1:7000/validate", {}, seconds(60)};
  Simulation sim(std::move(spec));
  sim.tick();
  EXPECT_EQ(sim.deployment.state, DeploymentState::pre_traffic);
  EXPECT_EQ(sim.hooks_started, std::vector<HookKind>{HookKind::pre_traffic});
  EXPECT_EQ(sim.deployment.pre_traffic.status, HookStatus::running);
  sim.now += seconds(5);
  sim.tick();
  EXPECT_EQ(sim.deployment.state, DeploymentState::pre_traffic);
  EXPECT_EQ(sim.applied_weight, 0);
  sim.pre_traffic = HookObservation{HookStatus::succeeded, "12 checks passed"};
  sim.now += seconds(1);
  sim.tick();
  EXPECT_EQ(sim.deployment.state, DeploymentState::shifting);
  EXPECT_EQ(sim.applied_weight, 10);
  EXPECT_EQ(sim.deployment.pre_traffic.status, HookStatus::succeeded);
  EXPECT_TRUE(has_event(sim.deployment, "hook", "pre_traffic hook succeeded: 12 checks passed"));
}

TEST(Reconcile, FailedPreTrafficHookFailsTheDeploymentBeforeAnyTraffic) {
  DeploymentSpec spec = spec_with(plan("Canary10Percent5Minutes"));
  spec.hooks.pre_traffic = HookSpec{"", {"./smoke.sh"}, seconds(60)};
  Simulation sim(std::move(spec));
  sim.tick();
  sim.pre_traffic = HookObservation{HookStatus::failed, "exit status 3"};
  sim.now += seconds(1);
  sim.tick();
  EXPECT_EQ(sim.deployment.state, DeploymentState::failed);
  EXPECT_EQ(sim.deployment.reason, "pre_traffic hook failed: exit status 3");
  EXPECT_TRUE(sim.weight_changes.empty());
}

TEST(Reconcile, HookTimesOut) {
  DeploymentSpec spec = spec_with(plan("Canary10Percent5Minutes"));
  spec.hooks.pre_traffic = HookSpec{"http://127.0.0.1:7000/validate", {}, seconds(60)};
  Simulation sim(std::move(spec));
  sim.run(seconds(59));
  EXPECT_EQ(sim.deployment.state, DeploymentState::pre_traffic);
  sim.now += seconds(1);
  sim.tick();
  EXPECT_EQ(sim.deployment.state, DeploymentState::failed);
  EXPECT_EQ(sim.deployment.reason, "pre_traffic hook failed: timed out after 1m");
}

TEST(Reconcile, HookForgottenByARestartedRunnerRunsAgainWithinTheSameTimeout) {
  DeploymentSpec spec = spec_with(plan("Canary10Percent5Minutes"));
  spec.hooks.pre_traffic = HookSpec{"http://127.0.0.1:7000/validate", {}, seconds(60)};
  Simulation sim(std::move(spec));
  sim.tick();
  sim.now += seconds(20);
  sim.pre_traffic.reset();  // the process restarted: its hook runner knows nothing
  sim.tick();
  EXPECT_EQ(sim.hooks_started,
            (std::vector<HookKind>{HookKind::pre_traffic, HookKind::pre_traffic}));
  EXPECT_EQ(sim.deployment.pre_traffic.attempts, 2);
  EXPECT_EQ(sim.deployment.pre_traffic.started_at, kStart);
  sim.now += seconds(40);
  sim.tick();
  EXPECT_EQ(sim.deployment.state, DeploymentState::failed);
}

TEST(Reconcile, FailedPostTrafficHookRollsBackFromFullTraffic) {
  DeploymentSpec spec = spec_with(plan("AllAtOnce"));
  spec.hooks.post_traffic = HookSpec{"", {"./smoke-test.sh"}, seconds(60)};
  Simulation sim(std::move(spec));
  sim.tick();
  EXPECT_EQ(sim.deployment.state, DeploymentState::post_traffic);
  EXPECT_EQ(sim.applied_weight, 100);
  sim.post_traffic = HookObservation{HookStatus::failed, "5 of 40 checks failed"};
  sim.now += seconds(3);
  sim.tick();
  EXPECT_EQ(sim.deployment.state, DeploymentState::rolling_back);
  EXPECT_EQ(sim.applied_weight, 0);
  sim.now += seconds(1);
  sim.tick();
  EXPECT_EQ(sim.deployment.state, DeploymentState::rolled_back);
  EXPECT_EQ(sim.deployment.reason, "post_traffic hook failed: 5 of 40 checks failed");
}

TEST(Reconcile, ContractVerdicts) {
  struct Case {
    ContractVerdict verdict;
    bool allow_breaking;
    DeploymentState expected;
    std::string event;
  };
  const std::vector<Case> cases = {
      {ContractVerdict::passed, false, DeploymentState::succeeded, "no breaking changes"},
      {ContractVerdict::warned, false, DeploymentState::succeeded, "warning: 1 warning"},
      {ContractVerdict::blocked, false, DeploymentState::failed, "contract check failed"},
      {ContractVerdict::blocked, true, DeploymentState::succeeded, "allowed by --allow-breaking"},
  };
  for (const Case& c : cases) {
    DeploymentSpec spec = spec_with(plan("AllAtOnce"));
    spec.check_contract = true;
    spec.allow_breaking = c.allow_breaking;
    Simulation sim(std::move(spec));
    sim.tick();
    EXPECT_EQ(sim.deployment.state, DeploymentState::checking_contract);
    sim.now += seconds(1);
    sim.tick();  // no verdict yet: asked again, idempotently
    EXPECT_EQ(sim.contract_checks, 2);
    const std::string summary = c.verdict == ContractVerdict::passed   ? ""
                                : c.verdict == ContractVerdict::warned ? "1 warning"
                                                                       : "GET /orders/{id} removed";
    sim.contract = ContractObservation{c.verdict, summary};
    sim.now += seconds(1);
    sim.tick();
    EXPECT_EQ(sim.deployment.state, c.expected) << c.event;
    const bool found = has_event(sim.deployment, "contract", c.event) ||
                       has_event(sim.deployment, "failed", c.event);
    EXPECT_TRUE(found) << c.event;
    if (c.expected == DeploymentState::failed) {
      EXPECT_TRUE(sim.weight_changes.empty());
      EXPECT_EQ(sim.deployment.reason,
                "contract check failed: GET /orders/{id} removed; to deploy anyway, start it again "
                "with --allow-breaking (allow_breaking: true)");
    }
  }
}

TEST(Reconcile, BlueGreenTestsThroughPreviewThenSwitchesAndKeepsTheOldVersionWarm) {
  DeploymentSpec spec = spec_with(plan("BlueGreen", BlueGreenOptions{seconds(30), minutes(10)}));
  spec.hooks.pre_traffic = HookSpec{"http://127.0.0.1:7000/validate", {}, seconds(60)};
  Simulation sim(std::move(spec));
  sim.tick();
  ASSERT_EQ(sim.deployment.state, DeploymentState::pre_traffic);
  sim.now += seconds(10);
  sim.pre_traffic = HookObservation{HookStatus::succeeded, ""};
  sim.tick();
  EXPECT_EQ(sim.deployment.state, DeploymentState::shifting);  // baking on preview only
  EXPECT_EQ(sim.applied_weight, 0);
  sim.run(seconds(29));
  EXPECT_EQ(sim.applied_weight, 0);
  sim.now += seconds(1);
  sim.tick();
  EXPECT_EQ(sim.applied_weight, 100);  // all at once
  EXPECT_EQ(sim.deployment.state, DeploymentState::keeping_warm);
  EXPECT_EQ(sim.deployment.warm_until, kStart + seconds(40) + minutes(10));
  EXPECT_FALSE(sim.live_version.has_value());
  sim.run(minutes(10));
  EXPECT_EQ(sim.deployment.state, DeploymentState::succeeded);
  EXPECT_EQ(sim.live_version, "v2");
  EXPECT_EQ(sim.deployment.finished_at, kStart + seconds(40) + minutes(10));
}

TEST(Reconcile, AlarmWhileKeepingWarmSwitchesBackAtOnce) {
  Simulation sim(spec_with(plan("BlueGreen", BlueGreenOptions{seconds(0), minutes(10)})));
  sim.tick();
  ASSERT_EQ(sim.deployment.state, DeploymentState::keeping_warm);
  sim.now += minutes(3);
  sim.alarms = [](const Simulation&) {
    return std::vector<AlarmResult>{alarm_result(AlarmState::alarm, 0.2, 2)};
  };
  sim.tick();
  EXPECT_EQ(sim.deployment.state, DeploymentState::rolling_back);
  EXPECT_EQ(sim.applied_weight, 0);
}

TEST(Commands, PauseFreezesTheStepTimerAndResumeContinuesIt) {
  Simulation sim(spec_with(plan("Canary10Percent5Minutes")));
  sim.tick();
  sim.now += minutes(2);
  ASSERT_TRUE(sim.command(Pause{}).ok());
  EXPECT_EQ(sim.deployment.state, DeploymentState::paused);
  sim.run(minutes(30));  // paused: nothing moves, alarms are still watched
  EXPECT_EQ(sim.deployment.state, DeploymentState::paused);
  EXPECT_EQ(sim.applied_weight, 10);
  ASSERT_TRUE(sim.command(Resume{}).ok());
  EXPECT_EQ(sim.deployment.state, DeploymentState::shifting);
  sim.now += minutes(3) - seconds(1);
  sim.tick();
  EXPECT_EQ(sim.applied_weight, 10);  // 2 + 2:59 of the 5 minutes
  sim.now += seconds(1);
  sim.tick();
  EXPECT_EQ(sim.applied_weight, 100);
}

TEST(Commands, AlarmWhilePausedStillRollsBack) {
  Simulation sim(spec_with(plan("Canary10Percent5Minutes")));
  sim.tick();
  ASSERT_TRUE(sim.command(Pause{}).ok());
  sim.alarms = [](const Simulation&) {
    return std::vector<AlarmResult>{alarm_result(AlarmState::alarm, 0.9, 2)};
  };
  sim.now += seconds(1);
  sim.tick();
  EXPECT_EQ(sim.deployment.state, DeploymentState::rolling_back);
}

TEST(Commands, PromoteSkipsTheCurrentPause) {
  Simulation sim(spec_with(plan("Linear25PercentEvery10Minutes")));
  sim.tick();
  ASSERT_TRUE(sim.command(Promote{}).ok());
  sim.tick();
  EXPECT_EQ(sim.applied_weight, 50);
  ASSERT_TRUE(sim.command(Promote{.full = true}).ok());
  sim.tick();
  EXPECT_EQ(sim.applied_weight, 100);
  EXPECT_EQ(sim.deployment.state, DeploymentState::succeeded);
}

TEST(Commands, PromoteReleasesAnIndefinitePause) {
  auto custom =
      plan_from_steps({WeightStep{5}, PauseStep{}, WeightStep{50}, PauseStep{minutes(1)}});
  ASSERT_TRUE(custom.ok());
  Simulation sim(spec_with(*custom));
  sim.run(std::chrono::hours(2));
  EXPECT_EQ(sim.deployment.state, DeploymentState::shifting);
  EXPECT_EQ(sim.applied_weight, 5);
  ASSERT_TRUE(sim.command(Promote{}).ok());
  sim.run(minutes(2));
  EXPECT_EQ(sim.deployment.state, DeploymentState::succeeded);
  EXPECT_EQ(sim.weight_changes.back().second, 100);
}

TEST(Commands, PromoteWhilePausedResumesAndSkips) {
  Simulation sim(spec_with(plan("Canary10Percent5Minutes")));
  sim.tick();
  ASSERT_TRUE(sim.command(Pause{}).ok());
  ASSERT_TRUE(sim.command(Promote{}).ok());
  sim.tick();
  EXPECT_EQ(sim.applied_weight, 100);
  EXPECT_EQ(sim.deployment.state, DeploymentState::succeeded);
}

TEST(Commands, PromoteEndsKeepWarmEarly) {
  Simulation sim(spec_with(plan("BlueGreen", BlueGreenOptions{seconds(0), minutes(10)})));
  sim.tick();
  ASSERT_EQ(sim.deployment.state, DeploymentState::keeping_warm);
  ASSERT_TRUE(sim.command(Promote{}).ok());
  sim.tick();
  EXPECT_EQ(sim.deployment.state, DeploymentState::succeeded);
}

TEST(Commands, AbortBeforeTrafficFailsAndAfterTrafficRollsBack) {
  DeploymentSpec spec = spec_with(plan("Canary10Percent5Minutes"));
  spec.hooks.pre_traffic = HookSpec{"http://127.0.0.1:7000/validate", {}, seconds(60)};
  Simulation before(spec);
  before.tick();
  auto r = before.command(Abort{"aborted by alice"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(before.deployment.state, DeploymentState::failed);
  EXPECT_EQ(before.deployment.reason, "aborted by alice");

  Simulation during(spec_with(plan("Canary10Percent5Minutes")));
  during.tick();
  auto abort = during.command(Abort{});
  ASSERT_TRUE(abort.ok());
  EXPECT_EQ(during.deployment.state, DeploymentState::rolling_back);
  EXPECT_EQ(actions_of<SetCanaryWeight>(*abort), (std::vector<SetCanaryWeight>{{0}}));
  EXPECT_EQ(during.applied_weight, 0);
  during.tick();
  EXPECT_EQ(during.deployment.state, DeploymentState::rolled_back);
  EXPECT_EQ(during.deployment.reason, "aborted");
}

TEST(Commands, OperationsThatDoNotApplySayWhy) {
  DeploymentSpec spec = spec_with(plan("Canary10Percent5Minutes"));
  spec.hooks.pre_traffic = HookSpec{"http://127.0.0.1:7000/validate", {}, seconds(60)};
  Simulation sim(spec);
  sim.tick();  // pre_traffic
  auto promote = sim.command(Promote{});
  ASSERT_FALSE(promote.ok());
  EXPECT_NE(promote.error().message.find("waiting for its pre_traffic hook"), std::string::npos);
  EXPECT_FALSE(sim.command(Pause{}).ok());
  auto resume = sim.command(Resume{});
  ASSERT_FALSE(resume.ok());
  EXPECT_EQ(resume.error().message,
            "cannot resume deployment dep_1: it is pre_traffic; resume applies while paused");

  Simulation done(spec_with(plan("AllAtOnce")));
  done.tick();
  for (const Command& c :
       {Command{Promote{}}, Command{Abort{}}, Command{Pause{}}, Command{Resume{}}}) {
    auto r = done.command(c);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message, "deployment dep_1 has already finished: succeeded");
  }
}

TEST(Reconcile, TerminalDeploymentsAreLeftAlone) {
  Simulation sim(spec_with(plan("AllAtOnce")));
  sim.tick();
  const Deployment before = sim.deployment;
  sim.now += minutes(1);
  ReconcileResult r = sim.tick();
  EXPECT_FALSE(r.changed);
  EXPECT_TRUE(r.actions.empty());
  EXPECT_EQ(sim.deployment, before);
}

TEST(Reconcile, NothingChangesBetweenStepsButTheAlarmValues) {
  Simulation sim(spec_with(plan("Canary10Percent5Minutes")));
  sim.tick();
  sim.now += seconds(1);
  sim.tick();  // the first alarm evaluation: insufficient_data → ok
  sim.now += seconds(1);
  ReconcileResult r = sim.tick();
  EXPECT_FALSE(r.changed);
  EXPECT_TRUE(r.actions.empty());
}

// A controller that dies mid-deployment and comes back reads the stored JSON and carries
// on: the outcome is the same as if it had never stopped.
TEST(Reconcile, ResumesFromStoredStateAsIfNeverInterrupted) {
  Simulation uninterrupted(spec_with(plan("Linear10PercentEvery1Minute")));
  uninterrupted.run(minutes(20));

  Simulation first(spec_with(plan("Linear10PercentEvery1Minute")));
  first.run(minutes(4) + seconds(30));
  ASSERT_EQ(first.deployment.state, DeploymentState::shifting);
  auto restored = deployment_from_json_text(to_json_text(first.deployment));
  ASSERT_TRUE(restored.ok()) << restored.error().message;
  ASSERT_EQ(*restored, first.deployment);

  Simulation second(first.deployment.spec);
  second.deployment = *restored;
  second.now = first.now;
  second.applied_weight = first.applied_weight;
  second.weight_changes = first.weight_changes;
  second.now += seconds(1);
  second.run(minutes(20));
  EXPECT_EQ(second.deployment.state, DeploymentState::succeeded);
  EXPECT_EQ(second.weight_changes, uninterrupted.weight_changes);
  EXPECT_EQ(second.deployment.finished_at, uninterrupted.deployment.finished_at);
}

}  // namespace
}  // namespace glidepath::deploy
