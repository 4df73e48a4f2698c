#include "gateway/gateway.h"

#include <fmt/format.h>
#include <sched.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "gateway/worker.h"
#include "tls/server_context.h"

namespace glidepath::gateway {

using detail::ResolvedSnapshot;
using detail::tcp;
using detail::Worker;
namespace asio = boost::asio;

int usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  const int n = CPU_COUNT(&set);
  return n > 0 ? n : 1;
}

struct Gateway::Impl {
  GatewayOptions options;
  detail::TunnelDrains drains;  // before the workers, which report to it until they go
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  std::vector<uint16_t> ports;  // by listener
  bool stopped = false;
  std::mutex publish_mutex;  // one publication at a time; never taken by a worker

  // Runs `action` on every worker's own thread and waits until all have (or `timeout`).
  template <typename Action>
  bool on_every_worker(Action action, std::chrono::milliseconds timeout) {
    auto state = std::make_shared<std::pair<std::mutex, std::condition_variable>>();
    auto pending = std::make_shared<size_t>(workers.size());
    for (auto& worker : workers) {
      asio::post(worker->io(), [w = worker.get(), action, state, pending] {
        action(*w);
        std::lock_guard lock(state->first);
        if (--*pending == 0) state->second.notify_all();
      });
    }
    std::unique_lock lock(state->first);
    return state->second.wait_for(lock, timeout, [&] { return *pending == 0; });
  }

  // Turns the snapshot's upstream addresses into endpoints. No resolver is asked: names
  // are resolved on the control plane before a snapshot is built (routing/name_cache.h),
  // so a publish, a rollback's included, never waits on DNS. A name that reaches here
  // unresolved gets an unspecified endpoint: connecting to it fails and answers 502
  // until the control plane learns its addresses and publishes again.
  std::shared_ptr<const ResolvedSnapshot> resolve(std::shared_ptr<const Snapshot> snapshot) {
    auto resolved = std::make_shared<ResolvedSnapshot>();
    resolved->endpoints.reserve(snapshot->upstreams.size());
    for (const core::HostPort& hp : snapshot->upstreams) {
      boost::system::error_code ec;
      const auto address = asio::ip::make_address(hp.host, ec);
      resolved->endpoints.push_back(!ec ? tcp::endpoint(address, hp.port) : tcp::endpoint());
    }
    resolved->routes = std::move(snapshot);
    return resolved;
  }
};

Gateway::Gateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Gateway::~Gateway() {
  stop(std::chrono::milliseconds(0));
}

namespace {

core::Result<tcp::endpoint> endpoint_of(const core::HostPort& listen) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(listen.host, ec);
  if (!ec) return tcp::endpoint(address, listen.port);
  asio::io_context io;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(listen.host, std::to_string(listen.port), ec);
  if (ec || results.empty()) return core::fail("cannot resolve the gateway address " + listen.host);
  return results.begin()->endpoint();
}

// Every worker's socket has SO_REUSEPORT, which lets any socket of the same user share
// the port — another process's too, and the kernel would then split connections between
// two unrelated gateways. A socket without it cannot bind a port someone listens on, so
// this probe refuses at start what the workers would otherwise silently share.
core::Result<void> probe_bind(const tcp::endpoint& endpoint) {
  if (endpoint.port() == 0) return {};
  boost::system::error_code ec;
  asio::io_context io;
  tcp::acceptor probe(io);
  probe.open(endpoint.protocol(), ec);
  if (!ec) probe.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) probe.bind(endpoint, ec);
  if (ec) {
    return core::fail(fmt::format("cannot listen on {}:{}: {}", endpoint.address().to_string(),
                                  endpoint.port(), ec.message()));
  }
  probe.close(ec);
  return {};
}

}  // namespace

core::Result<std::unique_ptr<Gateway>> Gateway::start(const GatewayOptions& options,
                                                      std::shared_ptr<const Snapshot> snapshot) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  const int count = options.workers > 0 ? options.workers : usable_cpus();

  std::vector<ListenerOptions> listeners{ListenerOptions{options.listen, options.tls, 0}};
  listeners.insert(listeners.end(), options.more_listeners.begin(), options.more_listeners.end());
  std::vector<tcp::endpoint> endpoints;
  for (const ListenerOptions& listener : listeners) {
    auto endpoint = endpoint_of(listener.listen);
    if (!endpoint) return core::Failure{endpoint.error()};
    if (auto probed = probe_bind(*endpoint); !probed) return core::Failure{probed.error()};
    endpoints.push_back(*endpoint);
  }

  auto resolved = impl->resolve(std::move(snapshot));
  impl->ports.resize(listeners.size());
  for (int i = 0; i < count; ++i) {
    auto worker = std::make_unique<Worker>(i, impl->options, impl->drains);
    for (size_t l = 0; l < listeners.size(); ++l) {
      // The first worker may pick a free port (port 0); the others join it.
      auto port = worker->listen(listeners[l], endpoints[l]);
      if (!port) return core::Failure{port.error()};
      if (i == 0) {
        impl->ports[l] = *port;
        endpoints[l].port(*port);
      }
    }
    worker->adopt(resolved);
    impl->workers.push_back(std::move(worker));
  }
  for (auto& worker : impl->workers) {
    impl->threads.emplace_back([w = worker.get()] { w->run(); });
  }
  return std::unique_ptr<Gateway>(new Gateway(std::move(impl)));
}

bool Gateway::set_tls(size_t listener, std::shared_ptr<const tls::ServerContext> context,
                      std::chrono::milliseconds timeout) {
  std::lock_guard publishing(impl_->publish_mutex);
  if (impl_->stopped || listener >= impl_->ports.size() || !context) return false;
  return impl_->on_every_worker([listener, context](Worker& w) { w.set_tls(listener, context); },
                                timeout);
}

bool Gateway::publish(std::shared_ptr<const Snapshot> snapshot, std::chrono::milliseconds timeout) {
  std::lock_guard publishing(impl_->publish_mutex);
  if (impl_->stopped) return false;
  auto resolved = impl_->resolve(std::move(snapshot));
  return impl_->on_every_worker([resolved](Worker& w) { w.adopt(resolved); }, timeout);
}

std::vector<access::UsageDelta> Gateway::drain_usage(std::chrono::milliseconds timeout) {
  struct Collected {
    std::mutex mutex;
    std::condition_variable done;
    std::vector<access::UsageDelta> deltas;
    size_t pending = 0;
    bool abandoned = false;  // the caller stopped waiting: late workers keep their records
  };
  std::unique_lock publishing(impl_->publish_mutex);
  if (impl_->stopped) {
    std::vector<access::UsageDelta> out;
    for (auto& worker : impl_->workers) {
      auto deltas = worker->usage().drain();
      out.insert(out.end(), std::make_move_iterator(deltas.begin()),
                 std::make_move_iterator(deltas.end()));
    }
    return out;
  }
  auto collected = std::make_shared<Collected>();
  collected->pending = impl_->workers.size();
  for (auto& worker : impl_->workers) {
    asio::post(worker->io(), [w = worker.get(), collected] {
      std::lock_guard lock(collected->mutex);
      if (collected->abandoned) return;
      if (!w->usage().empty()) {
        auto deltas = w->usage().drain();
        collected->deltas.insert(collected->deltas.end(), std::make_move_iterator(deltas.begin()),
                                 std::make_move_iterator(deltas.end()));
      }
      if (--collected->pending == 0) collected->done.notify_all();
    });
  }
  publishing.unlock();
  std::unique_lock lock(collected->mutex);
  collected->done.wait_for(lock, timeout, [&] { return collected->pending == 0; });
  collected->abandoned = true;
  return std::move(collected->deltas);
}

uint16_t Gateway::port() const {
  return impl_->ports.front();
}

uint16_t Gateway::port(size_t listener) const {
  return listener < impl_->ports.size() ? impl_->ports[listener] : 0;
}

size_t Gateway::listener_count() const {
  return impl_->ports.size();
}

int Gateway::worker_count() const {
  return static_cast<int>(impl_->workers.size());
}

std::vector<const metrics::WorkerRecorder*> Gateway::recorders() const {
  std::vector<const metrics::WorkerRecorder*> out;
  for (auto& worker : impl_->workers)
    out.push_back(&worker->recorder());
  return out;
}

GatewayStats Gateway::stats() const {
  GatewayStats s;
  s.snapshot_generation = UINT64_MAX;
  for (auto& w : impl_->workers) {
    s.connections_accepted += w->connections_accepted.load(std::memory_order_relaxed);
    s.requests += w->requests.load(std::memory_order_relaxed);
    s.gateway_errors += w->gateway_errors.load(std::memory_order_relaxed);
    s.upstream_connects += w->upstream_connects.load(std::memory_order_relaxed);
    s.snapshot_generation =
        std::min(s.snapshot_generation, w->generation.load(std::memory_order_acquire));
  }
  if (impl_->workers.empty()) s.snapshot_generation = 0;
  const auto ciphers = tls::negotiable_ciphers();
  for (const char* version : {"1.2", "1.3"}) {
    const size_t v = version[2] == '3' ? 1 : 0;
    for (size_t c = 0; c < detail::TlsCounters::kCiphers; ++c) {
      uint64_t count = 0;
      for (auto& w : impl_->workers)
        count += w->tls_counters.completed[v][c].load(std::memory_order_relaxed);
      if (count == 0) continue;
      s.tls_handshakes.push_back(
          {version, c < ciphers.size() ? std::string(ciphers[c]) : std::string("other"), count});
    }
  }
  for (auto& w : impl_->workers)
    s.tls_handshake_failures += w->tls_counters.failures.load(std::memory_order_relaxed);
  for (metrics::SeriesId series = 0; series < impl_->options.max_series; ++series) {
    uint64_t open = 0;
    for (auto& w : impl_->workers)
      open += w->open_tunnels(series);
    if (open > 0) s.websocket_tunnels.emplace_back(series, open);
  }
  return s;
}

std::vector<DrainedTunnels> Gateway::take_drained_tunnels() {
  return impl_->drains.take();
}

void Gateway::stop(std::chrono::milliseconds grace) {
  std::lock_guard publishing(impl_->publish_mutex);
  if (impl_->stopped) return;
  impl_->stopped = true;
  for (auto& worker : impl_->workers) {
    asio::post(worker->io(), [w = worker.get()] { w->begin_stop(); });
  }
  const auto deadline = std::chrono::steady_clock::now() + grace;
  for (auto& worker : impl_->workers) {
    while (worker->open_connections.load(std::memory_order_relaxed) > 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  for (auto& worker : impl_->workers) {
    asio::post(worker->io(), [w = worker.get()] { w->force_stop(); });
  }
  for (auto& thread : impl_->threads)
    thread.join();
  impl_->threads.clear();
}

}  // namespace glidepath::gateway
