// The `tls:` section of a listener (gateway, extra gateway listeners, admin) and the
// gateway's `listeners:`. Only the shape is checked here, and that the files exist; whether
// they hold a usable certificate and key is checked by tls::ServerContext::load when
// `serve` starts and by `glidepath validate`.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "config/readers.h"

namespace glidepath::config::detail {
namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// A server name as SNI carries it: letters, digits, '-' and '.', with at most a leading
// "*." wildcard label.
bool valid_host_pattern(std::string_view host) {
  if (host.starts_with("*.")) host.remove_prefix(2);
  if (host.empty() || host.size() > 253) return false;
  // Labels of 1 to 63 letters, digits and '-' (RFC 1035 2.3.4), so no empty one: "a..b",
  // ".a" and "a." are refused.
  size_t label = 0;
  for (char c : host) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-') {
      if (++label > 63) return false;
    } else {
      return false;
    }
  }
  return label != 0;
}

std::optional<TlsCertificate> read_certificate(Reader& reader, const YAML::Node& node,
                                               const std::string& path,
                                               const LoadContext& context) {
  MapView view(reader, node, path, {"cert", "key", "hosts"});
  if (!view.valid()) return std::nullopt;
  TlsCertificate certificate;
  bool complete = true;
  for (const auto& [key, field] :
       {std::pair{"cert", &TlsCertificate::cert}, std::pair{"key", &TlsCertificate::key}}) {
    if (const auto n = view.get(key)) {
      if (auto file = read_existing_file(reader, *n, view.path(key), context)) {
        certificate.*field = *file;
      } else {
        complete = false;
      }
    } else {
      if (!view.misspelt(key)) {
        reader.error(view.path(key), view.line(),
                     std::string(key) == "cert"
                         ? "is required: a PEM file with the certificate (and its chain)"
                         : "is required: a PEM file with the certificate's private key");
      }
      complete = false;
    }
  }
  if (const auto n = view.get("hosts")) {
    if (auto list = reader.list(*n, view.path("hosts"))) {
      for (size_t i = 0; i < list->size(); ++i) {
        const std::string item_path = index_path(view.path("hosts"), i);
        auto host = reader.non_empty_string((*list)[i], item_path);
        if (!host) {
          complete = false;
          continue;
        }
        if (!valid_host_pattern(*host)) {
          reader.error(item_path, (*list)[i],
                       fmt::format("'{}' is not a server name (e.g. api.example.com or "
                                   "*.example.com)",
                                   *host));
          complete = false;
          continue;
        }
        certificate.hosts.push_back(lower(*host));
      }
    } else {
      complete = false;
    }
  }
  if (!complete) return std::nullopt;
  return certificate;
}

}  // namespace

std::optional<std::string> read_existing_file(Reader& reader, const YAML::Node& node,
                                              const std::string& path, const LoadContext& context) {
  auto text = reader.non_empty_string(node, path);
  if (!text) return std::nullopt;
  std::filesystem::path file(*text);
  if (context.base_dir && file.is_relative()) file = *context.base_dir / file;
  if (context.base_dir) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {
      reader.error(path, node, fmt::format("no such file: {}", file.lexically_normal().string()));
      return std::nullopt;
    }
  }
  return file.lexically_normal().string();
}

std::optional<TlsConfig> read_tls(Reader& reader, const YAML::Node& node, const std::string& path,
                                  const LoadContext& context) {
  MapView view(reader, node, path,
               {"certificates", "min_version", "alpn", "session_tickets", "ticket_key_rotation"});
  if (!view.valid()) return std::nullopt;
  TlsConfig tls;
  bool complete = true;
  if (const auto n = view.get("certificates")) {
    if (auto list = reader.list(*n, view.path("certificates"))) {
      if (list->empty()) {
        reader.error(view.path("certificates"), *n, "needs at least one {cert, key}");
        complete = false;
      }
      for (size_t i = 0; i < list->size(); ++i) {
        auto certificate =
            read_certificate(reader, (*list)[i], index_path(view.path("certificates"), i), context);
        if (certificate) {
          tls.certificates.push_back(std::move(*certificate));
        } else {
          complete = false;
        }
      }
    } else {
      complete = false;
    }
  } else {
    if (!view.misspelt("certificates")) {
      reader.error(view.path("certificates"), view.line(),
                   "is required: [{cert: FILE, key: FILE}] (PEM files)");
    }
    complete = false;
  }
  if (const auto n = view.get("min_version")) {
    // "1.2" and 1.2 alike: YAML reads an unquoted 1.2 as a number, whose text is the same.
    if (auto index = reader.choice(*n, view.path("min_version"), {"1.2", "1.3"})) {
      tls.min_version = *index == 0 ? TlsVersion::tls1_2 : TlsVersion::tls1_3;
    } else {
      complete = false;
    }
  }
  if (const auto n = view.get("alpn")) {
    if (auto list = reader.list(*n, view.path("alpn"))) {
      tls.alpn.clear();
      for (size_t i = 0; i < list->size(); ++i) {
        const std::string item_path = index_path(view.path("alpn"), i);
        auto protocol = reader.non_empty_string((*list)[i], item_path);
        if (!protocol) {
          complete = false;
        } else if (*protocol == "h2") {
          reader.error(item_path, (*list)[i],
                       "HTTP/2 is not served yet: offer http/1.1 only (the default)");
          complete = false;
        } else if (*protocol != "http/1.1") {
          reader.error(
              item_path, (*list)[i],
              fmt::format("unknown protocol '{}': the gateway speaks http/1.1", *protocol));
          complete = false;
        } else {
          tls.alpn.push_back(*protocol);
        }
      }
      if (tls.alpn.empty() && complete) {
        reader.error(view.path("alpn"), *n, "needs at least one protocol, e.g. [http/1.1]");
        complete = false;
      }
    } else {
      complete = false;
    }
  }
  if (const auto n = view.get("session_tickets")) {
    if (auto on = reader.boolean(*n, view.path("session_tickets"))) {
      tls.session_tickets = *on;
    } else {
      complete = false;
    }
  }
  if (const auto n = view.get("ticket_key_rotation")) {
    if (auto every = reader.duration(*n, view.path("ticket_key_rotation"))) {
      if (*every < std::chrono::minutes(1) || *every > std::chrono::hours(24 * 7)) {
        reader.error(view.path("ticket_key_rotation"), *n, "must be between 1m and 168h");
        complete = false;
      } else {
        tls.ticket_key_rotation = *every;
      }
    } else {
      complete = false;
    }
  }
  if (!complete) return std::nullopt;
  return tls;
}

std::vector<ListenerConfig> read_listeners(Reader& reader, const YAML::Node& node,
                                           const std::string& path,
                                           const core::HostPort& gateway_listen,
                                           const LoadContext& context) {
  std::vector<ListenerConfig> listeners;
  auto list = reader.list(node, path);
  if (!list) return listeners;
  std::vector<core::HostPort> addresses;  // of every item so far, complete or not
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string item_path = index_path(path, i);
    MapView view(reader, (*list)[i], item_path, {"listen", "tls", "redirect_https"});
    if (!view.valid()) continue;
    ListenerConfig listener;
    bool complete = true;
    if (const auto n = view.get("listen")) {
      if (auto listen = reader.host_port(*n, view.path("listen"), true)) {
        listener.listen = *listen;
        // Port 0 picks a free port each time: never the same address twice.
        if (listen->port != 0 && *listen == gateway_listen) {
          reader.error(
              view.path("listen"), *n,
              fmt::format("{} is gateway.listen already", core::format_host_port(*listen)));
          complete = false;
        } else if (listen->port != 0 &&
                   std::find(addresses.begin(), addresses.end(), *listen) != addresses.end()) {
          reader.error(view.path("listen"), *n,
                       fmt::format("{} is listed twice", core::format_host_port(*listen)));
          complete = false;
        }
        addresses.push_back(*listen);
      } else {
        complete = false;
      }
    } else {
      if (!view.misspelt("listen")) {
        reader.error(view.path("listen"), view.line(), "is required: HOST:PORT");
      }
      complete = false;
    }
    if (const auto n = view.get("tls")) {
      if (auto tls = read_tls(reader, *n, view.path("tls"), context)) {
        listener.tls = std::move(*tls);
      } else {
        complete = false;
      }
    }
    if (const auto n = view.get("redirect_https")) {
      // The port clients are sent to; 443 drops out of the Location header.
      if (auto port = reader.integer(*n, view.path("redirect_https"), 1, 65535)) {
        listener.redirect_https_port = static_cast<uint16_t>(*port);
      } else {
        complete = false;
      }
      if (listener.tls) {
        reader.error(view.path("redirect_https"), *n,
                     "is for a plain listener: a TLS listener serves HTTPS itself");
        complete = false;
      }
    }
    if (complete) listeners.push_back(std::move(listener));
  }
  return listeners;
}

}  // namespace glidepath::config::detail
