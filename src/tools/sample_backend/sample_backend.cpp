// The sample backend's server: Boost.Beast parsing over Asio, one event loop per worker
// thread. Worker 0 also accepts and hands connections out round-robin (an accepted socket
// is created directly on the chosen worker's io_context), so even a benchmark with two
// connections spreads over two workers, and a second process can never share the port
// as it could with SO_REUSEPORT.
//
// What it answers (any method, HTTP/1.1 keep-alive and pipelining; 1.0 too):
//   any path            200 (or 500 by the error rate) with json_text.h's description of the
//                       request, after the configured latency
//   GET|POST /_control  settings and response counters; POST {"error_rate":R,"latency_ms":L}
//                       changes them (not counted in the counters, never delayed or failed)
//   /_test/echo         the request body streamed back, chunked if the request was
//   /_test/status/C     status C; /_test/sleep/MS answers after MS
//   /_test/bytes/N      N bytes 'abc...z' repeated; ?chunked=1 for a chunked answer
//   /_test/reset        TCP reset (SO_LINGER 0), no answer
//   /_test/garbage      bytes that are not HTTP, then close
//   /_test/close        the ordinary answer with Connection: close, then close
//   /_test/count        {"total":N,"prefixes":{"/orders":N,...}} of every request received
//   /_test/requests     the last 1000 requests as "METHOD target" lines
//   /_test/ws           a WebSocket echo (RFC 6455, Beast): every text or binary message
//                       back as it came, except the text message "version", answered with
//                       the version name; pings are answered, a close is returned. 426
//                       without an upgrade
// Every answer carries X-Backend-Version (the 101 too). Nothing is logged per request.
#include "tools/sample_backend/sample_backend.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <charconv>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "tools/sample_backend/json_text.h"
#include "tools/sample_backend/request_log.h"
#include "tools/sample_backend/routes.h"

namespace glidepath::sample_backend {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

// A multiple of 26, so every /_test/bytes piece starts at 'a' and the body is one pattern.
constexpr size_t kBodyPiece = 26 * 2520;
constexpr std::uint32_t kHeaderLimit = 64 * 1024;
constexpr size_t kReadBufferLimit = 1024 * 1024;
constexpr size_t kMaxControlBody = 64 * 1024;
// After the last answer on a closing connection, unread input is drained for this long
// before close(): closing with unread data would send a reset that can destroy the answer
// in the client's receive queue (RFC 9112 section 9.6).
constexpr auto kLingerTimeout = std::chrono::seconds(1);
constexpr auto kAcceptRetry = std::chrono::milliseconds(10);
// The largest WebSocket message echoed (Beast's default is 16 MiB).
constexpr std::uint64_t kMaxWebSocketMessage = 64 * 1024 * 1024;

std::string_view view(beast::string_view s) {
  return {s.data(), s.size()};
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

const std::string& byte_pattern() {
  static const std::string pattern = [] {
    std::string p(kBodyPiece, 'a');
    for (size_t i = 0; i < p.size(); ++i)
      p[i] = static_cast<char>('a' + i % 26);
    return p;
  }();
  return pattern;
}

void append_number(std::string& out, std::uint64_t n, int base = 10) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, n, base).ptr;
  out.append(digits, end);
}

// splitmix64: a fast generator for the error-rate coin; one per worker, no locks.
class FastRandom {
 public:
  explicit FastRandom(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  bool chance(double p) {
    if (p <= 0.0) return false;
    if (p >= 1.0) return true;
    return static_cast<double>(next() >> 11) * 0x1.0p-53 < p;
  }

 private:
  std::uint64_t state_;
};

// What every worker reads; the settings change at run time through /_control.
struct Shared {
  std::string name;
  std::atomic<double> error_rate{0.0};
  std::atomic<std::uint64_t> latency_ms{0};
  std::atomic<std::uint64_t> sequence{0};
  std::vector<const RequestLog*> logs;  // fixed before the threads start
};

struct Worker {
  Worker(Shared& s, std::uint64_t seed) : shared(s), random(seed) {}
  // First member: destroyed last, after the handlers it owns have released connections.
  asio::io_context io{1};
  Shared& shared;
  RequestLog log;
  FastRandom random;
  std::thread thread;
};

std::string settings_json(const Shared& shared, size_t workers) {
  std::string json = "{\"version\":";
  append_json_string(json, shared.name);
  json += ",\"error_rate\":";
  char digits[32];
  const double rate = shared.error_rate.load(std::memory_order_relaxed);
  json.append(digits, std::to_chars(digits, digits + sizeof digits, rate).ptr);
  json += ",\"latency_ms\":";
  append_number(json, shared.latency_ms.load(std::memory_order_relaxed));
  json += ",\"workers\":";
  append_number(json, workers);
  const StatusCounts counts = merged_status_counts(shared.logs);
  json += ",\"requests\":{\"total\":";
  append_number(json, counts.total);
  for (size_t i = 0; i < counts.by_class.size(); ++i) {
    json += ",\"";
    append_number(json, i + 1);
    json += "xx\":";
    append_number(json, counts.by_class[i]);
  }
  json += "}}";
  return json;
}

// /_test/ws after the upgrade: Beast does the handshake, framing, pings and the closing
// handshake; this echoes whole messages, one at a time.
class WebSocketEcho : public std::enable_shared_from_this<WebSocketEcho> {
 public:
  WebSocketEcho(tcp::socket socket, Worker& worker) : ws_(std::move(socket)), worker_(worker) {}

  void accept(const http::request<http::empty_body>& upgrade) {
    ws_.set_option(websocket::stream_base::decorator(
        [name = worker_.shared.name](websocket::response_type& response) {
          response.set("X-Backend-Version", name);
        }));
    ws_.read_message_max(kMaxWebSocketMessage);
    ws_.async_accept(upgrade, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->worker_.log.count_status(101);
      self->read();
    });
  }

 private:
  void read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;  // closed (the close was answered), or the peer went away
      self->reply();
    });
  }

  void reply() {
    ws_.text(ws_.got_text());
    const auto data = buffer_.data();
    const std::string_view message(static_cast<const char*>(data.data()), data.size());
    if (ws_.got_text() && message == "version") {
      const std::string& name = worker_.shared.name;
      buffer_.consume(buffer_.size());
      std::memcpy(buffer_.prepare(name.size()).data(), name.data(), name.size());
      buffer_.commit(name.size());
    }
    ws_.async_write(buffer_.data(), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return;
      self->buffer_.consume(self->buffer_.size());
      self->read();
    });
  }

  websocket::stream<tcp::socket> ws_;
  Worker& worker_;
  beast::flat_buffer buffer_;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, Worker& worker)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        worker_(worker),
        buffer_(kReadBufferLimit) {}

  void start() { read_header(); }

 private:
  enum class BodyMode { discard, collect, echo };
  using Parser = http::request_parser<http::buffer_body>;

  // ---- reading --------------------------------------------------------------------------

  void read_header() {
    route_ = Route{};
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    // Bodies are streamed, never held whole, so no limit. Not boost::none: Beast 1.74
    // compares a Content-Length with the empty optional and rejects every body.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    http::async_read_header(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    const auto& request = parser_->get();
    const std::string_view method = view(request.method_string());
    const std::string_view target = view(request.target());
    version_ = request.version();
    head_ = request.method() == http::verb::head;
    close_after_ = !request.keep_alive();
    body_bytes_ = 0;
    response_started_ = false;
    chunked_response_ = false;
    too_large_ = false;
    collected_.clear();
    route_ = classify(target);
    worker_.log.record(worker_.shared.sequence.fetch_add(1, std::memory_order_relaxed), method,
                       target);

    // RFC 9112 section 6.3: a Transfer-Encoding that does not end in chunked leaves the
    // length unknown; Beast would read no body and parse the rest as the next request.
    if (!parser_->chunked() && request.find(http::field::transfer_encoding) != request.end()) {
      close_after_ = true;
      return answer_error(400, "Transfer-Encoding must end with chunked");
    }
    switch (route_.kind) {
      case RouteKind::reset:
        return reset();
      case RouteKind::garbage:
        return send_garbage();
      case RouteKind::echo:
        if (!head_) return start_echo();
        break;
      case RouteKind::websocket:
        if (websocket::is_upgrade(request)) return start_websocket();
        break;
      default:
        break;
    }
    mode_ = route_.kind == RouteKind::control && request.method() == http::verb::post
                ? BodyMode::collect
                : BodyMode::discard;
    if (expects_continue()) {
      out_ = kContinue;
      return write_out([](Connection& self) { self.read_body(); });
    }
    read_body();
  }

  // RFC 9110 section 10.1.1: a client waiting for 100 Continue gets it before we read.
  bool expects_continue() const {
    return version_ >= 11 && !parser_->is_done() &&
           iequals(view(parser_->get()[http::field::expect]), "100-continue");
  }

  void read_body() {
    if (parser_->is_done()) return on_request_complete();
    if (!piece_) piece_ = std::make_unique<char[]>(kBodyPiece);
    auto& body = parser_->get().body();
    body.data = piece_.get();
    body.size = kBodyPiece;
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec == http::error::need_buffer) ec = {};  // the piece is full
                       if (ec) return self->on_read_error(ec);
                       self->on_body_piece(kBodyPiece - self->parser_->get().body().size);
                     });
  }

  void on_body_piece(size_t n) {
    body_bytes_ += n;
    if (mode_ == BodyMode::echo && n > 0) {
      return write_piece(piece_.get(), n, [](Connection& self) { self.read_body(); });
    }
    if (mode_ == BodyMode::collect) {
      if (collected_.size() + n <= kMaxControlBody) {
        collected_.append(piece_.get(), n);
      } else {
        too_large_ = true;
      }
    }
    read_body();
  }

  void on_read_error(beast::error_code ec) {
    static const auto& http_category = http::make_error_code(http::error::need_more).category();
    const bool peer_went_away = ec == http::error::end_of_stream ||
                                ec == http::error::partial_message ||
                                ec.category() != http_category;
    if (peer_went_away || response_started_) return close();
    close_after_ = true;
    head_ = false;
    const bool too_big = ec == http::error::header_limit || ec == http::error::buffer_overflow;
    body_.clear();
    body_ += "{\"error\":";
    append_json_string(body_, too_big ? "request header fields too large" : ec.message());
    body_ += '}';
    respond(too_big ? 431 : 400, "application/json", body_);
  }

  // ---- answering ------------------------------------------------------------------------

  void on_request_complete() {
    switch (route_.kind) {
      case RouteKind::application:
        return answer_application(/*may_fail=*/true,
                                  worker_.shared.latency_ms.load(std::memory_order_relaxed));
      case RouteKind::control:
        return answer_control();
      case RouteKind::echo:
        if (!response_started_) return respond(200, "application/octet-stream", "");  // HEAD
        return finish_stream();
      case RouteKind::status:
        return answer_status(static_cast<int>(route_.number));
      case RouteKind::sleep:
        return answer_application(/*may_fail=*/false, route_.number);
      case RouteKind::bytes:
        return start_bytes();
      case RouteKind::close:
        close_after_ = true;
        return answer_application(/*may_fail=*/false, 0);
      case RouteKind::count:
        return respond(200, "application/json", request_counts_json(worker_.shared.logs));
      case RouteKind::requests:
        return respond(200, "text/plain; charset=utf-8", recent_requests_text(worker_.shared.logs));
      case RouteKind::bad_hook:
        body_.clear();
        body_ += "{\"error\":";
        append_json_string(body_, route_.error);
        body_ += '}';
        return respond(route_.error_status, "application/json", body_);
      case RouteKind::websocket:
        return answer_error(426, "/_test/ws takes a WebSocket upgrade", "Upgrade: websocket\r\n");
      case RouteKind::reset:
      case RouteKind::garbage:
        break;  // answered in on_header
    }
  }

  void describe_request(std::string_view error) {
    const auto& request = parser_->get();
    fields_.clear();
    for (const auto& field : request) {
      fields_.push_back({view(field.name_string()), view(field.value())});
    }
    body_.clear();
    append_request_json(
        body_, worker_.shared.name,
        {view(request.method_string()), view(request.target()), body_bytes_, fields_}, error);
  }

  void answer_application(bool may_fail, std::uint64_t delay_ms) {
    const bool fail = may_fail && worker_.random.chance(
                                      worker_.shared.error_rate.load(std::memory_order_relaxed));
    describe_request(fail ? "injected failure" : "");
    prepare(fail ? 500 : 200, "application/json", body_);
    if (delay_ms == 0) return write_out(after_response);
    // A timer, never a blocking sleep: the worker goes on serving other connections.
    timer_.expires_after(std::chrono::milliseconds(delay_ms));
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->write_out(after_response);
    });
  }

  void answer_status(int status) {
    body_.clear();
    body_ += "{\"version\":";
    append_json_string(body_, worker_.shared.name);
    body_ += ",\"status\":";
    append_number(body_, static_cast<std::uint64_t>(status));
    body_ += '}';
    respond(status, "application/json", body_);
  }

  void answer_control() {
    const http::verb method = parser_->get().method();
    if (method == http::verb::post) {
      if (too_large_) return answer_error(413, "a /_control body is a small JSON object");
      auto update = parse_control_update(collected_);
      if (!update) return answer_error(400, update.error().message);
      auto& shared = worker_.shared;
      if (update->has_error_rate) shared.error_rate.store(update->error_rate);
      if (update->has_latency) shared.latency_ms.store(update->latency_ms);
    } else if (method != http::verb::get && method != http::verb::head) {
      return answer_error(405, "/_control takes GET or POST", "Allow: GET, HEAD, POST\r\n");
    }
    respond(200, "application/json", settings_json(worker_.shared, worker_.shared.logs.size()));
  }

  void answer_error(int status, std::string_view message, std::string_view extra_headers = {}) {
    body_.clear();
    body_ += "{\"error\":";
    append_json_string(body_, message);
    body_ += ",\"version\":";
    append_json_string(body_, worker_.shared.name);
    body_ += '}';
    prepare(status, "application/json", body_, extra_headers);
    write_out(after_response);
  }

  void respond(int status, std::string_view content_type, std::string_view body) {
    prepare(status, content_type, body);
    write_out(after_response);
  }

  // The whole answer in out_: head, then the body unless HEAD or a status without one.
  void prepare(int status, std::string_view content_type, std::string_view body,
               std::string_view extra_headers = {}) {
    out_.clear();
    const bool has_body = status != 204 && status != 304;
    append_head(status, has_body ? content_type : std::string_view{},
                has_body ? std::optional<std::uint64_t>(body.size()) : std::nullopt, extra_headers);
    if (has_body && !head_) out_ += body;
  }

  // `length` empty: chunked when the body allows one, else no framing header (204, 304).
  void append_head(int status, std::string_view content_type, std::optional<std::uint64_t> length,
                   std::string_view extra_headers = {}) {
    if (route_.kind != RouteKind::control) worker_.log.count_status(status);
    response_started_ = true;
    out_ += "HTTP/1.1 ";
    append_number(out_, static_cast<std::uint64_t>(status));
    out_ += ' ';
    const std::string_view reason = view(http::obsolete_reason(static_cast<http::status>(status)));
    out_ += reason.starts_with('<') ? "Unknown" : reason;  // Beast says "<unknown-status>"
    out_ += "\r\n";
    if (!content_type.empty()) {
      out_ += "Content-Type: ";
      out_ += content_type;
      out_ += "\r\n";
    }
    if (length) {
      out_ += "Content-Length: ";
      append_number(out_, *length);
      out_ += "\r\n";
    } else if (chunked_response_) {
      out_ += "Transfer-Encoding: chunked\r\n";
    }
    out_ += "X-Backend-Version: ";
    out_ += worker_.shared.name;
    out_ += "\r\n";
    out_ += extra_headers;
    if (close_after_) {
      out_ += "Connection: close\r\n";
    } else if (version_ < 11) {
      out_ += "Connection: keep-alive\r\n";
    }
    out_ += "\r\n";
  }

  // ---- streaming answers ----------------------------------------------------------------

  // The connection becomes a WebSocket: the socket goes to the echo, and this object ends
  // with the handler that called this.
  void start_websocket() {
    const http::request<http::empty_body> upgrade(parser_->get().base());
    std::make_shared<WebSocketEcho>(std::move(socket_), worker_)->accept(upgrade);
  }

  void start_echo() {
    const auto& request = parser_->get();
    mode_ = BodyMode::echo;
    // A chunked request gets a chunked echo; otherwise the length is known up front.
    chunked_response_ = parser_->chunked();
    std::string_view content_type = view(request[http::field::content_type]);
    if (content_type.empty()) content_type = "application/octet-stream";
    out_.clear();
    if (expects_continue()) out_ += kContinue;
    append_head(200, content_type,
                chunked_response_
                    ? std::nullopt
                    : std::optional<std::uint64_t>(parser_->content_length().value_or(0)));
    write_out([](Connection& self) { self.read_body(); });
  }

  void start_bytes() {
    chunked_response_ = route_.chunked && version_ >= 11;
    remaining_ = head_ ? 0 : route_.number;
    out_.clear();
    append_head(200, "application/octet-stream",
                chunked_response_ ? std::nullopt : std::optional<std::uint64_t>(route_.number));
    write_out([](Connection& self) { self.write_bytes(); });
  }

  void write_bytes() {
    if (remaining_ == 0) return finish_stream();
    const size_t n = static_cast<size_t>(std::min<std::uint64_t>(remaining_, kBodyPiece));
    remaining_ -= n;
    write_piece(byte_pattern().data(), n, [](Connection& self) { self.write_bytes(); });
  }

  // One piece of a streamed body, framed as a chunk when the answer is chunked.
  template <typename Next>
  void write_piece(const char* data, size_t n, Next next) {
    auto done = [self = shared_from_this(), next](beast::error_code ec, size_t) {
      if (ec) return self->close();
      next(*self);
    };
    if (!chunked_response_) {
      asio::async_write(socket_, asio::buffer(data, n), std::move(done));
      return;
    }
    chunk_head_.clear();
    append_number(chunk_head_, n, 16);
    chunk_head_ += "\r\n";
    const std::array<asio::const_buffer, 3> buffers{asio::buffer(chunk_head_),
                                                    asio::buffer(data, n), asio::buffer("\r\n", 2)};
    asio::async_write(socket_, buffers, std::move(done));
  }

  void finish_stream() {
    if (!chunked_response_ || head_) return after_response(*this);
    out_ = "0\r\n\r\n";
    write_out(after_response);
  }

  // ---- writing and closing --------------------------------------------------------------

  template <typename Next>
  void write_out(Next next) {
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this(), next](beast::error_code ec, size_t) {
                        if (ec) return self->close();
                        next(*self);
                      });
  }

  static void after_response(Connection& self) {
    if (self.close_after_) return self.linger_close();
    self.read_header();  // pipelined requests may already wait in buffer_
  }

  void reset() {
    beast::error_code ignored;
    socket_.set_option(asio::socket_base::linger(true, 0), ignored);
    close();
  }

  void send_garbage() {
    close_after_ = true;
    out_ = "\x01\x02 this is not HTTP \xff\xfe\r\n\r\n";
    write_out([](Connection& self) { self.linger_close(); });
  }

  void linger_close() {
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    timer_.expires_after(kLingerTimeout);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->close();
    });
    drain();
  }

  void drain() {
    if (!piece_) piece_ = std::make_unique<char[]>(kBodyPiece);
    socket_.async_read_some(asio::buffer(piece_.get(), kBodyPiece),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->close();
                              self->drain();
                            });
  }

  void close() {
    beast::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

  tcp::socket socket_;
  asio::steady_timer timer_;
  Worker& worker_;
  beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  std::unique_ptr<char[]> piece_;  // body pieces in and out; allocated on first use
  std::string out_;
  std::string body_;
  std::string chunk_head_;
  std::string collected_;
  std::vector<HeaderField> fields_;

  // The request being answered.
  Route route_;
  BodyMode mode_ = BodyMode::discard;
  std::uint64_t body_bytes_ = 0;
  std::uint64_t remaining_ = 0;
  unsigned version_ = 11;
  bool head_ = false;
  bool close_after_ = false;
  bool chunked_response_ = false;
  bool response_started_ = false;
  bool too_large_ = false;
};

}  // namespace

struct SampleBackend::Impl {
  Shared shared;
  // Connections run on their worker's io_context; the acceptor runs on worker 0's.
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> accept_retry;
  size_t next_worker = 0;
  std::string address;
  std::uint16_t port = 0;
  bool stopped = false;

  void accept() {
    Worker& target = *workers[next_worker];
    next_worker = (next_worker + 1) % workers.size();
    acceptor->async_accept(target.io, [this, &target](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (ec) {
        // Out of descriptors, for instance: try again shortly rather than spin.
        accept_retry->expires_after(kAcceptRetry);
        accept_retry->async_wait([this](beast::error_code wait_ec) {
          if (!wait_ec) accept();
        });
        return;
      }
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto connection = std::make_shared<Connection>(std::move(socket), target);
      asio::post(target.io, [connection] { connection->start(); });
      accept();
    });
  }
};

core::Result<void> validate(const SampleBackendOptions& options) {
  std::string problems;
  auto problem = [&](const std::string& message) {
    if (!problems.empty()) problems += "; ";
    problems += message;
  };
  if (!is_valid_version_name(options.name)) {
    problem("invalid name '" + options.name +
            "': use up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit");
  }
  if (!(options.error_rate >= 0.0 && options.error_rate <= 1.0)) {
    problem("error rate must be from 0 to 1");
  }
  if (options.latency.count() < 0 ||
      static_cast<std::uint64_t>(options.latency.count()) > kMaxLatencyMs) {
    problem("latency must be from 0 to " + std::to_string(kMaxLatencyMs) + " ms");
  }
  if (options.workers < 0 || options.workers > kMaxWorkers) {
    problem("workers must be from 0 (one per core) to " + std::to_string(kMaxWorkers));
  }
  beast::error_code ec;
  asio::ip::make_address(options.bind_address, ec);
  if (ec) problem("invalid bind address '" + options.bind_address + "'");
  if (!problems.empty()) return core::fail(problems);
  return {};
}

core::Result<std::unique_ptr<SampleBackend>> SampleBackend::start(
    const SampleBackendOptions& options) {
  if (auto valid = validate(options); !valid) return core::fail(valid.error().message);
  auto impl = std::make_unique<Impl>();
  impl->shared.name = options.name;
  impl->shared.error_rate.store(options.error_rate);
  impl->shared.latency_ms.store(static_cast<std::uint64_t>(options.latency.count()));

  size_t worker_count = static_cast<size_t>(options.workers);
  if (worker_count == 0) worker_count = std::max(1U, std::thread::hardware_concurrency());
  std::random_device entropy;
  for (size_t i = 0; i < worker_count; ++i) {
    const std::uint64_t seed = (std::uint64_t{entropy()} << 32) ^ entropy() ^ i;
    impl->workers.push_back(std::make_unique<Worker>(impl->shared, seed));
    impl->shared.logs.push_back(&impl->workers.back()->log);
  }

  const tcp::endpoint endpoint(asio::ip::make_address(options.bind_address), options.port);
  asio::io_context& accept_io = impl->workers.front()->io;
  impl->acceptor.emplace(accept_io);
  impl->accept_retry.emplace(accept_io);
  beast::error_code ec;
  tcp::acceptor& acceptor = *impl->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return core::fail("cannot listen on " + options.bind_address + ":" +
                      std::to_string(options.port) + ": " + ec.message());
  }
  impl->address = options.bind_address;
  impl->port = acceptor.local_endpoint().port();

  impl->accept();
  for (auto& worker : impl->workers) {
    Worker* w = worker.get();
    w->thread = std::thread([w] {
      // Keep running when idle: work arrives from the acceptor on another thread.
      auto guard = asio::make_work_guard(w->io);
      w->io.run();
    });
  }
  return std::unique_ptr<SampleBackend>(new SampleBackend(std::move(impl)));
}

SampleBackend::SampleBackend(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SampleBackend::~SampleBackend() {
  stop();
}

std::uint16_t SampleBackend::port() const {
  return impl_->port;
}

const std::string& SampleBackend::address() const {
  return impl_->address;
}

void SampleBackend::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  for (auto& worker : impl_->workers)
    worker->io.stop();
  for (auto& worker : impl_->workers) {
    if (worker->thread.joinable()) worker->thread.join();
  }
  // Worker 0's queue may hold a just-accepted socket of another worker: destroy the
  // acceptor's context first, while every other context is still alive.
  impl_->accept_retry.reset();
  impl_->acceptor.reset();
  for (auto& worker : impl_->workers)
    worker.reset();
}

}  // namespace glidepath::sample_backend
