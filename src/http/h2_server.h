// The server side of one HTTP/2 connection (RFC 9113), over nghttp2: bytes in, events
// out, frames to send. No sockets and no clock: the connection that owns it feeds what it
// read, writes what produce() gives it, and drives each stream's exchange itself, so this
// is tested frame by frame without a network.
//
// Each request is handed over as the same RequestHead an HTTP/1.1 request produces, so the
// gateway's routing, access and version choice (gateway/decide.h) do not know which
// protocol it came by. The conversion follows RFC 9113 8.2 and 8.3:
// - `:authority` becomes the Host header (a Host header that disagrees with it is refused);
// - cookie crumbs are joined into one `cookie` header with "; " (8.2.3);
// - `:path` is the target; CONNECT and extended CONNECT are refused (501);
// - a body of unknown length is framed `chunked` for the HTTP/1.1 upstream; a
//   `content-length` is kept and nghttp2 checks it against the DATA frames.
// What nghttp2 refuses as malformed, each with a stream error (RST_STREAM PROTOCOL_ERROR)
// before any event for the stream: connection-specific headers (connection, keep-alive,
// proxy-connection, transfer-encoding, upgrade; te other than "trailers"), uppercase
// names, CR, LF or NUL (or surrounding whitespace) in values, missing or repeated
// pseudo-headers, and a content-length that disagrees with the DATA. So nothing of a
// refused request ever reaches the handler, and from it the upstream.
//
// Limits, each answered as the RFCs and the CVEs' advisories suggest:
// - concurrent streams (SETTINGS_MAX_CONCURRENT_STREAMS; more are refused);
// - header list size (SETTINGS_MAX_HEADER_LIST_SIZE; a larger list gets 431);
// - RST_STREAM rate from the client ("rapid reset", CVE-2023-44487): a token bucket, then
//   GOAWAY (nghttp2 says INTERNAL_ERROR);
// - CONTINUATION frames per header block (CVE-2024-27316): GOAWAY;
// - SETTINGS entries per frame: GOAWAY ENHANCE_YOUR_CALM;
// - SETTINGS/PING acknowledgements the client leaves unread (floods): the connection
//   ends without another frame.
// Streams stalled on a zero window are the owner's to time out (it has the clock).
//
// Request bodies are under flow control end to end: the stream's window opens only as
// the owner reports bytes forwarded upstream (consumed()). Response bodies are queued per
// stream by the owner and sent as the client's window allows; the owner reads more from
// the upstream only while buffered(stream) is small.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "http/message.h"

namespace glidepath::http {

struct H2Settings {
  uint32_t max_concurrent_streams = 128;
  uint32_t max_header_list_bytes = 16 * 1024;  // name + value + 32 per field (RFC 9113 6.5.2)
  uint32_t initial_window_bytes = 256 * 1024;  // each stream's receive window
  uint32_t connection_window_bytes = 1024 * 1024;
  // Client resets: a burst of reset_burst, refilled at resets_per_second.
  uint32_t reset_burst = 200;
  uint32_t resets_per_second = 50;
  size_t max_continuations = 8;      // CONTINUATION frames after one HEADERS
  size_t max_settings_entries = 32;  // in one SETTINGS frame
  size_t max_outbound_acks = 1000;   // SETTINGS/PING ACKs queued and not yet sent
};

// A response head the gateway sends on a stream: status and fields (lower-case names,
// no connection-specific ones: the caller has already dropped hop-by-hop fields).
struct H2ResponseHead {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
};

class H2ServerSession {
 public:
  // What the owner is told, during receive().
  class Handler {
   public:
    virtual ~Handler() = default;
    // A complete, valid request head. `head` and its views stay valid until the stream
    // closes. end_stream: no body follows.
    virtual void on_request(int32_t stream, const RequestHead& head, bool end_stream) = 0;
    // A piece of the request body. The stream's window stays closed by these bytes until
    // consumed() reports them forwarded.
    virtual void on_request_data(int32_t stream, std::span<const char> data) = 0;
    virtual void on_request_end(int32_t stream) = 0;
    // The stream is gone (finished, reset by either side, or refused): drop its exchange.
    // error_code is RFC 9113's (0 = NO_ERROR).
    virtual void on_stream_closed(int32_t stream, uint32_t error_code) = 0;
  };

  static core::Result<std::unique_ptr<H2ServerSession>> create(const H2Settings& settings,
                                                               Handler& handler);
  ~H2ServerSession();
  H2ServerSession(const H2ServerSession&) = delete;
  H2ServerSession& operator=(const H2ServerSession&) = delete;

  // Feeds bytes read from the client (the connection preface first). An error means the
  // connection is finished: close it. Otherwise write what produce() gives, and close
  // once alive() is false (after a GOAWAY the session sent or received).
  core::Result<void> receive(std::span<const char> bytes);
  // Appends the frames ready to send to `out`; false when there were none.
  bool produce(std::string& out);
  // Whether the connection has anything left to do: false after GOAWAY both ways, or
  // when the client went away and every stream ended.
  bool alive() const;

  // --- A stream's response, from the owner ---
  // Sends the head; with has_body, the body follows through append_body() and
  // end_body(). Fails when the stream is already gone.
  core::Result<void> respond(int32_t stream, const H2ResponseHead& head, bool has_body);
  void append_body(int32_t stream, std::span<const char> data);
  void end_body(int32_t stream);
  // Response body bytes queued and not yet sent (the client's window is closed).
  size_t buffered(int32_t stream) const;
  // Request body bytes forwarded upstream: the client may send that many more.
  void consumed(int32_t stream, size_t bytes);
  // Ends the stream with RST_STREAM (e.g. CANCEL when the upstream failed mid-response).
  void reset(int32_t stream, uint32_t error_code);
  // Stops accepting new streams (GOAWAY NO_ERROR); open ones finish.
  void shut_down();

  size_t open_streams() const;

  struct Impl;

 private:
  explicit H2ServerSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// RFC 9113 7: the error codes used here.
inline constexpr uint32_t kH2NoError = 0x0;
inline constexpr uint32_t kH2ProtocolError = 0x1;
inline constexpr uint32_t kH2InternalError = 0x2;
inline constexpr uint32_t kH2RefusedStream = 0x7;
inline constexpr uint32_t kH2Cancel = 0x8;
inline constexpr uint32_t kH2EnhanceYourCalm = 0xb;

// The client connection preface's first bytes ("PRI * HTTP/2.0"): how a plain listener
// tells h2c with prior knowledge from HTTP/1.1.
inline constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

}  // namespace glidepath::http
