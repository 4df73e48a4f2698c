// The TLS listeners of one `serve` process: one tls::Reloader per listener that has `tls:`
// (the gateway's and the admin API's), loaded before that listener starts and checked
// once a second (and on SIGHUP) afterwards. A reloaded certificate goes to the listener
// for new handshakes; a refused one is logged, recorded as a `tls` event of the reserved
// service `_gateway`, and shown by /healthz until a good pair replaces it.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "admin/http_server.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"
#include "gateway/gateway.h"
#include "tls/reloader.h"

namespace glidepath::serve {

// The service name of events that belong to the gateway rather than to a service. No
// service can have it: names start with a letter or digit.
inline constexpr std::string_view kGatewayEventService = "_gateway";

class TlsListeners {
 public:
  // Loads every TLS listener's certificates and puts the contexts into `options` (the
  // first listener's, then options.more_listeners' by position). Fails, naming the
  // listener and the file, when one does not load.
  core::Result<void> load_gateway(const config::Config& config, gateway::GatewayOptions& options,
                                  core::TimePoint now);
  // admin.tls into `options`, when set.
  core::Result<void> load_admin(const config::Config& config, admin::ServerOptions& options,
                                core::TimePoint now);

  bool empty() const { return reloaders_.empty(); }

  // Checks every listener's files (or reloads them all when `force`), hands new contexts
  // to the listener (`gateway` or `admin`, either may be null), prints each reload or
  // refusal to stderr, and returns what it printed (for the event log).
  std::vector<std::string> check(bool force, gateway::Gateway* gateway, admin::HttpServer* admin,
                                 core::TimePoint now);

  // What is in force: a reload in progress shows once every listener has its new context
  // (check() and status() take one lock), so /healthz never names a certificate that new
  // handshakes do not get yet.
  std::vector<tls::Reloader::Status> status() const;

 private:
  static constexpr size_t kAdmin = SIZE_MAX;
  core::Result<std::shared_ptr<const tls::ServerContext>> add(size_t listener, std::string name,
                                                              const config::TlsConfig& tls,
                                                              core::TimePoint now);

  struct Entry {
    size_t listener = 0;  // the gateway's listener index, or kAdmin
    std::unique_ptr<tls::Reloader> reloader;
  };
  std::vector<Entry> reloaders_;
  mutable std::mutex mutex_;  // check() against status(); never on the request path
};

}  // namespace glidepath::serve
