// Internal: a client connection's byte stream, plain TCP or TLS over it, behind one small
// interface so that ClientConnection's exchange logic is written once. The choice is made
// per connection by the listener it arrived on; a plain connection pays one predictable
// branch per operation.
//
// TLS uses Asio's ssl::stream. Asio encrypts one buffer per record, so a gathered write
// (response head, body pieces, chunk framing) is first copied into one buffer: one record
// and one send per response, as the plain path makes one writev.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace glidepath::tls {
class ServerContext;
}

namespace glidepath::gateway::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class ClientTransport {
 public:
  explicit ClientTransport(tcp::socket socket) : plain_(std::move(socket)) {}
  // TLS: `context` wraps `server`'s handshake context; the connection keeps `server`
  // alive (its SNI and ticket callbacks) for as long as it lives.
  ClientTransport(tcp::socket socket, asio::ssl::context& context,
                  std::shared_ptr<const tls::ServerContext> server)
      : plain_(socket.get_executor()),
        tls_(std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(socket), context)),
        server_(std::move(server)) {}

  bool tls() const { return tls_ != nullptr; }
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : plain_; }

  // TLS only: the server side of the handshake.
  template <typename Handler>
  void async_handshake(Handler&& handler) {
    tls_->async_handshake(asio::ssl::stream_base::server, std::forward<Handler>(handler));
  }
  // After the handshake: "TLSv1.3", "TLS_AES_128_GCM_SHA256"; empty when plain.
  std::string_view tls_version() const {
    return tls_ ? std::string_view(SSL_get_version(tls_->native_handle())) : std::string_view();
  }
  std::string_view tls_cipher() const {
    if (!tls_) return {};
    const char* name = SSL_CIPHER_get_name(SSL_get_current_cipher(tls_->native_handle()));
    return name != nullptr ? std::string_view(name) : std::string_view();
  }

  template <typename Handler>
  void async_read_some(asio::mutable_buffer buffer, Handler&& handler) {
    if (tls_) {
      tls_->async_read_some(buffer, std::forward<Handler>(handler));
    } else {
      plain_.async_read_some(buffer, std::forward<Handler>(handler));
    }
  }

  // Writes all of `buffers`; they (the span's elements included) must stay valid until
  // the handler runs.
  template <typename Handler>
  void async_write(std::span<const asio::const_buffer> buffers, Handler&& handler) {
    if (!tls_) {
      asio::async_write(plain_, buffers, std::forward<Handler>(handler));
    } else if (buffers.size() == 1) {
      asio::async_write(*tls_, buffers.front(), std::forward<Handler>(handler));
    } else {
      coalesced_.clear();
      for (const asio::const_buffer& b : buffers)
        coalesced_.append(static_cast<const char*>(b.data()), b.size());
      asio::async_write(*tls_, asio::buffer(coalesced_), std::forward<Handler>(handler));
    }
  }

  // Plain only: a FIN tells the client no more bytes come, and it may still send.
  void shutdown_send() {
    boost::system::error_code ec;
    socket().shutdown(tcp::socket::shutdown_send, ec);
  }
  // TLS only: a close_notify, then the client's (or the end of its connection). Asio's
  // TLS shutdown is whole, not half: the caller reads nothing from the client after it.
  template <typename Handler>
  void async_shutdown(Handler&& handler) {
    tls_->async_shutdown(std::forward<Handler>(handler));
  }

  // Closes the socket without a TLS close_notify, as a response's end is known from its
  // framing. (A close-delimited body, sent only to HTTP/1.0 clients, could then look
  // truncated to a strict client.)
  void close() {
    boost::system::error_code ec;
    socket().shutdown(tcp::socket::shutdown_both, ec);
    socket().close(ec);
  }

 private:
  tcp::socket plain_;  // unused (never opened) when tls_ is set
  std::unique_ptr<asio::ssl::stream<tcp::socket>> tls_;
  std::shared_ptr<const tls::ServerContext> server_;
  std::string coalesced_;  // a TLS write's gathered buffers, reused
};

}  // namespace glidepath::gateway::detail
