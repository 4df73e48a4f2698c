// `glidepath serve`: the process that wires the modules together — config, store, the
// routing publisher, gateway workers, metrics collection, the controller, the admin API
// and, in a fleet, the fleet's sync. Each of those owns its own state and is tested on
// its own; this one only constructs them, owns the threads that drive them and stops them
// in order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "config/config.h"
#include "core/result.h"

namespace glidepath::controller {
class Controller;
}

namespace glidepath::serve {

// What a process of a fleet runs (SPEC section 9, `serve --role`). A single machine runs
// everything; a fleet on PostgreSQL splits the gateways, which serve traffic from the
// routing they read from the database, from the controllers, one of which (the holder
// of an advisory lock) drives deployments while the others stand by.
enum class Role { all, gateway, controller };
const char* to_string(Role role);

struct RuntimeOptions {
  Role role = Role::all;
  // This process's name in the fleet (its metric windows carry it); empty: host:port.
  std::string name;
};

class Runtime {
 public:
  // Opens the store, builds the first snapshot, starts the gateway workers, the metrics
  // collector and the admin listener — and, in a fleet, the change listener and the
  // leader election. Any failure (a port in use, an unreadable store, a fleet role on a
  // SQLite store) is returned, and whatever had started is stopped again.
  static core::Result<std::unique_ptr<Runtime>> start(std::shared_ptr<const config::Config> config,
                                                      RuntimeOptions options = {});
  ~Runtime();

  // 0 when this process runs no gateway (--role controller). `listener` counts
  // gateway.listen as 0, then gateway.listeners.
  uint16_t gateway_port(size_t listener = 0) const;
  uint16_t admin_port() const;
  // For in-process drivers (the demo): the same controller the admin API uses.
  controller::Controller& controller();
  // Reloads every TLS listener's certificate and key from their files (SIGHUP); a pair
  // that does not load is refused and the old one stays.
  void reload_tls();
  // Stops accepting, lets requests in flight finish, then stops everything.
  void stop();

  struct Impl;

 private:
  explicit Runtime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace glidepath::serve
