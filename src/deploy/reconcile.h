// The deployment controller's decision function (STYLE.md habit 1, after Argo Rollouts'
// reconcile loop): given a deployment, what the controller observed and the time, it
// returns the next state and the actions to carry out. It does no I/O and reads no clock;
// the loop around it evaluates alarms, runs hooks, publishes weights and persists state.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "deploy/deployment.h"

namespace glidepath::deploy {

// What the hook runner knows of a blocking hook. nullopt in Observations means it knows
// nothing of it (for example after a controller restart), so a running hook is restarted.
struct HookObservation {
  HookStatus status = HookStatus::running;  // running, succeeded or failed
  std::string message;
};

enum class ContractVerdict { passed, warned, blocked };
struct ContractObservation {
  ContractVerdict verdict = ContractVerdict::passed;
  std::string summary;  // one line for the event log and the rollback reason
};

struct Observations {
  std::vector<AlarmResult> alarms;  // this tick's evaluation of spec.alarms
  std::optional<HookObservation> pre_traffic;
  std::optional<HookObservation> post_traffic;
  std::optional<ContractObservation> contract;
  // The canary weight every worker (every gateway of a fleet) has applied, if known.
  std::optional<int> applied_canary_weight;
};

// Publish a new split for the deployment's service: canary_weight percent to
// spec.to_version, the rest to spec.from_version.
struct SetCanaryWeight {
  int canary_weight = 0;
  friend bool operator==(const SetCanaryWeight&, const SetCanaryWeight&) = default;
};
// Make spec.to_version the service's live version: the deployment succeeded.
struct SetLiveVersion {
  std::string version;
  friend bool operator==(const SetLiveVersion&, const SetLiveVersion&) = default;
};
// Start (or restart) a blocking hook; the runner reports back through Observations.
struct StartHook {
  HookKind kind = HookKind::pre_traffic;
  friend bool operator==(const StartHook&, const StartHook&) = default;
};
// Compare the versions' OpenAPI documents and join with usage; idempotent per deployment.
struct CheckContract {
  friend bool operator==(const CheckContract&, const CheckContract&) = default;
};
// Tell on_event hooks and event-stream listeners; never blocks the deployment.
struct EmitEvent {
  DeploymentEvent event;
  friend bool operator==(const EmitEvent&, const EmitEvent&) = default;
};
using Action = std::variant<SetCanaryWeight, SetLiveVersion, StartHook, CheckContract, EmitEvent>;

struct ReconcileResult {
  Deployment deployment;
  std::vector<Action> actions;
  bool changed = false;  // the deployment differs from the input: persist it
};

// Advances `deployment` as far as the observations allow at `now`. Several transitions
// may happen in one call (AllAtOnce without hooks goes from pending to succeeded). An
// alarm in state `alarm` while the new version is exposed rolls back in this call.
ReconcileResult reconcile(const Deployment& deployment, const Observations& observed,
                          core::TimePoint now);

// Manual control (SPEC section 1: promote, abort, pause, resume). An operation that does
// not apply in the current state is an error that says why; the loop then calls
// reconcile so a promote takes effect at once.
struct Promote {
  bool full = false;  // skip every remaining step: straight to 100%
};
struct Abort {
  std::string reason;  // "aborted by admin API", or the caller's words
};
struct Pause {};
struct Resume {};
using Command = std::variant<Promote, Abort, Pause, Resume>;

core::Result<ReconcileResult> apply_command(const Deployment& deployment, const Command& command,
                                            core::TimePoint now);

}  // namespace glidepath::deploy
