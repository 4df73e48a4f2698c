// The data plane: worker threads that accept client connections and proxy them to the
// versions' upstreams (SPEC section 4). No Asio in this header, so the rest of the
// program stays quick to compile; the event loops live in gateway.cpp and worker.cpp.
//
// Threading (STYLE.md habit 2, after Envoy's workers): each worker has its own event
// loop, its own SO_REUSEPORT listening socket, its own upstream connection pools, its own
// metrics recorder and its own pointer to the current routing snapshot. A connection
// belongs to one worker for its whole life, so nothing on the request path is shared
// between threads. publish() hands a new snapshot to every worker's loop; a request in
// flight finishes on the snapshot it started with.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "access/usage.h"
#include "core/result.h"
#include "core/units.h"
#include "gateway/routing.h"

namespace glidepath::metrics {
class WorkerRecorder;
class SeriesRegistry;
}  // namespace glidepath::metrics

namespace glidepath::tls {
class ServerContext;
}

namespace glidepath::gateway {

// One address the gateway accepts clients on.
struct ListenerOptions {
  core::HostPort listen{"127.0.0.1", 8080};  // port 0 picks a free port (tests)
  // Set: the listener speaks TLS only, with this context (replaceable with set_tls()).
  std::shared_ptr<const tls::ServerContext> tls;
  // Non-zero: a plain listener that answers every request with a 308 to
  // https://HOST:redirect_https_port/TARGET (":443" left out).
  uint16_t redirect_https_port = 0;
};

// TLS handshakes completed per protocol version and cipher, and those that failed.
struct TlsHandshakeCount {
  std::string version;  // "1.2", "1.3"
  std::string cipher;   // OpenSSL's name, e.g. TLS_AES_128_GCM_SHA256
  uint64_t count = 0;
};

struct GatewayOptions {
  // The first listener; listeners() = this one, then `more_listeners`.
  core::HostPort listen{"127.0.0.1", 8080};  // port 0 picks a free port (tests)
  std::shared_ptr<const tls::ServerContext> tls;
  std::vector<ListenerOptions> more_listeners;
  int workers = 0;  // 0 = one per CPU this process may run on
  core::Duration header_timeout = std::chrono::seconds(10);
  core::Duration request_timeout = std::chrono::seconds(30);
  core::Duration idle_timeout = std::chrono::seconds(60);
  core::Duration connect_timeout = std::chrono::seconds(5);
  uint64_t max_header_bytes = 16384;
  uint64_t max_body_bytes = 10485760;
  size_t max_series = 4096;  // must match the SeriesRegistry's capacity
  // A WebSocket tunnel without a byte either way for this long is closed.
  core::Duration websocket_idle_timeout = std::chrono::seconds(300);
  // Tunnels to a version that stops receiving traffic (a new snapshot in which it has no
  // weight and is not live, after one in which it had or was) close this long after.
  core::Duration websocket_drain = std::chrono::seconds(5);
};

struct GatewayStats {
  uint64_t connections_accepted = 0;
  uint64_t requests = 0;
  uint64_t gateway_errors = 0;  // responses the gateway made itself (4xx/5xx)
  uint64_t upstream_connects = 0;
  uint64_t snapshot_generation = 0;  // the oldest generation any worker still routes with
  std::vector<TlsHandshakeCount> tls_handshakes;
  uint64_t tls_handshake_failures = 0;  // refused, broken or timed out before the first request
  // Open WebSocket tunnels by series (service × version), for the series with any open.
  std::vector<std::pair<metrics::SeriesId, uint64_t>> websocket_tunnels;
};

// WebSocket tunnels a drain closed: their version stopped receiving traffic and they were
// still open websocket_drain later.
struct DrainedTunnels {
  std::string service;
  std::string version;
  uint64_t closed = 0;
};

class Gateway {
 public:
  // Binds the listener on every worker and starts the threads. Fails (with the reason)
  // when the address cannot be bound.
  static core::Result<std::unique_ptr<Gateway>> start(const GatewayOptions& options,
                                                      std::shared_ptr<const Snapshot> snapshot);
  ~Gateway();  // stop() if still running
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Hands `snapshot` to every worker and waits until each has adopted it (or `timeout`
  // passed): returns true when every worker routes with it. Requests already in flight
  // finish on the snapshot they started with; none is failed or dropped.
  bool publish(std::shared_ptr<const Snapshot> snapshot,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));

  // Replaces listener `listener`'s TLS context for new handshakes; connections already
  // open keep the one they started with. Returns once every worker has it (or `timeout`).
  bool set_tls(size_t listener, std::shared_ptr<const tls::ServerContext> context,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));

  uint16_t port() const;  // the first listener's bound port
  uint16_t port(size_t listener) const;
  size_t listener_count() const;
  int worker_count() const;
  // One recorder per worker, for the metrics collector; they live as long as the Gateway.
  std::vector<const metrics::WorkerRecorder*> recorders() const;
  GatewayStats stats() const;

  // Takes what every worker recorded since the last call: requests per consumer × series
  // × operation × status class × minute (SPEC section 5). Each worker hands its table
  // over on its own event loop, so recording never waits for this; a worker that does not
  // answer within `timeout` keeps its records for the next call. After stop() the tables
  // are read directly (the final flush).
  std::vector<access::UsageDelta> drain_usage(
      std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));

  // The tunnels drains closed since the last call, per version, summed over the workers;
  // a version is reported once every tunnel its drain concerned has closed (by the drain,
  // or by itself first). Versions whose tunnels all ended by themselves are not reported.
  // For the event log: the gateway knows versions, not deployments.
  std::vector<DrainedTunnels> take_drained_tunnels();

  // Stops accepting, lets requests in flight finish for up to `grace`, then closes
  // everything and joins the threads. WebSocket tunnels go last: they stay open for the
  // whole grace period (unless they end by themselves), then close with the rest.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

  struct Impl;

 private:
  explicit Gateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// How many CPUs this process may run on (sched_getaffinity), at least 1.
int usable_cpus();

}  // namespace glidepath::gateway
