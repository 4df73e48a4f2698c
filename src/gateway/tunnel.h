// Internal: a WebSocket tunnel (RFC 6455, after the opening handshake). When an upstream
// accepts an upgrade with 101, the ClientConnection that carried it hands over both
// connections and its two buffers, and from then on bytes are copied both ways without
// being read: no frame is parsed, so extensions (permessage-deflate) and subprotocols
// pass untouched.
//
// Each direction has one 16 KiB buffer and is read into again only once the write of what
// it held has completed: a slow reader holds its writer back through TCP's own flow
// control, and the gateway never buffers more than the two buffers.
//
// The tunnel ends when both sides have finished: a FIN from one side is passed on as a
// FIN to the other, whose direction goes on until it ends too. Over TLS, whose half-close
// Asio does not offer, the upstream's end ends the tunnel at once, with a close_notify so
// the client sees a clean end. It also ends, abruptly, on an error, after
// websocket_idle_timeout without a byte either way, when a drain closes it (its version
// stopped receiving traffic), and at the end of a graceful stop's grace period.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "gateway/transport.h"
#include "gateway/worker.h"

namespace glidepath::gateway::detail {

// What a tunnel is made of, taken from the ClientConnection that carried the upgrade.
struct TunnelEnds {
  ClientTransport client;
  std::unique_ptr<UpstreamConnection> upstream;
  // kBufferBytes each. Client bytes that came after the upgrade request, before the 101
  // (a client may send its first frames at once), wait in to_upstream at
  // [early_begin, early_end) and go up first.
  std::unique_ptr<char[]> to_upstream;
  size_t early_begin = 0;
  size_t early_end = 0;
  std::unique_ptr<char[]> to_client;
};

// The version the upgrade chose: the gauge's series, and the names a drain reports.
struct TunnelVersion {
  std::string service;
  std::string version;
  metrics::SeriesId series = 0;
};

class Tunnel : public std::enable_shared_from_this<Tunnel> {
 public:
  Tunnel(Worker& worker, TunnelEnds ends, TunnelVersion version);
  ~Tunnel();
  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;

  void start();
  // Called by the worker's sweeper about ten times a second: closes an idle tunnel, and
  // one whose drain is due.
  void check_deadline(int64_t now_ms);
  // Its version stopped receiving traffic: the tunnel closes at `at_ms` (steady_ms), unless
  // cancel_drain() comes first. A second call keeps the first deadline.
  void drain_at(int64_t at_ms);
  void cancel_drain();
  void close();

  const TunnelVersion& version() const { return version_; }

 private:
  enum class Drain { none, pending, done };

  // Client → upstream.
  void read_client();
  void write_upstream(size_t begin, size_t size);
  void client_finished(const boost::system::error_code& ec);
  // Upstream → client.
  void read_upstream();
  void write_client(size_t size);
  void upstream_finished(const boost::system::error_code& ec);
  void shutdown_tls();  // the upstream ended a TLS client's tunnel

  void touch();  // a byte moved: the idle deadline starts again
  void end_drain(bool by_drain);

  Worker& worker_;
  TunnelEnds ends_;
  const TunnelVersion version_;
  asio::const_buffer client_write_;  // of the write to the client in flight
  int64_t idle_deadline_ms_ = 0;
  int64_t drain_deadline_ms_ = 0;
  Drain drain_ = Drain::none;
  bool client_read_pending_ = false;
  bool client_done_ = false;    // the client sent its FIN (passed on to the upstream)
  bool upstream_done_ = false;  // the upstream sent its FIN (passed on to the client)
  bool tls_shutdown_ = false;   // the close_notify exchange that ends a TLS tunnel is under way
  bool closed_ = false;
};

}  // namespace glidepath::gateway::detail
