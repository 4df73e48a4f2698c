#include "deploy/reconcile.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "core/units.h"

namespace glidepath::deploy {
namespace {

using core::TimePoint;

// A reconcile pass never needs more transitions than there are states plus steps; the
// bound only guards against a bug turning into a hang on the controller thread.
constexpr int kMaxTransitionsPerPass = 4096;

enum class HookOutcome { waiting, succeeded, failed };

// Whether the new version can be receiving traffic in this state (public or preview), so
// its alarms are watched.
bool exposes_new_version(DeploymentState s) {
  switch (s) {
    case DeploymentState::pre_traffic:
    case DeploymentState::shifting:
    case DeploymentState::paused:
    case DeploymentState::post_traffic:
    case DeploymentState::keeping_warm:
      return true;
    default:
      return false;
  }
}

std::string format_value(const AlarmRule& rule, double value) {
  if (is_latency(rule.metric)) {
    return core::format_duration(core::Duration(static_cast<int64_t>(value * 1e6)));
  }
  return fmt::format("{:.4g}", value);
}

// Applies transitions to a working copy and collects the actions they imply.
class Transitions {
 public:
  Transitions(const Deployment& deployment, TimePoint now) : d_(deployment), now_(now) {}

  Deployment& deployment() { return d_; }
  TimePoint now() const { return now_; }

  void event(std::string type, std::string message) {
    DeploymentEvent e{now_, std::move(type), std::move(message)};
    d_.events.push_back(e);
    actions_.emplace_back(EmitEvent{std::move(e)});
  }

  void enter(DeploymentState to) {
    event("state", fmt::format("{} → {}", to_string(d_.state), to_string(to)));
    d_.state = to;
    if (is_terminal(to)) d_.finished_at = now_;
  }

  void set_weight(int weight) {
    if (weight != d_.canary_weight) {
      event("weight", fmt::format("{}% → {}% of traffic on {}", d_.canary_weight, weight,
                                  d_.spec.to_version));
    }
    d_.canary_weight = weight;
    actions_.emplace_back(SetCanaryWeight{weight});
  }

  void start_hook(HookKind kind) { actions_.emplace_back(StartHook{kind}); }
  void check_contract() { actions_.emplace_back(CheckContract{}); }

  // Everything after public traffic moved is a rollback; before, a plain failure.
  void roll_back_or_fail(std::string reason) {
    const bool shifted = d_.canary_weight > 0 || d_.state == DeploymentState::post_traffic ||
                         d_.state == DeploymentState::keeping_warm;
    d_.reason = std::move(reason);
    if (shifted) {
      event("rollback", fmt::format("rolling back to {}: {}", d_.spec.from_version, d_.reason));
      enter(DeploymentState::rolling_back);
      set_weight(0);
      rolled_back_in_this_pass_ = true;
    } else {
      event("failed", d_.reason);
      enter(DeploymentState::failed);
    }
  }

  void succeed() {
    enter(DeploymentState::succeeded);
    actions_.emplace_back(SetLiveVersion{d_.spec.to_version});
    event("succeeded",
          fmt::format("{} is now the live version of {}", d_.spec.to_version, d_.spec.service));
  }

  bool rolled_back_in_this_pass() const { return rolled_back_in_this_pass_; }

  ReconcileResult finish(const Deployment& original) {
    const bool changed = !(d_ == original);
    if (changed) d_.updated_at = now_;
    return ReconcileResult{std::move(d_), std::move(actions_), changed};
  }

 private:
  Deployment d_;
  TimePoint now_;
  std::vector<Action> actions_;
  bool rolled_back_in_this_pass_ = false;
};

// Drives one blocking hook: starts it, restarts it when the runner has forgotten it (a
// controller restart), times it out, and reports its outcome.
HookOutcome drive_hook(Transitions& t, HookKind kind, const std::optional<HookSpec>& spec,
                       HookRun& run, const std::optional<HookObservation>& observed) {
  if (!spec) return HookOutcome::succeeded;
  const char* name = to_string(kind);
  switch (run.status) {
    case HookStatus::succeeded:
      return HookOutcome::succeeded;
    case HookStatus::failed:
      return HookOutcome::failed;
    case HookStatus::not_started:
      run.status = HookStatus::running;
      run.started_at = t.now();
      run.attempts = 1;
      t.event("hook", fmt::format("{} hook started", name));
      t.start_hook(kind);
      return HookOutcome::waiting;
    case HookStatus::running:
      break;
  }
  if (observed && observed->status == HookStatus::succeeded) {
    run.status = HookStatus::succeeded;
    run.finished_at = t.now();
    run.message = observed->message;
    t.event("hook", fmt::format("{} hook succeeded{}{}", name,
                                observed->message.empty() ? "" : ": ", observed->message));
    return HookOutcome::succeeded;
  }
  if (observed && observed->status == HookStatus::failed) {
    run.status = HookStatus::failed;
    run.finished_at = t.now();
    run.message = observed->message.empty() ? "failed" : observed->message;
    t.event("hook", fmt::format("{} hook failed: {}", name, run.message));
    return HookOutcome::failed;
  }
  if (t.now() - run.started_at >= spec->timeout) {
    run.status = HookStatus::failed;
    run.finished_at = t.now();
    run.message = fmt::format("timed out after {}", core::format_duration(spec->timeout));
    t.event("hook", fmt::format("{} hook {}", name, run.message));
    return HookOutcome::failed;
  }
  if (!observed || observed->status == HookStatus::not_started) {
    // The runner does not know this hook: the process that started it is gone. Validation
    // hooks are meant to be repeatable, so run it again; the timeout still counts from
    // the first start.
    ++run.attempts;
    t.event("hook", fmt::format("{} hook restarted (attempt {}): the controller that started it "
                                "is gone",
                                name, run.attempts));
    t.start_hook(kind);
  }
  return HookOutcome::waiting;
}

// Records this tick's alarm results, logs each change of state, and returns the first
// alarm that fired, if any.
const AlarmResult* update_alarms(Transitions& t, const std::vector<AlarmResult>& results) {
  Deployment& d = t.deployment();
  if (results.empty()) return nullptr;
  const AlarmResult* fired = nullptr;
  for (const AlarmResult& result : results) {
    const auto previous = std::find_if(d.alarms.begin(), d.alarms.end(),
                                       [&](const AlarmResult& a) { return a.name == result.name; });
    const AlarmState before =
        previous == d.alarms.end() ? AlarmState::insufficient_data : previous->state;
    if (result.state != before) {
      std::string value = "no data";
      const auto rule = std::find_if(d.spec.alarms.begin(), d.spec.alarms.end(),
                                     [&](const AlarmRule& r) { return r.name == result.name; });
      if (result.value && rule != d.spec.alarms.end()) value = format_value(*rule, *result.value);
      t.event("alarm", fmt::format("{}: {} → {} ({})", result.name, to_string(before),
                                   to_string(result.state), value));
    }
    if (result.state == AlarmState::alarm && fired == nullptr) fired = &result;
  }
  d.alarms = results;
  return fired;
}

std::string alarm_reason(const Deployment& d, const AlarmResult& fired) {
  const auto rule = std::find_if(d.spec.alarms.begin(), d.spec.alarms.end(),
                                 [&](const AlarmRule& r) { return r.name == fired.name; });
  if (rule == d.spec.alarms.end()) return fmt::format("alarm {} fired", fired.name);
  const std::string value = fired.value ? format_value(*rule, *fired.value) : "n/a";
  const std::string threshold = is_latency(rule->metric) ? format_value(*rule, rule->threshold)
                                                         : fmt::format("{:.4g}", rule->threshold);
  return fmt::format(
      "alarm {} fired: {} {} of {} {} {}{} in {} of the last {} periods of {}", rule->name,
      to_string(rule->metric), value, to_string(rule->version), to_string(rule->comparison),
      threshold, rule->relative_to_stable ? " (relative to stable)" : "", fired.breaching_periods,
      rule->evaluation_periods, core::format_duration(rule->period));
}

// Walks the plan from the current step as far as time allows. Returns true when every
// step has been taken.
bool advance_steps(Transitions& t) {
  Deployment& d = t.deployment();
  const std::vector<Step>& steps = d.spec.plan.steps;
  while (d.step < steps.size()) {
    const Step& step = steps[d.step];
    if (const auto* weight = std::get_if<WeightStep>(&step)) {
      t.set_weight(weight->weight);
    } else {
      const auto& pause = std::get<PauseStep>(step);
      // The step timer starts when the step is reached; a pause ends a full duration
      // after that, so a late tick (or a restart) never shortens the next step.
      if (!pause.duration || t.now() < d.step_started_at + *pause.duration) return false;
    }
    ++d.step;
    d.step_started_at = t.now();
    if (d.step < steps.size()) {
      t.event("step",
              fmt::format("step {}/{}: {}", d.step + 1, steps.size(), describe(steps[d.step])));
    }
  }
  return true;
}

// One state's worth of progress; returns false when the deployment must wait.
bool step_state(Transitions& t, const Observations& observed) {
  Deployment& d = t.deployment();
  switch (d.state) {
    case DeploymentState::pending:
      if (d.spec.check_contract) {
        t.enter(DeploymentState::checking_contract);  // which asks for the check
      } else {
        t.enter(DeploymentState::pre_traffic);
      }
      return true;

    case DeploymentState::checking_contract: {
      if (!observed.contract) {
        t.check_contract();  // idempotent: the checker runs once per deployment
        return false;
      }
      const ContractObservation& contract = *observed.contract;
      switch (contract.verdict) {
        case ContractVerdict::passed:
          t.event("contract", contract.summary.empty() ? "no breaking changes" : contract.summary);
          break;
        case ContractVerdict::warned:
          t.event("contract", fmt::format("warning: {}", contract.summary));
          break;
        case ContractVerdict::blocked:
          if (!d.spec.allow_breaking) {
            // The operator's way through is named where they read the failure.
            t.roll_back_or_fail(
                fmt::format("contract check failed: {}; to deploy anyway, start it again with "
                            "--allow-breaking (allow_breaking: true)",
                            contract.summary));
            return false;
          }
          t.event("contract",
                  fmt::format("breaking change allowed by --allow-breaking: {}", contract.summary));
          break;
      }
      t.enter(DeploymentState::pre_traffic);
      return true;
    }

    case DeploymentState::pre_traffic:
      switch (drive_hook(t, HookKind::pre_traffic, d.spec.hooks.pre_traffic, d.pre_traffic,
                         observed.pre_traffic)) {
        case HookOutcome::waiting:
          return false;
        case HookOutcome::failed:
          t.roll_back_or_fail(fmt::format("pre_traffic hook failed: {}", d.pre_traffic.message));
          return false;
        case HookOutcome::succeeded:
          break;
      }
      t.enter(DeploymentState::shifting);
      d.step = 0;
      d.step_started_at = t.now();
      if (!d.spec.plan.steps.empty()) {
        t.event("step", fmt::format("step 1/{}: {}", d.spec.plan.steps.size(),
                                    describe(d.spec.plan.steps.front())));
      }
      return true;

    case DeploymentState::shifting:
      if (!advance_steps(t)) return false;
      t.enter(DeploymentState::post_traffic);
      return true;

    case DeploymentState::paused:
      return false;

    case DeploymentState::post_traffic:
      switch (drive_hook(t, HookKind::post_traffic, d.spec.hooks.post_traffic, d.post_traffic,
                         observed.post_traffic)) {
        case HookOutcome::waiting:
          return false;
        case HookOutcome::failed:
          t.roll_back_or_fail(fmt::format("post_traffic hook failed: {}", d.post_traffic.message));
          return false;
        case HookOutcome::succeeded:
          break;
      }
      if (d.spec.plan.keep_previous_warm.count() > 0) {
        d.warm_until = t.now() + d.spec.plan.keep_previous_warm;
        t.enter(DeploymentState::keeping_warm);
        t.event("keep_warm",
                fmt::format("{} stays routable for {} for instant rollback", d.spec.from_version,
                            core::format_duration(d.spec.plan.keep_previous_warm)));
        return true;
      }
      t.succeed();
      return false;

    case DeploymentState::keeping_warm:
      if (d.warm_until && t.now() < *d.warm_until) return false;
      t.succeed();
      return false;

    case DeploymentState::rolling_back:
      // Done once the data plane confirms the canary gets no traffic; until then the
      // weight is sent again, which is idempotent.
      if (!t.rolled_back_in_this_pass() && observed.applied_canary_weight == 0) {
        t.enter(DeploymentState::rolled_back);
        t.event("rolled_back", fmt::format("100% of traffic is back on {}", d.spec.from_version));
      } else if (!t.rolled_back_in_this_pass()) {
        t.set_weight(0);
      }
      return false;

    case DeploymentState::rolled_back:
    case DeploymentState::failed:
    case DeploymentState::succeeded:
      return false;
  }
  return false;
}

}  // namespace

ReconcileResult reconcile(const Deployment& deployment, const Observations& observed,
                          TimePoint now) {
  Transitions t(deployment, now);
  Deployment& d = t.deployment();
  if (is_terminal(d.state)) return t.finish(deployment);

  // Alarms first: a firing alarm wins over any progress this tick would make.
  if (exposes_new_version(d.state)) {
    if (const AlarmResult* fired = update_alarms(t, observed.alarms)) {
      t.roll_back_or_fail(alarm_reason(d, *fired));
    }
  }
  for (int i = 0; i < kMaxTransitionsPerPass && step_state(t, observed); ++i) {
  }
  return t.finish(deployment);
}

namespace {

core::Failure not_now(const Deployment& d, std::string_view operation, std::string_view when) {
  return core::fail(fmt::format("cannot {} deployment {}: it is {}; {} applies {}", operation, d.id,
                                to_string(d.state), operation, when));
}

// Skips the pause the deployment is waiting in (or, with `full`, every remaining step up
// to the first 100% weight).
void skip_ahead(Transitions& t, bool full) {
  Deployment& d = t.deployment();
  const auto& steps = d.spec.plan.steps;
  const size_t from = d.step;
  if (full) {
    while (d.step < steps.size()) {
      const auto* weight = std::get_if<WeightStep>(&steps[d.step]);
      if (weight && weight->weight == 100) break;
      ++d.step;
    }
  } else if (d.step < steps.size() && std::holds_alternative<PauseStep>(steps[d.step])) {
    ++d.step;
  }
  d.step_started_at = t.now();
  t.event("promote",
          full ? "promoted: skipping to 100%" : fmt::format("promoted: step {} skipped", from + 1));
}

}  // namespace

core::Result<ReconcileResult> apply_command(const Deployment& deployment, const Command& command,
                                            TimePoint now) {
  Transitions t(deployment, now);
  Deployment& d = t.deployment();
  if (is_terminal(d.state)) {
    return core::fail(
        fmt::format("deployment {} has already finished: {}", d.id, to_string(d.state)));
  }

  if (const auto* promote = std::get_if<Promote>(&command)) {
    switch (d.state) {
      case DeploymentState::shifting:
        skip_ahead(t, promote->full);
        break;
      case DeploymentState::paused:
        if (d.paused_at) d.step_started_at += now - *d.paused_at;
        d.paused_at.reset();
        t.enter(d.paused_from);
        skip_ahead(t, promote->full);
        break;
      case DeploymentState::keeping_warm:
        d.warm_until = now;
        t.event("promote", fmt::format("promoted: {} released early", d.spec.from_version));
        break;
      case DeploymentState::pre_traffic:
      case DeploymentState::post_traffic:
        return core::fail(fmt::format(
            "cannot promote deployment {}: it is waiting for its {} hook, which cannot be "
            "skipped; report the hook's result or abort",
            d.id, to_string(d.state)));
      default:
        return not_now(d, "promote", "while shifting, paused or keeping_warm");
    }
  } else if (const auto* abort = std::get_if<Abort>(&command)) {
    if (d.state == DeploymentState::rolling_back) {
      return core::fail(fmt::format("deployment {} is already rolling back", d.id));
    }
    t.event("abort", abort->reason.empty() ? "aborted" : abort->reason);
    t.roll_back_or_fail(abort->reason.empty() ? "aborted" : abort->reason);
  } else if (std::holds_alternative<Pause>(command)) {
    if (d.state != DeploymentState::shifting) return not_now(d, "pause", "while shifting");
    d.paused_from = d.state;
    d.paused_at = now;
    t.enter(DeploymentState::paused);
  } else if (std::holds_alternative<Resume>(command)) {
    if (d.state != DeploymentState::paused) return not_now(d, "resume", "while paused");
    // The paused time does not count against the current step.
    if (d.paused_at) d.step_started_at += now - *d.paused_at;
    d.paused_at.reset();
    t.enter(d.paused_from);
  }
  return t.finish(deployment);
}

}  // namespace glidepath::deploy
