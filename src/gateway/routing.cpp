#include "gateway/routing.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "metrics/series_registry.h"

namespace glidepath::gateway {

namespace {

constexpr uint32_t kBuckets = 10000;  // basis points: a bucket is 0.01% of traffic

constexpr char kHex[] = "0123456789ABCDEF";

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals_ascii(text.substr(0, prefix.size()), prefix);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 2.3: ALPHA / DIGIT / "-" / "." / "_" / "~".
bool is_unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Control characters and space never appear in a valid request-target (RFC 9112 3.2).
bool is_control_or_space(unsigned char c) {
  return c <= 0x20 || c == 0x7f;
}

// The path of an absolute-form target ("http://host/path?q" → "/path?q"; RFC 9112 3.2.2),
// the target itself for origin-form; false for anything else.
bool origin_part(std::string_view target, std::string_view& rest, std::string_view& authority,
                 std::string_view& error) {
  if (!target.empty() && target.front() == '/') {
    rest = target;
    authority = {};
    return true;
  }
  size_t scheme_end = 0;
  if (istarts_with(target, "http://")) {
    scheme_end = 7;
  } else if (istarts_with(target, "https://")) {
    scheme_end = 8;
  } else {
    error = target.empty() ? "empty request target" : "request target must start with '/'";
    return false;
  }
  const std::string_view after = target.substr(scheme_end);
  const size_t end = after.find_first_of("/?#");
  authority = after.substr(0, end == std::string_view::npos ? after.size() : end);
  if (authority.empty()) {
    error = "absolute-form request target without a host";
    return false;
  }
  for (const char c : authority) {
    if (is_control_or_space(static_cast<unsigned char>(c)) || c == '\\') {
      error = "invalid character in the request target's host";
      return false;
    }
  }
  // RFC 9110 4.2.4: userinfo in an http(s) URI is deprecated and a common phishing trick.
  if (authority.find('@') != std::string_view::npos) {
    error = "request target with userinfo ('@')";
    return false;
  }
  rest = end == std::string_view::npos ? std::string_view() : after.substr(end);
  return true;
}

// Normalises one segment's characters onto the end of `out`: unreserved escapes decoded,
// other escapes with upper-case hex, bytes >= 0x80 percent-encoded.
bool append_segment(std::string_view segment, std::string& out, std::string_view& error) {
  for (size_t i = 0; i < segment.size(); ++i) {
    const auto c = static_cast<unsigned char>(segment[i]);
    if (c == '%') {
      const bool complete = i + 2 < segment.size();
      const int hi = complete ? hex_value(segment[i + 1]) : -1;
      const int lo = complete ? hex_value(segment[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        error = "invalid percent-encoding in the path";
        return false;
      }
      const auto decoded = static_cast<unsigned char>(hi * 16 + lo);
      if (decoded == 0) {
        error = "%00 in the path";
        return false;
      }
      if (is_unreserved(decoded)) {
        out.push_back(static_cast<char>(decoded));  // RFC 3986 6.2.2.2
      } else {
        out.push_back('%');  // RFC 3986 6.2.2.1: upper-case hex
        out.push_back(kHex[hi]);
        out.push_back(kHex[lo]);
      }
      i += 2;
      continue;
    }
    if (is_control_or_space(c)) {
      error = "control character or space in the path";
      return false;
    }
    if (c == '\\') {
      // Some servers and proxies read '\' as '/', others as data: refused so that the
      // gateway and the upstream cannot disagree about the path.
      error = "backslash in the path";
      return false;
    }
    if (c >= 0x80) {
      // Raw UTF-8 is not a URI character; its encoded form is the same resource
      // (RFC 3987 3.1), so both spellings route and forward alike.
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
      continue;
    }
    out.push_back(static_cast<char>(c));
  }
  return true;
}

// "host", "host:port", "[v6]", "[v6]:port" → the bare host; a trailing dot dropped
// ("example.com." is example.com). A bare IPv6 literal (several colons, no brackets) is
// kept whole.
std::string_view bare_host(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    return close == std::string_view::npos ? host.substr(1) : host.substr(1, close - 1);
  }
  const size_t colon = host.find(':');
  if (colon != std::string_view::npos && host.find(':', colon + 1) == std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (host.size() > 1 && host.back() == '.') host.remove_suffix(1);
  return host;
}

// How well a service's host list fits a request host: 0 no fit; 1 any host; 2 + suffix
// length for a wildcard ("*.example.com"); kExactHost for an exact name.
constexpr size_t kExactHost = static_cast<size_t>(-1);

size_t host_fit(const ServiceRoute& route, std::string_view host) {
  if (route.hosts.empty()) return 1;
  size_t best = 0;
  for (const std::string& name : route.hosts) {
    if (name.size() > 1 && name[0] == '*' && name[1] == '.') {
      // "*.example.com" matches any name below example.com, not example.com itself.
      const std::string_view suffix = std::string_view(name).substr(1);
      if (host.size() > suffix.size() &&
          iequals_ascii(host.substr(host.size() - suffix.size()), suffix)) {
        best = std::max(best, 2 + suffix.size());
      }
    } else if (iequals_ascii(host, name)) {
      return kExactHost;
    }
  }
  return best;
}

// Whether `prefix` covers `path` on a segment boundary; `path` may carry a query.
bool prefix_covers(std::string_view prefix, std::string_view path) {
  if (prefix == "/") return true;
  if (path.size() < prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/' || path[prefix.size()] == '?';
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = ascii_lower(c);
  return out;
}

std::string version_names(const std::vector<VersionRoute>& versions) {
  std::string out;
  for (const VersionRoute& v : versions) {
    if (!out.empty()) out += ", ";
    out += v.name;
  }
  return out;
}

std::optional<uint32_t> version_index(const std::vector<VersionRoute>& versions,
                                      std::string_view name) {
  for (size_t i = 0; i < versions.size(); ++i) {
    if (versions[i].name == name) return static_cast<uint32_t>(i);
  }
  return std::nullopt;
}

// Upstream addresses shared across services: one pool per distinct address.
class UpstreamTable {
 public:
  explicit UpstreamTable(std::vector<core::HostPort>& addresses) : addresses_(addresses) {}

  uint32_t index_of(const core::HostPort& address) {
    const auto [it, inserted] =
        ids_.try_emplace({address.host, address.port}, static_cast<uint32_t>(addresses_.size()));
    if (inserted) addresses_.push_back(address);
    return it->second;
  }

 private:
  std::vector<core::HostPort>& addresses_;
  std::map<std::pair<std::string, uint16_t>, uint32_t> ids_;
};

core::Result<std::vector<TrafficSlice>> compute_slices(const config::ServiceConfig& service,
                                                       const ServiceRuntime* runtime,
                                                       const ServiceRoute& route) {
  std::vector<TrafficSlice> slices;
  if (runtime != nullptr && !runtime->canary.empty()) {
    const auto canary = version_index(route.versions, runtime->canary);
    if (!canary) {
      return core::fail(fmt::format("service '{}': canary '{}' names no version (have {})",
                                    service.name, runtime->canary, version_names(route.versions)));
    }
    if (*canary == route.live) {
      return core::fail(fmt::format("service '{}': canary '{}' is the live version", service.name,
                                    runtime->canary));
    }
    if (runtime->canary_weight < 0 || runtime->canary_weight > 100) {
      return core::fail(fmt::format("service '{}': canary weight {} is outside 0..100",
                                    service.name, runtime->canary_weight));
    }
    const auto upper = static_cast<uint32_t>(runtime->canary_weight) * (kBuckets / 100);
    // The canary slice first: as its weight rises a bucket moves live → canary only.
    if (upper > 0) slices.push_back({*canary, upper});
    if (upper < kBuckets) slices.push_back({route.live, kBuckets});
    return slices;
  }
  // A fixed split describes the config's live version's world; once a deployment has left
  // another live version, that version takes all traffic.
  const bool config_live = route.versions[route.live].name == service.live;
  if (!service.traffic.empty() && config_live) {
    uint32_t upper = 0;
    for (const config::VersionWeight& w : service.traffic) {
      const auto index = version_index(route.versions, w.version);
      if (!index) {
        return core::fail(fmt::format("service '{}': traffic names unknown version '{}'",
                                      service.name, w.version));
      }
      if (w.weight < 0 || w.weight > 100) {
        return core::fail(fmt::format("service '{}': traffic weight {} for '{}' is outside 0..100",
                                      service.name, w.weight, w.version));
      }
      if (w.weight == 0) continue;
      upper += static_cast<uint32_t>(w.weight) * (kBuckets / 100);
      slices.push_back({*index, upper});
    }
    if (upper != kBuckets) {
      return core::fail(fmt::format("service '{}': traffic weights sum to {}%, not 100%",
                                    service.name, upper / (kBuckets / 100)));
    }
    return slices;
  }
  slices.push_back({route.live, kBuckets});
  return slices;
}

core::Result<ServiceRoute> build_route(const config::ServiceConfig& service,
                                       const ServiceRuntime* runtime, UpstreamTable& upstreams,
                                       metrics::SeriesRegistry& registry,
                                       const SnapshotInputs& inputs) {
  ServiceRoute route;
  route.name = service.name;
  for (const std::string& host : service.match.hosts) {
    std::string name = lower(bare_host(host));
    if (name.empty()) {
      return core::fail(fmt::format("service '{}': empty host '{}'", service.name, host));
    }
    bool seen = false;
    for (const std::string& other : route.hosts)
      seen = seen || other == name;
    if (!seen) route.hosts.push_back(std::move(name));
  }
  std::string_view error;
  if (!normalize_target(service.match.path_prefix, route.path_prefix, error) ||
      route.path_prefix.find('?') != std::string::npos) {
    return core::fail(fmt::format("service '{}': path_prefix '{}': {}", service.name,
                                  service.match.path_prefix,
                                  error.empty() ? std::string_view("contains '?'") : error));
  }
  while (route.path_prefix.size() > 1 && route.path_prefix.back() == '/') {
    route.path_prefix.pop_back();
  }
  route.strip_prefix = service.match.strip_prefix;
  route.api_keys = service.api_keys;
  route.api_key_source = service.api_key_source;
  route.stickiness = service.stickiness;
  route.preview = service.preview;
  route.refusals = inputs.refusals ? inputs.refusals(service.name) : nullptr;
  if (route.refusals == nullptr) route.refusals = std::make_shared<RefusalCounters>();

  std::vector<const config::VersionConfig*> versions;
  for (const config::VersionConfig& v : service.versions)
    versions.push_back(&v);
  if (runtime != nullptr) {
    for (const config::VersionConfig& added : runtime->added_versions) {
      const config::VersionConfig* same = nullptr;
      for (const config::VersionConfig* v : versions) {
        if (v->name == added.name) same = v;
      }
      if (same == nullptr) {
        versions.push_back(&added);
      } else if (!(*same == added)) {
        // The config now names a version a deployment added, but differently: which one
        // is meant is for a person to say.
        return core::fail(
            fmt::format("service '{}': version '{}' added at run time differs from the config's",
                        service.name, added.name));
      }
    }
  }
  for (const config::VersionConfig* v : versions) {
    if (v->name.empty()) {
      return core::fail(fmt::format("service '{}': a version without a name", service.name));
    }
    if (v->upstreams.empty()) {
      return core::fail(
          fmt::format("service '{}': version '{}' has no upstreams", service.name, v->name));
    }
    VersionRoute version;
    version.name = v->name;
    for (const core::HostPort& upstream : v->upstreams) {
      std::vector<core::HostPort> addresses;
      if (inputs.addresses) addresses = inputs.addresses(upstream);
      if (addresses.empty()) addresses.push_back(upstream);
      for (const core::HostPort& address : addresses) {
        const uint32_t index = upstreams.index_of(address);
        if (std::find(version.upstreams.begin(), version.upstreams.end(), index) ==
            version.upstreams.end()) {
          version.upstreams.push_back(index);
        }
      }
    }
    auto series = registry.intern(service.name, v->name);
    if (!series) {
      return core::fail(fmt::format("service '{}': version '{}': {}", service.name, v->name,
                                    series.error().message));
    }
    version.series = *series;
    if (!v->spec.empty() && inputs.operations) version.operations = inputs.operations(v->spec);
    route.versions.push_back(std::move(version));
  }

  const std::string_view live =
      runtime != nullptr && !runtime->live.empty() ? runtime->live : service.live;
  const auto live_index = version_index(route.versions, live);
  if (!live_index) {
    return core::fail(fmt::format("service '{}': live '{}' names no version (have {})",
                                  service.name, live, version_names(route.versions)));
  }
  route.live = *live_index;
  if (runtime != nullptr) route.preview_token = runtime->preview_token;

  auto slices = compute_slices(service, runtime, route);
  if (!slices) return core::fail(slices.error().message);
  route.slices = std::move(*slices);
  return route;
}

uint32_t slice_version(const ServiceRoute& route, uint32_t bucket) {
  for (const TrafficSlice& slice : route.slices) {
    if (bucket < slice.upper) return slice.version;
  }
  return route.live;
}

std::string_view trim_ows(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

// The value of cookie `name` in one Cookie header (RFC 6265 4.2.1: `a=1; b=2`), or
// nullopt. Names match exactly; whitespace around pairs is tolerated as user agents
// send it (RFC 6265 5.4); a value in DQUOTEs is taken without them.
std::optional<std::string_view> cookie_in(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const size_t end = header.find(';');
    const std::string_view pair =
        trim_ows(header.substr(0, end == std::string_view::npos ? header.size() : end));
    header = end == std::string_view::npos ? std::string_view() : header.substr(end + 1);
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (trim_ows(pair.substr(0, eq)) != name) continue;
    std::string_view value = trim_ows(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return std::nullopt;
}

}  // namespace

// ---- Path normalisation ----------------------------------------------------------------

bool normalize_target(std::string_view target, std::string& out, std::string_view& error) {
  out.clear();
  error = {};
  std::string_view rest;
  std::string_view authority;
  if (!origin_part(target, rest, authority, error)) return false;

  const size_t query_at = rest.find('?');
  const std::string_view path = rest.substr(0, query_at);
  const std::string_view query =
      query_at == std::string_view::npos ? std::string_view() : rest.substr(query_at);
  if (rest.find('#') != std::string_view::npos) {
    error = "fragment ('#') in the request target";
    return false;
  }
  for (const char c : query) {
    if (is_control_or_space(static_cast<unsigned char>(c))) {
      error = "control character or space in the query";
      return false;
    }
  }

  // RFC 3986 5.2.4, as a stack of "/segment" entries in `out`: "." is dropped, ".."
  // pops one entry, and either as the last segment leaves a trailing '/'. A ".." with
  // nothing to pop would climb above the root: refused rather than clamped, since such
  // a request is an attack or a bug, and clamping hides either. Empty segments ("//")
  // are kept: they are legal, and some upstreams give them meaning.
  size_t depth = 0;
  size_t pos = path.empty() ? 0 : 1;  // past the leading '/'; absolute-form "" means "/"
  while (true) {
    const size_t slash = path.find('/', pos);
    const bool last = slash == std::string_view::npos;
    const std::string_view raw = path.substr(pos, last ? std::string_view::npos : slash - pos);
    const size_t entry = out.size();
    out.push_back('/');
    if (!append_segment(raw, out, error)) {
      out.clear();
      return false;
    }
    const std::string_view segment = std::string_view(out).substr(entry + 1);
    if (segment == "." || segment == "..") {
      const bool up = segment.size() == 2;
      out.resize(entry);
      if (up) {
        if (depth == 0) {
          error = "path climbs above the root";
          out.clear();
          return false;
        }
        out.resize(out.rfind('/'));
        --depth;
      }
      if (last) out.push_back('/');
    } else {
      ++depth;
    }
    if (last) break;
    pos = slash + 1;
  }
  out.append(query);
  return true;
}

std::string_view target_authority(std::string_view target) {
  std::string_view rest;
  std::string_view authority;
  std::string_view error;
  if (!origin_part(target, rest, authority, error)) return {};
  return authority;
}

void strip_route_prefix(const ServiceRoute& route, std::string_view target, std::string& out) {
  out.clear();
  if (!route.strip_prefix || route.path_prefix == "/" ||
      !prefix_covers(route.path_prefix, target)) {
    out.append(target);
    return;
  }
  const std::string_view rest = target.substr(route.path_prefix.size());
  if (rest.empty() || rest.front() != '/') out.push_back('/');
  out.append(rest);
}

// ---- The snapshot --------------------------------------------------------------------

const VersionRoute* ServiceRoute::find_version(std::string_view version) const {
  for (const VersionRoute& v : versions) {
    if (v.name == version) return &v;
  }
  return nullptr;
}

uint32_t ServiceRoute::weight_of(uint32_t version) const {
  uint32_t lower_bound = 0;
  uint32_t weight = 0;
  for (const TrafficSlice& slice : slices) {
    if (slice.version == version) weight += slice.upper - lower_bound;
    lower_bound = slice.upper;
  }
  return weight;
}

const ServiceRoute* Snapshot::match(std::string_view host, std::string_view path) const {
  host = bare_host(host);
  const ServiceRoute* best = nullptr;
  size_t best_host = 0;
  size_t best_prefix = 0;
  for (const ServiceRoute& route : services) {
    const size_t fit = host_fit(route, host);
    if (fit == 0 || fit < best_host) continue;
    if (!prefix_covers(route.path_prefix, path)) continue;
    // Host first (exact name > longer wildcard > any host), then the longer prefix; on a
    // full tie the earlier service in the config wins.
    if (best != nullptr && fit == best_host && route.path_prefix.size() <= best_prefix) continue;
    best = &route;
    best_host = fit;
    best_prefix = route.path_prefix.size();
  }
  return best;
}

const ServiceRoute* Snapshot::find_service(std::string_view name) const {
  for (const ServiceRoute& route : services) {
    if (route.name == name) return &route;
  }
  return nullptr;
}

core::Result<std::shared_ptr<const Snapshot>> build_snapshot(
    const config::Config& config,
    const std::vector<std::pair<std::string, ServiceRuntime>>& runtime,
    metrics::SeriesRegistry& registry, uint64_t generation, const SnapshotInputs& inputs) {
  for (size_t i = 0; i < runtime.size(); ++i) {
    if (config.find_service(runtime[i].first) == nullptr) {
      return core::fail(fmt::format(
          "run-time state for service '{}', which the config does not have", runtime[i].first));
    }
    for (size_t j = 0; j < i; ++j) {
      if (runtime[j].first == runtime[i].first) {
        return core::fail(
            fmt::format("run-time state for service '{}' given twice", runtime[i].first));
      }
    }
  }

  auto snapshot = std::make_shared<Snapshot>();
  snapshot->generation = generation;
  snapshot->keys = inputs.keys ? inputs.keys : std::make_shared<const access::KeyTable>();
  UpstreamTable upstreams(snapshot->upstreams);
  for (const config::ServiceConfig& service : config.services) {
    const ServiceRuntime* state = nullptr;
    for (const auto& [name, entry] : runtime) {
      if (name == service.name) state = &entry;
    }
    auto route = build_route(service, state, upstreams, registry, inputs);
    if (!route) return core::fail(route.error().message);
    for (const ServiceRoute& other : snapshot->services) {
      if (other.name == route->name) {
        return core::fail(fmt::format("service '{}' appears twice", route->name));
      }
    }
    snapshot->services.push_back(std::move(*route));
  }
  return std::shared_ptr<const Snapshot>(std::move(snapshot));
}

// ---- Version choice ------------------------------------------------------------------

VersionChoice choose_version(const ServiceRoute& route, const RequestFacts& facts,
                             uint64_t random_bits) {
  VersionChoice choice;
  if (!facts.pin.empty()) {
    // Permission before existence, so that refused callers learn nothing about versions.
    // The deployment's own preview token is allowed in every preview mode.
    if (!facts.preview_token && route.preview == config::PreviewMode::off) {
      choice.error_status = 403;
      choice.error = "version pinning is off for this service";
      return choice;
    }
    if (!facts.preview_token && route.preview == config::PreviewMode::keys && !facts.may_pin) {
      choice.error_status = 403;
      choice.error = "version pinning needs a preview key";
      return choice;
    }
    const auto index = version_index(route.versions, facts.pin);
    if (!index) {
      choice.error_status = 400;
      choice.error = "unknown version";
      return choice;
    }
    choice.version = *index;
    choice.kind = ChoiceKind::pinned;
    return choice;
  }
  if (!facts.sticky_value.empty() && route.stickiness.kind != config::StickinessKind::none) {
    choice.version = slice_version(route, sticky_bucket(route.name, facts.sticky_value));
    choice.kind = ChoiceKind::sticky;
    return choice;
  }
  choice.version = slice_version(route, static_cast<uint32_t>(random_bits % kBuckets));
  choice.kind = ChoiceKind::weighted;
  return choice;
}

uint64_t sticky_hash(std::string_view service, std::string_view sticky_value) {
  // FNV-1a 64 over service, 0x00, value...
  uint64_t h = 0xcbf29ce484222325ULL;
  const auto mix = [&h](std::string_view bytes) {
    for (const char c : bytes) {
      h ^= static_cast<unsigned char>(c);
      h *= 0x100000001b3ULL;
    }
  };
  mix(service);
  mix(std::string_view("\0", 1));
  mix(sticky_value);
  // ...then MurmurHash3's fmix64, so that every input bit reaches the low bits the
  // bucket is taken from.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

uint32_t sticky_bucket(std::string_view service, std::string_view sticky_value) {
  return static_cast<uint32_t>(sticky_hash(service, sticky_value) % kBuckets);
}

std::string_view sticky_value(const config::Stickiness& stickiness, const http::RequestHead& head,
                              std::string_view consumer) {
  switch (stickiness.kind) {
    case config::StickinessKind::api_key:
      return consumer;
    case config::StickinessKind::header:
      for (const http::Header& header : head.headers) {
        if (iequals_ascii(header.name, stickiness.name)) return header.value;
      }
      return {};
    case config::StickinessKind::cookie:
      // A user agent sends one Cookie header (RFC 6265 5.4), but HTTP/2-to-1 gateways
      // may split it: every one is searched.
      for (const http::Header& header : head.headers) {
        if (!iequals_ascii(header.name, "cookie")) continue;
        if (const auto value = cookie_in(header.value, stickiness.name)) return *value;
      }
      return {};
    case config::StickinessKind::none:
      return {};
  }
  return {};
}

}  // namespace glidepath::gateway
