#include "config/loader.h"

#include <fmt/format.h>

#include <cerrno>
#include <exception>
#include <fstream>
#include <iterator>
#include <system_error>

#include "config/readers.h"
#include "config/yaml_reader.h"
#include "yaml/guard.h"

namespace glidepath::config {
namespace {

using detail::Diagnostics;
using detail::MapView;
using detail::Reader;

// ---------------------------------------------------------------------------------------
// Top-level sections.

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

GatewayConfig read_gateway(Reader& reader, const YAML::Node& node, const std::string& path,
                           const detail::LoadContext& context) {
  GatewayConfig gateway;
  MapView view(reader, node, path,
               {"listen", "workers", "header_timeout", "request_timeout", "idle_timeout",
                "connect_timeout", "max_header_bytes", "max_body_bytes", "tls", "listeners",
                "websocket_idle_timeout", "websocket_drain"});
  if (const auto n = view.get("listen")) {
    if (auto listen = reader.host_port(*n, view.path("listen"), true)) gateway.listen = *listen;
  }
  if (const auto n = view.get("tls"))
    gateway.tls = detail::read_tls(reader, *n, view.path("tls"), context);
  if (const auto n = view.get("listeners")) {
    gateway.listeners =
        detail::read_listeners(reader, *n, view.path("listeners"), gateway.listen, context);
  }
  if (const auto n = view.get("workers")) {
    if (auto workers = reader.integer(*n, view.path("workers"), 0, 1024)) {
      gateway.workers = static_cast<int>(*workers);
    }
  }
  const std::pair<std::string_view, core::Duration GatewayConfig::*> timeouts[] = {
      {"header_timeout", &GatewayConfig::header_timeout},
      {"request_timeout", &GatewayConfig::request_timeout},
      {"idle_timeout", &GatewayConfig::idle_timeout},
      {"connect_timeout", &GatewayConfig::connect_timeout},
      {"websocket_idle_timeout", &GatewayConfig::websocket_idle_timeout},
  };
  for (const auto& [key, field] : timeouts) {
    const auto n = view.get(key);
    if (!n) continue;
    if (auto timeout = reader.duration(*n, view.path(key))) {
      if (timeout->count() <= 0) {
        reader.error(view.path(key), *n, "must be positive");
      } else {
        gateway.*field = *timeout;
      }
    }
  }
  // Zero is allowed: tunnels close as soon as their version stops receiving traffic.
  if (const auto n = view.get("websocket_drain")) {
    if (auto drain = reader.duration(*n, view.path("websocket_drain"))) {
      gateway.websocket_drain = *drain;
    }
  }
  // Room for a request line and a handful of headers; less would refuse ordinary requests.
  if (const auto n = view.get("max_header_bytes")) {
    if (auto bytes = reader.byte_size(*n, view.path("max_header_bytes"), 1024)) {
      gateway.max_header_bytes = *bytes;
    }
  }
  if (const auto n = view.get("max_body_bytes")) {
    if (auto bytes = reader.byte_size(*n, view.path("max_body_bytes"), 1)) {
      gateway.max_body_bytes = *bytes;
    }
  }
  return gateway;
}

AdminConfig read_admin(Reader& reader, const YAML::Node& node, const std::string& path,
                       const detail::LoadContext& context) {
  AdminConfig admin;
  MapView view(reader, node, path, {"listen", "token", "tls"});
  if (const auto n = view.get("listen")) {
    if (auto listen = reader.host_port(*n, view.path("listen"), true)) admin.listen = *listen;
  }
  if (const auto n = view.get("tls"))
    admin.tls = detail::read_tls(reader, *n, view.path("tls"), context);
  if (const auto n = view.get("token")) {
    if (auto token = reader.string(*n, view.path("token"))) admin.token = *token;
  }
  if (admin.token.empty() && !is_loopback(admin.listen.host)) {
    const auto n = view.get("listen");
    reader.warning(view.path("listen"), n ? *n : node,
                   fmt::format("the admin API listens on {} without a token: anyone who can reach "
                               "it can deploy and roll back (set admin.token)",
                               core::format_host_port(admin.listen)));
  }
  return admin;
}

StoreConfig read_store(Reader& reader, const YAML::Node& node, const std::string& path) {
  StoreConfig store;
  auto text = reader.string(node, path, "sqlite:PATH or a postgres:// URL");
  if (!text) return store;
  const std::string_view value = detail::trim(*text);
  const auto starts_with = [&](std::string_view prefix) {
    return value.substr(0, prefix.size()) == prefix;
  };
  if (starts_with("sqlite:")) {
    std::string_view file = value.substr(7);
    // sqlite:///var/lib/glidepath.db is the URL spelling of /var/lib/glidepath.db.
    if (file.substr(0, 2) == "//") file.remove_prefix(2);
    if (file.empty()) {
      reader.error(path, node, "sqlite: needs a file path, e.g. sqlite:glidepath.db");
      return store;
    }
    store.kind = StoreKind::sqlite;
    store.sqlite_path = std::string(file);
    return store;
  }
  for (std::string_view scheme : {"postgres://", "postgresql://"}) {
    if (!starts_with(scheme)) continue;
    if (value.size() == scheme.size()) {
      reader.error(path, node, "a postgres URL needs a host, e.g. postgres://user@host:5432/db");
      return store;
    }
    store.kind = StoreKind::postgres;
    store.postgres_url = std::string(value);
    return store;
  }
  std::string message = fmt::format(
      "must be sqlite:PATH or a postgres://user@host:5432/db URL; got '{}'", value.substr(0, 80));
  if (!value.empty() && value.find(':') == std::string_view::npos) {
    message += fmt::format(" (did you mean 'sqlite:{}'?)", value.substr(0, 80));
  }
  reader.error(path, node, std::move(message));
  return store;
}

std::vector<ServiceConfig> read_services(Reader& reader, const MapView& root,
                                         const detail::LoadContext& context) {
  std::vector<ServiceConfig> services;
  const auto node = root.get("services");
  if (!node) {
    reader.error("services", 0, "at least one service is required");
    return services;
  }
  auto items = reader.list(*node, "services");
  if (!items) return services;
  if (items->empty()) {
    reader.error("services", *node, "at least one service is required");
    return services;
  }
  for (size_t i = 0; i < items->size(); ++i) {
    services.push_back(
        read_service(reader, (*items)[i], detail::index_path("services", i), context));
  }
  check_services(reader, services, *items, "services");
  return services;
}

void read_document(std::string_view text, const EnvLookup& env, const detail::LoadContext& context,
                   Diagnostics& diagnostics, Config& config) {
  if (text.size() > kMaxConfigBytes) {
    diagnostics.error("", 0,
                      fmt::format("the config is larger than {} bytes; that is more than any "
                                  "config needs",
                                  kMaxConfigBytes));
    return;
  }
  // yaml/guard.h: nesting (estimated from the text first), runaway parses, a second
  // document.
  yaml::Guarded guarded = yaml::load_guarded(
      text, yaml::GuardLimits{.max_depth = kMaxNestingDepth, .estimate_from_text = true});
  if (guarded.error) {
    diagnostics.error("", guarded.error->line, std::move(guarded.error->message));
    return;
  }
  YAML::Node root = guarded.root;
  // An empty file is an empty mapping: every section defaults, and services is missing.
  if (!root.IsDefined() || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  Reader reader(env, diagnostics);
  if (!root.IsMap()) {
    reader.error("", root,
                 fmt::format("expected a mapping with gateway, admin, store and services at the "
                             "top level, got {}",
                             detail::describe_node(root)));
    return;
  }
  MapView view(reader, root, "", {"gateway", "admin", "store", "services"});
  if (const auto n = view.get("gateway"))
    config.gateway = read_gateway(reader, *n, "gateway", context);
  if (const auto n = view.get("admin")) config.admin = read_admin(reader, *n, "admin", context);
  if (const auto n = view.get("store")) config.store = read_store(reader, *n, "store");
  config.services = read_services(reader, view, context);

  if (config.admin.listen == config.gateway.listen && config.admin.listen.port != 0) {
    reader.error("admin.listen", view.get("admin") ? detail::line_of(*view.get("admin")) : 0,
                 fmt::format("must differ from gateway.listen ({})",
                             core::format_host_port(config.gateway.listen)));
  }
  for (const ListenerConfig& listener : config.gateway.listeners) {
    if (config.admin.listen == listener.listen && listener.listen.port != 0) {
      reader.error("admin.listen", view.get("admin") ? detail::line_of(*view.get("admin")) : 0,
                   fmt::format("must differ from the gateway's listener {}",
                               core::format_host_port(listener.listen)));
    }
  }
}

LoadResult load(std::string_view text, const EnvLookup& env, const detail::LoadContext& context) {
  Diagnostics diagnostics;
  auto config = std::make_shared<Config>();
  // Nothing below is meant to throw; this is the last line so that no input, and no
  // surprise from yaml-cpp, escapes as an exception (the loader's promise).
  try {
    read_document(text, env, context, diagnostics, *config);
  } catch (const std::exception& e) {
    diagnostics.error("", 0, fmt::format("internal error while reading the config: {}", e.what()));
  } catch (...) {
    diagnostics.error("", 0, "internal error while reading the config");
  }
  LoadResult result;
  result.warnings = diagnostics.take_warnings();
  if (diagnostics.has_errors()) {
    result.errors = diagnostics.take_errors();
  } else {
    result.config = std::move(config);
  }
  return result;
}

}  // namespace

LoadResult load_config(std::string_view yaml_text, const EnvLookup& env) {
  return load(yaml_text, env, detail::LoadContext{});
}

LoadResult load_config_file(const std::string& path, const EnvLookup& env) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    LoadResult result;
    result.errors.push_back({"", fmt::format("cannot read {}: it is a directory", path), 0});
    return result;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult result;
    result.errors.push_back({"",
                             fmt::format("cannot read {}: {}", path,
                                         std::error_code(errno, std::generic_category()).message()),
                             0});
    return result;
  }
  std::string text;
  char buffer[64 * 1024];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxConfigBytes) break;  // load() reports the size
  }
  if (in.bad()) {
    LoadResult result;
    result.errors.push_back({"", fmt::format("cannot read {}", path), 0});
    return result;
  }
  detail::LoadContext context;
  const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  context.base_dir = (ec ? std::filesystem::path(path) : absolute).parent_path();
  return load(text, env, context);
}

std::string format_error(const ConfigError& error, std::string_view file) {
  std::string out(file);
  if (error.line > 0) out += fmt::format(":{}", error.line);
  out += ": ";
  if (!error.path.empty()) {
    out += error.path;
    out += ": ";
  }
  out += error.message;
  return out;
}

}  // namespace glidepath::config
