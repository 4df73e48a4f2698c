#include "gateway/tunnel.h"

#include <algorithm>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <chrono>

namespace glidepath::gateway::detail {

namespace {

// How a peer says it has no more to send: a FIN (eof), or over TLS a close_notify (eof)
// or a FIN without one (stream_truncated, which for a tunnel means the same).
bool end_of_stream(const boost::system::error_code& ec) {
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
}

// How long a TLS client has to answer the close_notify that ends its tunnel.
constexpr int64_t kTlsShutdownMs = 2000;

}  // namespace

Tunnel::Tunnel(Worker& worker, TunnelEnds ends, TunnelVersion version)
    : worker_(worker), ends_(std::move(ends)), version_(std::move(version)) {
  worker_.add(this);
}

Tunnel::~Tunnel() {
  close();
  worker_.remove(this);
}

void Tunnel::start() {
  touch();
  if (ends_.early_end > ends_.early_begin) {
    write_upstream(ends_.early_begin, ends_.early_end - ends_.early_begin);
  } else {
    read_client();
  }
  read_upstream();
}

void Tunnel::touch() {
  idle_deadline_ms_ = steady_ms() + std::chrono::duration_cast<std::chrono::milliseconds>(
                                        worker_.options().websocket_idle_timeout)
                                        .count();
}

void Tunnel::check_deadline(int64_t now_ms) {
  if (closed_) return;
  if (drain_ == Drain::pending && now_ms >= drain_deadline_ms_) {
    end_drain(true);
    close();
    return;
  }
  if (now_ms >= idle_deadline_ms_) close();
}

void Tunnel::drain_at(int64_t at_ms) {
  if (closed_ || drain_ != Drain::none) return;
  drain_ = Drain::pending;
  drain_deadline_ms_ = at_ms;
  worker_.drains().scheduled(version_.service, version_.version);
}

void Tunnel::cancel_drain() {
  if (drain_ == Drain::pending) end_drain(false);
  drain_ = Drain::none;
}

void Tunnel::end_drain(bool by_drain) {
  drain_ = Drain::done;
  worker_.drains().ended(version_.service, version_.version, by_drain);
}

void Tunnel::close() {
  if (closed_) return;
  closed_ = true;
  // A drain still pending did not close this tunnel: it ended by itself (or with the
  // gateway) first.
  if (drain_ == Drain::pending) end_drain(false);
  ends_.client.close();
  boost::system::error_code ec;
  if (ends_.upstream) ends_.upstream->socket.close(ec);
  worker_.tunnel_closed(version_.series);
}

// ---- client → upstream -------------------------------------------------------------------

void Tunnel::read_client() {
  client_read_pending_ = true;
  ends_.client.async_read_some(
      asio::buffer(ends_.to_upstream.get(), kBufferBytes),
      [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
        self->client_read_pending_ = false;
        if (self->closed_ || self->tls_shutdown_) return;
        if (ec) {
          self->client_finished(ec);
          return;
        }
        self->touch();
        self->write_upstream(0, n);
      });
}

void Tunnel::write_upstream(size_t begin, size_t size) {
  asio::async_write(ends_.upstream->socket, asio::buffer(ends_.to_upstream.get() + begin, size),
                    [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                      if (self->closed_) return;
                      if (ec) {
                        self->close();
                        return;
                      }
                      self->read_client();  // only now may the buffer be read into again
                    });
}

void Tunnel::client_finished(const boost::system::error_code& ec) {
  if (!end_of_stream(ec) || upstream_done_) {
    close();
    return;
  }
  // The upstream learns that no more comes, and may still answer (its Close frame, the
  // last of a stream): the other direction goes on.
  client_done_ = true;
  boost::system::error_code ignored;
  ends_.upstream->socket.shutdown(tcp::socket::shutdown_send, ignored);
}

// ---- upstream → client -------------------------------------------------------------------

void Tunnel::read_upstream() {
  ends_.upstream->socket.async_read_some(
      asio::buffer(ends_.to_client.get(), kBufferBytes),
      [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
        if (self->closed_) return;
        if (ec) {
          self->upstream_finished(ec);
          return;
        }
        self->touch();
        self->write_client(n);
      });
}

void Tunnel::write_client(size_t size) {
  // The transport keeps a view of the buffer sequence, not a copy: it must outlive the write.
  client_write_ = asio::buffer(ends_.to_client.get(), size);
  ends_.client.async_write(
      std::span<const asio::const_buffer>(&client_write_, 1),
      [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
        if (self->closed_) return;
        if (ec) {
          self->close();
          return;
        }
        self->read_upstream();
      });
}

void Tunnel::upstream_finished(const boost::system::error_code& ec) {
  if (ec != asio::error::eof) {
    close();
    return;
  }
  upstream_done_ = true;
  if (ends_.client.tls()) {
    shutdown_tls();
  } else if (client_done_) {
    close();
  } else {
    ends_.client.shutdown_send();  // the client may still send: its direction goes on
  }
}

void Tunnel::shutdown_tls() {
  tls_shutdown_ = true;
  // The shutdown reads the client's close_notify itself: a read of ours still waiting is
  // cancelled (Asio queues the shutdown's read behind it).
  boost::system::error_code ignored;
  if (client_read_pending_) ends_.client.socket().cancel(ignored);
  // A client that never answers the close_notify is not waited for long.
  idle_deadline_ms_ = std::min(idle_deadline_ms_, steady_ms() + kTlsShutdownMs);
  ends_.client.async_shutdown(
      [self = shared_from_this()](const boost::system::error_code&) { self->close(); });
}

}  // namespace glidepath::gateway::detail
