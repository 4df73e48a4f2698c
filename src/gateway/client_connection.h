// Internal: one client connection and the exchanges (request → upstream → response) it
// carries, one at a time; pipelined requests wait in the read buffer until the response
// before them is done (RFC 9112 9.3.2). An exchange the upstream answers with 101 (a
// WebSocket upgrade) is its last: both connections then belong to a Tunnel.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "gateway/decide.h"
#include "gateway/transport.h"
#include "gateway/worker.h"
#include "http/parser.h"

namespace glidepath::gateway::detail {

class ClientConnection : public std::enable_shared_from_this<ClientConnection> {
 public:
  ClientConnection(Worker& worker, tcp::socket socket, const Listener& listener);
  ~ClientConnection();
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  void start();
  // Called by the worker's sweeper about ten times a second.
  void check_deadline(int64_t now_ms);
  // Graceful stop: close now if idle, else after the exchange in progress.
  void close_when_idle();
  void close();

 private:
  enum class RequestState { none, connecting, sending, done };
  enum class ResponseState { none, awaiting_head, streaming, done };

  // Client side.
  void handshake();         // TLS listeners: before the first read
  void respond_redirect();  // a redirect_https listener's only answer
  void read_client();
  void process_input();
  void on_request_head();
  void on_request_complete();
  void on_parse_error();
  void forward_request_body(std::span<const char> chunk);
  void write_to_upstream(std::span<const asio::const_buffer> buffers, bool last);
  // Upstream side.
  void acquire_upstream();
  void connect_next_upstream();
  void on_upstream_ready();
  void read_upstream();
  void process_response();
  void on_response_head();
  void append_response_body(std::span<const char> chunk);
  void flush_response(bool exchange_done);
  void on_response_complete();
  void upstream_failed(std::string_view what, bool timeout);
  // WebSocket: the upstream accepted the upgrade; the 101 goes out, then both connections
  // go to a Tunnel (tunnel.h) and this connection ends.
  void on_switching_protocols();
  void start_tunnel();
  // Both.
  void respond_error(int status, std::string_view message, bool close_after,
                     int retry_after_seconds = 0);
  // Writes out_head_, a whole response the gateway made, then finishes the exchange.
  void send_own_response(bool close_after);
  void finish_exchange(bool close_after);
  void record_exchange();  // metrics and usage of the exchange, once
  void reset_exchange();
  void set_deadline(core::Duration from_now);
  bool request_retryable() const;

  Worker& worker_;
  ClientTransport transport_;
  uint16_t redirect_https_port_ = 0;
  std::string client_address_;
  bool closed_ = false;
  bool close_when_idle_ = false;
  bool client_read_pending_ = false;
  bool client_write_pending_ = false;
  bool upstream_write_pending_ = false;
  bool upstream_read_pending_ = false;
  int64_t deadline_ms_ = 0;

  // Client input: parsed in place; body chunks are forwarded straight from here.
  std::unique_ptr<char[]> in_;
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  http::RequestParser parser_;
  bool request_parser_paused_ = false;  // it stopped at an event: feed again before reading

  // The exchange in progress.
  RequestState request_ = RequestState::none;
  ResponseState response_ = ResponseState::none;
  std::shared_ptr<const ResolvedSnapshot> snapshot_;
  const ServiceRoute* route_ = nullptr;
  const VersionRoute* version_ = nullptr;
  // Usage (SPEC section 5): recorded at the end of an exchange that got past the key check
  // and chose a version (a 429 too, though it reached no upstream and is no version metric).
  bool record_usage_ = false;
  uint32_t consumer_id_ = 0;
  uint32_t operation_ = 0;
  metrics::SeriesId usage_series_ = 0;
  bool client_keep_alive_ = true;
  bool client_http10_ = false;
  bool request_has_body_ = false;
  bool request_chunked_ = false;
  bool expect_continue_ = false;
  bool websocket_upgrade_ = false;  // the request asks for one (RequestHead::websocket_upgrade)
  bool switching_ = false;          // the upstream answered 101: handing over to a tunnel
  bool skip_message_ = false;
  bool response_chunked_ = false;
  bool response_close_delimited_ = false;
  bool response_interim_ = false;
  int status_ = 0;
  int upstreams_tried_ = 0;
  uint32_t rr_start_ = 0;
  bool retried_ = false;
  int64_t started_us_ = 0;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
  std::string request_id_;
  DecisionScratch scratch_;          // the targets decide() normalises and forwards
  std::string up_head_;              // serialised request head for the upstream
  std::string out_head_;             // serialised response head (or error response) for the client
  asio::const_buffer own_response_;  // of the write in flight of a response we made (out_head_)
  std::array<char, 24> up_chunk_header_{};
  size_t up_chunk_header_size_ = 0;
  std::array<asio::const_buffer, 3> up_write_buffers_{};  // of the write to the upstream in flight
  // What goes to the client in the next write: response head, body pieces (pointing into
  // up_in_) and chunk framing, gathered so a small response leaves in one writev.
  static constexpr size_t kMaxGather = 48;
  std::vector<asio::const_buffer> out_gather_;
  std::array<std::array<char, 24>, kMaxGather / 3> out_chunk_headers_{};
  size_t out_chunk_headers_used_ = 0;
  // The response ended before the request body did: the rest is read and dropped.
  bool discarding_body_ = false;

  // Upstream.
  std::unique_ptr<UpstreamConnection> upstream_;
  std::unique_ptr<char[]> up_in_;
  size_t up_begin_ = 0;
  size_t up_end_ = 0;
  http::ResponseParser response_parser_;
  bool response_parser_paused_ = false;
};

}  // namespace glidepath::gateway::detail
