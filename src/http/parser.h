// Incremental HTTP/1.1 parsing over llhttp (Node.js's parser, from Debian's node-llhttp),
// in strict mode: no lenient flags, so the ambiguous framings used for request smuggling
// are errors (RFC 9112 6.1 and 6.3: Content-Length with Transfer-Encoding, differing
// Content-Lengths, bad chunk sizes, obs-fold, bare LF...). Bytes in, one event out:
// the caller drives it from its read loop and never sees a callback. No allocation per
// header: header bytes are copied once into an arena reused across messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "http/message.h"

namespace glidepath::http {

struct ParserLimits {
  // Request/status line + all header lines, CRLFs and the final empty line included
  // (→ 431 / 502). Also bounds a chunked body's trailer section (→ 431 / 502) and its
  // chunk extensions (→ 400). The arena is this size, allocated once per parser.
  size_t max_header_bytes = 16384;
  // Requests only (→ 413): a Content-Length above it is refused at head time, a chunked
  // body as soon as it passes it. 0 = unlimited.
  uint64_t max_body_bytes = 10485760;
};

// The calling loop: feed the unconsumed bytes, act on the event, and feed again with the
// rest, EVEN WHEN THE REST IS EMPTY, until need_more (then read more bytes) or error.
// Only need_more means "waiting for bytes": after head_complete or body the next event
// may need no input at all (a message without a body completes zero bytes after its
// head; a Content-Length body completes zero bytes after its last piece). feed() with an
// empty span is cheap and returns such a pending event, or need_more.
enum class ParseEvent {
  need_more,         // every byte given was consumed and none is pending; feed more
  head_complete,     // head() is ready; the body (if any) follows
  body,              // body_chunk() holds the next piece of the body (decoded, no chunk framing)
  message_complete,  // the message ended; bytes after it belong to the next one (pipelining)
  error,             // error() says what; the connection must be closed after answering
};

// Why a message was refused, and the status a gateway answers with.
struct ParseError {
  int status = 400;         // 400, 413, 431, 501, 505 for requests; 502 for responses
  std::string_view reason;  // short, for the JSON error body and the logs: "invalid Content-Length"
                            // (a static string: valid for the program's lifetime)
};

struct FeedResult {
  ParseEvent event = ParseEvent::need_more;
  size_t consumed = 0;  // bytes of the input used up to and including this event (<= size)
};

class RequestParser {
 public:
  explicit RequestParser(const ParserLimits& limits);
  ~RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Parses from the start of `data` and stops at the first event. Call again with the
  // unconsumed rest (and later with more bytes) to get the next one; see ParseEvent for
  // the loop. After message_complete the next call starts the next request on the
  // connection: the parser never consumes a byte of the next request before that call.
  // Errors are sticky: every later call returns error again (consumed 0).
  FeedResult feed(std::span<const char> data);
  // The peer closed its side: message_complete if a message had just ended (its
  // zero-width completion was still pending), need_more if no message was in progress,
  // error (400 "connection closed mid-request") mid-message. Later feeds are errors.
  FeedResult finish();
  // Forgets everything (message, error, finish) and starts afresh, keeping the arena:
  // for reusing a parser on a new connection.
  void reset();

  // Valid from head_complete until the next request starts (the next feed after
  // message_complete that consumes a byte); its views point into the parser's arena.
  const RequestHead& head() const;
  std::span<const char> body_chunk() const;  // valid after a body event, into the fed data
  const ParseError& error() const;
  uint64_t body_bytes() const;  // of the current message so far (decoded)
  bool in_message() const;      // some bytes of a message have been consumed, and its
                                // message_complete not yet returned

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class ResponseParser {
 public:
  explicit ResponseParser(size_t max_header_bytes);
  ~ResponseParser();
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  // Before each response: whether it answers a HEAD request (then it has no body
  // whatever its headers say, RFC 9110 9.3.2), and whether the request asked for a
  // WebSocket upgrade (RequestHead::websocket_upgrade: only then is 101 an answer). Also
  // starts the parser afresh (as reset()): a response to a new request begins at a message
  // boundary, maybe on another upstream connection, so an earlier error, finish() or
  // half-read response is forgotten. Not between an interim 1xx response and the final
  // one (same request).
  void expect_response_to(std::string_view request_method, bool websocket_upgrade = false);

  // As RequestParser::feed.
  FeedResult feed(std::span<const char> data);
  // The upstream closed: message_complete for an until_close body (or a message whose
  // zero-width completion was pending), need_more if no response had started (the
  // caller decides whether one was owed), error 502 mid-message.
  FeedResult finish();
  // As RequestParser::reset (also forgets expect_response_to).
  void reset();

  const ResponseHead& head() const;
  std::span<const char> body_chunk() const;
  const ParseError& error() const;
  // A 1xx interim response (100 Continue) came as head_complete + message_complete and is
  // followed by the final response on the same parse. True from that head_complete until
  // the next response starts. 101 is not interim: it is final, and an error unless a
  // WebSocket upgrade was asked for and its Upgrade names websocket. After a 101's
  // head_complete the connection speaks another protocol: the caller stops feeding.
  bool is_interim() const;
  uint64_t body_bytes() const;  // of the current response so far (decoded)
  bool in_message() const;      // as RequestParser::in_message

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace glidepath::http
