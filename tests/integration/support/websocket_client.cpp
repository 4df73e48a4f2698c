#include "support/websocket_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <stdexcept>

namespace glidepath::testing {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

}  // namespace

struct WebSocketClient::Impl {
  virtual ~Impl() = default;
  virtual WsHandshake handshake(const std::string& target, const HeaderFields& headers,
                                std::chrono::milliseconds timeout) = 0;
  virtual bool send(std::string_view data, bool text, std::chrono::milliseconds timeout) = 0;
  virtual WsMessage receive(std::chrono::milliseconds timeout) = 0;
  virtual bool close(std::chrono::milliseconds timeout) = 0;
};

template <typename Stream>
struct WebSocketClient::StreamImpl : WebSocketClient::Impl {
  template <typename... Args>
  explicit StreamImpl(Args&&... args) : ws(io, std::forward<Args>(args)...) {}

  // Runs the operation `initiate` starts for at most `timeout`. On timeout the socket is
  // closed, which makes the operation finish (aborted), so its handler never outlives
  // this frame; the stream is dead from then on.
  template <typename Initiate>
  bool run(Initiate initiate, std::chrono::milliseconds timeout, error_code& ec) {
    bool done = false;
    initiate([&](error_code result, auto&&...) {
      ec = result;
      done = true;
    });
    io.restart();
    io.run_for(timeout);
    if (done) return true;
    error_code ignored;
    beast::get_lowest_layer(ws).close(ignored);
    io.restart();
    io.run();
    dead = true;
    return false;
  }

  WsHandshake handshake(const std::string& target, const HeaderFields& headers,
                        std::chrono::milliseconds timeout) override {
    WsHandshake out;
    ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& request) {
      for (const auto& [name, value] : headers)
        request.set(name, value);
    }));
    websocket::response_type response;
    error_code ec;
    const bool finished =
        run([&](auto handler) { ws.async_handshake(response, "127.0.0.1", target, handler); },
            timeout, ec);
    out.status = static_cast<int>(response.result_int());
    for (const auto& field : response)
      out.headers.add(std::string(field.name_string()), std::string(field.value()));
    out.body = response.body();
    if (!finished) {
      out.error = "timed out";
    } else if (ec) {
      out.error = ec.message();
    }
    out.ok = finished && !ec;
    return out;
  }

  bool send(std::string_view data, bool text, std::chrono::milliseconds timeout) override {
    if (dead) return false;
    ws.text(text);
    error_code ec;
    return run(
               [&](auto handler) {
                 ws.async_write(asio::buffer(data.data(), data.size()), handler);
               },
               timeout, ec) &&
           !ec;
  }

  WsMessage receive(std::chrono::milliseconds timeout) override {
    WsMessage out;
    if (dead) {
      out.error = "the connection is closed";
      out.closed = true;
      return out;
    }
    beast::flat_buffer buffer;
    error_code ec;
    if (!run([&](auto handler) { ws.async_read(buffer, handler); }, timeout, ec)) {
      out.timed_out = true;
      out.error = "timed out";
      return out;
    }
    if (ec) {
      out.closed = true;
      out.error = ec.message();
      dead = true;
      return out;
    }
    out.ok = true;
    out.text = ws.got_text();
    const auto data = buffer.data();
    out.data.assign(static_cast<const char*>(data.data()), data.size());
    return out;
  }

  bool close(std::chrono::milliseconds timeout) override {
    if (dead) return false;
    error_code ec;
    const bool finished = run(
        [&](auto handler) { ws.async_close(websocket::close_code::normal, handler); }, timeout, ec);
    dead = true;
    return finished && !ec;
  }

  // First: destroyed last, after the stream whose operations it runs.
  asio::io_context io;
  websocket::stream<Stream> ws;
  bool dead = false;
};

WebSocketClient::WebSocketClient(std::uint16_t port, bool tls) {
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  if (!tls) {
    auto impl = std::make_unique<StreamImpl<tcp::socket>>();
    beast::get_lowest_layer(impl->ws).connect(endpoint);
    beast::get_lowest_layer(impl->ws).set_option(tcp::no_delay(true));
    impl_ = std::move(impl);
    return;
  }
  static asio::ssl::context context(asio::ssl::context::tls_client);  // verify_none: test CA-less
  auto impl = std::make_unique<StreamImpl<asio::ssl::stream<tcp::socket>>>(context);
  beast::get_lowest_layer(impl->ws).connect(endpoint);
  beast::get_lowest_layer(impl->ws).set_option(tcp::no_delay(true));
  error_code ec;
  const bool finished = impl->run(
      [&](auto handler) {
        impl->ws.next_layer().async_handshake(asio::ssl::stream_base::client, handler);
      },
      std::chrono::seconds(5), ec);
  if (!finished || ec) {
    throw std::runtime_error("TLS handshake with the gateway failed: " +
                             (finished ? ec.message() : std::string("timed out")));
  }
  impl_ = std::move(impl);
}

WebSocketClient::~WebSocketClient() = default;

WsHandshake WebSocketClient::handshake(const std::string& target, const HeaderFields& headers,
                                       std::chrono::milliseconds timeout) {
  return impl_->handshake(target, headers, timeout);
}

bool WebSocketClient::send(std::string_view data, bool text, std::chrono::milliseconds timeout) {
  return impl_->send(data, text, timeout);
}

WsMessage WebSocketClient::receive(std::chrono::milliseconds timeout) {
  return impl_->receive(timeout);
}

bool WebSocketClient::close(std::chrono::milliseconds timeout) {
  return impl_->close(timeout);
}

bool WebSocketClient::wait_closed(std::chrono::milliseconds timeout) {
  const WsMessage message = impl_->receive(timeout);
  return message.closed;
}

}  // namespace glidepath::testing
