#include "gateway/worker.h"

#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <random>

#include "core/clock.h"
#include "gateway/client_connection.h"
#include "gateway/tunnel.h"
#include "tls/asio_context.h"
#include "tls/server_context.h"

namespace glidepath::gateway::detail {

namespace {

void set_tls_context(Listener& listener, std::shared_ptr<const tls::ServerContext> context) {
  listener.ssl = tls::asio_context(*context);
  listener.tls = std::move(context);
}

// Idle upstream connections kept per worker per upstream address: enough for every
// client connection's request in flight to find one again (64 made 200 busy clients
// open a new upstream connection for 3% of requests; idle ones still close after
// idle_timeout).
constexpr size_t kMaxIdlePerUpstream = 1024;
constexpr auto kSweepInterval = std::chrono::milliseconds(100);

// The series of the versions a snapshot sends traffic to, its live ones included (sorted).
std::vector<metrics::SeriesId> routed_series(const Snapshot& snapshot) {
  std::vector<metrics::SeriesId> routed;
  for (const ServiceRoute& service : snapshot.services) {
    for (uint32_t v = 0; v < service.versions.size(); ++v) {
      if (v == service.live || service.weight_of(v) > 0)
        routed.push_back(service.versions[v].series);
    }
  }
  std::sort(routed.begin(), routed.end());
  return routed;
}

}  // namespace

int64_t steady_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1'000'000;
}

int64_t coarse_epoch_us() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000;
}

int64_t steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Worker::Worker(int index, const GatewayOptions& options, TunnelDrains& drains)
    : index_(index),
      options_(options),
      // Only this worker's thread touches its sockets and timers (other threads post()),
      // so Asio may skip the per-descriptor locks it would otherwise take per operation.
      io_(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO),
      sweeper_(io_),
      recorder_(options.max_series),
      tunnels_by_series_(new std::atomic<uint32_t>[options.max_series]()),
      drains_(drains),
      rng_state_(std::random_device{}() | (uint64_t{std::random_device{}()} << 32) | 1) {}

Worker::~Worker() = default;

core::Result<uint16_t> Worker::listen(const ListenerOptions& options,
                                      const tcp::endpoint& endpoint) {
  auto listener = std::make_unique<Listener>(io_);
  listener->index = listeners_.size();
  listener->redirect_https_port = options.redirect_https_port;
  if (options.tls) set_tls_context(*listener, options.tls);
  tcp::acceptor& acceptor = listener->acceptor;
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) {
    // Every worker listens on the same port; the kernel spreads new connections over
    // them, so no accept lock is shared between threads.
    using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
    acceptor.set_option(reuse_port(true), ec);
  }
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return core::fail("cannot listen on " + endpoint.address().to_string() + ":" +
                      std::to_string(endpoint.port()) + ": " + ec.message());
  }
  const uint16_t port = acceptor.local_endpoint().port();
  listeners_.push_back(std::move(listener));
  return port;
}

void Worker::run() {
  for (auto& listener : listeners_)
    accept(*listener);
  sweep();
  io_.run();
}

void Worker::accept(Listener& listener) {
  listener.acceptor.async_accept(
      [this, &listener](const boost::system::error_code& ec, tcp::socket socket) {
        if (stopping_) return;
        if (!ec) {
          connections_accepted.store(connections_accepted.load(std::memory_order_relaxed) + 1,
                                     std::memory_order_relaxed);
          std::make_shared<ClientConnection>(*this, std::move(socket), listener)->start();
        }
        if (listener.acceptor.is_open()) accept(listener);
      });
}

void Worker::set_tls(size_t index, std::shared_ptr<const tls::ServerContext> context) {
  if (index < listeners_.size() && context) set_tls_context(*listeners_[index], std::move(context));
}

void TlsCounters::count(std::string_view version, std::string_view cipher) {
  const auto names = tls::negotiable_ciphers();
  size_t index = kCiphers - 1;  // "other"
  for (size_t i = 0; i < names.size() && i < kCiphers - 1; ++i) {
    if (names[i] == cipher) {
      index = i;
      break;
    }
  }
  auto& counter = completed[version == "TLSv1.3" ? 1 : 0][index];
  counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void Worker::sweep() {
  sweeper_.expires_after(kSweepInterval);
  sweeper_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    const int64_t now = steady_ms();
    recorder_.advance(core::epoch_second(core::SystemClock().now()));
    for (auto& c : live_connections())
      c->check_deadline(now);
    for (auto& t : live_tunnels())
      t->check_deadline(now);
    // Idle upstream connections older than idle_timeout are closed: the upstream would
    // close them soon anyway, and a closed one would cost a failed attempt.
    const int64_t idle_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(options_.idle_timeout).count();
    for (auto& [endpoint, pool] : pools_) {
      std::erase_if(pool->idle, [&](const std::unique_ptr<UpstreamConnection>& u) {
        return now - u->idle_since_ms > idle_ms;
      });
    }
    if (!stopping_ || !connections_.empty() || !tunnels_.empty()) sweep();
  });
}

void Worker::adopt(std::shared_ptr<const ResolvedSnapshot> snapshot) {
  const std::shared_ptr<const ResolvedSnapshot> previous = std::move(snapshot_);
  // A copy per worker, so connections share a control block with their own worker only:
  // taking a reference per request never touches another core's cache line.
  snapshot_ = std::make_shared<const ResolvedSnapshot>(*snapshot);
  pool_by_index_.clear();
  pool_by_index_.reserve(snapshot_->endpoints.size());
  for (const tcp::endpoint& endpoint : snapshot_->endpoints) {
    auto& pool = pools_[endpoint];
    if (!pool) {
      pool = std::make_unique<UpstreamPool>();
      pool->endpoint = endpoint;
    }
    pool_by_index_.push_back(pool.get());
  }
  for (const ServiceRoute& service : snapshot_->routes->services) {
    for (const VersionRoute& version : service.versions) {
      recorder_.prepare(version.series);
      if (version.series >= round_robin_.size()) round_robin_.resize(version.series + 1, 0);
    }
  }
  if (previous && !tunnels_.empty()) drain_tunnels(*previous->routes, *snapshot_->routes);
  generation.store(snapshot_->routes->generation, std::memory_order_release);
}

void Worker::drain_tunnels(const Snapshot& before, const Snapshot& now) {
  const std::vector<metrics::SeriesId> routed_now = routed_series(now);
  const std::vector<metrics::SeriesId> routed_before = routed_series(before);
  const auto in = [](const std::vector<metrics::SeriesId>& sorted, metrics::SeriesId series) {
    return std::binary_search(sorted.begin(), sorted.end(), series);
  };
  const int64_t at =
      steady_ms() +
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.websocket_drain).count();
  for (auto& tunnel : live_tunnels()) {
    const metrics::SeriesId series = tunnel->version().series;
    if (in(routed_now, series)) {
      tunnel->cancel_drain();
    } else if (in(routed_before, series)) {
      tunnel->drain_at(at);
    }
  }
}

uint32_t Worker::next_round_robin(metrics::SeriesId series) {
  if (series >= round_robin_.size()) round_robin_.resize(series + 1, 0);
  return round_robin_[series]++;
}

uint64_t Worker::random() {
  // xorshift64*: fast, worker-local, good enough for traffic splitting and ids.
  rng_state_ ^= rng_state_ >> 12;
  rng_state_ ^= rng_state_ << 25;
  rng_state_ ^= rng_state_ >> 27;
  return rng_state_ * 0x2545F4914F6CDD1DULL;
}

void Worker::remove(ClientConnection* connection) {
  connections_.erase(connection);
  count_open();
}

void Worker::add(Tunnel* tunnel) {
  tunnels_.insert(tunnel);
  count_open();
  const metrics::SeriesId series = tunnel->version().series;
  if (series >= options_.max_series) return;
  auto& open = tunnels_by_series_[series];
  open.store(open.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void Worker::tunnel_closed(metrics::SeriesId series) {
  if (series >= options_.max_series) return;
  auto& open = tunnels_by_series_[series];
  open.store(open.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

void Worker::remove(Tunnel* tunnel) {
  tunnels_.erase(tunnel);
  count_open();
}

void Worker::count_open() {
  open_connections.store(connections_.size() + tunnels_.size(), std::memory_order_relaxed);
}

void Worker::release_upstream(std::unique_ptr<UpstreamConnection> connection) {
  // Pools are kept by address for the worker's life, so a connection goes back to its
  // pool even when a new snapshot arrived while it was in use.
  UpstreamPool* pool = connection->pool;
  if (pool == nullptr || pool->idle.size() >= kMaxIdlePerUpstream || stopping_) return;
  pool->idle.push_back(std::move(connection));
}

void Worker::count_request(bool gateway_error) {
  requests.store(requests.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (gateway_error) {
    gateway_errors.store(gateway_errors.load(std::memory_order_relaxed) + 1,
                         std::memory_order_relaxed);
  }
}

namespace {
// Taken first and held: acting on one may close it and so change the set.
template <typename T>
std::vector<std::shared_ptr<T>> live(const std::unordered_set<T*>& owners) {
  std::vector<std::shared_ptr<T>> all;
  all.reserve(owners.size());
  for (T* owner : owners) {
    if (auto alive = owner->weak_from_this().lock()) all.push_back(std::move(alive));
  }
  return all;
}
}  // namespace

std::vector<std::shared_ptr<ClientConnection>> Worker::live_connections() const {
  return live(connections_);
}

std::vector<std::shared_ptr<Tunnel>> Worker::live_tunnels() const {
  return live(tunnels_);
}

void TunnelDrains::scheduled(const std::string& service, const std::string& version) {
  std::lock_guard lock(mutex_);
  ++by_version_[{service, version}].pending;
}

void TunnelDrains::ended(const std::string& service, const std::string& version, bool by_drain) {
  std::lock_guard lock(mutex_);
  const auto it = by_version_.find(std::pair(service, version));
  if (it == by_version_.end() || it->second.pending == 0) return;
  --it->second.pending;
  if (by_drain) ++it->second.closed;
}

std::vector<DrainedTunnels> TunnelDrains::take() {
  std::vector<DrainedTunnels> done;
  std::lock_guard lock(mutex_);
  std::erase_if(by_version_, [&](const auto& entry) {
    const auto& [name, counts] = entry;
    if (counts.pending > 0) return false;
    if (counts.closed > 0) done.push_back({name.first, name.second, counts.closed});
    return true;
  });
  return done;
}

void Worker::begin_stop() {
  stopping_ = true;
  boost::system::error_code ec;
  for (auto& listener : listeners_)
    listener->acceptor.close(ec);
  for (auto& [endpoint, pool] : pools_)
    pool->idle.clear();
  for (auto& c : live_connections())
    c->close_when_idle();
}

void Worker::force_stop() {
  stopping_ = true;
  boost::system::error_code ec;
  for (auto& listener : listeners_)
    listener->acceptor.close(ec);
  sweeper_.cancel();
  for (auto& [endpoint, pool] : pools_)
    pool->idle.clear();
  for (auto& c : live_connections())
    c->close();
  for (auto& t : live_tunnels())
    t->close();
  io_.stop();
}

}  // namespace glidepath::gateway::detail
