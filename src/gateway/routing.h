// Routing decisions, pure: which service a request is for, and which version serves it
// (SPEC section 4). The data plane reads them from an immutable Snapshot; building a
// snapshot happens on the control plane (config load, weight change, rollback), never
// per request.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "access/key_table.h"
#include "access/operations.h"
#include "config/config.h"
#include "core/result.h"
#include "core/units.h"
#include "gateway/refusals.h"
#include "http/message.h"
#include "metrics/series_id.h"

namespace glidepath::metrics {
class SeriesRegistry;
}

namespace glidepath::gateway {

// ---- Path normalisation ----------------------------------------------------------------

// Normalises a request target's path before matching (RFC 3986 6.2.2): percent-encoded
// unreserved characters are decoded (so %2E and %2e are dots, %7E a tilde), dot segments
// are removed (RFC 3986 5.2.4), and the query is kept as it came. `/orders/../admin`
// becomes `/admin`, `/orders/%2e%2e/admin` too. Refused (false, with `error` set): a
// target that is not origin-form ("/..."), a path that climbs above the root, %00, an
// invalid percent-encoding, control characters. %2F stays encoded: it is data, not a
// separator. Writes into `out` (cleared first, reused across requests).
// Also: other escapes get upper-case hex (%2f → %2F); bytes >= 0x80 are percent-encoded
// (raw UTF-8 and its encoded form route alike); an absolute-form target
// ("http://host/p?q", RFC 9112 3.2.2) yields its path ("/p?q"; "" → "/"); "*" is refused
// (the caller answers OPTIONS *); refused too: '\' in the path (proxies disagree on it),
// '#', space or control characters anywhere, userinfo in an absolute-form target. Empty
// segments ("//") are kept. The output is idempotent: normalising it again gives itself.
// `error` points to a static string.
bool normalize_target(std::string_view target, std::string& out, std::string_view& error);

// The authority ("host:port") of an absolute-form target, which replaces the Host header
// for routing (RFC 9112 3.2.2); empty for origin-form or an invalid target.
std::string_view target_authority(std::string_view target);

// ---- The snapshot --------------------------------------------------------------------

struct VersionRoute {
  std::string name;
  std::vector<uint32_t> upstreams;  // indexes into Snapshot::upstreams, round-robin order
  metrics::SeriesId series = 0;
  // The path templates of the version's OpenAPI document, naming the operations usage is
  // recorded against; null without a (readable) document: literal paths, ids folded.
  std::shared_ptr<const access::OperationMatcher> operations;
};

// Where each slice of traffic goes: a request whose bucket (0..9999) is below `upper`
// and not below the previous slice's `upper` goes to `version`. During a deployment the
// canary slice comes first, so as its weight rises a bucket moves from stable to canary
// once and never back (sticky monotonicity, SPEC section 4).
struct TrafficSlice {
  uint32_t version = 0;  // index into ServiceRoute::versions
  uint32_t upper = 0;    // exclusive upper bucket bound, in basis points (10000 = 100%)
};

struct ServiceRoute {
  std::string name;
  std::vector<std::string> hosts;  // lower-case, no port; empty = any host
  std::string path_prefix;         // normalised, no trailing '/' except the root "/"
  bool strip_prefix = false;
  config::ApiKeyMode api_keys = config::ApiKeyMode::optional;
  config::ApiKeySource api_key_source = config::ApiKeySource::header;
  config::Stickiness stickiness;
  config::PreviewMode preview = config::PreviewMode::keys;
  std::string preview_token;  // see ServiceRuntime::preview_token; empty = none
  std::vector<VersionRoute> versions;
  std::vector<TrafficSlice> slices;  // covers 0..10000; the last upper is 10000
  uint32_t live = 0;                 // index of the live (stable) version
  // Requests refused once this service matched, by reason; never null. The same object
  // across snapshots when the control plane keeps it (SnapshotInputs::refusals).
  std::shared_ptr<RefusalCounters> refusals;

  const VersionRoute* find_version(std::string_view name) const;
  // The share of public traffic `version` gets, in basis points (0..10000), for
  // glidepath_traffic_weight and status output.
  uint32_t weight_of(uint32_t version) const;
};

struct Snapshot {
  uint64_t generation = 0;
  std::vector<ServiceRoute> services;
  std::vector<core::HostPort> upstreams;  // distinct upstream addresses; index = pool id
  // The API keys (SPEC section 5); never null (an empty table when there are none).
  std::shared_ptr<const access::KeyTable> keys;

  // Host (any case, with or without ":port") and normalised path → the service, or null
  // (404). Services that name the host win over any-host services; among those, the
  // longest path prefix that matches on a segment boundary ("/orders" matches
  // "/orders" and "/orders/1", not "/ordersX").
  // Hosts may also be wildcards ("*.example.com": any name below example.com, not
  // example.com itself): exact name > longer wildcard > shorter wildcard > any host. The
  // path may carry the query ('?' is a boundary too). Full ties: the earlier service.
  const ServiceRoute* match(std::string_view host, std::string_view path) const;
  const ServiceRoute* find_service(std::string_view name) const;
};

// The target to forward: `target` (normalised, as matched against `route`) with the
// route's prefix removed when it says strip_prefix ("/orders/1?x" → "/1?x", "/orders?x"
// → "/?x"), else unchanged. Writes into `out` (cleared first).
void strip_route_prefix(const ServiceRoute& route, std::string_view target, std::string& out);

// The run-time state that overrides the config: the live version a deployment left,
// versions a deployment added, and a deployment in progress (its canary and weight).
struct ServiceRuntime {
  std::string live;                                   // empty = the config's live
  std::vector<config::VersionConfig> added_versions;  // versions not in the config
  std::string canary;                                 // empty = no deployment shifting
  int canary_weight = 0;                              // percent to `canary`, from live
  // A running deployment's preview token: a request carrying it in
  // X-Glidepath-Preview-Token may pin a version (the pre-traffic hook's credential).
  std::string preview_token;
};

// What a snapshot takes besides config and routing state, both built on the control plane.
struct SnapshotInputs {
  std::shared_ptr<const access::KeyTable> keys;  // null: no keys
  // The matcher of a version's spec document (its path as the config or deployment gives
  // it); null result for none. Called for every version with a spec on every build, so the
  // caller caches. Unset: no matchers.
  std::function<std::shared_ptr<const access::OperationMatcher>(const std::string& spec)>
      operations;
  // The addresses an upstream stands for (a name's, each with the upstream's port); each
  // becomes an upstream of its own, in the version's round robin. Memory only: the
  // snapshot is built on the rollback path. Unset, or an empty answer: the upstream as
  // configured.
  std::function<std::vector<core::HostPort>(const core::HostPort& upstream)> addresses;
  // A service's refusal counters, kept across builds; unset: new ones every build.
  std::function<std::shared_ptr<RefusalCounters>(const std::string& service)> refusals;
};

// Builds a snapshot. Without a runtime entry a service routes per its config (`traffic`
// split, else 100% to live). Series ids are interned in `registry`.
// With a canary: [canary 0..w%, live w%..100%] (canary first: sticky monotonicity); the
// config's `traffic` split is then ignored, and also when the runtime `live` is another
// version than the config's (a finished deployment sends everything to its version).
// Errors: runtime naming an unknown service or version, a canary equal to live, a weight
// outside 0..100, an added version whose name the config has with other settings (an
// identical one is merged), a version without upstreams, a path_prefix that does not
// normalise, series registry exhausted.
core::Result<std::shared_ptr<const Snapshot>> build_snapshot(
    const config::Config& config,
    const std::vector<std::pair<std::string, ServiceRuntime>>& runtime,
    metrics::SeriesRegistry& registry, uint64_t generation, const SnapshotInputs& inputs = {});

// ---- Version choice ------------------------------------------------------------------

struct RequestFacts {
  std::string_view pin;  // X-Glidepath-Version, empty if absent
  // The caller's key has `preview: true`. choose_version applies the service's `preview`
  // mode itself: `anyone` allows any caller, `off` nobody, `keys` needs may_pin.
  bool may_pin = false;
  // The request carries the running deployment's preview token (the credential its
  // hooks are given): it may pin whatever `preview` says, so a pre-traffic hook can test
  // the new version on a service that lets no caller pin.
  bool preview_token = false;
  std::string_view sticky_value;  // the api key's consumer, header or cookie value; empty = none
};

enum class ChoiceKind { pinned, sticky, weighted };

struct VersionChoice {
  uint32_t version = 0;  // index into ServiceRoute::versions
  ChoiceKind kind = ChoiceKind::weighted;
  int error_status = 0;  // non-zero: refuse the request (403 pin not allowed, 400 unknown)
  std::string_view error;
};

// A valid pin where allowed; else the sticky value's bucket (a stable 64-bit hash of the
// service name and the value, the same on every gateway of a fleet); else the bucket of
// `random_bits`.
VersionChoice choose_version(const ServiceRoute& route, const RequestFacts& facts,
                             uint64_t random_bits);

// The bucket (0..9999) a sticky value falls in for a service: sticky_hash % 10000.
uint32_t sticky_bucket(std::string_view service, std::string_view sticky_value);
// FNV-1a 64 (offset 0xcbf29ce484222325, prime 0x100000001b3) over the bytes of service,
// one 0x00 byte and the bytes of sticky_value, then MurmurHash3's fmix64 finaliser.
// Fixed forever: every gateway of a fleet, of any version, must agree on it.
uint64_t sticky_hash(std::string_view service, std::string_view sticky_value);

// The value stickiness keys on for this request: a header's value, a cookie's value
// (parsed from the Cookie header, RFC 6265 4.2.1), or `consumer` (the API key's consumer)
// for api_key stickiness. Empty when absent. Header names match case-insensitively;
// cookie names exactly; every Cookie header is searched; a quoted value loses its quotes.
std::string_view sticky_value(const config::Stickiness& stickiness, const http::RequestHead& head,
                              std::string_view consumer);

}  // namespace glidepath::gateway
