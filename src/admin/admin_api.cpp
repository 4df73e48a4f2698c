#include "admin/admin_api.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>

#include "access/key_material.h"
#include "admin/consumer_report.h"
#include "admin/contract_requests.h"
#include "admin/deployment_requests.h"
#include "admin/json_body.h"
#include "admin/key_requests.h"
#include "admin/ui_requests.h"
#include "contract/check.h"
#include "contract/impact_report.h"
#include "contract/loader.h"
#include "controller/contract_gate.h"
#include "controller/controller.h"
#include "core/ids.h"
#include "core/text.h"
#include "deploy/deployment_json.h"
#include "http/client.h"
#include "metrics/history.h"
#include "metrics/prometheus.h"
#include "metrics/series_registry.h"
#include "store/store.h"

namespace glidepath::admin {

uint32_t weight_bp(const gateway::ServiceRoute& route, uint32_t version) {
  uint32_t lower = 0;
  uint32_t share = 0;
  for (const gateway::TrafficSlice& slice : route.slices) {
    if (slice.version == version) share += slice.upper - lower;
    lower = slice.upper;
  }
  return share;
}

AdminApi::AdminApi(AdminDeps deps) : deps_(std::move(deps)) {
  if (deps_.events_from_store && deps_.store != nullptr) {
    feed_ = std::make_shared<EventFeed>(*deps_.store);
    if (auto last = deps_.store->last_event_id()) published_up_to_ = *last;
  } else if (deps_.controller != nullptr && deps_.store != nullptr) {
    feed_ = std::make_shared<EventFeed>(*deps_.store);
    // The listener holds the feed, not this object: the controller may call it until it
    // is itself destroyed.
    deps_.controller->add_listener(
        [feed = feed_](const store::EventRecord& record) { feed->publish(record); });
  }
}

void AdminApi::publish_stored_events() {
  if (!feed_ || !deps_.events_from_store) return;
  while (true) {
    auto events = deps_.store->events_after(published_up_to_, 1000);
    if (!events || events->empty()) return;
    for (const store::EventRecord& record : *events) {
      published_up_to_ = record.id;
      feed_->publish(record);
    }
  }
}

void AdminApi::publish_event(const store::EventRecord& record) {
  if (feed_ && !deps_.events_from_store) feed_->publish(record);
}

AdminApi::~AdminApi() {
  if (feed_) feed_->close_all();
}

namespace {

// The path's segments: "/v1/deployments/dep_1/promote" → {"v1", "deployments", "dep_1",
// "promote"}. An empty segment ("//", a trailing '/') is kept, so it matches nothing.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  if (path.empty() || path.front() != '/') return segments;
  path.remove_prefix(1);
  while (true) {
    const size_t slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

Response method_not_allowed(const Request& request, std::string_view allow) {
  Response r = Response::error(
      405, fmt::format("{} is not allowed on {}; use {}", request.method, request.path, allow));
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

Response error_response(const core::Error& error) {
  return Response::error(status_for_error(error), error.message);
}

Response no_controller() {
  return Response::error(503, "the deployment controller is not running in this process");
}

nlohmann::json deployment_summary(const deploy::Deployment& d) {
  return nlohmann::json{{"id", d.id},
                        {"state", deploy::to_string(d.state)},
                        {"from_version", d.spec.from_version},
                        {"to_version", d.spec.to_version},
                        {"strategy", d.spec.plan.strategy},
                        {"canary_weight", d.canary_weight},
                        {"step", d.step},
                        {"total_steps", d.spec.plan.steps.size()},
                        {"started_at", core::format_rfc3339(d.started_at)}};
}

nlohmann::json service_json(const gateway::Snapshot& snap, const gateway::ServiceRoute& service) {
  nlohmann::json versions = nlohmann::json::array();
  for (uint32_t v = 0; v < service.versions.size(); ++v) {
    const uint32_t share = weight_bp(service, v);
    nlohmann::json upstreams = nlohmann::json::array();
    for (uint32_t u : service.versions[v].upstreams) {
      upstreams.push_back(core::format_host_port(snap.upstreams[u]));
    }
    versions.push_back(
        {{"name", service.versions[v].name}, {"upstreams", upstreams}, {"weight", share / 100.0}});
  }
  return nlohmann::json{{"name", service.name},
                        {"hosts", service.hosts},
                        {"path_prefix", service.path_prefix},
                        {"live", service.versions[service.live].name},
                        {"versions", versions}};
}

// A whole number in [min, max] from a query parameter, or an error naming it.
core::Result<int64_t> query_integer(std::string_view name, std::string_view text, int64_t min,
                                    int64_t max) {
  const std::string copy(text);
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(copy.c_str(), &end, 10);
  if (copy.empty() || end != copy.c_str() + copy.size() || errno != 0 || value < min ||
      value > max) {
    return core::fail(fmt::format("{}: must be a whole number from {} to {}", name, min, max));
  }
  return static_cast<int64_t>(value);
}

// The store's message about a key with the key's hash, if quoted, left out: a hash is no
// secret, but answers and logs have no use for it.
std::string without_hash(std::string message, std::string_view hash) {
  if (hash.empty()) return message;
  for (size_t at = message.find(hash); at != std::string::npos; at = message.find(hash, at)) {
    message.replace(at, hash.size(), "<hash>");
  }
  return message;
}

// ?service=S of the usage reports: a service name, or absent. A service no longer in the
// config file is not an error: its recorded usage is still worth seeing.
core::Result<std::optional<std::string>> service_filter(const Request& request) {
  const std::string_view service = request.query_value("service");
  if (service.empty()) return std::optional<std::string>();
  if (!core::is_valid_name(service)) {
    return core::fail(fmt::format("service: '{}' is not a service name",
                                  service.substr(0, core::kMaxNameLength)));
  }
  return std::optional<std::string>(service);
}

// POST /v1/contract/diff: the report, or 400 naming the field or document at fault.
Response contract_diff(const Request& request, core::TimePoint now) {
  auto parsed = parse_contract_diff_request(request.body);
  if (!parsed) return Response::error(400, parsed.error().message);
  auto report = contract_diff_json(*parsed, now);
  if (!report) return Response::error(400, report.error().message);
  return Response::json(200, std::move(*report));
}

// The usage endpoints answer at most this many per-minute rows (the newest): a week of one
// busy consumer is already tens of thousands.
constexpr size_t kMaxUsageMinutes = 10'000;

}  // namespace

Response AdminApi::handle(const Request& request) {
  const std::vector<std::string_view> p = split_path(request.path);
  const std::string_view method = request.method;
  const bool get = method == "GET" || method == "HEAD";
  const bool post = method == "POST";
  const bool del = method == "DELETE";
  auto is = [&](std::initializer_list<std::string_view> pattern) {
    if (p.size() != pattern.size()) return false;
    size_t i = 0;
    for (std::string_view part : pattern) {
      // "*" matches any non-empty segment.
      if (part == "*" ? p[i].empty() : p[i] != part) return false;
      ++i;
    }
    return true;
  };

  if (p.size() >= 1 && p[0] == kUiPrefix.substr(1)) return ui_response(request);
  if (is({"healthz"})) return get ? healthz() : method_not_allowed(request, "GET");
  if (is({"metrics"})) return get ? prometheus() : method_not_allowed(request, "GET");
  if (is({"v1", "services"})) return get ? services() : method_not_allowed(request, "GET");
  if (is({"v1", "services", "*"})) {
    return get ? service(p[2]) : method_not_allowed(request, "GET");
  }
  if (is({"v1", "services", "*", "metrics"})) {
    return get ? service_metrics(p[2], request) : method_not_allowed(request, "GET");
  }
  if (is({"v1", "services", "*", "impact"})) {
    return post ? service_impact(p[2], request) : method_not_allowed(request, "POST");
  }
  if (is({"v1", "services", "*", "versions", "*", "spec"})) {
    return method == "PUT" ? attach_spec(p[2], p[4], request) : method_not_allowed(request, "PUT");
  }
  if (is({"v1", "services", "*", "deployments"})) {
    if (post) return create_deployment(p[2], request);
    if (get) return list_deployments(p[2], request);
    return method_not_allowed(request, "GET, POST");
  }
  if (is({"v1", "deployments"})) {
    return get ? list_deployments(request.query_value("service"), request)
               : method_not_allowed(request, "GET");
  }
  if (is({"v1", "deployments", "*"})) {
    return get ? get_deployment(p[2]) : method_not_allowed(request, "GET");
  }
  if (is({"v1", "deployments", "*", "*"}) &&
      (p[3] == "promote" || p[3] == "abort" || p[3] == "pause" || p[3] == "resume")) {
    return post ? deployment_command(p[2], p[3], request) : method_not_allowed(request, "POST");
  }
  if (is({"v1", "deployments", "*", "hooks", "*"})) {
    return post ? hook_result(p[2], p[4], request) : method_not_allowed(request, "POST");
  }
  if (is({"v1", "events"})) return get ? events(request) : method_not_allowed(request, "GET");
  if (is({"v1", "keys"})) {
    if (post) return create_key(request);
    if (get) return list_keys(request);
    return method_not_allowed(request, "GET, POST");
  }
  if (is({"v1", "keys", "*"})) {
    if (del) return revoke_key(p[2]);
    if (get) return get_key(p[2]);
    return method_not_allowed(request, "GET, DELETE");
  }
  if (is({"v1", "consumers"})) return get ? consumers(request) : method_not_allowed(request, "GET");
  if (is({"v1", "consumers", "*", "usage"})) {
    return get ? consumer_usage(p[2], request) : method_not_allowed(request, "GET");
  }
  if (is({"v1", "contract", "diff"})) {
    return post ? contract_diff(request, deps_.clock->now()) : method_not_allowed(request, "POST");
  }
  return Response::error(404, fmt::format("no such endpoint: {} {}", request.method, request.path));
}

Response AdminApi::healthz() {
  std::string problem;
  std::optional<int> schema;
  if (deps_.store_problem) {
    problem = deps_.store_problem();
  } else if (auto version = deps_.store->schema_version(); version) {
    schema = *version;
  } else {
    problem = version.error().message;
  }
  nlohmann::json store = problem.empty() ? nlohmann::json{{"status", "ok"}}
                                         : nlohmann::json{{"status", "error"}, {"error", problem}};
  if (schema) store["schema_version"] = *schema;
  nlohmann::json body{{"status", problem.empty() ? "ok" : "degraded"},
                      {"role", deps_.role},
                      {"store", std::move(store)}};
  if (deps_.gateway_stats) {
    const gateway::GatewayStats stats = deps_.gateway_stats();
    body["gateway"] = {{"workers", deps_.gateway_workers},
                       {"snapshot_generation", stats.snapshot_generation},
                       {"connections_accepted", stats.connections_accepted},
                       {"requests", stats.requests}};
  }
  if (deps_.controller != nullptr) {
    const bool leading = !deps_.leading || deps_.leading();
    body["controller"] = {{"leader", leading}};
    if (!leading && deps_.leader) {
      const std::string leader = deps_.leader();
      body["controller"]["leader_admin"] =
          leader.empty() ? nlohmann::json() : nlohmann::json(leader);
    }
  }
  // A refused certificate reload leaves the old certificate serving: degraded, not down.
  if (deps_.tls_status) {
    nlohmann::json listeners = nlohmann::json::array();
    for (const tls::Reloader::Status& tls : deps_.tls_status()) {
      nlohmann::json certificates = nlohmann::json::array();
      for (const tls::CertificateInfo& cert : tls.certificates) {
        certificates.push_back({{"file", cert.cert_file},
                                {"subject", cert.subject},
                                {"hosts", cert.hosts},
                                {"key", cert.key_type},
                                {"not_after", core::format_rfc3339(cert.not_after)}});
      }
      nlohmann::json entry{{"listener", tls.name},
                           {"status", tls.ok ? "ok" : "error"},
                           {"loaded_at", core::format_rfc3339(tls.loaded_at)},
                           {"reloads", tls.reloads},
                           {"refused", tls.refusals},
                           {"certificates", std::move(certificates)}};
      if (!tls.ok) {
        entry["error"] = tls.error;
        entry["refused_at"] = core::format_rfc3339(tls.refused_at);
        body["status"] = "degraded";
      }
      listeners.push_back(std::move(entry));
    }
    if (!listeners.empty()) body["tls"] = std::move(listeners);
  }
  // A fleet's gateway that lost its database still serves from its last snapshot: it is
  // degraded, not down, and a load balancer must not take it out of rotation for that.
  const bool serving = deps_.store_problem && deps_.gateway_stats;
  return Response::json(problem.empty() || serving ? 200 : 503, body.dump());
}

Response AdminApi::prometheus() {
  Response response;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.body = metrics::render_request_metrics(*deps_.registry, *deps_.history);
  std::string& out = response.body;
  const auto snap = deps_.snapshot();
  metrics::append_metric_header(out, "glidepath_traffic_weight",
                                "Percent of public traffic each version receives", "gauge");
  for (const gateway::ServiceRoute& service : snap->services) {
    for (uint32_t v = 0; v < service.versions.size(); ++v) {
      const uint32_t share = weight_bp(service, v);
      out += "glidepath_traffic_weight{service=\"";
      metrics::append_escaped_label_value(out, service.name);
      out += "\",version=\"";
      metrics::append_escaped_label_value(out, service.versions[v].name);
      out += fmt::format("\"}} {}\n", share / 100.0);
    }
  }
  metrics::append_metric_header(
      out, "glidepath_requests_refused_total",
      "Requests the gateway refused itself once a service matched, by reason", "counter");
  for (const gateway::ServiceRoute& service : snap->services) {
    for (const gateway::Refusal reason : gateway::kServiceRefusals) {
      out += "glidepath_requests_refused_total{service=\"";
      metrics::append_escaped_label_value(out, service.name);
      out += fmt::format("\",reason=\"{}\"}} {}\n", gateway::to_string(reason),
                         service.refusals != nullptr ? service.refusals->get(reason) : 0);
    }
  }
  if (deps_.gateway_stats) {
    const gateway::GatewayStats stats = deps_.gateway_stats();
    if (!stats.tls_handshakes.empty() || stats.tls_handshake_failures > 0 ||
        (deps_.tls_status && !deps_.tls_status().empty())) {
      metrics::append_metric_header(out, "glidepath_tls_handshakes_total",
                                    "TLS handshakes completed, by protocol version and cipher",
                                    "counter");
      for (const gateway::TlsHandshakeCount& count : stats.tls_handshakes) {
        out +=
            fmt::format("glidepath_tls_handshakes_total{{version=\"{}\",cipher=\"", count.version);
        metrics::append_escaped_label_value(out, count.cipher);
        out += fmt::format("\"}} {}\n", count.count);
      }
      metrics::append_metric_header(
          out, "glidepath_tls_handshake_failures_total",
          "TLS handshakes that failed or timed out (clients that hung up are not counted)",
          "counter");
      out +=
          fmt::format("glidepath_tls_handshake_failures_total {}\n", stats.tls_handshake_failures);
    }
    append_websocket_tunnels(out, *snap, stats);
  }
  metrics::append_metric_header(out, "glidepath_deployment_state",
                                "1 for the state of the service's current deployment", "gauge");
  for (const gateway::ServiceRoute& service : snap->services) {
    const std::optional<deploy::Deployment> active = active_deployment(service.name);
    out += "glidepath_deployment_state{service=\"";
    metrics::append_escaped_label_value(out, service.name);
    out += fmt::format("\",state=\"{}\"}} 1\n", active ? deploy::to_string(active->state) : "none");
  }
  if (deps_.store_problem) {
    metrics::append_metric_header(
        out, "glidepath_store_up",
        "1 while the database answers; a gateway keeps serving its last snapshot without it",
        "gauge");
    out += fmt::format("glidepath_store_up {}\n", deps_.store_problem().empty() ? 1 : 0);
  }
  if (deps_.controller != nullptr) {
    metrics::append_metric_header(out, "glidepath_controller_leader",
                                  "1 while this process drives the fleet's deployments", "gauge");
    out +=
        fmt::format("glidepath_controller_leader {}\n", !deps_.leading || deps_.leading() ? 1 : 0);
  }
  return response;
}

void AdminApi::append_websocket_tunnels(std::string& out, const gateway::Snapshot& snapshot,
                                        const gateway::GatewayStats& stats) const {
  metrics::append_metric_header(out, "glidepath_websocket_tunnels",
                                "WebSocket tunnels open, by the version the upgrade chose",
                                "gauge");
  std::map<metrics::SeriesId, uint64_t> open(stats.websocket_tunnels.begin(),
                                             stats.websocket_tunnels.end());
  const auto sample = [&out](std::string_view service, std::string_view version, uint64_t n) {
    out += "glidepath_websocket_tunnels{service=\"";
    metrics::append_escaped_label_value(out, service);
    out += "\",version=\"";
    metrics::append_escaped_label_value(out, version);
    out += fmt::format("\"}} {}\n", n);
  };
  // Every version routed to, 0 included; then any other version a tunnel is still open
  // to (one the snapshot no longer has, until its drain closes the tunnel).
  for (const gateway::ServiceRoute& service : snapshot.services) {
    for (const gateway::VersionRoute& version : service.versions) {
      const auto it = open.find(version.series);
      sample(service.name, version.name, it != open.end() ? it->second : 0);
      if (it != open.end()) open.erase(it);
    }
  }
  for (const auto& [series, n] : open) {
    if (const auto name = deps_.registry->name(series)) sample(name->service, name->version, n);
  }
}

std::optional<deploy::Deployment> AdminApi::active_deployment(std::string_view service) const {
  if (deps_.controller != nullptr && (!deps_.leading || deps_.leading())) {
    return deps_.controller->active_of(std::string(service));
  }
  if (deps_.stored_deployment) return deps_.stored_deployment(service);
  store::DeploymentFilter filter;
  filter.service = std::string(service);
  filter.active_only = true;
  filter.limit = 1;
  auto found = deps_.store->list_deployments(filter);
  if (!found || found->empty()) return std::nullopt;
  return found->front().deployment;
}

std::optional<Response> AdminApi::cannot_drive(const Request& request) const {
  const bool can = deps_.controller != nullptr && (!deps_.leading || deps_.leading());
  if (can) return std::nullopt;
  if (deps_.controller == nullptr && !deps_.leader) return no_controller();
  const std::string leader = deps_.leader ? deps_.leader() : std::string();
  // Passed on once at most: a request that was forwarded already and still finds no
  // leader here (leadership just moved) is answered, not bounced around the fleet.
  if (deps_.forward_to_leader && !leader.empty() && !request.forwarded) {
    http::ClientRequest passed;
    passed.method = request.method;
    passed.url = leader + request.target;
    passed.body = request.body;
    passed.timeout = std::chrono::seconds(10);
    // An https:// leader is verified against the system's CAs: the config names no CA
    // for the fleet's admin certificates (a listener's TLS settings are what it presents,
    // not what it trusts), so there is no CA file to pass on; a fleet whose admin API a
    // private CA signed installs that CA in the system's store.
    passed.headers.emplace_back("Content-Type", "application/json");
    passed.headers.emplace_back("X-Glidepath-Forwarded", "1");
    if (!request.authorization.empty()) {
      passed.headers.emplace_back("Authorization", request.authorization);
    }
    auto answered = http::send_request(passed);
    if (answered) {
      Response r;
      r.status = answered->status;
      r.body = std::move(answered->body);
      if (const std::string type = answered->header("Content-Type"); !type.empty()) {
        r.content_type = type;
      }
      if (const std::string location = answered->header("Location"); !location.empty()) {
        r.headers.emplace_back("Location", location);
      }
      r.headers.emplace_back("X-Glidepath-Leader", leader);
      return r;
    }
    Response r =
        Response::error(503, fmt::format("the fleet's leader {} did not answer: {}", leader,
                                         http::without_server(answered.error().message, leader)));
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  std::string why =
      deps_.controller == nullptr
          ? "this process runs --role gateway: deployments are driven by the fleet's leader"
          : "this controller is a standby";
  Response r = Response::error(503, leader.empty()
                                        ? why + "; no leader is known yet, retry in a few seconds"
                                        : fmt::format("{}: the fleet's leader is {}", why, leader));
  if (!leader.empty()) r.headers.emplace_back("X-Glidepath-Leader", leader);
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

Response AdminApi::services() {
  const auto snap = deps_.snapshot();
  nlohmann::json list = nlohmann::json::array();
  for (const gateway::ServiceRoute& route : snap->services) {
    nlohmann::json entry = service_json(*snap, route);
    const std::optional<deploy::Deployment> active = active_deployment(route.name);
    entry["deployment"] = active ? deployment_summary(*active) : nlohmann::json(nullptr);
    list.push_back(std::move(entry));
  }
  return Response::json(200, nlohmann::json{{"services", list}}.dump());
}

Response AdminApi::service(std::string_view name) {
  const auto snap = deps_.snapshot();
  const gateway::ServiceRoute* route = snap->find_service(name);
  if (route == nullptr) {
    return Response::error(404, fmt::format("not found: service '{}'", name));
  }
  nlohmann::json body = service_json(*snap, *route);
  const std::optional<deploy::Deployment> active = active_deployment(route->name);
  body["deployment"] = active ? deploy::to_json(*active) : nlohmann::json(nullptr);
  return Response::json(200, body.dump());
}

// POST /v1/services/{s}/impact {"spec": "<document>", "since": "30d"}: the live version's
// document against this one, each breaking change with the consumers that called it
// (SPEC section 6, `glidepath impact`).
Response AdminApi::service_impact(std::string_view service, const Request& request) {
  const auto snap = deps_.snapshot();
  const gateway::ServiceRoute* route = snap->find_service(service);
  const config::ServiceConfig* config = deps_.config->find_service(service);
  if (route == nullptr || config == nullptr) {
    return Response::error(404, fmt::format("not found: service '{}'", service));
  }
  auto body = parse_json_body(request.body, false);
  if (!body) return Response::error(400, body.error().message);
  static constexpr std::array<std::string_view, 2> kFields = {"spec", "since"};
  if (auto known = check_known_fields(*body, "", kFields); !known) {
    return Response::error(400, known.error().message);
  }
  core::Duration window = contract::kDefaultImpactWindow;
  if (const auto since = body->find("since"); since != body->end() && !since->is_null()) {
    if (!since->is_string()) return Response::error(400, "since: must be a duration like 30d");
    auto parsed = core::parse_duration(since->get<std::string>());
    if (!parsed || *parsed <= core::Duration::zero() || *parsed > kMaxReportWindow) {
      return Response::error(400, "since: must be a duration like 30d, at most 400d");
    }
    window = *parsed;
  }
  auto text = document_field(*body, "spec");
  if (!text) return Response::error(400, text.error().message);
  auto revision = load_posted_document("spec", *text);
  if (!revision) return Response::error(400, revision.error().message);

  const std::string live = route->versions[route->live].name;
  const std::string base_path =
      deps_.controller != nullptr ? deps_.controller->spec_path_of(route->name, live) : "";
  if (base_path.empty()) {
    return Response::error(
        409, fmt::format("conflict: the live version {} of {} has no OpenAPI document to compare "
                         "with: give it `spec:` in the config, or attach one with `glidepath "
                         "attach-spec {} --version {} --spec FILE`",
                         live, route->name, route->name, live));
  }
  auto base = contract::load_document_file(base_path);
  if (!base) {
    return Response::error(
        500, fmt::format("the live version's document {}: {}", base_path, base.error().message));
  }
  const core::TimePoint now = deps_.clock->now();
  auto usage = controller::read_consumer_usage(*deps_.store, route->name,
                                               contract::usage_since(now, window));
  if (!usage) return Response::error(500, usage.error().message);
  const contract::ImpactReport impact =
      contract::assess_against_usage(route->name, *base, *revision, *usage, now);
  contract::ImpactContext context;
  context.live_version = live;
  context.base_name = base_path;
  context.revision_name =
      revision->title.empty() ? "spec" : fmt::format("{} {}", revision->title, revision->version);
  context.policy = config->deployment.on_breaking;
  return Response::json(200, contract::render_impact_json(impact, context));
}

Response AdminApi::service_metrics(std::string_view service, const Request& request) {
  const auto snap = deps_.snapshot();
  const gateway::ServiceRoute* route = nullptr;
  for (const auto& s : snap->services) {
    if (s.name == service) route = &s;
  }
  if (route == nullptr) {
    return Response::error(404, fmt::format("not found: service '{}'", service));
  }
  int64_t seconds = 60;
  if (auto text = request.query_value("seconds"); !text.empty()) {
    char* end = nullptr;
    const std::string copy(text);
    seconds = std::strtoll(copy.c_str(), &end, 10);
    if (end == copy.c_str() || *end != '\0' || seconds < 1 ||
        seconds > static_cast<int64_t>(deps_.history->capacity_seconds())) {
      return Response::error(400, fmt::format("seconds: must be a whole number from 1 to {}",
                                              deps_.history->capacity_seconds()));
    }
  }
  const int64_t to = core::epoch_second(deps_.clock->now());  // the current second is still filling
  const metrics::MetricsHistory& series_history =
      deps_.series_history != nullptr ? *deps_.series_history : *deps_.history;
  nlohmann::json versions = nlohmann::json::object();
  for (const gateway::VersionRoute& version : route->versions) {
    nlohmann::json points = nlohmann::json::array();
    for (const metrics::SecondSummary& p : series_history.series(version.series, seconds, to)) {
      points.push_back({{"t", p.second},
                        {"requests", p.counts.requests},
                        {"2xx", p.counts.status_2xx},
                        {"4xx", p.counts.status_4xx},
                        {"5xx", p.counts.status_5xx},
                        {"error_rate", p.counts.error_rate()},
                        {"p50_ms", p.p50_us / 1000.0},
                        {"p90_ms", p.p90_us / 1000.0},
                        {"p99_ms", p.p99_us / 1000.0},
                        {"max_ms", p.max_us / 1000.0},
                        {"bytes_out", p.counts.bytes_out}});
    }
    versions[version.name] = std::move(points);
  }
  return Response::json(
      200, nlohmann::json{{"service", route->name}, {"seconds", seconds}, {"versions", versions}}
               .dump());
}

// PUT /v1/services/{s}/versions/{v}/spec {"spec": "/abs/path.yaml"}: a version a
// deployment added gets its OpenAPI document (`glidepath attach-spec`).
Response AdminApi::attach_spec(std::string_view service, std::string_view version,
                               const Request& request) {
  if (auto refused = cannot_drive(request)) return std::move(*refused);
  auto body = parse_json_body(request.body, false);
  if (!body) return Response::error(400, body.error().message);
  const auto spec = body->find("spec");
  if (spec == body->end() || !spec->is_string()) {
    return Response::error(400, "spec: is required: the document's absolute path on the server");
  }
  auto attached = deps_.controller->attach_spec(std::string(service), std::string(version),
                                                spec->get<std::string>());
  if (!attached) return error_response(attached.error());
  return Response::json(
      200,
      nlohmann::json{{"service", service}, {"version", version}, {"spec", spec->get<std::string>()}}
          .dump());
}

Response AdminApi::create_deployment(std::string_view service, const Request& request) {
  if (auto refused = cannot_drive(request)) return std::move(*refused);
  if (deps_.config && deps_.config->find_service(service) == nullptr) {
    return Response::error(404, fmt::format("not found: service '{}'", service));
  }
  auto parsed = parse_deployment_request(service, request.body);
  if (!parsed) return Response::error(400, parsed.error().message);
  auto created = deps_.controller->create(*parsed);
  if (!created) return error_response(created.error());
  Response r = Response::json(201, deploy::to_json(*created).dump());
  r.headers.emplace_back("Location", "/v1/deployments/" + created->id);
  return r;
}

Response AdminApi::list_deployments(std::string_view service, const Request& request) {
  store::DeploymentFilter filter;
  if (!service.empty()) {
    if (deps_.config && deps_.config->find_service(service) == nullptr) {
      return Response::error(404, fmt::format("not found: service '{}'", service));
    }
    filter.service = std::string(service);
  }
  if (auto text = request.query_value("limit"); !text.empty()) {
    auto limit = query_integer("limit", text, 1, 1000);
    if (!limit) return Response::error(400, limit.error().message);
    filter.limit = static_cast<size_t>(*limit);
  }
  if (auto text = request.query_value("active"); !text.empty()) {
    if (text != "true" && text != "false") {
      return Response::error(400, "active: must be true or false");
    }
    filter.active_only = text == "true";
  }
  auto found = deps_.store->list_deployments(filter);
  if (!found) return Response::error(500, found.error().message);
  nlohmann::json list = nlohmann::json::array();
  for (const store::StoredDeployment& stored : *found)
    list.push_back(deploy::to_json(stored.deployment));
  return Response::json(200, nlohmann::json{{"deployments", std::move(list)}}.dump());
}

Response AdminApi::get_deployment(std::string_view id) {
  auto found = deps_.store->get_deployment(id);
  if (!found) return Response::error(500, found.error().message);
  if (!*found) return Response::error(404, fmt::format("not found: deployment '{}'", id));
  return Response::json(200, deploy::to_json((*found)->deployment).dump());
}

Response AdminApi::deployment_command(std::string_view id, std::string_view command,
                                      const Request& request) {
  if (auto refused = cannot_drive(request)) return std::move(*refused);
  auto parsed = parse_command(command, request.body);
  if (!parsed) return Response::error(400, parsed.error().message);
  auto result = deps_.controller->command(std::string(id), *parsed);
  if (!result) return error_response(result.error());
  return Response::json(200, deploy::to_json(*result).dump());
}

Response AdminApi::hook_result(std::string_view id, std::string_view hook, const Request& request) {
  if (auto refused = cannot_drive(request)) return std::move(*refused);
  auto parsed = parse_hook_result(hook, request.body);
  if (!parsed) return Response::error(400, parsed.error().message);
  auto result = deps_.controller->hook_result(std::string(id), parsed->kind, parsed->succeeded,
                                              parsed->message);
  if (!result) return error_response(result.error());
  return Response::json(200, R"({"ok":true})");
}

Response AdminApi::events(const Request& request) {
  if (!feed_) return no_controller();
  // A reconnecting EventSource sends Last-Event-ID; it wins over the URL's ?since=, which
  // the browser repeats unchanged on every reconnection.
  std::optional<int64_t> after;
  std::string_view from = request.last_event_id;
  std::string_view name = "Last-Event-ID";
  if (from.empty()) {
    from = request.query_value("since");
    name = "since";
  }
  if (!from.empty()) {
    auto id = query_integer(name, from, 0, INT64_MAX);
    if (!id) return Response::error(400, id.error().message);
    after = *id;
  }
  EventFilter filter;
  filter.service = std::string(request.query_value("service"));
  filter.deployment_id = std::string(request.query_value("deployment"));
  auto stream = feed_->subscribe(after, std::move(filter));
  if (!stream) return Response::error(503, stream.error().message);
  Response r;
  r.status = 200;
  r.content_type = "text/event-stream; charset=utf-8";
  r.headers.emplace_back("X-Accel-Buffering", "no");  // proxies must not hold events back
  r.stream = std::move(*stream);
  return r;
}

Response AdminApi::create_key(const Request& request) {
  auto parsed = parse_key_request(request.body);
  if (!parsed) return Response::error(400, parsed.error().message);
  const core::TimePoint now = deps_.clock->now();
  const std::string key = access::generate_key();
  const access::ApiKeyRecord record = new_key_record(*parsed, core::make_id("key", now), key, now);
  if (auto stored = deps_.store->create_api_key(record); !stored) {
    return Response::error(status_for_error(stored.error()),
                           without_hash(stored.error().message, record.key_hash));
  }
  if (deps_.keys_changed) {
    if (auto published = deps_.keys_changed(); !published) {
      // The key cannot be shown later, and a stored key nobody holds is harmless: say how
      // to be rid of it.
      return Response::error(
          500, fmt::format("key {} for consumer '{}' was stored but is not yet in force: {}; "
                           "revoke it (DELETE /v1/keys/{}) and create another once the gateway "
                           "is healthy",
                           record.id, record.consumer, published.error().message, record.id));
    }
  }
  Response r = Response::json(201, created_key_json(record, key).dump());
  r.headers.emplace_back("Location", "/v1/keys/" + record.id);
  r.headers.emplace_back("Cache-Control", "no-store");  // the answer carries a secret
  return r;
}

Response AdminApi::list_keys(const Request& request) {
  auto keys = deps_.store->list_api_keys();
  if (!keys) return Response::error(500, keys.error().message);
  const std::string_view consumer = request.query_value("consumer");
  nlohmann::json list = nlohmann::json::array();
  for (const access::ApiKeyRecord& record : *keys) {
    if (!consumer.empty() && record.consumer != consumer) continue;
    list.push_back(key_json(record));
  }
  return Response::json(200, nlohmann::json{{"keys", std::move(list)}}.dump());
}

Response AdminApi::get_key(std::string_view id) {
  auto found = deps_.store->get_api_key(id);
  if (!found) return Response::error(500, found.error().message);
  if (!*found) return Response::error(404, fmt::format("not found: key '{}'", id));
  return Response::json(200, key_json(**found).dump());
}

Response AdminApi::revoke_key(std::string_view id) {
  auto revoked = deps_.store->revoke_api_key(id, deps_.clock->now());
  if (!revoked) return error_response(revoked.error());
  if (deps_.keys_changed) {
    if (auto published = deps_.keys_changed(); !published) {
      return Response::error(
          500, fmt::format("key {} was revoked in the store but the gateway may still accept "
                           "it: {}",
                           revoked->id, published.error().message));
    }
  }
  return Response::json(200, key_json(*revoked).dump());
}

Response AdminApi::consumers(const Request& request) {
  auto since = report_window_start(request.query_value("since"), deps_.clock->now());
  if (!since) return Response::error(400, since.error().message);
  auto service = service_filter(request);
  if (!service) return Response::error(400, service.error().message);
  store::UsageFilter filter;
  filter.service = *service;
  filter.since_minute = core::epoch_second(*since);
  auto keys = deps_.store->list_api_keys();
  if (!keys) return Response::error(500, keys.error().message);
  auto usage = deps_.store->query_usage(filter);
  if (!usage) return Response::error(500, usage.error().message);
  // Asked about one service, the report lists who called it: a consumer whose keys were
  // not used there is not one of its consumers. Without a service, every key holder is
  // listed, idle ones with zeros.
  const bool include_idle = !service->has_value();
  const auto summaries = summarize_consumers(*keys, *usage, include_idle);
  return Response::json(200, consumers_json(summaries, *since, *service).dump());
}

Response AdminApi::consumer_usage(std::string_view name, const Request& request) {
  auto since = report_window_start(request.query_value("since"), deps_.clock->now());
  if (!since) return Response::error(400, since.error().message);
  auto service = service_filter(request);
  if (!service) return Response::error(400, service.error().message);
  store::UsageFilter filter;
  filter.consumer = std::string(name);
  filter.service = *service;
  filter.since_minute = core::epoch_second(*since);
  auto keys = deps_.store->list_api_keys();
  if (!keys) return Response::error(500, keys.error().message);
  auto usage = deps_.store->query_usage(filter);
  if (!usage) return Response::error(500, usage.error().message);
  auto report = admin::consumer_usage(name, *keys, *usage, kMaxUsageMinutes);
  if (!report) {
    return Response::error(404, fmt::format("not found: consumer '{}' has no keys and no usage "
                                            "in the window",
                                            name.substr(0, core::kMaxNameLength)));
  }
  return Response::json(200, consumer_usage_json(*report, *since, *service).dump());
}

}  // namespace glidepath::admin
