// One entry of `services` (SPEC section 2): route match, API keys, stickiness, preview,
// versions, live version, fixed traffic split and deployment defaults; then the
// checks across services.
#include <fmt/format.h>

#include <algorithm>
#include <system_error>
#include <unordered_map>
#include <unordered_set>

#include "config/readers.h"
#include "core/text.h"

namespace glidepath::config::detail {
namespace {

using core::is_valid_name;
using core::kMaxNameLength;

std::optional<std::string> read_name(Reader& reader, const MapView& view, std::string_view what) {
  const auto node = view.get("name");
  if (!node) {
    if (!view.misspelt("name")) reader.error(view.path("name"), view.line(), "is required");
    return std::nullopt;
  }
  auto name = reader.non_empty_string(*node, view.path("name"));
  if (!name) return std::nullopt;
  if (!is_valid_name(*name)) {
    reader.error(view.path("name"), *node,
                 fmt::format("invalid {} name '{}': use up to {} letters, digits, '.', '_' or "
                             "'-', starting with a letter or digit",
                             what, name->substr(0, kMaxNameLength), kMaxNameLength));
    return std::nullopt;
  }
  return name;
}

// RFC 7230 section 3.2.6 tchar: what a header (or cookie) name may be made of.
bool is_token(std::string_view name) {
  if (name.empty()) return false;
  constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return std::all_of(name.begin(), name.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           kSpecials.find(c) != std::string_view::npos;
  });
}

// A list of strings, or one scalar holding a comma-separated list (as the CLI's
// --upstream takes it).
std::optional<std::vector<std::pair<std::string, YAML::Node>>> read_string_items(
    Reader& reader, const YAML::Node& node, const std::string& path,
    std::vector<std::string>& item_paths) {
  std::vector<std::pair<std::string, YAML::Node>> items;
  if (node.IsScalar()) {
    auto text = reader.string(node, path);
    if (!text) return std::nullopt;
    std::string_view rest = *text;
    while (!rest.empty()) {
      const size_t comma = std::min(rest.find(','), rest.size());
      const std::string_view item = trim(rest.substr(0, comma));
      if (!item.empty()) {
        items.emplace_back(std::string(item), node);
        item_paths.push_back(path);
      }
      rest.remove_prefix(std::min(comma + 1, rest.size()));
    }
    return items;
  }
  auto list = reader.list(node, path);
  if (!list) return std::nullopt;
  bool complete = true;
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string item_path = index_path(path, i);
    if (auto text = reader.string((*list)[i], item_path)) {
      items.emplace_back(std::move(*text), (*list)[i]);
      item_paths.push_back(item_path);
    } else {
      complete = false;
    }
  }
  if (!complete) return std::nullopt;
  return items;
}

RouteMatch read_match(Reader& reader, const YAML::Node& node, const std::string& path) {
  RouteMatch match;
  MapView view(reader, node, path, {"hosts", "path_prefix", "strip_prefix"});
  if (const auto n = view.get("hosts")) {
    std::vector<std::string> paths;
    std::unordered_set<std::string> seen;
    if (auto hosts = read_string_items(reader, *n, view.path("hosts"), paths)) {
      for (size_t i = 0; i < hosts->size(); ++i) {
        std::string host = std::move((*hosts)[i].first);
        const YAML::Node& at = (*hosts)[i].second;
        std::transform(host.begin(), host.end(), host.begin(), [](char c) {
          return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        });
        const bool plain = std::all_of(host.begin(), host.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                 c == '_' || c == ':' || c == '[' || c == ']' || c == '*';
        });
        const size_t star = host.find('*');
        const bool wildcard_ok =
            star == std::string::npos || (star == 0 && host.size() > 2 && host[1] == '.' &&
                                          host.find('*', 1) == std::string::npos);
        if (host.empty() || !plain || !wildcard_ok) {
          reader.error(paths[i], at,
                       fmt::format("invalid host '{}': expected a name like api.example.com "
                                   "(optionally *.example.com or with :port)",
                                   host.substr(0, 80)));
          continue;
        }
        if (!seen.insert(host).second) {
          reader.error(paths[i], at, fmt::format("duplicate host '{}'", host));
          continue;
        }
        match.hosts.push_back(std::move(host));
      }
    }
  }
  if (const auto n = view.get("path_prefix")) {
    if (auto prefix = reader.string(*n, view.path("path_prefix"))) {
      if (prefix->empty() || prefix->front() != '/') {
        reader.error(view.path("path_prefix"), *n,
                     fmt::format("must start with '/', got '{}'", prefix->substr(0, 80)));
      } else if (prefix->find_first_of(" \t\r\n?#") != std::string::npos) {
        reader.error(view.path("path_prefix"), *n,
                     "must be a plain path: no spaces, query ('?') or fragment ('#')");
      } else {
        match.path_prefix = std::move(*prefix);
      }
    }
  }
  if (const auto n = view.get("strip_prefix")) {
    if (auto strip = reader.boolean(*n, view.path("strip_prefix"))) match.strip_prefix = *strip;
  }
  return match;
}

std::optional<Stickiness> read_stickiness(Reader& reader, const YAML::Node& node,
                                          const std::string& path) {
  auto text = reader.string(node, path, "api_key, header:NAME, cookie:NAME or none");
  if (!text) return std::nullopt;
  const std::string_view value = trim(*text);
  if (value == "api_key") return Stickiness{StickinessKind::api_key, ""};
  if (value == "none") return Stickiness{StickinessKind::none, ""};
  for (const auto& [prefix, kind] :
       {std::pair{std::string_view("header:"), StickinessKind::header},
        std::pair{std::string_view("cookie:"), StickinessKind::cookie}}) {
    if (value.substr(0, prefix.size()) != prefix) continue;
    const std::string_view name = trim(value.substr(prefix.size()));
    if (!is_token(name)) {
      reader.error(path, node,
                   fmt::format("'{}' needs a {} name made of letters, digits and -_.!#$%&'*+^`|~",
                               value.substr(0, 80), prefix.substr(0, prefix.size() - 1)));
      return std::nullopt;
    }
    return Stickiness{kind, std::string(name)};
  }
  std::string message = fmt::format("must be api_key, header:NAME, cookie:NAME or none; got '{}'",
                                    value.substr(0, 80));
  static constexpr std::string_view kWords[] = {"api_key", "none", "header", "cookie"};
  if (auto suggestion = core::closest_match(value, kWords)) {
    message += fmt::format(" (did you mean '{}'?)", *suggestion);
  }
  reader.error(path, node, std::move(message));
  return std::nullopt;
}

std::optional<VersionConfig> read_version(Reader& reader, const YAML::Node& node,
                                          const std::string& path, const LoadContext& context) {
  MapView view(reader, node, path, {"name", "upstreams", "spec"});
  if (!view.valid()) return std::nullopt;
  VersionConfig version;
  bool complete = true;
  if (auto name = read_name(reader, view, "version")) {
    version.name = std::move(*name);
  } else {
    complete = false;
  }
  if (const auto n = view.get("upstreams")) {
    std::vector<std::string> paths;
    std::unordered_set<std::string> seen;
    if (auto items = read_string_items(reader, *n, view.path("upstreams"), paths)) {
      if (items->empty()) {
        reader.error(view.path("upstreams"), *n, "must list at least one host:port");
        complete = false;
      }
      for (size_t i = 0; i < items->size(); ++i) {
        auto upstream = core::parse_host_port((*items)[i].first);
        if (!upstream) {
          reader.error(paths[i], (*items)[i].second, upstream.error().message);
          complete = false;
        } else if (!seen.insert(core::format_host_port(*upstream)).second) {
          reader.error(paths[i], (*items)[i].second,
                       fmt::format("duplicate upstream {}", core::format_host_port(*upstream)));
          complete = false;
        } else {
          version.upstreams.push_back(std::move(*upstream));
        }
      }
    } else {
      complete = false;
    }
  } else {
    if (!view.misspelt("upstreams")) {
      reader.error(view.path("upstreams"), view.line(),
                   "is required: the version's host:port addresses, e.g. [127.0.0.1:9001]");
    }
    complete = false;
  }
  if (const auto n = view.get("spec")) {
    if (auto spec = reader.non_empty_string(*n, view.path("spec"))) {
      std::filesystem::path spec_path(*spec);
      if (context.base_dir && spec_path.is_relative()) spec_path = *context.base_dir / spec_path;
      if (context.base_dir) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(spec_path, ec)) {
          reader.error(view.path("spec"), *n,
                       fmt::format("no such file: {}", spec_path.lexically_normal().string()));
          complete = false;
        }
      }
      version.spec = spec_path.lexically_normal().string();
    } else {
      complete = false;
    }
  }
  if (!complete) return std::nullopt;
  return version;
}

// Suggests the closest version name for a misspelt reference. Lists and suggestions are
// limited so that a document with thousands of versions stays linear to check.
std::string unknown_version_message(const std::vector<std::string>& declared,
                                    std::string_view name) {
  constexpr size_t kListed = 10;
  std::string names;
  for (size_t i = 0; i < declared.size() && i < kListed; ++i) {
    if (i > 0) names += ", ";
    names += declared[i];
  }
  if (declared.size() > kListed) names += ", ...";
  std::string message = fmt::format("names no version of this service ('{}'; versions: {})",
                                    name.substr(0, 80), names);
  if (declared.size() <= 100 && name.size() <= 40) {
    std::vector<std::string_view> candidates(declared.begin(), declared.end());
    if (auto suggestion = core::closest_match(name, candidates)) {
      message += fmt::format("; did you mean '{}'?", *suggestion);
    }
  }
  return message;
}

// `declared`: every version name written in the file, including versions that failed to
// parse for another reason, so their weights still count towards the sum of 100.
void read_traffic(Reader& reader, const YAML::Node& node, const std::string& path,
                  const std::vector<std::string>& declared, bool names_complete,
                  ServiceConfig& service) {
  MapView view = MapView::any_keys(reader, node, path);
  if (!view.valid()) return;
  if (view.entries().empty()) {
    reader.error(path, node, "must give each version a percentage, e.g. {v1: 90, v2: 10}");
    return;
  }
  bool complete = true;
  int total = 0;
  const std::unordered_set<std::string_view> versions(declared.begin(), declared.end());
  for (const MapView::Entry& entry : view.entries()) {
    const std::string entry_path = view.path(entry.key);
    const int line = line_of(entry.value) != 0 ? line_of(entry.value) : view.line();
    if (versions.count(entry.key) == 0) {
      if (names_complete) {
        reader.error(entry_path, line, unknown_version_message(declared, entry.key));
      }
      complete = false;
      continue;
    }
    if (entry.value.IsNull()) {
      reader.error(entry_path, line, "expected a percentage (0..100), got nothing");
      complete = false;
      continue;
    }
    const auto weight = reader.percent(entry.value, entry_path);
    if (!weight) {
      complete = false;
      continue;
    }
    total += *weight;
    if (service.find_version(entry.key) != nullptr) service.traffic.push_back({entry.key, *weight});
  }
  if (complete && total != 100) {
    reader.error(path, view.line(), fmt::format("weights must sum to 100, got {}", total));
  }
}

// Line of the value of `key` in the mapping `node`, without counting against the reader's
// budget (the mapping was read once already).
int line_of_key(const YAML::Node& node, std::string_view key) {
  if (!node.IsMap()) return line_of(node);
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) {
      const int line = line_of(it->second);
      return line != 0 ? line : line_of(it->first);
    }
  }
  return line_of(node);
}

}  // namespace

ServiceConfig read_service(Reader& reader, const YAML::Node& node, const std::string& path,
                           const LoadContext& context) {
  ServiceConfig service;
  MapView view(reader, node, path,
               {"name", "match", "api_keys", "api_key_source", "stickiness", "preview", "versions",
                "live", "traffic", "deployment"});
  if (!view.valid()) return service;

  if (auto name = read_name(reader, view, "service")) service.name = std::move(*name);
  if (const auto n = view.get("match")) service.match = read_match(reader, *n, view.path("match"));
  if (const auto n = view.get("api_keys")) {
    if (auto index = reader.choice(*n, view.path("api_keys"), {"required", "optional", "off"})) {
      static constexpr ApiKeyMode kModes[] = {ApiKeyMode::required, ApiKeyMode::optional,
                                              ApiKeyMode::off};
      service.api_keys = kModes[*index];
    }
  }
  if (const auto n = view.get("api_key_source")) {
    if (auto index = reader.choice(*n, view.path("api_key_source"), {"header", "bearer"})) {
      service.api_key_source = *index == 0 ? ApiKeySource::header : ApiKeySource::bearer;
    }
  }
  if (const auto n = view.get("stickiness")) {
    if (auto stickiness = read_stickiness(reader, *n, view.path("stickiness"))) {
      service.stickiness = std::move(*stickiness);
    }
  }
  if (const auto n = view.get("preview")) {
    if (auto index = reader.choice(*n, view.path("preview"), {"keys", "anyone", "off"})) {
      static constexpr PreviewMode kModes[] = {PreviewMode::keys, PreviewMode::anyone,
                                               PreviewMode::off};
      service.preview = kModes[*index];
    }
  }

  // Every version name written, even of versions that failed to parse for another
  // reason, and whether every name could be read: a reference to a version whose name is
  // unreadable is not reported a second time as "names no version".
  std::vector<std::string> declared;
  bool names_complete = false;
  if (const auto n = view.get("versions")) {
    if (auto items = reader.list(*n, view.path("versions"))) {
      names_complete = true;
      for (const auto& item : *items) {
        const YAML::Node name = item.IsMap() ? item["name"] : YAML::Node();
        if (name.IsDefined() && name.IsScalar() && !name.Scalar().empty()) {
          declared.push_back(name.Scalar());
        } else {
          names_complete = false;
        }
      }
      std::unordered_map<std::string, size_t> first_index;  // name → index in `versions`
      if (items->empty()) {
        reader.error(view.path("versions"), *n, "must list at least one version");
        names_complete = false;  // `live` then names nothing; no need to say so twice
      }
      for (size_t i = 0; i < items->size(); ++i) {
        const std::string version_path = index_path(view.path("versions"), i);
        auto version = read_version(reader, (*items)[i], version_path, context);
        if (!version) continue;
        const auto [first, inserted] = first_index.emplace(version->name, i);
        if (!inserted) {
          reader.error(child_path(version_path, "name"), line_of_key((*items)[i], "name"),
                       fmt::format("duplicate version name '{}' (also versions[{}])", version->name,
                                   first->second));
          continue;
        }
        service.versions.push_back(std::move(*version));
      }
    }
  } else if (!view.misspelt("versions")) {
    reader.error(view.path("versions"), view.line(),
                 "is required: at least one version with its upstreams");
  }

  if (const auto n = view.get("live")) {
    if (auto live = reader.non_empty_string(*n, view.path("live"))) {
      service.live = std::string(trim(*live));
      const bool declared_live =
          std::find(declared.begin(), declared.end(), service.live) != declared.end();
      if (!declared_live && names_complete) {
        reader.error(view.path("live"), *n, unknown_version_message(declared, service.live));
      }
    }
  } else if (!view.misspelt("live")) {
    reader.error(view.path("live"), view.line(),
                 service.versions.size() == 1
                     ? fmt::format("is required: the version that serves traffic (live: {})",
                                   service.versions.front().name)
                     : std::string("is required: the version that serves traffic"));
  }

  if (const auto n = view.get("traffic")) {
    read_traffic(reader, *n, view.path("traffic"), declared, names_complete, service);
  }
  service.deployment = read_deployment_defaults(reader, view.get("deployment"),
                                                view.path("deployment"), view.line(), context);
  return service;
}

void check_services(Reader& reader, const std::vector<ServiceConfig>& services,
                    const std::vector<YAML::Node>& nodes, const std::string& path) {
  // Indexes rather than pairwise comparison: a document may hold thousands of services.
  std::unordered_map<std::string_view, size_t> by_name;
  // Route key: path_prefix + '\n' + host ("" for any host) → first service taking it.
  std::unordered_map<std::string, size_t> by_route;
  for (size_t j = 0; j < services.size(); ++j) {
    const ServiceConfig& service = services[j];
    if (!service.name.empty()) {
      const auto [first, inserted] = by_name.emplace(service.name, j);
      if (!inserted) {
        reader.error(child_path(index_path(path, j), "name"), line_of_key(nodes[j], "name"),
                     fmt::format("duplicate service name '{}' (also {})", service.name,
                                 index_path(path, first->second)));
        continue;
      }
    }
    std::vector<std::string> hosts = service.match.hosts;
    if (hosts.empty()) hosts.emplace_back();
    for (const std::string& host : hosts) {
      const auto [first, inserted] = by_route.emplace(service.match.path_prefix + '\n' + host, j);
      if (inserted || first->second == j) continue;
      const ServiceConfig& earlier = services[first->second];
      reader.error(child_path(index_path(path, j), "match"), line_of_key(nodes[j], "match"),
                   fmt::format("same route as {} ('{}'): {} with path_prefix {}; give one of "
                               "them other hosts or another path_prefix",
                               index_path(path, first->second), earlier.name,
                               host.empty() ? std::string("any host") : "host " + host,
                               service.match.path_prefix));
      break;
    }
  }
}

}  // namespace glidepath::config::detail
