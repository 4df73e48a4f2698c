// The parsed head of an HTTP/1.1 message (RFC 9112). Views point into the parser's own
// header arena; they stay valid until the parser starts the next message.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace glidepath::http {

struct Header {
  std::string_view name;   // as received; compare with iequals
  std::string_view value;  // leading and trailing whitespace removed (RFC 9110 5.5)
};

// How the body is delimited (RFC 9112 6.3).
enum class BodyFraming {
  none,         // no body (no Content-Length/Transfer-Encoding on a request; 204/304/HEAD...)
  length,       // Content-Length bytes
  chunked,      // Transfer-Encoding: chunked
  until_close,  // responses only: read until the upstream closes
};

struct RequestHead {
  std::string_view method;  // "GET"
  // "/orders/1?x=2", as received: origin-form, absolute-form ("http://h/p") or "*" (only
  // with OPTIONS); never contains '#'.
  std::string_view target;
  int version_minor = 1;        // HTTP/1.<minor>; 0 or 1
  std::vector<Header> headers;  // in order received; repeated names stay separate lines
  // none: no body. length: content_length bytes (which may be 0: "Content-Length: 0").
  // chunked: Transfer-Encoding was exactly "chunked". Never until_close.
  BodyFraming framing = BodyFraming::none;
  uint64_t content_length = 0;   // framing == length
  bool keep_alive = true;        // after this exchange (HTTP/1.0 defaults to close)
  bool expect_continue = false;  // Expect: 100-continue
  // A WebSocket opening handshake (RFC 6455 4.1): a GET over HTTP/1.1 without a body whose
  // Upgrade names websocket and whose Connection names upgrade. The only upgrade accepted;
  // the bytes after it are the next request unless the upstream answers 101.
  bool websocket_upgrade = false;
  // The Host header without port ("[::1]" keeps its brackets), validated; lower-casing
  // is NOT done. For an absolute-form target, its authority's host instead (RFC 9112
  // 3.2.2). Empty for an HTTP/1.0 request without Host, or an empty Host.
  std::string_view host;

  // The first header with this name (ASCII case-insensitive), or empty.
  std::string_view find(std::string_view name) const;
};

struct ResponseHead {
  int status = 0;  // 100-999; 101 only in answer to a WebSocket upgrade
  std::string_view reason;
  int version_minor = 1;
  std::vector<Header> headers;
  // none for 1xx (101 too), 204, 304 and responses to HEAD whatever their headers say; chunked only
  // for exactly "Transfer-Encoding: chunked"; until_close without a length.
  BodyFraming framing = BodyFraming::none;
  // The Content-Length value whenever the header was present: the body length when
  // framing == length, and what a HEAD or 304 response announced when framing == none.
  uint64_t content_length = 0;
  bool keep_alive = true;  // whether the upstream connection can be reused after it

  std::string_view find(std::string_view name) const;
};

bool iequals(std::string_view a, std::string_view b);

// The credentials of an "Authorization: Bearer <token>" value: the scheme is
// case-insensitive (RFC 9110 11.1) and separated from them by one or more spaces (RFC 9110
// 11.4; a tab is tolerated). Empty for any other scheme or no credentials.
std::string_view bearer_token(std::string_view authorization);

// Whether a presented secret equals the expected one, comparing every byte of the longer
// of the two, so the time taken says nothing about where a guess went wrong (nor much
// about its length).
bool same_secret(std::string_view given, std::string_view expected);

}  // namespace glidepath::http
