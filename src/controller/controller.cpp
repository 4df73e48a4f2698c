#include "controller/controller.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "contract/loader.h"
#include "controller/hook_runner.h"
#include "core/ids.h"
#include "core/units.h"
#include "deploy/alarm_evaluation.h"
#include "metrics/history.h"
#include "metrics/series_registry.h"

namespace glidepath::controller {

using deploy::Deployment;
using deploy::DeploymentState;

struct Controller::Active {
  Deployment deployment;
  int64_t revision = 0;
  int applied_weight = -1;  // what the gateway last confirmed; -1 = not yet published
  // The contract gate's check in progress (ControllerDeps::check_contract), and its verdict
  // once it is in.
  std::future<deploy::ContractObservation> contract_check;
  std::optional<deploy::ContractObservation> contract;
};

namespace {

core::Failure invalid(std::string message) {
  return core::fail("invalid: " + std::move(message));
}

const config::VersionConfig* find_config_version(const config::ServiceConfig& service,
                                                 std::string_view name) {
  return service.find_version(name);
}

}  // namespace

Controller::Controller(ControllerDeps deps) : deps_(std::move(deps)) {}

Controller::~Controller() = default;

void Controller::add_listener(EventListener listener) {
  std::lock_guard lock(mutex_);
  listeners_.push_back(std::move(listener));
}

void Controller::stand_down() {
  std::lock_guard lock(mutex_);
  for (const auto& a : active_)
    deps_.hooks->forget(a->deployment.id);
  active_.clear();
}

core::Result<void> Controller::resume() {
  std::lock_guard lock(mutex_);
  active_.clear();
  auto last = deps_.store->last_event_id();
  if (!last) return core::Failure{last.error()};
  last_event_id_ = *last;
  auto states = deps_.store->list_services();
  if (!states) return core::Failure{states.error()};
  for (const deploy::ServiceState& state : *states)
    services_[state.name] = state;
  auto active = deps_.store->active_deployments();
  if (!active) return core::Failure{active.error()};
  for (store::StoredDeployment& stored : *active) {
    if (deps_.config->find_service(stored.deployment.spec.service) == nullptr) continue;
    auto a = std::make_unique<Active>();
    a->deployment = std::move(stored.deployment);
    a->revision = stored.revision;
    // Put traffic back where the stored state says it was before anything else moves.
    const deploy::RoutingIntent intent = intent_for(a->deployment);
    if (auto published = deps_.publish(a->deployment.spec.service, intent); published) {
      a->applied_weight = intent.canary.empty() ? 0 : intent.canary_weight;
    }
    // The event log says where a restarted controller picked the deployment up.
    const deploy::DeploymentEvent resumed{
        deps_.clock->now(), "resume",
        fmt::format("controller restarted: resuming {} at {}% on {} (step {}/{})",
                    deploy::to_string(a->deployment.state), a->deployment.canary_weight,
                    a->deployment.spec.to_version,
                    std::min(a->deployment.step + 1, a->deployment.spec.plan.steps.size()),
                    a->deployment.spec.plan.steps.size())};
    a->deployment.events.push_back(resumed);
    a->deployment.updated_at = resumed.time;
    if (auto saved = deps_.store->save_deployment(a->deployment, a->revision, {&resumed, 1})) {
      a->revision = *saved;
    }
    active_.push_back(std::move(a));
  }
  return {};
}

deploy::RoutingIntent Controller::intent_for(const Deployment& d) const {
  const auto state = services_.find(d.spec.service);
  return deploy::deployment_intent(state == services_.end() ? nullptr : &state->second, d);
}

std::optional<Deployment> Controller::active_of(const std::string& service) const {
  std::lock_guard lock(mutex_);
  for (const auto& a : active_) {
    if (a->deployment.spec.service == service) return a->deployment;
  }
  return std::nullopt;
}

core::Result<std::optional<Deployment>> Controller::find(const std::string& id) const {
  std::lock_guard lock(mutex_);
  for (const auto& a : active_) {
    if (a->deployment.id == id) return std::optional<Deployment>(a->deployment);
  }
  auto stored = deps_.store->get_deployment(id);
  if (!stored) return core::Failure{stored.error()};
  if (!*stored) return std::optional<Deployment>();
  return std::optional<Deployment>((*stored)->deployment);
}

core::Result<Deployment> Controller::create(const DeploymentRequest& request) {
  if (!request.spec.empty() && request.spec.front() == '/' && deps_.prepare_spec) {
    deps_.prepare_spec(request.spec);  // before the lock: see ControllerDeps::prepare_spec
  }
  std::lock_guard lock(mutex_);
  const config::ServiceConfig* service = deps_.config->find_service(request.service);
  if (service == nullptr) {
    return core::fail(fmt::format("not found: unknown service '{}'", request.service));
  }
  for (const auto& a : active_) {
    if (a->deployment.spec.service == request.service) {
      return core::fail(fmt::format(
          "conflict: service {} already has deployment {} ({}, {}% on {}); only one deployment "
          "per service runs at a time: promote, wait for or abort it first",
          request.service, a->deployment.id, deploy::to_string(a->deployment.state),
          a->deployment.canary_weight, a->deployment.spec.to_version));
    }
  }
  deploy::ServiceState state;
  if (auto it = services_.find(request.service); it != services_.end()) {
    state = it->second;
  } else {
    state.name = request.service;
    state.live_version = service->live;
  }
  if (state.live_version.empty()) state.live_version = service->live;
  if (request.version.empty()) return invalid("version: is required");
  if (request.version == state.live_version) {
    return invalid(fmt::format("version: {} is already the live version of {}", request.version,
                               request.service));
  }

  // The new version: one the config lists, one an earlier deployment added, or a new one
  // with its upstreams given here.
  std::vector<std::string> upstreams;
  for (const std::string& u : request.upstreams) {
    auto hp = core::parse_host_port(u);
    if (!hp) return invalid("upstreams: " + hp.error().message);
    upstreams.push_back(core::format_host_port(*hp));
  }
  const bool in_config = find_config_version(*service, request.version) != nullptr;
  if (in_config && !upstreams.empty()) {
    return invalid(
        fmt::format("upstreams: {} is a version in the config; its upstreams come from there",
                    request.version));
  }
  if (!in_config) {
    const deploy::DeployedVersion* known = state.find_version(request.version);
    if (upstreams.empty()) {
      if (known == nullptr) {
        return invalid(fmt::format(
            "upstreams: required for version {}, which the config does not list", request.version));
      }
      upstreams = known->upstreams;
    } else if (known != nullptr && known->upstreams != upstreams && !request.replace_upstreams) {
      // A version name means one build: re-pointing it silently would make its metrics,
      // usage and contract history describe two things.
      return core::fail(fmt::format(
          "conflict: version {} of {} already points at {}; deploy these upstreams under a "
          "new version name, or replace them on purpose (replace_upstreams, "
          "--replace-upstreams)",
          request.version, request.service, fmt::join(known->upstreams, ", ")));
    }
    // Names are resolved now, off the rollback path; one that does not resolve is the
    // caller's to fix before any traffic depends on it.
    if (deps_.accept_upstreams) {
      std::vector<core::HostPort> addresses;
      for (const std::string& u : upstreams) {
        if (auto hp = core::parse_host_port(u)) addresses.push_back(*hp);
      }
      if (auto accepted = deps_.accept_upstreams(addresses); !accepted) {
        return invalid("upstreams: " + accepted.error().message);
      }
    }
    std::string spec_path = request.spec;
    if (spec_path.empty() && known != nullptr) spec_path = known->spec_path;
    std::erase_if(state.versions,
                  [&](const deploy::DeployedVersion& v) { return v.name == request.version; });
    state.versions.push_back(deploy::DeployedVersion{request.version, upstreams, spec_path});
  }

  deploy::DeploymentSpec spec;
  spec.service = request.service;
  spec.from_version = state.live_version;
  spec.to_version = request.version;
  spec.upstreams = upstreams;
  // The new version's document: the one this request names, else the one it has.
  spec.api_spec =
      request.spec.empty() ? spec_path_of(request.service, request.version) : request.spec;
  if (request.steps) {
    auto plan = deploy::plan_from_steps(*request.steps);
    if (!plan) return invalid(plan.error().message);
    spec.plan = std::move(*plan);
  } else if (request.strategy) {
    auto plan = deploy::plan_from_strategy(*request.strategy, service->deployment.blue_green);
    if (!plan) return invalid("strategy: " + plan.error().message);
    spec.plan = std::move(*plan);
  } else {
    spec.plan = service->deployment.plan;
  }
  spec.alarms = request.alarms ? *request.alarms : service->deployment.alarms;
  if (spec.alarms.empty()) spec.alarms.push_back(deploy::default_alarm());
  for (size_t i = 0; i < spec.alarms.size(); ++i) {
    for (const deploy::FieldError& e : deploy::validate_alarm_rule(spec.alarms[i])) {
      return invalid(fmt::format("alarms[{}].{}: {}", i, e.field, e.message));
    }
  }
  spec.hooks = request.hooks ? *request.hooks : service->deployment.hooks;
  spec.on_breaking = service->deployment.on_breaking;
  // Both versions need a document to compare; without one there is nothing to check.
  spec.check_contract = deps_.check_contract != nullptr &&
                        !spec_path_of(request.service, state.live_version).empty() &&
                        !spec.api_spec.empty();
  spec.allow_breaking = request.allow_breaking;
  spec.evaluation_interval = service->deployment.evaluation_interval;
  spec.preview_token = "gpp_" + core::random_token(20);

  const core::TimePoint now = deps_.clock->now();
  Deployment d = deploy::new_deployment(core::make_id("dep", now), std::move(spec), now);
  auto stored = deps_.store->create_deployment(d);
  if (!stored) return core::Failure{stored.error()};
  state.updated_at = now;
  if (auto saved = deps_.store->upsert_service(state); !saved) return core::Failure{saved.error()};
  services_[request.service] = state;

  auto a = std::make_unique<Active>();
  a->deployment = std::move(d);
  a->revision = stored->revision;
  Active& active = *a;
  active_.push_back(std::move(a));
  // The new version is routable from now on, at 0% of public traffic: a preview pin
  // reaches it while its contract is checked and its pre-traffic hook runs.
  if (deps_.publish(request.service, intent_for(active.deployment))) active.applied_weight = 0;
  const deploy::ReconcileResult result = deploy::reconcile(active.deployment, observe(active), now);
  const Deployment after = result.deployment;
  if (auto advanced = advance(active, result, {}); !advanced)
    return core::Failure{advanced.error()};
  flush_events();
  std::erase_if(active_, [](const auto& x) { return deploy::is_terminal(x->deployment.state); });
  return after;
}

deploy::Observations Controller::observe(Active& active) const {
  const Deployment& d = active.deployment;
  deploy::Observations observed;
  const auto canary = deps_.registry->find(d.spec.service, d.spec.to_version);
  const auto stable = deps_.registry->find(d.spec.service, d.spec.from_version);
  const core::TimePoint now = deps_.clock->now();
  if (canary && stable) {
    const deploy::AlarmSeries series{*canary, *stable};
    const deploy::AlarmClock clock{core::epoch_second(now), core::epoch_second(d.started_at)};
    observed.alarms = deploy::evaluate_alarms(d.spec.alarms, *deps_.history, series, clock);
  }
  observed.pre_traffic = deps_.hooks->observe(d.id, deploy::HookKind::pre_traffic);
  observed.post_traffic = deps_.hooks->observe(d.id, deploy::HookKind::post_traffic);
  if (active.applied_weight >= 0) observed.applied_canary_weight = active.applied_weight;
  // The contract check's verdict, once it is in (never waits for it).
  if (!active.contract && active.contract_check.valid() &&
      active.contract_check.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    active.contract = active.contract_check.get();
  }
  observed.contract = active.contract;
  return observed;
}

void Controller::carry_out(Active& active, const deploy::ReconcileResult& result) {
  const Deployment& d = result.deployment;
  for (const deploy::Action& action : result.actions) {
    if (const auto* weight = std::get_if<deploy::SetCanaryWeight>(&action)) {
      // Traffic moves first, the database write follows: a rollback never waits on disk.
      deploy::RoutingIntent intent = intent_for(d);
      intent.canary_weight = weight->canary_weight;
      if (deps_.publish(d.spec.service, intent)) active.applied_weight = weight->canary_weight;
    } else if (const auto* live = std::get_if<deploy::SetLiveVersion>(&action)) {
      deploy::ServiceState& state = services_[d.spec.service];
      state.name = d.spec.service;
      state.live_version = live->version;
      state.updated_at = deps_.clock->now();
      // d is succeeded: the intent makes to_version live.
      if (deps_.publish(d.spec.service, intent_for(d))) active.applied_weight = 0;
    } else if (const auto* hook = std::get_if<deploy::StartHook>(&action)) {
      HookCall call;
      call.deployment_id = d.id;
      call.kind = hook->kind;
      call.spec = hook->kind == deploy::HookKind::pre_traffic ? *d.spec.hooks.pre_traffic
                                                              : *d.spec.hooks.post_traffic;
      const nlohmann::json payload{
          {"deployment_id", d.id},
          {"service", d.spec.service},
          {"from_version", d.spec.from_version},
          {"to_version", d.spec.to_version},
          {"hook", deploy::to_string(hook->kind)},
          {"preview_header", {{"name", "X-Glidepath-Version"}, {"value", d.spec.to_version}}},
          // Both headers together pin a request to the new version, whatever the
          // service's preview setting, while the deployment runs.
          {"preview_headers",
           {{"X-Glidepath-Version", d.spec.to_version},
            {"X-Glidepath-Preview-Token", d.spec.preview_token}}},
          {"gateway", deps_.gateway_url},
          {"callback",
           fmt::format("/v1/deployments/{}/hooks/{}", d.id, deploy::to_string(hook->kind))}};
      call.payload = payload.dump();
      call.environment = {{"GLIDEPATH_DEPLOYMENT_ID", d.id},
                          {"GLIDEPATH_SERVICE", d.spec.service},
                          {"GLIDEPATH_FROM_VERSION", d.spec.from_version},
                          {"GLIDEPATH_TO_VERSION", d.spec.to_version},
                          {"GLIDEPATH_HOOK", deploy::to_string(hook->kind)},
                          {"GLIDEPATH_PREVIEW_HEADER", "X-Glidepath-Version: " + d.spec.to_version},
                          {"GLIDEPATH_PREVIEW_TOKEN", d.spec.preview_token},
                          {"GLIDEPATH_GATEWAY", deps_.gateway_url}};
      deps_.hooks->start(std::move(call));
    } else if (const auto* emitted = std::get_if<deploy::EmitEvent>(&action)) {
      if (d.spec.hooks.on_event) {
        const nlohmann::json payload{{"deployment_id", d.id},
                                     {"service", d.spec.service},
                                     {"state", deploy::to_string(d.state)},
                                     {"canary_weight", d.canary_weight},
                                     {"event",
                                      {{"time", core::format_rfc3339(emitted->event.time)},
                                       {"type", emitted->event.type},
                                       {"message", emitted->event.message}}}};
        deps_.hooks->notify(*d.spec.hooks.on_event, payload.dump());
      }
    } else if (std::holds_alternative<deploy::CheckContract>(action)) {
      // Once per deployment (per process: a restart checks again). The live version's
      // document against the one this deployment brings.
      if (!active.contract && !active.contract_check.valid() && deps_.check_contract) {
        active.contract_check =
            deps_.check_contract(d.spec.service, spec_path_of(d.spec.service, d.spec.from_version),
                                 d.spec.api_spec, d.spec.on_breaking);
      }
    }
  }
}

std::string Controller::spec_path_of(const std::string& service, const std::string& version) const {
  std::lock_guard lock(mutex_);
  if (const config::ServiceConfig* s = deps_.config->find_service(service)) {
    if (const config::VersionConfig* v = s->find_version(version)) return v->spec;
  }
  const auto state = services_.find(service);
  if (state == services_.end()) return {};
  const deploy::DeployedVersion* added = state->second.find_version(version);
  return added != nullptr ? added->spec_path : std::string();
}

core::Result<void> Controller::advance(Active& active, const deploy::ReconcileResult& result,
                                       std::vector<deploy::DeploymentEvent> new_events) {
  const size_t before = active.deployment.events.size();
  carry_out(active, result);
  if (!result.changed) return {};
  for (size_t i = before; i < result.deployment.events.size(); ++i) {
    new_events.push_back(result.deployment.events[i]);
  }
  const bool live_changed = result.deployment.state == DeploymentState::succeeded &&
                            active.deployment.state != DeploymentState::succeeded;
  const deploy::ServiceState* service_update =
      live_changed ? &services_[result.deployment.spec.service] : nullptr;
  auto revision =
      deps_.store->save_deployment(result.deployment, active.revision, new_events, service_update);
  active.deployment = result.deployment;
  if (!revision) return core::Failure{revision.error()};
  active.revision = *revision;
  if (deploy::is_terminal(active.deployment.state)) deps_.hooks->forget(active.deployment.id);
  return {};
}

void Controller::flush_events() {
  if (listeners_.empty()) {
    if (auto last = deps_.store->last_event_id()) last_event_id_ = *last;
    return;
  }
  auto events = deps_.store->events_after(last_event_id_, 1000);
  if (!events) return;
  for (const store::EventRecord& e : *events) {
    last_event_id_ = e.id;
    for (const EventListener& listener : listeners_)
      listener(e);
  }
}

void Controller::settle_rollback(Active& active, core::TimePoint now) {
  // publish() returns once every worker routes with the new weight, so a rollback is
  // confirmed as soon as it is carried out: record rolled_back now, not a tick later.
  if (active.deployment.state == DeploymentState::rolling_back && active.applied_weight == 0) {
    (void)advance(active, deploy::reconcile(active.deployment, observe(active), now), {});
  }
}

void Controller::tick() {
  std::lock_guard lock(mutex_);
  const core::TimePoint now = deps_.clock->now();
  for (auto& a : active_) {
    const deploy::ReconcileResult result = deploy::reconcile(a->deployment, observe(*a), now);
    (void)advance(*a, result, {});  // a failed save is retried with the next tick's state
    settle_rollback(*a, now);
  }
  std::erase_if(active_, [](const auto& x) { return deploy::is_terminal(x->deployment.state); });
  flush_events();
}

core::Result<void> Controller::attach_spec(const std::string& service, const std::string& version,
                                           const std::string& spec_path) {
  const config::ServiceConfig* configured = deps_.config->find_service(service);
  if (configured == nullptr) return core::fail(fmt::format("not found: service '{}'", service));
  if (configured->find_version(version) != nullptr) {
    return core::fail(
        fmt::format("conflict: version {} of {} is in the config file; set its `spec:` there",
                    version, service));
  }
  if (spec_path.empty() || spec_path.front() != '/') {
    return invalid("spec: must be an absolute path the server can read");
  }
  // Read before the lock: a large document takes a while, and a rollback must not wait.
  if (auto loaded = contract::load_document_file(spec_path); !loaded) {
    return invalid("spec: " + loaded.error().message);
  }
  if (deps_.prepare_spec) deps_.prepare_spec(spec_path);
  std::lock_guard lock(mutex_);
  const auto state = services_.find(service);
  deploy::DeployedVersion* added = nullptr;
  if (state != services_.end()) {
    for (deploy::DeployedVersion& v : state->second.versions) {
      if (v.name == version) added = &v;
    }
  }
  if (added == nullptr) {
    return core::fail(
        fmt::format("not found: {} has no version {} (the config lists {}; "
                    "deployments added none by that name)",
                    service, version, configured->live));
  }
  deploy::ServiceState updated = state->second;
  for (deploy::DeployedVersion& v : updated.versions) {
    if (v.name == version) v.spec_path = spec_path;
  }
  updated.updated_at = deps_.clock->now();
  if (auto saved = deps_.store->upsert_service(updated); !saved) return saved;
  state->second = std::move(updated);
  // Usage of the version is named by the document's operations from now on.
  for (const auto& a : active_) {
    if (a->deployment.spec.service == service) {
      return deps_.publish(service, intent_for(a->deployment));
    }
  }
  return deps_.publish(service, deploy::settled_intent(state->second));
}

core::Result<Deployment> Controller::command(const std::string& id,
                                             const deploy::Command& command) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(active_.begin(), active_.end(),
                         [&](const auto& a) { return a->deployment.id == id; });
  if (it == active_.end()) {
    auto stored = deps_.store->get_deployment(id);
    if (!stored) return core::Failure{stored.error()};
    if (!*stored) return core::fail(fmt::format("not found: no deployment {}", id));
    return core::fail(fmt::format("conflict: deployment {} has already finished: {}", id,
                                  deploy::to_string((*stored)->deployment.state)));
  }
  Active& active = **it;
  const core::TimePoint now = deps_.clock->now();
  auto applied = deploy::apply_command(active.deployment, command, now);
  if (!applied) return core::fail("conflict: " + applied.error().message);
  if (auto advanced = advance(active, *applied, {}); !advanced)
    return core::Failure{advanced.error()};
  // Then whatever the command allows at once (a promote moves to the next weight now).
  const deploy::ReconcileResult result = deploy::reconcile(active.deployment, observe(active), now);
  (void)advance(active, result, {});
  settle_rollback(active, now);
  const Deployment after = active.deployment;
  std::erase_if(active_, [](const auto& x) { return deploy::is_terminal(x->deployment.state); });
  flush_events();
  return after;
}

core::Result<void> Controller::hook_result(const std::string& id, deploy::HookKind kind,
                                           bool succeeded, std::string message) {
  if (auto reported = deps_.hooks->report(id, kind, succeeded, std::move(message)); !reported) {
    return reported;
  }
  tick();  // act on it now rather than at the next second
  return {};
}

}  // namespace glidepath::controller
