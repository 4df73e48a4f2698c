#include "admin/http_server.h"

#include <fmt/format.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "http/message.h"
#include "tls/asio_context.h"
#include "tls/server_context.h"

namespace glidepath::admin {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

std::string_view Request::query_value(std::string_view name) const {
  auto it = query.find(std::string(name));
  return it == query.end() ? std::string_view() : std::string_view(it->second);
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::error(int status, std::string_view message) {
  return json(status, nlohmann::json{{"error", message}}.dump());
}

bool token_matches(std::string_view authorization_header, std::string_view token) {
  return http::same_secret(http::bearer_token(authorization_header), token);
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

void parse_target(std::string_view target, Request& request) {
  const size_t q = target.find('?');
  request.path = percent_decode(target.substr(0, q));
  if (q == std::string_view::npos) return;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const size_t eq = pair.find('=');
    if (!pair.empty()) {
      request.query[percent_decode(pair.substr(0, eq))] =
          eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
}

// The streams the server is writing, so stop() can detach them before the io_context
// they post to goes away.
class StreamRegistry {
 public:
  void add(const std::shared_ptr<StreamBody>& stream) {
    std::lock_guard lock(mutex_);
    std::erase_if(streams_, [](const std::weak_ptr<StreamBody>& s) { return s.expired(); });
    streams_.push_back(stream);
  }
  void abort_all() {
    std::lock_guard lock(mutex_);
    for (const auto& weak : streams_) {
      if (auto stream = weak.lock()) stream->abort();
    }
    streams_.clear();
  }

 private:
  std::mutex mutex_;
  std::vector<std::weak_ptr<StreamBody>> streams_;
};

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// One client connection: requests one at a time, or one server-sent event stream. Stream
// is PlainStream or TlsStream (admin.tls); a TLS session keeps the certificate context it
// started with alive, so a reload never pulls it from under an open connection.
template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(tcp::socket socket, const ServerOptions& options, const Handler& handler,
          StreamRegistry& streams) requires std::is_same_v<Stream, PlainStream>
      : stream_(std::move(socket)),
        timer_(stream_.get_executor()),
        options_(options),
        handler_(handler),
        streams_(streams) {}
  Session(tcp::socket socket, asio::ssl::context& context,
          std::shared_ptr<const tls::ServerContext> server, const ServerOptions& options,
          const Handler& handler,
          StreamRegistry& streams) requires std::is_same_v<Stream, TlsStream>
      : stream_(std::move(socket), context),
        timer_(stream_.get_executor()),
        options_(options),
        handler_(handler),
        streams_(streams),
        server_(std::move(server)) {}

  void start() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      tcp_layer().expires_after(std::chrono::seconds(30));
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (!ec) self->read();
                              });
    } else {
      read();
    }
  }

 private:
  using std::enable_shared_from_this<Session<Stream>>::shared_from_this;
  using std::enable_shared_from_this<Session<Stream>>::weak_from_this;

  beast::tcp_stream& tcp_layer() { return beast::get_lowest_layer(stream_); }
  tcp::socket& socket() { return tcp_layer().socket(); }
  // Where an event stream's bytes go: past tcp_stream's single expiry (which would also
  // cut the read that only waits to learn that the client left), through TLS if any.
  auto& event_stream() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      return stream_;
    } else {
      return socket();
    }
  }

  // GET or HEAD of the public prefix itself or a path below it (not "/uix").
  bool is_public(const Request& request) const {
    const std::string_view prefix = options_.public_prefix;
    if (prefix.empty() || (request.method != "GET" && request.method != "HEAD")) return false;
    const std::string_view path = request.path;
    return path == prefix ||
           (path.starts_with(prefix) && path.size() > prefix.size() && path[prefix.size()] == '/');
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(options_.max_body_bytes);
    parser_->header_limit(16 * 1024);
    tcp_layer().expires_after(std::chrono::seconds(30));
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream) {
      socket().shutdown(tcp::socket::shutdown_send, ec);
      return;
    }
    if (ec) {
      if (ec == bhttp::error::body_limit) {
        respond(Response::error(413, "request body too large"), false, false);
      } else if (ec != asio::error::operation_aborted && ec != beast::error::timeout &&
                 ec != asio::error::eof && ec != asio::error::connection_reset) {
        respond(Response::error(400, "malformed request: " + ec.message()), false, false);
      }
      return;
    }
    auto& message = parser_->get();
    Request request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    request.body = std::move(message.body());
    request.authorization = std::string(message[bhttp::field::authorization]);
    request.last_event_id = std::string(message["Last-Event-ID"]);
    request.if_none_match = std::string(message[bhttp::field::if_none_match]);
    request.forwarded = !message["X-Glidepath-Forwarded"].empty();
    parse_target(request.target, request);

    Response response;
    if (!options_.token.empty() && !is_public(request) &&
        !token_matches(request.authorization, options_.token)) {
      response = Response::error(401, "this admin API needs 'Authorization: Bearer <token>'");
      response.headers.emplace_back("WWW-Authenticate", "Bearer");
    } else {
      try {
        response = handler_(request);
      } catch (const std::exception& e) {
        // A handler bug must not take the admin listener down with it.
        response = Response::error(500, std::string("internal error: ") + e.what());
      }
    }
    if (response.stream) {
      start_stream(std::move(response));
      return;
    }
    respond(std::move(response), message.keep_alive(), request.method == "HEAD");
  }

  void respond(Response response, bool keep_alive, bool head_request) {
    auto out = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(response.status), 11);
    out->set(bhttp::field::content_type, response.content_type);
    out->set(bhttp::field::cache_control, "no-store");
    for (auto& [name, value] : response.headers)
      out->set(name, value);
    if (head_request) {
      // The length the GET would have, and no body (RFC 9110 9.3.2).
      out->content_length(response.body.size());
    } else {
      out->body() = std::move(response.body);
      out->prepare_payload();
    }
    out->keep_alive(keep_alive);
    bhttp::async_write(stream_, *out,
                       [self = shared_from_this(), out, keep_alive](beast::error_code ec, size_t) {
                         if (ec) return;
                         if (!keep_alive) {
                           self->socket().shutdown(tcp::socket::shutdown_send, ec);
                           return;
                         }
                         self->read();
                       });
  }

  // ---- Streaming responses (server-sent events) ----
  // The body is delimited by the end of the connection (RFC 9112 6.3, item 8), so the
  // response says Connection: close and the session ends with the stream. The socket is
  // used directly: tcp_stream's single expiry would also cut the read that only waits to
  // learn that the client left.

  void start_stream(Response response) {
    body_ = std::move(response.stream);
    streams_.add(body_);
    tcp_layer().expires_never();
    const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(response.status));
    std::string head = fmt::format("HTTP/1.1 {} {}\r\n", response.status,
                                   std::string_view(reason.data(), reason.size()));
    head += fmt::format("Content-Type: {}\r\nCache-Control: no-store\r\n", response.content_type);
    for (const auto& [name, value] : response.headers)
      head += fmt::format("{}: {}\r\n", name, value);
    head += "Connection: close\r\n\r\n";
    head += response.body;  // anything the handler wrote first
    write_stream_data(std::move(head));
    watch_for_close();
    schedule_heartbeat();
    std::weak_ptr<Session> weak = weak_from_this();
    auto executor = stream_.get_executor();
    body_->set_wake([weak, executor] {
      asio::post(executor, [weak] {
        if (auto self = weak.lock()) self->pump();
      });
    });
  }

  void pump() {
    if (closed_ || writing_) return;
    if (body_->aborted()) return close_stream();
    std::string data = body_->take();
    if (data.empty()) {
      if (body_->finished()) close_stream();
      return;
    }
    write_stream_data(std::move(data));
  }

  void write_stream_data(std::string data) {
    writing_ = true;
    write_started_ = std::chrono::steady_clock::now();
    auto out = std::make_shared<std::string>(std::move(data));
    asio::async_write(event_stream(), asio::buffer(*out),
                      [self = shared_from_this(), out](beast::error_code ec, size_t) {
                        self->writing_ = false;
                        if (ec) {
                          self->body_->abort();
                          return self->close_stream();
                        }
                        self->pump();
                      });
  }

  void watch_for_close() {
    event_stream().async_read_some(
        asio::buffer(scratch_), [self = shared_from_this()](beast::error_code ec, size_t) {
          if (ec) {
            // The client left (or we closed): nobody reads what the producer pushes.
            self->body_->abort();
            return self->close_stream();
          }
          self->watch_for_close();  // a client has nothing to say here: ignore it
        });
  }

  void schedule_heartbeat() {
    const auto interval = body_->options().heartbeat_interval;
    if (interval.count() <= 0) return;
    timer_.expires_after(interval);
    timer_.async_wait([self = shared_from_this(), interval](beast::error_code ec) {
      if (ec || self->closed_) return;
      if (self->writing_ && std::chrono::steady_clock::now() - self->write_started_ > interval) {
        // A write stuck for a whole interval: the client stopped reading.
        self->body_->abort();
        return self->close_stream();
      }
      self->body_->push(self->body_->options().heartbeat);
      self->schedule_heartbeat();
    });
  }

  void close_stream() {
    if (closed_) return;
    closed_ = true;
    body_->abort();
    timer_.cancel();
    beast::error_code ec;
    socket().shutdown(tcp::socket::shutdown_both, ec);
    socket().close(ec);
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  asio::steady_timer timer_;
  const ServerOptions& options_;
  const Handler& handler_;
  StreamRegistry& streams_;

  std::shared_ptr<StreamBody> body_;
  bool writing_ = false;
  bool closed_ = false;
  std::chrono::steady_clock::time_point write_started_{};
  std::array<char, 512> scratch_{};
  std::shared_ptr<const tls::ServerContext> server_;  // TlsStream: its callbacks' owner
};

}  // namespace

struct HttpServer::Impl {
  ServerOptions options;
  Handler handler;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  uint16_t port = 0;
  StreamRegistry streams;
  // admin.tls: the context new handshakes use (io thread only after start).
  std::shared_ptr<const tls::ServerContext> tls;
  std::unique_ptr<asio::ssl::context> ssl;

  void set_tls(std::shared_ptr<const tls::ServerContext> context) {
    ssl = tls::asio_context(*context);
    tls = std::move(context);
  }

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec && tls) {
        std::make_shared<Session<TlsStream>>(std::move(socket), *ssl, tls, options, handler,
                                             streams)
            ->start();
      } else if (!ec) {
        std::make_shared<Session<PlainStream>>(std::move(socket), options, handler, streams)
            ->start();
      }
      if (acceptor.is_open()) accept();
    });
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  stop();
}

core::Result<std::unique_ptr<HttpServer>> HttpServer::start(const ServerOptions& options,
                                                            Handler handler) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  if (options.tls) impl->set_tls(options.tls);
  beast::error_code ec;
  tcp::endpoint endpoint;
  const auto address = asio::ip::make_address(options.listen.host, ec);
  if (ec) {
    tcp::resolver resolver(impl->io);
    auto results = resolver.resolve(options.listen.host, std::to_string(options.listen.port), ec);
    if (ec || results.empty())
      return core::fail("cannot resolve admin address " + options.listen.host);
    endpoint = results.begin()->endpoint();
  } else {
    endpoint = tcp::endpoint(address, options.listen.port);
  }
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return core::fail("cannot listen on " + core::format_host_port(options.listen) +
                      " for the admin API: " + ec.message());
  }
  impl->port = impl->acceptor.local_endpoint().port();
  impl->accept();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->io.run(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::set_tls(std::shared_ptr<const tls::ServerContext> context) {
  if (!impl_ || !context) return;
  asio::post(impl_->io, [impl = impl_.get(), context] { impl->set_tls(context); });
}

uint16_t HttpServer::port() const {
  return impl_->port;
}

void HttpServer::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  asio::post(impl_->io, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
    impl_->io.stop();
  });
  impl_->thread.join();
  // Nothing may post to the io_context once it is gone: producers now see closed streams.
  impl_->streams.abort_all();
}

}  // namespace glidepath::admin
