// A small blocking HTTP/1.1 client for the control plane: hook calls, the CLI talking to
// the admin API. Never used on a gateway worker. Plain http:// only; every step bounded
// by the timeout.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace glidepath::http {

struct Url {
  std::string host;
  uint16_t port = 80;
  std::string target = "/";  // path and query
};
// "http://127.0.0.1:9090/v1/services" → {127.0.0.1, 9090, /v1/services}.
core::Result<Url> parse_url(std::string_view text);

struct ClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string header(std::string_view name) const;  // case-insensitive, "" if absent
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{10'000};  // the whole exchange
  size_t max_response_bytes = 64 * 1024 * 1024;
};

// One request on a new connection ("Connection: close"); the error says what failed
// (connect refused, timed out, malformed response).
core::Result<ClientResponse> send_request(const ClientRequest& request);

// Streams a response body to `on_data` as it arrives (server-sent events): returns when
// the server closes, on error, when `on_data` returns false, or after `timeout`.
core::Result<int> stream_request(const ClientRequest& request,
                                 const std::function<bool(std::string_view)>& on_data);

}  // namespace glidepath::http
