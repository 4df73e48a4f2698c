// A WebSocket client for integration tests: Boost.Beast's (RFC 6455 framing, masking and
// the Sec-WebSocket-Accept check), so it shares no code with the gateway, which only copies
// bytes. Plain TCP or TLS (no certificate check: tests use a self-signed certificate).
//
// Every call is bounded by its timeout: Beast's asynchronous operations run on a private
// io_context for at most that long. After a call that timed out the connection is closed
// and every later call fails.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "support/http_client.h"

namespace glidepath::testing {

struct WsHandshake {
  bool ok = false;  // 101 with a valid Sec-WebSocket-Accept: the connection is a WebSocket
  int status = 0;   // the answer's status: 101, or the refusal's (0: no answer)
  HeaderList headers;
  std::string body;  // a refusal's
  std::string error;
};

struct WsMessage {
  bool ok = false;
  bool text = false;
  std::string data;
  bool closed = false;  // the connection ended (close frame, FIN or reset) instead
  bool timed_out = false;
  std::string error;
};

class WebSocketClient {
 public:
  // Connects to 127.0.0.1:`port` (and does the TLS handshake); throws std::runtime_error
  // when that fails.
  explicit WebSocketClient(std::uint16_t port, bool tls = false);
  ~WebSocketClient();
  WebSocketClient(const WebSocketClient&) = delete;
  WebSocketClient& operator=(const WebSocketClient&) = delete;

  // The opening handshake for `target` (Host: 127.0.0.1), with extra request headers.
  WsHandshake handshake(const std::string& target, const HeaderFields& headers = {},
                        std::chrono::milliseconds timeout = 5s);
  bool send(std::string_view data, bool text = true, std::chrono::milliseconds timeout = 5s);
  WsMessage receive(std::chrono::milliseconds timeout = 5s);
  // The client's closing handshake: a close frame, the peer's answer, the end of the
  // connection. True when all of it happened within `timeout`.
  bool close(std::chrono::milliseconds timeout = 5s);
  // Waits for the peer to end the connection without sending a message first; true when
  // it did within `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  template <typename Stream>
  struct StreamImpl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace glidepath::testing
