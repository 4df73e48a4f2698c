#include "admin/http_server.h"

#include <fmt/format.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "http/message.h"

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

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const ServerOptions& options, const Handler& handler,
          StreamRegistry& streams)
      : stream_(std::move(socket)),
        timer_(stream_.get_executor()),
        options_(options),
        handler_(handler),
        streams_(streams) {}

  void start() { read(); }

 private:
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
    stream_.expires_after(std::chrono::seconds(30));
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream) {
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
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
                           self->stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
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
    stream_.expires_never();
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
    asio::async_write(stream_.socket(), asio::buffer(*out),
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
    stream_.socket().async_read_some(
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
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
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

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) std::make_shared<Session>(std::move(socket), options, handler, streams)->start();
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
