// A deployment's whole state (SPEC sections 3 and 7). Everything the controller needs to
// resume after a restart is here, so the store persists exactly this value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "deploy/alarm.h"
#include "deploy/hooks.h"
#include "deploy/strategy.h"

namespace glidepath::deploy {

// pending → checking_contract → pre_traffic → shifting → post_traffic → succeeded, with
// `paused` beside shifting and, for blue/green, `keeping_warm` between post_traffic and
// succeeded: the old version stays routable and an alarm or abort still switches back.
// Any alarm, failed hook, failed contract gate or abort leads to rolling_back →
// rolled_back, or to failed when no public traffic had shifted yet.
enum class DeploymentState {
  pending,
  checking_contract,
  pre_traffic,
  shifting,
  paused,
  post_traffic,
  keeping_warm,
  rolling_back,
  rolled_back,
  failed,
  succeeded,
};
const char* to_string(DeploymentState s);
std::optional<DeploymentState> deployment_state_from_string(std::string_view s);
bool is_terminal(DeploymentState s);
// Whether the controller is still driving it: not terminal.
inline bool is_active(DeploymentState s) {
  return !is_terminal(s);
}

enum class ContractPolicy { block, block_if_used, warn };
const char* to_string(ContractPolicy p);
std::optional<ContractPolicy> contract_policy_from_string(std::string_view s);

enum class HookStatus { not_started, running, succeeded, failed };
const char* to_string(HookStatus s);
std::optional<HookStatus> hook_status_from_string(std::string_view s);

// One run of a blocking hook (pre_traffic or post_traffic).
struct HookRun {
  HookStatus status = HookStatus::not_started;
  core::TimePoint started_at{};
  core::TimePoint finished_at{};
  int attempts = 0;  // a run restarted after a controller restart counts again
  std::string message;
  friend bool operator==(const HookRun&, const HookRun&) = default;
};

struct DeploymentEvent {
  core::TimePoint time{};
  // created, state, weight, step, alarm, hook, contract, promote, pause, resume, abort
  std::string type;
  std::string message;
  friend bool operator==(const DeploymentEvent&, const DeploymentEvent&) = default;
};

// What was asked for; fixed once the deployment is created.
struct DeploymentSpec {
  std::string service;
  std::string from_version;  // the live version traffic comes from (and returns to)
  std::string to_version;
  std::vector<std::string> upstreams;  // the new version's, when it is not in the config
  std::string api_spec;                // path of the new version's OpenAPI document, if any
  Plan plan;
  std::vector<AlarmRule> alarms;
  Hooks hooks;
  ContractPolicy on_breaking = ContractPolicy::block_if_used;
  bool check_contract = false;  // both versions have a spec to compare
  bool allow_breaking = false;
  core::Duration evaluation_interval = std::chrono::seconds(1);
  // Lets the hooks (and whoever the owner shares it with) pin to_version through the
  // gateway with X-Glidepath-Preview-Token while the deployment runs.
  std::string preview_token;
  friend bool operator==(const DeploymentSpec&, const DeploymentSpec&) = default;
};

struct Deployment {
  std::string id;
  DeploymentSpec spec;

  DeploymentState state = DeploymentState::pending;
  DeploymentState paused_from = DeploymentState::shifting;  // where resume returns
  int canary_weight = 0;  // percent of public traffic on to_version, 0..100
  size_t step = 0;        // index of the current step in spec.plan.steps
  core::TimePoint step_started_at{};
  std::optional<core::TimePoint> paused_at;
  std::optional<core::TimePoint> warm_until;  // blue/green keep-warm end

  HookRun pre_traffic;
  HookRun post_traffic;
  std::vector<AlarmResult> alarms;  // the latest evaluation, one per rule
  std::vector<DeploymentEvent> events;
  std::string reason;  // why it rolled back or failed

  core::TimePoint started_at{};
  core::TimePoint updated_at{};
  std::optional<core::TimePoint> finished_at;

  friend bool operator==(const Deployment&, const Deployment&) = default;
};

// A new deployment in state pending, with its `created` event.
Deployment new_deployment(std::string id, DeploymentSpec spec, core::TimePoint now);

}  // namespace glidepath::deploy
