// A small blocking HTTP/1.1 client for integration tests: raw POSIX sockets, with
// Boost.Beast's response parser, so it shares no code with the gateway's own HTTP layer
// (a bug there cannot hide itself here). It sends exactly the bytes a test asks for
// (send_raw), which is how malformed and smuggling requests are written, and reads
// responses one by one from the same connection (keep-alive, pipelining).
//
// Every read and write is bounded by a timeout. send_raw may run on one thread while
// another reads responses (needed to stream a large upload that is echoed back); other
// uses are single-threaded.
//
// With TlsOptions the connection speaks TLS: OpenSSL's own client over the same socket
// (not the gateway's TLS code), with SNI, verification against a CA file, ALPN, and the
// negotiated version, cipher and resumption reported. A TLS client is single-threaded.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace glidepath::testing {

using namespace std::chrono_literals;

// Header fields in order, names as received; lookups ignore case.
class HeaderList {
 public:
  void add(std::string name, std::string value);
  std::optional<std::string> get(std::string_view name) const;  // the first value
  std::string value(std::string_view name) const;               // the first value, or ""
  std::vector<std::string> get_all(std::string_view name) const;
  bool contains(std::string_view name) const;
  size_t size() const { return fields_.size(); }
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

struct HttpResponse {
  int status = 0;  // 0 when no complete response arrived: see `error`
  std::string reason;
  unsigned version = 11;  // 10 or 11
  HeaderList headers;
  std::string body;         // de-chunked
  bool chunked = false;     // the body came with Transfer-Encoding: chunked
  bool keep_alive = false;  // the response lets the connection be reused
  bool closed = false;      // the server closed the connection, after or instead of this
  bool reset = false;       // ... with a TCP reset
  bool timed_out = false;
  std::string error;  // why there is no complete response; empty when there is one

  bool ok() const { return error.empty(); }
  std::string header(std::string_view name) const { return headers.value(name); }
};

// Bytes read up to the end of the connection, unparsed.
struct RawRead {
  std::string data;
  bool closed = false;  // the server closed (FIN or reset)
  bool reset = false;
  bool timed_out = false;
};

using HeaderFields = std::vector<std::pair<std::string, std::string>>;

}  // namespace glidepath::testing

struct ssl_session_st;  // <openssl/ssl.h>: SSL_SESSION

namespace glidepath::testing {

// A TLS session a client may offer to resume (from HttpClient::tls_session()).
using TlsSession = std::shared_ptr<ssl_session_st>;

struct TlsOptions {
  // Sent as SNI and, with ca_file, the name the certificate must be for. Empty: no SNI.
  std::string server_name;
  // The server's certificate must chain to this PEM file; empty: it is not verified.
  std::string ca_file;
  std::vector<std::string> alpn{"http/1.1"};  // offered; empty: no ALPN
  // "1.1", "1.2", "1.3"; empty: OpenSSL's defaults. Below 1.2 the client lowers its own
  // security level so that it really offers the old protocol.
  std::string min_version;
  std::string max_version;
  std::string ciphers;  // TLS 1.2 (and older) cipher list; empty: OpenSSL's default
  TlsSession session;   // offered for resumption
  std::chrono::milliseconds handshake_timeout = std::chrono::seconds(10);
};

// What a TLS handshake settled.
struct TlsInfo {
  std::string version;       // "TLSv1.3"
  std::string cipher;        // "TLS_AES_128_GCM_SHA256"
  std::string alpn;          // the protocol the server chose; "" when none
  std::string peer_subject;  // the server certificate's subject, "/CN=api.example.com"
  bool session_reused = false;
};

class HttpClient {
 public:
  // Connects at once; throws std::runtime_error when the connection is refused.
  HttpClient(std::string host, std::uint16_t port);
  // Connects and completes a TLS handshake; throws std::runtime_error, saying why, when
  // either fails (a refused handshake: "TLS handshake with HOST:PORT failed: ...").
  HttpClient(std::string host, std::uint16_t port, TlsOptions tls);
  ~HttpClient();
  HttpClient(HttpClient&& other) noexcept;
  HttpClient& operator=(HttpClient&& other) noexcept;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // True when a connection to host:port is accepted right now.
  static bool can_connect(const std::string& host, std::uint16_t port);

  // Writes all of `bytes`; false when the peer has gone or the timeout passed first.
  bool send_raw(std::string_view bytes, std::chrono::milliseconds timeout = 10s);

  // Reads the next response on the connection (a 1xx too: it is a response of its own).
  // A response that asks to close (Connection: close, HTTP/1.0) waits up to a second for
  // the close, so `closed` can be asserted. `head_request`: the response has no body
  // whatever its framing headers say.
  HttpResponse read_response(std::chrono::milliseconds timeout = 5s, bool head_request = false);

  // Sends a request and reads its final response (1xx skipped). Adds Host (host:port)
  // unless given, and Content-Length when there is a body or the method usually has one,
  // unless the headers frame the body themselves. No reconnection: if the server closed the
  // connection, the response says so (a test of keep-alive must see it).
  HttpResponse request(std::string_view method, std::string_view target,
                       const HeaderFields& headers = {}, std::string_view body = {},
                       std::chrono::milliseconds timeout = 5s);

  // Everything until the server closes the connection (or the timeout).
  RawRead read_all_until_close(std::chrono::milliseconds timeout = 5s);

  void shutdown_send();  // half-close: the server sees end of input (TLS: close_notify too)
  void close();
  // A new connection to the same host and port; with TLS a new handshake (offering the
  // options' session, see resume_with).
  void reconnect();
  bool is_open() const { return fd_ >= 0; }
  int connects() const { return connects_; }  // connections made by this client so far
  std::uint16_t local_port() const;
  int fd() const { return fd_; }

  // ---- TLS ----
  bool tls() const { return tls_ != nullptr; }
  TlsInfo tls_info() const;  // empty when plain
  // The session to resume later. In TLS 1.3 the server's tickets arrive after the
  // handshake: read a response first.
  TlsSession tls_session() const;
  // Offer `session` on the next reconnect().
  void resume_with(TlsSession session);

 private:
  enum class ReadResult { data, closed, reset, timed_out, failed };
  ReadResult read_some(std::chrono::steady_clock::time_point deadline);
  ReadResult read_some_tls(std::chrono::steady_clock::time_point deadline);
  bool send_tls(std::string_view bytes, std::chrono::steady_clock::time_point deadline);
  void start_tls();  // on fd_; throws (and closes) when the handshake fails

  struct TlsState;

  std::string host_;
  std::uint16_t port_ = 0;
  std::optional<TlsOptions> tls_options_;
  std::unique_ptr<TlsState> tls_;  // set while a TLS connection is open
  int fd_ = -1;
  int connects_ = 0;
  bool peer_closed_ = false;
  bool peer_reset_ = false;
  std::string pending_;  // received, not yet parsed (the start of the next response)
};

// `data` framed as chunked transfer coding (RFC 9112 section 7.1), `chunk_size` per chunk.
std::string encode_chunked(std::string_view data, size_t chunk_size = 8192);

}  // namespace glidepath::testing
