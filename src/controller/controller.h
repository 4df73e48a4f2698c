// The deployment controller (SPEC section 3): the loop around deploy::reconcile. Each
// tick — right after the metrics collector has merged the second that just ended — it
// evaluates every active deployment's alarms, asks the hook runner what it knows, runs
// reconcile, carries out the actions (publish weights, start hooks, notify) and persists
// the deployment with its new events in one transaction. All state lives in the store,
// so a restarted controller resumes every active deployment where it was.
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"
#include "deploy/deployment.h"
#include "deploy/reconcile.h"
#include "deploy/routing_intent.h"
#include "deploy/service_state.h"
#include "store/store.h"

namespace glidepath::metrics {
class MetricsHistory;
class SeriesRegistry;
}  // namespace glidepath::metrics

namespace glidepath::controller {

class HookRunner;

// What POST /v1/services/{s}/deployments asks for (SPEC section 7). Unset optionals take
// the service's defaults from the config.
struct DeploymentRequest {
  std::string service;
  std::string version;
  std::vector<std::string> upstreams;  // required when the version is not in the config
  std::optional<std::string> strategy;
  std::optional<std::vector<deploy::Step>> steps;
  std::optional<std::vector<deploy::AlarmRule>> alarms;
  std::optional<deploy::Hooks> hooks;
  std::string spec;  // path of the new version's OpenAPI document
  bool allow_breaking = false;
  // A version a deployment added earlier keeps its upstreams unless this says otherwise
  // (a conflict, 409, names the ones it has).
  bool replace_upstreams = false;
};

// Publishes a service's routing intent (routing/publisher.h in `serve`) and returns once
// every worker routes with it: the weight is then applied. The controller names no
// gateway type: what the data plane makes of an intent is the publisher's business.
using IntentPublisher =
    std::function<core::Result<void>(const std::string& service, const deploy::RoutingIntent&)>;

// Receives every event the store appended (server-sent events on /v1/events).
using EventListener = std::function<void(const store::EventRecord&)>;

struct ControllerDeps {
  std::shared_ptr<const config::Config> config;
  store::Store* store = nullptr;
  const metrics::MetricsHistory* history = nullptr;
  metrics::SeriesRegistry* registry = nullptr;
  HookRunner* hooks = nullptr;
  IntentPublisher publish;
  // Reads a version's OpenAPI document for routing before the controller takes its lock
  // (a large one takes a second or more, and every tick waits on that lock). Null: the
  // publisher reads it when it first publishes the version.
  std::function<void(const std::string& spec_path)> prepare_spec;
  const core::Clock* clock = nullptr;
  std::string gateway_url;  // told to hooks: "http://127.0.0.1:8080"
  // Resolves a new version's upstream names before the deployment is accepted (bounded
  // wait); an error refuses the request (400). Null: upstreams are taken as given.
  std::function<core::Result<void>(const std::vector<core::HostPort>& upstreams)> accept_upstreams;
  // A deployment's contract gate (SPEC section 6): (service, the live version's spec path,
  // the new version's, the service's policy) → the verdict, when it is in. Asked once when
  // a deployment enters checking_contract; the controller polls the future on its ticks
  // and never waits for it, so loading and diffing large documents (seconds) delays no
  // other deployment's step or rollback. Null: no deployment checks its contract.
  std::function<std::future<deploy::ContractObservation>(
      const std::string& service, const std::string& base_spec, const std::string& revision_spec,
      deploy::ContractPolicy policy)>
      check_contract;
};

// Errors start with "invalid: " (400), "not found: " (404) or "conflict: " (409) so the
// admin API can answer with the right status.
class Controller {
 public:
  explicit Controller(ControllerDeps deps);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Reads the services' run-time state and every active deployment from the store and
  // publishes their routing (a restarted process resumes with the weights it had). What
  // the controller held before is replaced, so a fleet's new leader calls it to take over
  // from the stored state, whoever wrote it.
  core::Result<void> resume();
  // Forgets every deployment it was driving without touching them (a fleet's controller
  // that lost the leadership: another one drives them now, from the store).
  void stand_down();

  // Validates the request against the config, refuses a second deployment of the same
  // service, stores the new deployment and takes its first steps at once.
  core::Result<deploy::Deployment> create(const DeploymentRequest& request);
  // Gives a version a deployment added its OpenAPI document (`spec_path`, absolute), so the
  // contract check and usage naming can use it: the way to a document for a version the
  // CLI created without one. The document must load. A version the config lists takes
  // its document from the config (conflict); an unknown one is not found.
  core::Result<void> attach_spec(const std::string& service, const std::string& version,
                                 const std::string& spec_path);
  // promote / abort / pause / resume, applied at once.
  core::Result<deploy::Deployment> command(const std::string& id, const deploy::Command& command);
  // The result of an asynchronous http hook (it answered 202).
  core::Result<void> hook_result(const std::string& id, deploy::HookKind kind, bool succeeded,
                                 std::string message);

  // One pass over every active deployment. Called by the runtime right after each
  // metrics collection (and by tests, with a ManualClock).
  void tick();

  // The OpenAPI document a version of a service has: the config's, else the one the
  // deployment that added it gave; empty for none.
  std::string spec_path_of(const std::string& service, const std::string& version) const;
  // The active deployment of a service, if any.
  std::optional<deploy::Deployment> active_of(const std::string& service) const;
  // A deployment by id, active or finished (from the store).
  core::Result<std::optional<deploy::Deployment>> find(const std::string& id) const;

  // Event listeners (the admin API's event stream); called on the controller's threads.
  void add_listener(EventListener listener);

 private:
  struct Active;
  core::Result<void> advance(Active& active, const deploy::ReconcileResult& result,
                             std::vector<deploy::DeploymentEvent> new_events);
  // What reconcile needs to know about `active` now; takes in a finished contract check.
  deploy::Observations observe(Active& active) const;
  void carry_out(Active& active, const deploy::ReconcileResult& result);
  void flush_events();
  void settle_rollback(Active& active, core::TimePoint now);
  deploy::RoutingIntent intent_for(const deploy::Deployment& d) const;

  ControllerDeps deps_;
  mutable std::recursive_mutex mutex_;
  std::vector<std::unique_ptr<Active>> active_;
  std::map<std::string, deploy::ServiceState> services_;  // by service
  std::vector<EventListener> listeners_;
  int64_t last_event_id_ = 0;
};

}  // namespace glidepath::controller
