// Internal to the gateway module: a worker's event loop, its connections and upstream
// pools. Only gateway.cpp and worker.cpp include this header (it pulls in Asio).
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "access/operations.h"
#include "access/usage.h"
#include "core/result.h"
#include "gateway/gateway.h"
#include "gateway/routing.h"
#include "metrics/worker_recorder.h"

namespace glidepath::gateway::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A snapshot with its upstream addresses resolved (on the publishing thread, so no
// worker ever blocks in getaddrinfo).
struct ResolvedSnapshot {
  std::shared_ptr<const Snapshot> routes;
  std::vector<tcp::endpoint> endpoints;  // index = Snapshot::upstreams index
};

// Milliseconds of the coarse monotonic clock (a few ms resolution, a quarter of the cost
// of a precise read): deadlines, idle ages and down marks, all checked by a sweeper that
// runs every 100 ms anyway.
int64_t steady_ms();
// Microseconds of the precise monotonic clock: latencies.
int64_t steady_us();
// Microseconds since the epoch, from the coarse wall clock: the second a request is
// counted in and the time its usage is recorded at.
int64_t coarse_epoch_us();

class Worker;
class ClientConnection;
class Tunnel;

// Each read buffer of a client connection (its input, its upstream's input): what a
// message is parsed from, and what a WebSocket tunnel then copies through per direction.
inline constexpr size_t kBufferBytes = 16 * 1024;

// One keep-alive connection to an upstream, owned by the exchange using it or, while
// idle, by its pool.
struct UpstreamConnection {
  explicit UpstreamConnection(asio::io_context& io) : socket(io) {}
  tcp::socket socket;
  struct UpstreamPool* pool = nullptr;  // pools live as long as their worker
  int64_t idle_since_ms = 0;
  bool reused = false;  // taken from the pool rather than freshly connected
};

// The idle connections of one worker to one upstream address.
struct UpstreamPool {
  tcp::endpoint endpoint;
  std::vector<std::unique_ptr<UpstreamConnection>> idle;
  int64_t down_until_ms = 0;  // refused recently: try the other upstreams first
};

// One listening socket of a worker (each worker has its own for every listener).
struct Listener {
  explicit Listener(asio::io_context& io) : acceptor(io) {}
  size_t index = 0;  // in Gateway's listener order
  tcp::acceptor acceptor;
  std::shared_ptr<const tls::ServerContext> tls;  // null: plain
  std::unique_ptr<asio::ssl::context> ssl;        // wraps tls's handshake context
  uint16_t redirect_https_port = 0;
};

// TLS handshakes this worker completed, by version and cipher (relaxed atomics: written
// by the worker, read by the stats).
struct TlsCounters {
  static constexpr size_t kCiphers = 10;  // tls::negotiable_ciphers(), then "other"
  std::array<std::array<std::atomic<uint64_t>, kCiphers>, 2> completed{};  // [0] 1.2, [1] 1.3
  std::atomic<uint64_t> failures{0};
  void count(std::string_view version, std::string_view cipher);
};

// The drains of WebSocket tunnels (a version stopped receiving traffic), counted per
// version across the workers: each worker adds the tunnels it schedules and how each one
// ended, and the gateway takes the versions whose drains are over. A mutex, taken only
// when a snapshot retires a version that has tunnels open and when such a tunnel ends:
// never on the request path.
class TunnelDrains {
 public:
  void scheduled(const std::string& service, const std::string& version);
  // A scheduled tunnel ended: `by_drain` when the drain closed it, else it closed by
  // itself first or its version receives traffic again.
  void ended(const std::string& service, const std::string& version, bool by_drain);
  // The versions with no drain pending any more that closed at least one tunnel; each
  // version's count is reported once.
  std::vector<DrainedTunnels> take();

 private:
  struct Counts {
    uint64_t pending = 0;
    uint64_t closed = 0;
  };
  std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, Counts> by_version_;
};

class Worker {
 public:
  Worker(int index, const GatewayOptions& options, TunnelDrains& drains);
  ~Worker();

  // Opens this worker's listening socket (SO_REUSEPORT) for `options` on `endpoint`;
  // returns the port. Called in listener order, before run().
  core::Result<uint16_t> listen(const ListenerOptions& options, const tcp::endpoint& endpoint);
  void run();  // the thread's body: the event loop until stopped

  // ---- from other threads, through post() ----
  void adopt(std::shared_ptr<const ResolvedSnapshot> snapshot);  // on the worker's thread
  void set_tls(size_t listener, std::shared_ptr<const tls::ServerContext> context);
  // Stop accepting; idle connections close, busy ones after their exchange. Tunnels stay
  // open: they close last, with force_stop at the end of the grace period.
  void begin_stop();
  void force_stop();  // close everything; the loop ends

  // ---- for connections (worker thread only) ----
  const GatewayOptions& options() const { return options_; }
  asio::io_context& io() { return io_; }
  const std::shared_ptr<const ResolvedSnapshot>& snapshot() const { return snapshot_; }
  metrics::WorkerRecorder& recorder() { return recorder_; }
  access::UsageTable& usage() { return usage_; }
  // The interned id of a request's operation (usage naming, SPEC section 5).
  uint32_t operation_id(std::string_view method, std::string_view path,
                        const access::OperationMatcher* matcher) {
    access::operation_of(method, path, matcher, operation_scratch_, operation_text_);
    return usage_.intern_operation(operation_text_);
  }
  UpstreamPool& pool(uint32_t index) { return *pool_by_index_[index]; }
  uint32_t next_round_robin(metrics::SeriesId series);
  uint64_t random();
  bool stopping() const { return stopping_; }
  void add(ClientConnection* connection) {
    connections_.insert(connection);
    count_open();
  }
  void remove(ClientConnection* connection);
  void release_upstream(std::unique_ptr<UpstreamConnection> connection);
  void count_request(bool gateway_error);
  // Tunnels: tracked from the 101 until they are destroyed; counted in the gauge until
  // they close.
  void add(Tunnel* tunnel);
  void remove(Tunnel* tunnel);
  void tunnel_closed(metrics::SeriesId series);
  TunnelDrains& drains() { return drains_; }

  // ---- from any thread ----
  // The WebSocket tunnels open to a series on this worker.
  uint64_t open_tunnels(metrics::SeriesId series) const {
    return series < options_.max_series ? tunnels_by_series_[series].load(std::memory_order_relaxed)
                                        : 0;
  }

  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> gateway_errors{0};
  std::atomic<uint64_t> upstream_connects{0};
  std::atomic<uint64_t> generation{0};
  std::atomic<size_t> open_connections{0};  // client connections, tunnels included
  TlsCounters tls_counters;

 private:
  void accept(Listener& listener);
  void sweep();
  void count_open();
  // Tunnels whose version `now` stopped routing to (it was live or had weight in
  // `before`) close websocket_drain from now; a drain is called off when its version
  // receives traffic again.
  void drain_tunnels(const Snapshot& before, const Snapshot& now);
  std::vector<std::shared_ptr<ClientConnection>> live_connections() const;
  std::vector<std::shared_ptr<Tunnel>> live_tunnels() const;

  const int index_;
  const GatewayOptions& options_;
  asio::io_context io_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  asio::steady_timer sweeper_;
  metrics::WorkerRecorder recorder_;
  access::UsageTable usage_;
  std::string operation_scratch_;
  std::string operation_text_;
  std::shared_ptr<const ResolvedSnapshot> snapshot_;
  std::map<tcp::endpoint, std::unique_ptr<UpstreamPool>> pools_;
  std::vector<UpstreamPool*> pool_by_index_;
  std::vector<uint32_t> round_robin_;  // by series id
  std::unordered_set<ClientConnection*> connections_;
  std::unordered_set<Tunnel*> tunnels_;
  // The gauge, by series id (max_series of them): written by this worker only, read by
  // the admin thread.
  std::unique_ptr<std::atomic<uint32_t>[]> tunnels_by_series_;
  TunnelDrains& drains_;
  uint64_t rng_state_;
  bool stopping_ = false;
};

}  // namespace glidepath::gateway::detail
