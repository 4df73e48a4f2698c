#include "deploy/deployment.h"

#include <fmt/format.h>

#include <utility>

namespace glidepath::deploy {

namespace {
constexpr DeploymentState kAllStates[] = {
    DeploymentState::pending,      DeploymentState::checking_contract,
    DeploymentState::pre_traffic,  DeploymentState::shifting,
    DeploymentState::paused,       DeploymentState::post_traffic,
    DeploymentState::keeping_warm, DeploymentState::rolling_back,
    DeploymentState::rolled_back,  DeploymentState::failed,
    DeploymentState::succeeded,
};
}  // namespace

const char* to_string(DeploymentState s) {
  switch (s) {
    case DeploymentState::pending:
      return "pending";
    case DeploymentState::checking_contract:
      return "checking_contract";
    case DeploymentState::pre_traffic:
      return "pre_traffic";
    case DeploymentState::shifting:
      return "shifting";
    case DeploymentState::paused:
      return "paused";
    case DeploymentState::post_traffic:
      return "post_traffic";
    case DeploymentState::keeping_warm:
      return "keeping_warm";
    case DeploymentState::rolling_back:
      return "rolling_back";
    case DeploymentState::rolled_back:
      return "rolled_back";
    case DeploymentState::failed:
      return "failed";
    case DeploymentState::succeeded:
      return "succeeded";
  }
  return "pending";
}

std::optional<DeploymentState> deployment_state_from_string(std::string_view s) {
  for (DeploymentState state : kAllStates) {
    if (s == to_string(state)) return state;
  }
  return std::nullopt;
}

bool is_terminal(DeploymentState s) {
  return s == DeploymentState::rolled_back || s == DeploymentState::failed ||
         s == DeploymentState::succeeded;
}

const char* to_string(ContractPolicy p) {
  switch (p) {
    case ContractPolicy::block:
      return "block";
    case ContractPolicy::block_if_used:
      return "block_if_used";
    case ContractPolicy::warn:
      return "warn";
  }
  return "block_if_used";
}

std::optional<ContractPolicy> contract_policy_from_string(std::string_view s) {
  for (ContractPolicy p :
       {ContractPolicy::block, ContractPolicy::block_if_used, ContractPolicy::warn}) {
    if (s == to_string(p)) return p;
  }
  return std::nullopt;
}

const char* to_string(HookStatus s) {
  switch (s) {
    case HookStatus::not_started:
      return "not_started";
    case HookStatus::running:
      return "running";
    case HookStatus::succeeded:
      return "succeeded";
    case HookStatus::failed:
      return "failed";
  }
  return "not_started";
}

std::optional<HookStatus> hook_status_from_string(std::string_view s) {
  for (HookStatus h :
       {HookStatus::not_started, HookStatus::running, HookStatus::succeeded, HookStatus::failed}) {
    if (s == to_string(h)) return h;
  }
  return std::nullopt;
}

const char* to_string(HookKind k) {
  switch (k) {
    case HookKind::pre_traffic:
      return "pre_traffic";
    case HookKind::post_traffic:
      return "post_traffic";
    case HookKind::on_event:
      return "on_event";
  }
  return "pre_traffic";
}

std::optional<HookKind> hook_kind_from_string(std::string_view s) {
  for (HookKind k : {HookKind::pre_traffic, HookKind::post_traffic, HookKind::on_event}) {
    if (s == to_string(k)) return k;
  }
  return std::nullopt;
}

std::vector<std::string> validate_hook_spec(const HookSpec& hook) {
  std::vector<std::string> errors;
  if (hook.http.empty() && hook.command.empty()) {
    errors.emplace_back("http or command: one of the two is required");
  } else if (!hook.http.empty() && !hook.command.empty()) {
    errors.emplace_back("http or command: give one, not both");
  }
  if (!hook.http.empty() && hook.http.rfind("http://", 0) != 0 &&
      hook.http.rfind("https://", 0) != 0) {
    errors.emplace_back(
        fmt::format("http: must be an http:// or https:// URL, got '{}'", hook.http));
  }
  const bool https = hook.http.rfind("https://", 0) == 0;
  for (const auto& [field, value] :
       {std::pair<const char*, const std::string&>{"ca_file", hook.ca_file},
        {"client_cert", hook.client_cert},
        {"client_key", hook.client_key}}) {
    if (!value.empty() && !https) {
      errors.emplace_back(fmt::format("{}: only for an https:// hook", field));
    }
  }
  if (!hook.client_key.empty() && hook.client_cert.empty()) {
    errors.emplace_back("client_key: needs client_cert (the certificate it belongs to)");
  }
  if (!hook.command.empty() && hook.command.front().empty()) {
    errors.emplace_back("command: the program (first element) must not be empty");
  }
  if (hook.timeout.count() <= 0) errors.emplace_back("timeout: must be positive");
  return errors;
}

Deployment new_deployment(std::string id, DeploymentSpec spec, core::TimePoint now) {
  Deployment d;
  d.id = std::move(id);
  d.spec = std::move(spec);
  d.state = DeploymentState::pending;
  d.started_at = now;
  d.updated_at = now;
  d.step_started_at = now;
  d.events.push_back(
      DeploymentEvent{now, "created",
                      fmt::format("deploying {} {} → {} with {}", d.spec.service,
                                  d.spec.from_version, d.spec.to_version, d.spec.plan.strategy)});
  return d;
}

}  // namespace glidepath::deploy
