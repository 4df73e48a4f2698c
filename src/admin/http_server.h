// The admin listener's HTTP server (SPEC section 7): small JSON requests and responses on
// a thread of its own, never on a gateway worker. Boost.Beast stays inside
// http_server.cpp; handlers see plain structs.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "admin/stream_body.h"
#include "core/result.h"
#include "core/units.h"

namespace glidepath::tls {
class ServerContext;
}

namespace glidepath::admin {

struct Request {
  std::string method;                        // "GET"
  std::string target;                        // "/v1/services/orders/metrics?seconds=60"
  std::string path;                          // "/v1/services/orders/metrics"
  std::map<std::string, std::string> query;  // decoded
  std::string body;
  std::string authorization;  // the Authorization header, if any
  std::string last_event_id;  // the Last-Event-ID header (an SSE client reconnecting), if any
  std::string if_none_match;  // the If-None-Match header (a browser revalidating), if any
  bool forwarded = false;     // X-Glidepath-Forwarded: a fleet member passed it on already
  std::string_view query_value(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is written as the stream produces it (server-sent events) instead
  // of `body`; the connection closes when the stream finishes or the client leaves.
  std::shared_ptr<StreamBody> stream;

  static Response json(int status, std::string body);
  // {"error": message}
  static Response error(int status, std::string_view message);
};

using Handler = std::function<Response(const Request&)>;

struct ServerOptions {
  core::HostPort listen{"127.0.0.1", 9090};
  std::string token;  // when set, every request needs "Authorization: Bearer <token>"...
  // ...but GET and HEAD of this path and the paths under it (the dashboard's files, which
  // hold no data and ask for the token themselves). Empty: no exemption.
  std::string public_prefix;
  size_t max_body_bytes = 4 * 1024 * 1024;
  // Set: the listener speaks HTTPS only (admin.tls), with this context until set_tls().
  std::shared_ptr<const tls::ServerContext> tls;
};

class HttpServer {
 public:
  // Binds and starts serving on its own thread; `handler` runs on that thread.
  // Streams still open when the server stops are aborted (their pushes return false).
  static core::Result<std::unique_ptr<HttpServer>> start(const ServerOptions& options,
                                                         Handler handler);
  ~HttpServer();
  uint16_t port() const;
  // A TLS server's new certificate context, for handshakes from now on.
  void set_tls(std::shared_ptr<const tls::ServerContext> context);
  void stop();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Constant-time comparison, so a wrong token's timing says nothing about the right one.
bool token_matches(std::string_view authorization_header, std::string_view token);

}  // namespace glidepath::admin
