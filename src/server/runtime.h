// `glidepath serve`: the process that wires the modules together — config, store,
// routing snapshot, gateway workers, metrics collection and the admin API. Each module
// does its own job; this one only connects them and owns their lifetimes. The deployment
// controller joins here next (it publishes snapshots through the same path).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "config/config.h"
#include "core/result.h"

namespace glidepath::controller {
class Controller;
}

namespace glidepath::server {

class Runtime {
 public:
  // Opens the store, builds the first snapshot, starts the gateway workers, the metrics
  // collector and the admin listener. Any failure (a port in use, an unreadable store)
  // is returned, and whatever had started is stopped again.
  static core::Result<std::unique_ptr<Runtime>> start(std::shared_ptr<const config::Config> config);
  ~Runtime();

  uint16_t gateway_port() const;
  uint16_t admin_port() const;
  // For in-process drivers (the demo): the same controller the admin API uses.
  controller::Controller& controller();
  // Stops accepting, lets requests in flight finish, then stops everything.
  void stop();

  struct Impl;

 private:
  explicit Runtime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace glidepath::server
