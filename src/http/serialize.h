// Writing HTTP/1.1 heads and chunk framing into reusable buffers: what the gateway sends
// upstream and back to the client. Appends to `out` (which the caller clears and reuses),
// so steady-state serialization allocates nothing.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "http/message.h"

namespace glidepath::http {

// Hop-by-hop headers (RFC 9110 7.6.1): Connection, Keep-Alive, Proxy-Connection, TE,
// Trailer, Transfer-Encoding, Upgrade, Proxy-Authenticate, Proxy-Authorization, and every
// header named in a Connection header's value.
bool is_hop_by_hop(std::string_view name, std::span<const Header> all_headers);

struct ForwardedRequest {
  std::string_view method;
  std::string_view target;  // already normalised (and prefix-stripped when the route says so)
  const RequestHead* original = nullptr;    // headers to copy (minus hop-by-hop and replaced)
  std::string_view client_address;          // appended to X-Forwarded-For
  std::string_view forwarded_proto;         // "http" (TLS later)
  std::string_view request_id;              // X-Request-Id (kept or generated)
  BodyFraming framing = BodyFraming::none;  // what we send: length or chunked (re-framed)
  uint64_t content_length = 0;
  // The header that carried the caller's API key ("X-Api-Key" or "Authorization"): not
  // forwarded, so a key never reaches an upstream. Empty: every header is kept.
  std::string_view credential_header;
  // X-Glidepath-Consumer: the consumer the key identified. A received
  // X-Glidepath-Consumer is never forwarded (a client must not claim an identity), nor a
  // received X-Glidepath-Preview-Token (a credential). Empty: not written.
  std::string_view consumer;
  // A WebSocket opening handshake (RequestHead::websocket_upgrade): the upgrade is asked
  // of the upstream with "Upgrade: websocket" and "Connection: Upgrade" in place of
  // "Connection: keep-alive"; every other hop-by-hop header is still dropped.
  bool websocket_upgrade = false;
};
// "METHOD target HTTP/1.1\r\n" + Host (the original's, never dropped; an absolute-form
// original target's authority instead, RFC 9112 3.2.2; empty if the client sent none) +
// copied end-to-end headers in order (minus hop-by-hop, Content-Length and the ones
// replaced below) + X-Forwarded-For (every received X-Forwarded-For value, joined in
// order, then client_address) + X-Forwarded-Proto (replacing any received) + X-Request-Id
// (replacing any received; an id with control characters is not written) +
// Content-Length or Transfer-Encoding: chunked per `framing` + "Connection: keep-alive"
// + X-Glidepath-Consumer when given + "\r\n". Empty forwarded_proto/request_id: the
// received headers are kept instead. Never forwarded: credential_header,
// X-Glidepath-Consumer, X-Glidepath-Preview-Token. Sec-WebSocket-* are end-to-end and
// copied like any other header.
void write_request_head(std::string& out, const ForwardedRequest& request);

struct ForwardedResponse {
  const ResponseHead* original = nullptr;
  std::string_view version_name;  // X-Glidepath-Version
  std::string_view request_id;    // X-Request-Id echoed back
  // length, chunked, none, or until_close (no length header; forces Connection: close).
  // To pass on what a HEAD or 304 response announced, use length with the original's
  // content_length and send no body.
  BodyFraming framing = BodyFraming::none;
  uint64_t content_length = 0;
  bool keep_alive = true;  // adds "Connection: close" when false
  // With keep_alive, adds "Connection: keep-alive" (HTTP/1.0 closes by default). An
  // HTTP/1.0 client cannot read chunked: use length or until_close for it.
  bool client_is_http10 = false;
  // A 101 that accepted a WebSocket upgrade: "Upgrade: websocket" and "Connection:
  // Upgrade" are written (instead of any Connection header), no framing; `framing` and
  // `keep_alive` are ignored.
  bool websocket_upgrade = false;
};
// "HTTP/1.1 status reason\r\n" (the original's reason, else reason_phrase) + copied
// end-to-end headers (minus hop-by-hop, Content-Length, and X-Glidepath-Version /
// X-Request-Id when given) + X-Glidepath-Version + X-Request-Id + framing + Connection +
// "\r\n".
void write_response_head(std::string& out, const ForwardedResponse& response);

// Chunked transfer coding (RFC 9112 7.1): "<hex size>\r\n" before data, "\r\n" after,
// "0\r\n\r\n" at the end.
void write_chunk_header(std::string& out, uint64_t size);
inline constexpr std::string_view kChunkEnd = "\r\n";
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// A complete response the gateway makes itself (400, 404, 502...): a small JSON body
// {"error": "...", "request_id": "..."} (both strings JSON-escaped; bytes that are not
// UTF-8 become U+FFFD) with Content-Type: application/json, Content-Length, X-Request-Id,
// X-Glidepath-Version when given, Retry-After when > 0, and Connection: close when
// `close` is set.
void write_error_response(std::string& out, int status, std::string_view message,
                          std::string_view request_id, bool close,
                          std::string_view version_name = {}, int retry_after_seconds = 0);

// A 308 Permanent Redirect to https://HOST[:PORT]TARGET (the port left out when 443),
// which keeps the method and body (RFC 9110 15.4.9): what a plain listener that only
// redirects answers. `host` is RequestHead::host (validated); a target that is not
// origin-form becomes "/". A short text body, Content-Length, X-Request-Id, and
// Connection: close when `close` is set.
void write_https_redirect(std::string& out, std::string_view host, uint16_t port,
                          std::string_view target, std::string_view request_id, bool close);

// The RFC 9110 reason phrase of a status; empty for an unknown one (the status line then
// ends "599 \r\n", which RFC 9112 4 allows).
std::string_view reason_phrase(int status);

}  // namespace glidepath::http
