#include "gateway/client_connection.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <charconv>

#include "access/request_access.h"
#include "core/clock.h"
#include "gateway/tunnel.h"
#include "http/serialize.h"

namespace glidepath::gateway::detail {
namespace {

// Quota periods are wall-clock UTC; read only for a key with a quota.
const core::SystemClock kWallClock;

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
const asio::const_buffer kContinueBuffer = asio::buffer(kContinue);

http::ParserLimits request_limits(const GatewayOptions& o) {
  return http::ParserLimits{static_cast<size_t>(o.max_header_bytes), o.max_body_bytes};
}

int64_t to_ms(core::Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// An incoming X-Request-Id is kept when it is short and printable, so a request can be
// followed across systems; anything else is replaced rather than forwarded.
bool acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

// A random UUID-shaped id (version 4 layout) from the worker's generator.
void generate_request_id(std::string& out, uint64_t a, uint64_t b) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.resize(36);
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  int pos = 0;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out[static_cast<size_t>(pos++)] = '-';
    const uint64_t word = i < 16 ? a : b;
    const int shift = 60 - 4 * (i % 16);
    out[static_cast<size_t>(pos++)] = kHex[(word >> shift) & 0xf];
  }
}

size_t chunk_header(std::array<char, 24>& out, size_t size) {
  auto [end, ec] = std::to_chars(out.data(), out.data() + 18, size, 16);
  (void)ec;
  end[0] = '\r';
  end[1] = '\n';
  return static_cast<size_t>(end + 2 - out.data());
}

ClientTransport transport_for(tcp::socket socket, const Listener& listener) {
  if (listener.tls) return ClientTransport(std::move(socket), *listener.ssl, listener.tls);
  return ClientTransport(std::move(socket));
}

}  // namespace

ClientConnection::ClientConnection(Worker& worker, tcp::socket socket, const Listener& listener)
    : worker_(worker),
      transport_(transport_for(std::move(socket), listener)),
      redirect_https_port_(listener.redirect_https_port),
      in_(new char[kBufferBytes]),
      parser_(request_limits(worker.options())),
      up_in_(new char[kBufferBytes]),
      response_parser_(static_cast<size_t>(worker.options().max_header_bytes)) {
  out_gather_.reserve(kMaxGather);
  boost::system::error_code ec;
  const auto remote = transport_.socket().remote_endpoint(ec);
  if (!ec) client_address_ = remote.address().to_string();
  transport_.socket().set_option(tcp::no_delay(true), ec);
  worker_.add(this);
}

ClientConnection::~ClientConnection() {
  worker_.remove(this);
}

void ClientConnection::start() {
  // A new connection owes us its first request within header_timeout, as nginx's
  // client_header_timeout: holding silent connections open costs nothing to an attacker.
  set_deadline(worker_.options().header_timeout);
  if (transport_.tls()) {
    handshake();
  } else {
    read_client();
  }
}

void ClientConnection::handshake() {
  // Within header_timeout like the first request: the sweeper closes a silent one.
  client_read_pending_ = true;
  transport_.async_handshake([self = shared_from_this()](const boost::system::error_code& ec) {
    self->client_read_pending_ = false;
    if (ec || self->closed_) {
      // A client that hangs up before a request is no failure of ours, but a handshake
      // that goes wrong (no shared cipher, a bad record, the deadline) is counted. Asio
      // reports an end of stream in the handshake as stream_truncated (no close_notify).
      if (ec != asio::error::eof && ec != asio::ssl::error::stream_truncated &&
          ec != asio::error::connection_reset) {
        auto& failures = self->worker_.tls_counters.failures;
        failures.store(failures.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      }
      self->close();
      return;
    }
    self->worker_.tls_counters.count(self->transport_.tls_version(), self->transport_.tls_cipher());
    self->read_client();
  });
}

void ClientConnection::set_deadline(core::Duration from_now) {
  deadline_ms_ = steady_ms() + to_ms(from_now);
}

void ClientConnection::close() {
  if (closed_) return;
  closed_ = true;
  transport_.close();
  boost::system::error_code ec;
  if (upstream_) upstream_->socket.close(ec);
  upstream_.reset();
}

void ClientConnection::close_when_idle() {
  close_when_idle_ = true;
  if (request_ == RequestState::none && response_ == ResponseState::none && !parser_.in_message() &&
      !client_write_pending_) {
    close();
  }
}

void ClientConnection::check_deadline(int64_t now_ms) {
  if (closed_ || deadline_ms_ == 0 || now_ms < deadline_ms_) return;
  if (request_ == RequestState::connecting) {
    // The connect did not finish within connect_timeout: cancelling it makes its handler
    // try the next upstream.
    boost::system::error_code ec;
    if (upstream_) upstream_->socket.close(ec);
    return;
  }
  if (response_ == ResponseState::awaiting_head) {
    upstream_failed("the upstream did not answer in time", true);
    return;
  }
  if (request_ == RequestState::none && response_ == ResponseState::none) {
    if (parser_.in_message() && !client_write_pending_) {
      // Half a request: it is timed out rather than allowed to hold the connection.
      respond_error(408, "the request did not arrive in time", true);
    } else {
      close();  // an idle keep-alive connection
    }
    return;
  }
  close();  // a stalled body in either direction
}

// ---- client input ----------------------------------------------------------------------

void ClientConnection::read_client() {
  if (closed_ || client_read_pending_) return;
  if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
  if (in_end_ == kBufferBytes) return;  // full: wait until processing frees space
  client_read_pending_ = true;
  transport_.async_read_some(
      asio::buffer(in_.get() + in_end_, kBufferBytes - in_end_),
      [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
        self->client_read_pending_ = false;
        if (self->closed_) return;
        if (ec) {
          // The client went away. Mid-request this abandons the exchange; an idle
          // connection just ends.
          if (self->request_ == RequestState::none && self->parser_.in_message()) {
            auto r = self->parser_.finish();
            (void)r;
          }
          self->close();
          return;
        }
        if (self->request_ == RequestState::none && !self->parser_.in_message()) {
          self->set_deadline(self->worker_.options().header_timeout);
        } else if (self->request_ == RequestState::sending) {
          self->set_deadline(self->worker_.options().idle_timeout);
        }
        self->in_end_ += n;
        self->bytes_in_ += n;
        self->process_input();
      });
}

void ClientConnection::process_input() {
  while (!closed_) {
    // The upstream switched protocols: what the client sends now is the tunnel's.
    if (switching_) return;
    // One exchange at a time: pipelined bytes wait for the response before them, and a
    // body chunk in flight to the upstream still points into the buffer.
    if (request_ == RequestState::connecting || request_ == RequestState::done) return;
    if (upstream_write_pending_) return;
    // A response body on its way to the client must not hold up the request body on its
    // way up: an upstream that answers while it reads (an echo) would wait for the rest of
    // the request while we wait for its response. Anything else we write to the client
    // (100 Continue, an error) goes out before more input is read.
    if (client_write_pending_ && response_ != ResponseState::streaming) return;
    if (request_ == RequestState::none && response_ != ResponseState::none) return;
    // After an event the parser may hold a zero-width one (the end of a bodiless
    // message), which an empty feed delivers; only then is more input needed.
    if (in_begin_ == in_end_ && !request_parser_paused_) {
      if (request_ == RequestState::none && close_when_idle_ && !parser_.in_message()) {
        close();
        return;
      }
      read_client();
      return;
    }
    const http::FeedResult r =
        parser_.feed(std::span<const char>(in_.get() + in_begin_, in_end_ - in_begin_));
    in_begin_ += r.consumed;
    request_parser_paused_ =
        r.event != http::ParseEvent::need_more && r.event != http::ParseEvent::error;
    switch (r.event) {
      case http::ParseEvent::need_more:
        continue;
      case http::ParseEvent::head_complete:
        on_request_head();
        return;
      case http::ParseEvent::body:
        if (discarding_body_) continue;  // the response is out; the rest goes nowhere
        forward_request_body(parser_.body_chunk());
        return;
      case http::ParseEvent::message_complete:
        if (skip_message_) {
          skip_message_ = false;  // a bodiless request we already answered ourselves
          continue;
        }
        if (discarding_body_) {
          // The rest of a body the upstream no longer wanted is read: the connection can
          // carry the next request (as nginx's discarded request body).
          discarding_body_ = false;
          finish_exchange(!client_keep_alive_);
          return;
        }
        on_request_complete();
        return;
      case http::ParseEvent::error:
        on_parse_error();
        return;
    }
  }
}

void ClientConnection::on_parse_error() {
  const http::ParseError& error = parser_.error();
  if (request_ == RequestState::none) {
    respond_error(error.status, error.reason, true);
    return;
  }
  // The head was fine but the body is not (bad chunk framing, too large): nothing more
  // may reach the upstream. Answer if the response has not started, else just close.
  if (upstream_) {
    boost::system::error_code ec;
    upstream_->socket.close(ec);
    upstream_.reset();
  }
  if (response_ == ResponseState::none || response_ == ResponseState::awaiting_head) {
    response_ = ResponseState::none;
    request_ = RequestState::none;
    respond_error(error.status, error.reason, true);
  } else {
    close();
  }
}

void ClientConnection::on_request_head() {
  const http::RequestHead& head = parser_.head();
  started_us_ = steady_us();
  client_keep_alive_ = head.keep_alive && !close_when_idle_;
  client_http10_ = head.version_minor == 0;
  request_has_body_ = head.framing != http::BodyFraming::none;
  request_chunked_ = head.framing == http::BodyFraming::chunked;
  expect_continue_ = head.expect_continue && request_has_body_;
  websocket_upgrade_ = head.websocket_upgrade;
  upstreams_tried_ = 0;
  retried_ = false;

  const std::string_view incoming_id = head.find("x-request-id");
  if (acceptable_request_id(incoming_id)) {
    request_id_.assign(incoming_id);
  } else {
    generate_request_id(request_id_, worker_.random(), worker_.random());
  }

  if (redirect_https_port_ != 0) {
    respond_redirect();
    return;
  }
  if (websocket_upgrade_ && close_when_idle_) {
    // A tunnel opened now would be cut at the end of the grace period.
    respond_error(503, "the gateway is stopping", true);
    return;
  }

  snapshot_ = worker_.snapshot();
  ConnectionFacts facts;
  facts.random_bits = worker_.random();
  facts.now_us = started_us_;
  facts.wall_clock = &kWallClock;
  const Decision decision = decide(*snapshot_->routes, head, facts, scratch_);
  route_ = decision.route;
  const bool close_after_error = request_has_body_ || !client_keep_alive_;
  if (decision.version != nullptr) {
    // Usage of the chosen version (a 429 too: the consumer sees its refusals), named by
    // the operation its contract gives the path the upstream sees ("GET /orders/{id}").
    consumer_id_ = decision.key != nullptr ? decision.key->consumer_id : access::kAnonymousConsumer;
    operation_ = worker_.operation_id(head.method, decision.forward_target,
                                      decision.version->operations.get());
    usage_series_ = decision.version->series;
    record_usage_ = true;
  }
  if (decision.status != 0) {
    if (route_ != nullptr) route_->refusals->count(decision.refusal);
    respond_error(decision.status, decision.error, close_after_error, decision.retry_after_seconds);
    return;
  }
  version_ = decision.version;
  const access::KeyEntry* key = decision.key;

  http::ForwardedRequest forwarded;
  forwarded.method = head.method;
  forwarded.target = decision.forward_target;
  forwarded.original = &head;
  forwarded.client_address = client_address_;
  forwarded.forwarded_proto = transport_.tls() ? "https" : "http";
  forwarded.request_id = request_id_;
  forwarded.framing = head.framing == http::BodyFraming::length ? http::BodyFraming::length
                      : request_chunked_                        ? http::BodyFraming::chunked
                                                                : http::BodyFraming::none;
  forwarded.content_length = head.content_length;
  if (route_->api_keys != config::ApiKeyMode::off) {
    forwarded.credential_header =
        route_->api_key_source == config::ApiKeySource::bearer ? "authorization" : "x-api-key";
  }
  if (key != nullptr) forwarded.consumer = key->consumer;
  forwarded.websocket_upgrade = websocket_upgrade_;
  up_head_.clear();
  http::write_request_head(up_head_, forwarded);

  request_ = RequestState::connecting;
  acquire_upstream();
}

// ---- upstream connection ---------------------------------------------------------------

void ClientConnection::acquire_upstream() {
  const auto& upstreams = version_->upstreams;
  if (upstreams.empty()) {
    request_ = RequestState::none;
    respond_error(502, "the version has no upstreams", true);
    return;
  }
  // A pooled connection to the next upstream in round-robin order, if one is idle.
  const uint32_t start = worker_.next_round_robin(version_->series);
  rr_start_ = start;
  const int64_t now = steady_ms();
  for (size_t i = 0; i < upstreams.size(); ++i) {
    const uint32_t index = upstreams[(start + i) % upstreams.size()];
    UpstreamPool& pool = worker_.pool(index);
    if (pool.down_until_ms > now && i + 1 < upstreams.size()) continue;
    if (!pool.idle.empty()) {
      upstream_ = std::move(pool.idle.back());
      pool.idle.pop_back();
      upstream_->reused = true;
      on_upstream_ready();
      return;
    }
    upstreams_tried_ = static_cast<int>(i);
    break;
  }
  connect_next_upstream();
}

void ClientConnection::connect_next_upstream() {
  const auto& upstreams = version_->upstreams;
  if (upstreams_tried_ >= static_cast<int>(upstreams.size())) {
    request_ = RequestState::none;
    respond_error(502, "no upstream of this version accepted the connection", true);
    return;
  }
  const uint32_t index =
      upstreams[(rr_start_ + static_cast<uint32_t>(upstreams_tried_)) % upstreams.size()];
  ++upstreams_tried_;
  UpstreamPool& pool = worker_.pool(index);
  upstream_ = std::make_unique<UpstreamConnection>(worker_.io());
  upstream_->pool = &pool;
  set_deadline(worker_.options().connect_timeout);
  worker_.upstream_connects.store(worker_.upstream_connects.load(std::memory_order_relaxed) + 1,
                                  std::memory_order_relaxed);
  upstream_->socket.async_connect(
      pool.endpoint, [self = shared_from_this(), index](const boost::system::error_code& ec) {
        if (self->closed_) return;
        if (ec) {
          // Refused, unreachable or timed out: mark the upstream down for a moment and
          // try the version's next one (SPEC section 4: round robin skips it).
          self->worker_.pool(index).down_until_ms = steady_ms() + 1000;
          boost::system::error_code ignored;
          if (self->upstream_) self->upstream_->socket.close(ignored);
          self->upstream_.reset();
          self->connect_next_upstream();
          return;
        }
        boost::system::error_code ignored;
        self->upstream_->socket.set_option(tcp::no_delay(true), ignored);
        self->worker_.pool(index).down_until_ms = 0;
        self->on_upstream_ready();
      });
}

void ClientConnection::on_upstream_ready() {
  request_ = RequestState::sending;
  response_ = ResponseState::awaiting_head;
  // Each exchange parses its response from a clean state: a previous connection may
  // have failed mid-response.
  up_begin_ = up_end_ = 0;
  response_parser_.reset();
  response_parser_.expect_response_to(parser_.head().method, websocket_upgrade_);
  response_parser_paused_ = false;
  set_deadline(worker_.options().request_timeout);
  if (expect_continue_ && !client_write_pending_) {
    // RFC 9110 10.1.1: we are about to read the body, so tell the client to send it. The
    // upstream never sees Expect (the serializer drops it); it gets the body directly.
    client_write_pending_ = true;
    transport_.async_write(
        std::span<const asio::const_buffer>(&kContinueBuffer, 1),
        [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
          self->client_write_pending_ = false;
          if (self->closed_) return;
          if (ec) {
            self->close();
            return;
          }
          self->process_input();
          self->process_response();
        });
  }
  const asio::const_buffer head = asio::buffer(up_head_);
  write_to_upstream(std::span<const asio::const_buffer>(&head, 1), false);
  read_upstream();
}

void ClientConnection::write_to_upstream(std::span<const asio::const_buffer> buffers, bool last) {
  upstream_write_pending_ = true;
  // The buffer sequence must outlive the write: async_write keeps the span, not a copy of
  // the descriptors, and reads them again whenever the upstream accepts only part of it.
  std::copy(buffers.begin(), buffers.end(), up_write_buffers_.begin());
  asio::async_write(upstream_->socket,
                    std::span<const asio::const_buffer>(up_write_buffers_.data(), buffers.size()),
                    [self = shared_from_this(), last](const boost::system::error_code& ec, size_t) {
                      self->upstream_write_pending_ = false;
                      if (self->closed_ || !self->upstream_) return;
                      if (ec) {
                        self->upstream_failed("the upstream closed the connection", false);
                        return;
                      }
                      if (self->switching_) {
                        self->start_tunnel();  // the 101 came before this write's handler
                        return;
                      }
                      if (last) {
                        // The whole request is upstream: from now on it must answer within
                        // request_timeout.
                        self->request_ = RequestState::done;
                        if (self->response_ == ResponseState::awaiting_head) {
                          self->set_deadline(self->worker_.options().request_timeout);
                        }
                        return;
                      }
                      self->process_input();
                    });
}

void ClientConnection::forward_request_body(std::span<const char> chunk) {
  if (request_chunked_) {
    // Re-framed with our own chunk headers: whatever framing quirks the client used, the
    // upstream sees one canonical encoding (no smuggling through framing).
    up_chunk_header_size_ = chunk_header(up_chunk_header_, chunk.size());
    const std::array<asio::const_buffer, 3> buffers{
        asio::buffer(up_chunk_header_.data(), up_chunk_header_size_),
        asio::buffer(chunk.data(), chunk.size()), asio::buffer(http::kChunkEnd.data(), 2)};
    write_to_upstream(buffers, false);
  } else {
    const asio::const_buffer data = asio::buffer(chunk.data(), chunk.size());
    write_to_upstream(std::span<const asio::const_buffer>(&data, 1), false);
  }
}

void ClientConnection::on_request_complete() {
  if (request_chunked_) {
    const asio::const_buffer last = asio::buffer(http::kLastChunk.data(), http::kLastChunk.size());
    write_to_upstream(std::span<const asio::const_buffer>(&last, 1), true);
    return;
  }
  request_ = RequestState::done;
  if (response_ == ResponseState::awaiting_head) set_deadline(worker_.options().request_timeout);
}

bool ClientConnection::request_retryable() const {
  // A reused keep-alive connection can have been closed by the upstream just before we
  // wrote to it. Retrying is safe only when nothing of the response arrived and the
  // request had no body to replay.
  return upstream_ && upstream_->reused && !retried_ && !request_has_body_ &&
         response_ == ResponseState::awaiting_head && up_end_ == 0;
}

void ClientConnection::upstream_failed(std::string_view what, bool timeout) {
  if (closed_) return;
  const bool retry = !timeout && request_retryable();
  boost::system::error_code ec;
  if (upstream_) upstream_->socket.close(ec);
  upstream_.reset();
  if (retry) {
    retried_ = true;
    request_ = RequestState::connecting;
    response_ = ResponseState::none;
    upstreams_tried_ = 0;
    rr_start_ = worker_.next_round_robin(version_->series);
    connect_next_upstream();
    return;
  }
  if (response_ == ResponseState::streaming) {
    close();  // the status line is already out: all we can do is cut the response short
    return;
  }
  const bool request_complete = request_ == RequestState::done;
  response_ = ResponseState::none;
  request_ = RequestState::none;
  status_ = timeout ? 504 : 502;
  respond_error(status_, what, !request_complete || !client_keep_alive_);
}

// ---- upstream response -----------------------------------------------------------------

void ClientConnection::read_upstream() {
  if (closed_ || !upstream_ || upstream_read_pending_) return;
  if (up_begin_ == up_end_) up_begin_ = up_end_ = 0;
  upstream_read_pending_ = true;
  upstream_->socket.async_read_some(
      asio::buffer(up_in_.get() + up_end_, kBufferBytes - up_end_),
      [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
        self->upstream_read_pending_ = false;
        if (self->closed_ || !self->upstream_) return;
        if (ec) {
          // EOF ends a close-delimited body; anywhere else the upstream failed us.
          const http::FeedResult r = self->response_parser_.finish();
          if (r.event == http::ParseEvent::message_complete &&
              self->response_ == ResponseState::streaming) {
            self->response_close_delimited_ = true;
            self->on_response_complete();
            return;
          }
          self->upstream_failed(
              self->response_ == ResponseState::awaiting_head && self->up_end_ == 0
                  ? "the upstream closed the connection without answering"
                  : "the upstream sent an incomplete response",
              false);
          return;
        }
        self->up_end_ += n;
        if (self->response_ == ResponseState::streaming) {
          self->set_deadline(self->worker_.options().idle_timeout);
        }
        self->process_response();
      });
}

void ClientConnection::process_response() {
  while (!closed_ && upstream_) {
    if (client_write_pending_ || switching_) return;
    if (response_ == ResponseState::none || response_ == ResponseState::done) return;
    if (up_begin_ == up_end_ && !response_parser_paused_) {
      // Everything parsed from this read goes to the client in one write (head, body and
      // chunk framing together); only after it may the buffer be read into again.
      if (!out_gather_.empty()) {
        flush_response(false);
      } else {
        read_upstream();
      }
      return;
    }
    const http::FeedResult r =
        response_parser_.feed(std::span<const char>(up_in_.get() + up_begin_, up_end_ - up_begin_));
    up_begin_ += r.consumed;
    response_parser_paused_ =
        r.event != http::ParseEvent::need_more && r.event != http::ParseEvent::error;
    switch (r.event) {
      case http::ParseEvent::need_more:
        continue;
      case http::ParseEvent::head_complete:
        if (response_parser_.is_interim()) {
          response_interim_ = true;  // 100 Continue: we sent our own to the client
          continue;
        }
        if (response_parser_.head().status == 101) {
          // The parser lets 101 through only for a WebSocket upgrade; the bytes after it
          // are not HTTP, so parsing ends here.
          on_switching_protocols();
          return;
        }
        on_response_head();
        continue;
      case http::ParseEvent::body:
        append_response_body(response_parser_.body_chunk());
        if (out_gather_.size() + 3 > kMaxGather) {
          flush_response(false);
          return;
        }
        continue;
      case http::ParseEvent::message_complete:
        if (response_interim_) {
          response_interim_ = false;
          continue;
        }
        on_response_complete();
        return;
      case http::ParseEvent::error:
        out_gather_.clear();
        out_chunk_headers_used_ = 0;
        upstream_failed(response_parser_.error().reason, false);
        return;
    }
  }
}

void ClientConnection::flush_response(bool exchange_done) {
  client_write_pending_ = true;
  // A span, not the vector: the vector would be copied into the operation, an allocation
  // per response. out_gather_ stays untouched until the handler runs.
  transport_.async_write(
      std::span<const asio::const_buffer>(out_gather_.data(), out_gather_.size()),
      [self = shared_from_this(), exchange_done](const boost::system::error_code& ec, size_t) {
        self->client_write_pending_ = false;
        self->out_gather_.clear();
        self->out_chunk_headers_used_ = 0;
        if (self->closed_) return;
        if (ec) {
          self->close();
          return;
        }
        if (!exchange_done) {
          self->process_response();
          self->process_input();
        } else if (self->discarding_body_) {
          self->process_input();  // reads the body's rest, then finishes
        } else {
          self->finish_exchange(!self->client_keep_alive_);
        }
      });
}

void ClientConnection::on_response_head() {
  const http::ResponseHead& head = response_parser_.head();
  response_ = ResponseState::streaming;
  status_ = head.status;
  set_deadline(worker_.options().idle_timeout);

  http::ForwardedResponse forwarded;
  forwarded.original = &head;
  forwarded.version_name = version_->name;
  forwarded.request_id = request_id_;
  forwarded.client_is_http10 = client_http10_;
  response_chunked_ = false;
  switch (head.framing) {
    case http::BodyFraming::length:
      forwarded.framing = http::BodyFraming::length;
      forwarded.content_length = head.content_length;
      break;
    case http::BodyFraming::chunked:
    case http::BodyFraming::until_close:
      // Chunked, or close-delimited re-framed as chunked so an HTTP/1.1 client's
      // connection survives. An HTTP/1.0 client cannot read chunked (RFC 9112 7.1): it
      // gets the decoded body delimited by the end of the connection.
      if (client_http10_) {
        forwarded.framing = http::BodyFraming::until_close;
        client_keep_alive_ = false;
      } else {
        forwarded.framing = http::BodyFraming::chunked;
        response_chunked_ = true;
      }
      break;
    case http::BodyFraming::none:
      forwarded.framing = http::BodyFraming::none;
      // A response to HEAD, and a 304, announce the length a GET would have had (RFC 9110
      // 8.6, 9.3.2, 15.4.5); it is passed on, with no body after it.
      if ((parser_.head().method == "HEAD" || head.status == 304) &&
          !head.find("content-length").empty()) {
        forwarded.framing = http::BodyFraming::length;
        forwarded.content_length = head.content_length;
      }
      break;
  }
  // Stopping: say so, rather than close a connection the client thinks it may reuse.
  if (close_when_idle_) client_keep_alive_ = false;
  forwarded.keep_alive = client_keep_alive_;
  out_head_.clear();
  http::write_response_head(out_head_, forwarded);
  bytes_out_ += out_head_.size();
  out_gather_.push_back(asio::buffer(out_head_));
}

void ClientConnection::append_response_body(std::span<const char> chunk) {
  bytes_out_ += chunk.size();
  if (response_chunked_) {
    auto& header = out_chunk_headers_[out_chunk_headers_used_++];
    const size_t size = chunk_header(header, chunk.size());
    out_gather_.push_back(asio::buffer(header.data(), size));
    out_gather_.push_back(asio::buffer(chunk.data(), chunk.size()));
    out_gather_.push_back(asio::buffer(http::kChunkEnd.data(), http::kChunkEnd.size()));
  } else {
    out_gather_.push_back(asio::buffer(chunk.data(), chunk.size()));
  }
}

void ClientConnection::on_response_complete() {
  response_ = ResponseState::done;
  // The upstream connection goes back to the pool when both messages ended cleanly.
  // Not after a refused upgrade: an upstream that answered it may still expect to switch.
  const bool reusable = !response_close_delimited_ && request_ == RequestState::done &&
                        response_parser_.head().keep_alive && up_begin_ == up_end_ &&
                        !upstream_write_pending_ && !websocket_upgrade_;
  if (upstream_) {
    if (reusable) {
      upstream_->idle_since_ms = steady_ms();
      worker_.release_upstream(std::move(upstream_));
    } else {
      boost::system::error_code ec;
      upstream_->socket.close(ec);
      upstream_.reset();
    }
  }
  // The upstream answered before it had the whole request body (an echo, an early
  // error): the rest of the body is read and dropped so the connection stays usable.
  if (request_ != RequestState::done) discarding_body_ = true;
  if (response_chunked_) {
    out_gather_.push_back(asio::buffer(http::kLastChunk));
    bytes_out_ += http::kLastChunk.size();
  }
  if (out_gather_.empty()) {
    if (discarding_body_) {
      process_input();
    } else {
      finish_exchange(!client_keep_alive_);
    }
    return;
  }
  flush_response(true);
}

// ---- WebSocket -------------------------------------------------------------------------

void ClientConnection::on_switching_protocols() {
  switching_ = true;
  response_ = ResponseState::streaming;  // an upstream failure from now on just closes
  status_ = 101;
  http::ForwardedResponse forwarded;
  forwarded.original = &response_parser_.head();
  forwarded.version_name = version_->name;
  forwarded.request_id = request_id_;
  forwarded.websocket_upgrade = true;
  out_head_.clear();
  http::write_response_head(out_head_, forwarded);
  bytes_out_ += out_head_.size();
  // The upgrade is one request of its version, counted when the 101 arrives (a 1xx, never
  // an error); the tunnel that follows is no request.
  record_exchange();
  set_deadline(worker_.options().idle_timeout);
  // The upstream may have sent its first frames right behind its 101: they follow it.
  out_gather_.push_back(asio::buffer(out_head_));
  if (up_end_ > up_begin_) {
    out_gather_.push_back(asio::buffer(up_in_.get() + up_begin_, up_end_ - up_begin_));
  }
  client_write_pending_ = true;
  transport_.async_write(
      std::span<const asio::const_buffer>(out_gather_.data(), out_gather_.size()),
      [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
        self->client_write_pending_ = false;
        self->out_gather_.clear();
        if (self->closed_) return;
        if (ec) {
          self->close();
          return;
        }
        self->start_tunnel();
      });
}

void ClientConnection::start_tunnel() {
  // Once both writes in flight are done: the 101's to the client, the request head's to
  // the upstream (whose handler may come second).
  if (closed_ || client_write_pending_ || upstream_write_pending_) return;
  TunnelEnds ends{std::move(transport_), std::move(upstream_), std::move(in_), in_begin_, in_end_,
                  std::move(up_in_)};
  TunnelVersion version{route_->name, version_->name, version_->series};
  // The tunnel owns the sockets and buffers now: this connection is over, and never
  // touches them again.
  closed_ = true;
  std::make_shared<Tunnel>(worker_, std::move(ends), std::move(version))->start();
}

// ---- both ------------------------------------------------------------------------------

void ClientConnection::send_own_response(bool close_after) {
  bytes_out_ += out_head_.size();
  client_write_pending_ = true;
  own_response_ = asio::buffer(out_head_);
  transport_.async_write(
      std::span<const asio::const_buffer>(&own_response_, 1),
      [self = shared_from_this(), close_after](const boost::system::error_code& ec, size_t) {
        self->client_write_pending_ = false;
        if (self->closed_) return;
        if (ec) {
          self->close();
          return;
        }
        self->finish_exchange(close_after);
      });
}

void ClientConnection::respond_redirect() {
  const http::RequestHead& head = parser_.head();
  if (head.host.empty()) {
    respond_error(400, "a Host header is needed to redirect to HTTPS", true);
    return;
  }
  status_ = 308;
  // A body the client sends after the head is not read: the connection closes after.
  const bool close_after = request_has_body_ || !client_keep_alive_;
  if (request_ == RequestState::none && parser_.in_message()) skip_message_ = true;
  out_head_.clear();
  http::write_https_redirect(out_head_, head.host, redirect_https_port_, head.target, request_id_,
                             close_after);
  send_own_response(close_after);
}

void ClientConnection::respond_error(int status, std::string_view message, bool close_after,
                                     int retry_after_seconds) {
  status_ = status;
  // Refused before its head was read (malformed, too large, too slow): the answer still
  // gets an id of its own (SPEC section 4: every gateway error carries one).
  if (request_id_.empty()) generate_request_id(request_id_, worker_.random(), worker_.random());
  // Answered before the request was forwarded: its (empty) end must not be forwarded.
  if (request_ == RequestState::none && parser_.in_message()) skip_message_ = true;
  out_head_.clear();
  http::write_error_response(out_head_, status, message, request_id_, close_after,
                             version_ ? std::string_view(version_->name) : std::string_view(),
                             retry_after_seconds);
  send_own_response(close_after);
}

void ClientConnection::finish_exchange(bool close_after) {
  record_exchange();
  reset_exchange();
  if (close_after || closed_) {
    close();
    return;
  }
  set_deadline(worker_.options().idle_timeout);
  process_input();
}

void ClientConnection::record_exchange() {
  const bool gateway_error = response_ == ResponseState::none;  // we answered ourselves
  worker_.count_request(gateway_error);
  if (version_ != nullptr || record_usage_) {
    const int64_t now_us = coarse_epoch_us();
    if (version_ != nullptr) {
      // Gateway-made 502/504 count as the version's errors (SPEC section 4).
      worker_.recorder().record(version_->series, now_us / 1'000'000, status_,
                                steady_us() - started_us_, bytes_in_, bytes_out_);
    }
    if (record_usage_) {
      worker_.usage().record(consumer_id_, usage_series_, operation_, status_, now_us);
    }
  }
}

void ClientConnection::reset_exchange() {
  request_ = RequestState::none;
  response_ = ResponseState::none;
  route_ = nullptr;
  version_ = nullptr;
  record_usage_ = false;
  consumer_id_ = 0;
  snapshot_.reset();
  status_ = 0;
  bytes_in_ = in_end_ - in_begin_;  // pipelined bytes already read belong to the next one
  bytes_out_ = 0;
  response_chunked_ = false;
  response_close_delimited_ = false;
  response_interim_ = false;
  discarding_body_ = false;
  websocket_upgrade_ = false;
  request_id_.clear();  // the next request brings or gets its own
  if (upstream_) {
    boost::system::error_code ec;
    upstream_->socket.close(ec);
    upstream_.reset();
  }
}

}  // namespace glidepath::gateway::detail
