// A small blocking HTTP/1.1 client for the control plane: hook calls, the CLI talking to
// the admin API. Never used on a gateway worker. Plain http:// only; every step bounded
// by the timeout, name resolution included.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

struct addrinfo;  // <netdb.h>

namespace glidepath::http {

struct Url {
  std::string host;
  uint16_t port = 80;
  std::string target = "/";  // path and query
};
// "http://127.0.0.1:9090/v1/services" → {127.0.0.1, 9090, /v1/services}. A port is
// digits only, 1 to 65535 ("http://host:80abc/" is refused, not read as port 80).
core::Result<Url> parse_url(std::string_view text);

// getaddrinfo's signature: resolve() calls it (tests pass a slow one).
using AddressLookup = std::function<int(const char* host, const char* port, const ::addrinfo* hints,
                                        ::addrinfo** found)>;
// The addresses of host:port (TCP), freed with freeaddrinfo when the last copy goes.
using Addresses = std::shared_ptr<::addrinfo>;
// Resolves `host` within `timeout`: a numeric address at once, a name on a helper thread
// that is waited for at most `timeout` (getaddrinfo itself cannot be bounded). A lookup
// that answers later is dropped when it does, and its result freed; the error names the
// host and the timeout. `lookup` defaults to ::getaddrinfo.
core::Result<Addresses> resolve(const std::string& host, uint16_t port,
                                std::chrono::milliseconds timeout, AddressLookup lookup = {});

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
// (the name not resolved in time, connect refused, timed out, malformed response).
core::Result<ClientResponse> send_request(const ClientRequest& request);

}  // namespace glidepath::http
