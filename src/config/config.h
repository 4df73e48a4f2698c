// The typed, validated form of glidepath.yaml (SPEC section 2). The loader (loader.h)
// builds a Config once, checks the whole document, and hands it out immutable
// (shared_ptr<const Config>): the gateway builds its routing snapshot from it, the
// controller takes each service's deployment defaults from it. Every field carries the
// default SPEC section 2 gives it, so a default-constructed value is the documented one
// except where noted (the default plan and alarm are filled in by the loader).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/units.h"
#include "deploy/alarm.h"
#include "deploy/deployment.h"
#include "deploy/hooks.h"
#include "deploy/strategy.h"

namespace glidepath::config {

// A certificate a TLS listener may present: a PEM chain (leaf first) and its private key.
// `hosts` are the server names (SNI) it answers for, exact or `*.example.com`; empty means
// the DNS names the certificate itself lists. Paths are resolved against the config file's
// directory.
struct TlsCertificate {
  std::string cert;
  std::string key;
  std::vector<std::string> hosts;  // lower-cased
  friend bool operator==(const TlsCertificate&, const TlsCertificate&) = default;
};

enum class TlsVersion { tls1_2, tls1_3 };

// `tls:` on a listener (the gateway's or the admin API's): the listener speaks TLS only.
struct TlsConfig {
  // At least one. A client naming no host, or one no certificate lists, gets the first.
  std::vector<TlsCertificate> certificates;
  TlsVersion min_version = TlsVersion::tls1_2;  // 1.2 or 1.3; nothing older is offered
  // Protocols offered by ALPN, in order of preference.
  std::vector<std::string> alpn{"http/1.1"};
  // Stateless resumption (RFC 8077 tickets) with keys that rotate every
  // ticket_key_rotation; a ticket stays valid for twice that.
  bool session_tickets = true;
  core::Duration ticket_key_rotation = std::chrono::hours(1);
  friend bool operator==(const TlsConfig&, const TlsConfig&) = default;
};

// One more gateway listener beside `gateway.listen`: plain or TLS, or a plain one that
// only redirects to HTTPS.
struct ListenerConfig {
  core::HostPort listen;
  std::optional<TlsConfig> tls;
  // Answer every request with 308 to https://HOST:redirect_https_port/same-target.
  std::optional<uint16_t> redirect_https_port;
  friend bool operator==(const ListenerConfig&, const ListenerConfig&) = default;
};

struct GatewayConfig {
  core::HostPort listen{"127.0.0.1", 8080};
  std::optional<TlsConfig> tls;           // set: `listen` speaks TLS
  std::vector<ListenerConfig> listeners;  // more listeners, e.g. a plain one beside TLS
  int workers = 0;                        // 0 = one per core
  // The request line and headers must arrive within this.
  core::Duration header_timeout = std::chrono::seconds(10);
  // The upstream must answer within this (else 504).
  core::Duration request_timeout = std::chrono::seconds(30);
  // An idle keep-alive connection is closed after this.
  core::Duration idle_timeout = std::chrono::seconds(60);
  // Extension: connecting to an upstream must succeed within this (else 502).
  core::Duration connect_timeout = std::chrono::seconds(5);
  uint64_t max_header_bytes = 16384;   // request line + all header lines (else 431)
  uint64_t max_body_bytes = 10485760;  // else 413
  // A WebSocket tunnel with no bytes either way for this long is closed. Its own key, as
  // a chat or a feed is quiet for much longer than a keep-alive connection between requests.
  core::Duration websocket_idle_timeout = std::chrono::seconds(300);
  // Tunnels to a version that stopped receiving traffic (a rollback, a finished
  // deployment) are closed this long after the snapshot that stopped it; 0 = at once.
  core::Duration websocket_drain = std::chrono::seconds(5);
  friend bool operator==(const GatewayConfig&, const GatewayConfig&) = default;
};

struct AdminConfig {
  core::HostPort listen{"127.0.0.1", 9090};
  std::optional<TlsConfig> tls;  // set: the admin API and dashboard speak HTTPS
  std::string token;  // when not empty, every admin call needs 'Authorization: Bearer <token>'
  friend bool operator==(const AdminConfig&, const AdminConfig&) = default;
};

enum class StoreKind { sqlite, postgres };

// `store: sqlite:PATH` (the embedded default) or `store: postgres://...` (a fleet).
struct StoreConfig {
  StoreKind kind = StoreKind::sqlite;
  std::string sqlite_path = "glidepath.db";  // kind == sqlite; ":memory:" for a scratch store
  std::string postgres_url;                  // kind == postgres: the URL as written
  friend bool operator==(const StoreConfig&, const StoreConfig&) = default;
};

enum class ApiKeyMode { required, optional, off };
// Where a consumer's key travels (SPEC section 5): `X-Api-Key` or `Authorization: Bearer`.
enum class ApiKeySource { header, bearer };
enum class StickinessKind { api_key, header, cookie, none };
// Who may pin a version with `X-Glidepath-Version`: keys with `preview: true`, anyone, nobody.
enum class PreviewMode { keys, anyone, off };

// What keeps a consumer on one version while the canary weight moves (SPEC section 4).
struct Stickiness {
  StickinessKind kind = StickinessKind::api_key;
  std::string name;  // the header or cookie name for kind header / cookie
  friend bool operator==(const Stickiness&, const Stickiness&) = default;
};

struct RouteMatch {
  std::vector<std::string> hosts;  // lower-cased; empty = any host
  std::string path_prefix = "/";   // always starts with '/'
  bool strip_prefix = false;
  friend bool operator==(const RouteMatch&, const RouteMatch&) = default;
};

struct VersionConfig {
  std::string name;
  std::vector<core::HostPort> upstreams;  // at least one; round-robin
  // Optional OpenAPI / Swagger document. load_config_file resolves a relative path against
  // the config file's directory; load_config keeps it as written.
  std::string spec;
  friend bool operator==(const VersionConfig&, const VersionConfig&) = default;
};

struct VersionWeight {
  std::string version;
  int weight = 0;  // percent, 0..100
  friend bool operator==(const VersionWeight&, const VersionWeight&) = default;
};

// The defaults of every deployment of a service; a deployment request may replace the
// plan, alarms and hooks for itself only (SPEC section 7).
struct DeploymentDefaults {
  // From `strategy` (default Canary10Percent5Minutes) or from custom `steps`. The loader
  // always fills it; a default-constructed value has an empty plan.
  deploy::Plan plan;
  // Kept even when the default strategy is not BlueGreen, so that a deployment asking for
  // BlueGreen gets the service's bake and keep_previous_warm.
  deploy::BlueGreenOptions blue_green;
  core::Duration evaluation_interval = std::chrono::seconds(1);  // > 0 and <= 1s
  // Never empty once loaded: with no alarms configured, deploy::default_alarm().
  std::vector<deploy::AlarmRule> alarms;
  deploy::Hooks hooks;
  deploy::ContractPolicy on_breaking = deploy::ContractPolicy::block_if_used;
  friend bool operator==(const DeploymentDefaults&, const DeploymentDefaults&) = default;
};

struct ServiceConfig {
  std::string name;
  RouteMatch match;
  ApiKeyMode api_keys = ApiKeyMode::optional;
  ApiKeySource api_key_source = ApiKeySource::header;
  Stickiness stickiness;
  PreviewMode preview = PreviewMode::keys;
  std::vector<VersionConfig> versions;  // at least one, names unique
  std::string live;                     // names one of versions
  // A fixed split while no deployment runs, in the order written; sums to 100. Empty:
  // all traffic to `live`.
  std::vector<VersionWeight> traffic;
  DeploymentDefaults deployment;

  const VersionConfig* find_version(std::string_view version) const;
  const VersionConfig& live_version() const;  // a loaded Config guarantees it exists
  // The version's percent of public traffic while no deployment runs.
  int weight_of(std::string_view version) const;
  friend bool operator==(const ServiceConfig&, const ServiceConfig&) = default;
};

struct Config {
  GatewayConfig gateway;
  AdminConfig admin;
  StoreConfig store;
  std::vector<ServiceConfig> services;  // at least one, names unique

  const ServiceConfig* find_service(std::string_view name) const;
  friend bool operator==(const Config&, const Config&) = default;
};

const char* to_string(StoreKind kind);
const char* to_string(ApiKeyMode mode);
const char* to_string(ApiKeySource source);
const char* to_string(PreviewMode mode);
std::string to_string(const Stickiness& stickiness);  // "api_key", "header:X-User", "none"
// "sqlite:glidepath.db" or the postgres URL, as the config file writes it.
std::string to_string(const StoreConfig& store);

}  // namespace glidepath::config
