// Internal to the config module: the schema of each part of the document (SPEC section 2),
// read with detail::Reader so that every problem is reported with its path and line.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "config/config.h"
#include "config/yaml_reader.h"

namespace glidepath::config::detail {

struct LoadContext {
  // The config file's directory, when loading a file: relative version `spec` paths and
  // hook files (ca_file, client_cert, client_key) are resolved against it and must exist.
  std::optional<std::filesystem::path> base_dir;
};

// One entry of `services`. Problems are reported through `reader`; the returned value
// holds whatever could be read (callers discard it when the document has errors).
ServiceConfig read_service(Reader& reader, const YAML::Node& node, const std::string& path,
                           const LoadContext& context);

// A service's `deployment` section (the node may be absent: all defaults).
DeploymentDefaults read_deployment_defaults(Reader& reader, const std::optional<YAML::Node>& node,
                                            const std::string& path, int service_line,
                                            const LoadContext& context);

// A path to a file the server reads (a certificate, a key, a CA bundle): relative to the
// config file's directory when loading a file, and then it must exist ("no such file").
std::optional<std::string> read_existing_file(Reader& reader, const YAML::Node& node,
                                              const std::string& path, const LoadContext& context);

// A listener's `tls` section (gateway, gateway.listeners[i], admin); nullopt when it has
// errors (reported).
std::optional<TlsConfig> read_tls(Reader& reader, const YAML::Node& node, const std::string& path,
                                  const LoadContext& context);
// `gateway.listeners`: the listeners beside gateway.listen (`gateway_listen`), each on an
// address of its own.
std::vector<ListenerConfig> read_listeners(Reader& reader, const YAML::Node& node,
                                           const std::string& path,
                                           const core::HostPort& gateway_listen,
                                           const LoadContext& context);

// Checks across services: names and routes must be unique.
void check_services(Reader& reader, const std::vector<ServiceConfig>& services,
                    const std::vector<YAML::Node>& nodes, const std::string& path);

}  // namespace glidepath::config::detail
