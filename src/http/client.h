// The control plane's blocking HTTP client: hook calls, the CLI talking to the admin API,
// a fleet member passing a deployment on to its leader. Never used on a gateway worker.
// http:// and https:// (the peer's certificate verified, against the system's CAs or a
// given CA file); every step bounded by the request's timeout, name resolution included.
// Built on libcurl, which this header does not include.
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
  std::string scheme = "http";  // "http" or "https", lower case
  std::string host;             // an IPv6 address without its brackets
  uint16_t port = 80;           // the scheme's default (80, 443) when the URL gives none
  std::string target = "/";     // path and query, as written (no fragment)
  bool tls() const { return scheme == "https"; }
  // "127.0.0.1:9090", "[::1]:8443": how errors name the server.
  std::string authority() const;
};
// "https://127.0.0.1:9090/v1/services" → {https, 127.0.0.1, 9090, /v1/services}, read by
// libcurl's URL parser. Only http:// and https://; no user or password in the URL. A port
// is digits only, 1 to 65535 ("http://host:80abc/" is refused, not read as port 80).
core::Result<Url> parse_url(std::string_view text);

// getaddrinfo's signature: resolve() calls it (tests pass a slow one).
using AddressLookup = std::function<int(const char* host, const char* port, const ::addrinfo* hints,
                                        ::addrinfo** found)>;
// The addresses of host:port (TCP), freed with freeaddrinfo when the last copy goes.
using Addresses = std::shared_ptr<::addrinfo>;
// Resolves `host` within `timeout`: a numeric address at once, a name on a helper thread
// that is waited for at most `timeout` (getaddrinfo itself cannot be bounded). A lookup
// that answers later is dropped when it does, and its result freed; the error names the
// host and the timeout. `lookup` defaults to ::getaddrinfo. (The gateway's name cache uses
// it; send_request leaves resolving to libcurl.)
core::Result<Addresses> resolve(const std::string& host, uint16_t port,
                                std::chrono::milliseconds timeout, AddressLookup lookup = {});

struct ClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string header(std::string_view name) const;  // case-insensitive, "" if absent
};

// How an https:// request trusts the server and proves who it is; unused for http://.
struct TlsOptions {
  // A PEM file of the CAs to trust instead of the system's; empty: the system's.
  std::string ca_file;
  // A PEM client certificate (and its key, when not in the same file) to present to a
  // server that asks for one; empty: none.
  std::string client_cert;
  std::string client_key;
  // Whether the server's certificate and name are checked. Turning it off is an explicit
  // choice (tests, a server being set up); nothing here turns it off by itself.
  bool verify = true;
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{10'000};  // the whole exchange, name resolution included
  size_t max_response_bytes = 64 * 1024 * 1024;
  TlsOptions tls;
};

// One request on a new connection ("Connection: close"). A body, or POST and PUT, is sent
// with Content-Length and, unless a header says otherwise, Content-Type: application/json.
// Redirects are answers, not followed; no proxy is used. The error names the server
// (host:port) and what failed: the name not resolved in time, connect refused, a
// certificate not trusted, timed out, a response larger than max_response_bytes.
core::Result<ClientResponse> send_request(const ClientRequest& request);

// A send_request error's text without its leading "scheme://host:port: ", for a caller that
// names the server itself ("cannot reach the admin API at URL: <this>"); the message as it
// is when it does not start with `url`'s server.
std::string without_server(std::string_view message, std::string_view url);

// Sets libcurl up for the process (curl_global_init, once). send_request does it on its
// first call; a main() calls it first, before it starts threads.
void initialize_client();

// Whether libcurl resolves names on a thread of its own (its AsynchDNS feature), so that
// a request's timeout bounds name resolution too. True for Debian's libcurl.
bool name_resolution_is_bounded();

}  // namespace glidepath::http
