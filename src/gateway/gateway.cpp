#include "gateway/gateway.h"

#include <fmt/format.h>
#include <sched.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "gateway/worker.h"

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
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  bool stopped = false;
  std::mutex publish_mutex;  // one publication at a time; never taken by a worker

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

core::Result<std::unique_ptr<Gateway>> Gateway::start(const GatewayOptions& options,
                                                      std::shared_ptr<const Snapshot> snapshot) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  const int count = options.workers > 0 ? options.workers : usable_cpus();

  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options.listen.host, ec);
  tcp::endpoint endpoint;
  if (ec) {
    asio::io_context io;
    tcp::resolver resolver(io);
    auto results = resolver.resolve(options.listen.host, std::to_string(options.listen.port), ec);
    if (ec || results.empty()) {
      return core::fail("cannot resolve the gateway address " + options.listen.host);
    }
    endpoint = results.begin()->endpoint();
  } else {
    endpoint = tcp::endpoint(address, options.listen.port);
  }

  // Every worker's socket has SO_REUSEPORT, which lets any socket of the same user share
  // the port — another process's too, and the kernel would then split connections between
  // two unrelated gateways. A socket without it cannot bind a port someone listens on, so
  // this probe refuses at start what the workers would otherwise silently share.
  if (endpoint.port() != 0) {
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
  }

  auto resolved = impl->resolve(std::move(snapshot));
  for (int i = 0; i < count; ++i) {
    auto worker = std::make_unique<Worker>(i, impl->options);
    // The first worker may pick a free port (port 0); the others join it.
    auto port = worker->listen(endpoint);
    if (!port) return core::Failure{port.error()};
    if (i == 0) {
      impl->port = *port;
      endpoint.port(*port);
    }
    worker->adopt(resolved);
    impl->workers.push_back(std::move(worker));
  }
  for (auto& worker : impl->workers) {
    impl->threads.emplace_back([w = worker.get()] { w->run(); });
  }
  return std::unique_ptr<Gateway>(new Gateway(std::move(impl)));
}

bool Gateway::publish(std::shared_ptr<const Snapshot> snapshot, std::chrono::milliseconds timeout) {
  std::lock_guard publishing(impl_->publish_mutex);
  if (impl_->stopped) return false;
  auto resolved = impl_->resolve(std::move(snapshot));
  auto state = std::make_shared<std::pair<std::mutex, std::condition_variable>>();
  auto pending = std::make_shared<size_t>(impl_->workers.size());
  for (auto& worker : impl_->workers) {
    asio::post(worker->io(), [w = worker.get(), resolved, state, pending] {
      w->adopt(resolved);
      std::lock_guard lock(state->first);
      if (--*pending == 0) state->second.notify_all();
    });
  }
  std::unique_lock lock(state->first);
  return state->second.wait_for(lock, timeout, [&] { return *pending == 0; });
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
  return impl_->port;
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
  return s;
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
