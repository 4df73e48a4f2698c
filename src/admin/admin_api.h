// The admin API's endpoints (SPEC section 7): JSON in and out, {"error": ...} with a
// fitting status for bad input (400 malformed, 404 unknown path or record, 405 wrong
// method, 409 conflict, 503 when a part it needs is not running). Routes requests to the
// modules that own the answers; its only state is the event feed's open streams.
#pragma once

#include <functional>
#include <memory>

#include "admin/event_feed.h"
#include "admin/http_server.h"
#include "config/config.h"
#include "core/clock.h"
#include "gateway/gateway.h"
#include "gateway/routing.h"
#include "tls/reloader.h"

namespace glidepath::metrics {
class MetricsHistory;
class SeriesRegistry;
}  // namespace glidepath::metrics
namespace glidepath::store {
class Store;
}
namespace glidepath::controller {
class Controller;
}

namespace glidepath::admin {

struct AdminDeps {
  std::shared_ptr<const config::Config> config;
  std::function<std::shared_ptr<const gateway::Snapshot>()> snapshot;  // the one in force
  std::function<gateway::GatewayStats()> gateway_stats;
  int gateway_workers = 0;
  store::Store* store = nullptr;
  const metrics::SeriesRegistry* registry = nullptr;
  const metrics::MetricsHistory* history = nullptr;
  controller::Controller* controller = nullptr;
  const core::Clock* clock = nullptr;
  // After a key is created or revoked: rebuilds the gateway's key table and publishes it
  // to every worker, returning once they all use it (so the key works, or is refused, as
  // soon as the admin call answers). Null in tests without a gateway.
  std::function<core::Result<void>()> keys_changed;

  // --- A fleet (SPEC section 9); the defaults describe a single process ---
  std::string role = "all";  // "gateway", "controller" or "all": what this process runs
  // Whether this process drives deployments now. Null: it always does (no election).
  std::function<bool()> leading;
  // The admin URL of the process that leads, for the answer a standby gives; empty when
  // unknown.
  std::function<std::string()> leader;
  // Whether a process that cannot change deployments passes such a request on to the
  // leader (SPEC section 9: a deployment asked of any process is driven by the leader),
  // rather than answering 503 with the leader's address.
  bool forward_to_leader = false;
  // The store's health as the process last saw it, without a round trip (a gateway's
  // health check must not hang on a database that is away): empty = healthy. Null: ask
  // the store (schema_version).
  std::function<std::string()> store_problem;
  // What GET /v1/services/{s}/metrics reads: in a fleet, every gateway's windows merged.
  // Null: `history`.
  const metrics::MetricsHistory* series_history = nullptr;
  // A fleet: /v1/events carries what the store's log receives, from whichever process
  // wrote it (publish_stored_events), not only this process's controller's events.
  bool events_from_store = false;
  // A fleet: the service's running deployment as this process last read it from the
  // store (kept fresh by change notifications), so reads never wait on a database that
  // is away. Null: read the store.
  std::function<std::optional<deploy::Deployment>(std::string_view service)> stored_deployment;
  // The TLS listeners' certificates: what /healthz shows (a refused reload makes it
  // "degraded"). Null or empty: no TLS listener.
  std::function<std::vector<tls::Reloader::Status>()> tls_status;
};

class AdminApi {
 public:
  // Registers the event feed with the controller, when there is one: from then on every
  // event the controller appends reaches the open /v1/events streams.
  explicit AdminApi(AdminDeps deps);
  ~AdminApi();  // ends the open event streams
  AdminApi(const AdminApi&) = delete;
  AdminApi& operator=(const AdminApi&) = delete;

  Response handle(const Request& request);

  // With events_from_store: sends the events the store's log received since the last call
  // to the open /v1/events streams (a fleet process calls it when told a new event
  // committed). Called from one thread at a time.
  void publish_stored_events();
  // Sends one event this process appended itself (not through the controller) to the
  // open /v1/events streams; in a fleet the store's notification does that instead.
  void publish_event(const store::EventRecord& record);

 private:
  Response healthz();
  Response prometheus();
  void append_websocket_tunnels(std::string& out, const gateway::Snapshot& snapshot,
                                const gateway::GatewayStats& stats) const;
  Response services();
  Response service(std::string_view name);
  Response service_metrics(std::string_view service, const Request& request);
  Response create_deployment(std::string_view service, const Request& request);
  Response list_deployments(std::string_view service, const Request& request);
  Response get_deployment(std::string_view id);
  Response deployment_command(std::string_view id, std::string_view command,
                              const Request& request);
  Response hook_result(std::string_view id, std::string_view hook, const Request& request);
  Response events(const Request& request);
  Response service_impact(std::string_view service, const Request& request);
  Response attach_spec(std::string_view service, std::string_view version, const Request& request);
  Response create_key(const Request& request);
  Response list_keys(const Request& request);
  Response get_key(std::string_view id);
  Response revoke_key(std::string_view id);
  Response consumers(const Request& request);
  Response consumer_usage(std::string_view name, const Request& request);
  // The service's running deployment: the controller's copy where this process drives
  // it, else the store's (a gateway or a standby reading the fleet's state).
  std::optional<deploy::Deployment> active_deployment(std::string_view service) const;
  // When this process cannot change deployments (no controller, or not the leader): the
  // leader's answer to `request` passed on, or why not; null when it can.
  std::optional<Response> cannot_drive(const Request& request) const;

  AdminDeps deps_;
  // Shared with the controller's listener, which may outlive this object.
  std::shared_ptr<EventFeed> feed_;
  int64_t published_up_to_ = 0;  // publish_stored_events: the last event id sent
};

// The share of public traffic (basis points) each version of a route gets.
uint32_t weight_bp(const gateway::ServiceRoute& route, uint32_t version);

}  // namespace glidepath::admin
