// Pull-style parsing over llhttp: llhttp calls back, the callbacks record what happened and
// pause the parser (HPE_PAUSED) at each event the caller must see, and feed() turns the
// pause position (llhttp_get_error_pos) into `consumed`. The next feed() resumes.
//
// Where llhttp stops (checked by tests/http): head_complete just after the empty line that
// ends the header section; body after the last byte of that body piece (a span callback
// pauses at the end of its span, or at the end of the input when the span runs past it);
// message_complete after the message's last byte, which is zero bytes after the body
// event for a Content-Length body and the head event for a message without a body.
#include "http/parser.h"

#include <llhttp.h>

#include <cstring>
#include <utility>

#include "http/syntax.h"

namespace glidepath::http {

namespace {

constexpr int kPause = HPE_PAUSED;  // from a callback: llhttp_execute stops here, resumable
constexpr int kFail = -1;           // from a callback: our own error is in error_

// llhttp_execute keeps a pointer to the start of an open span (a header value or a body
// running past the input) and moves it to the next input's start; a null input pointer
// would lose it. Empty input is fed as this instead.
constexpr char kNoInput[1] = {'\0'};

enum class Phase : uint8_t {
  idle,    // between messages: no byte of the next one consumed
  head,    // inside the start line and the header section
  body,    // after head_complete until message_complete (trailers included)
  failed,  // error_ is set; every later call returns it
  closed,  // finish() was called
};

enum class Pending : uint8_t { none, head_complete, body, message_complete };

using syntax::for_each_list_element;
using syntax::is_ows;
using syntax::trim_ows;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// reg-name characters (RFC 3986 3.2.2): unreserved, pct-encoded, sub-delims.
bool is_reg_name_char(char c) {
  if (is_alpha(c) || is_digit(c)) return true;
  switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':
    case '%':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
      return true;
    default:
      return false;
  }
}

// Inside "[...]": IPv6 (hex digits, ':', '.'), a zone ("%25eth0") or IPvFuture.
bool is_ip_literal_char(char c) {
  return is_reg_name_char(c) || c == ':';
}

// Splits a Host value or an authority ("uri-host [ ":" port ]", RFC 9110 7.2) and returns
// the host without the port; false when it is not valid. An empty value is valid (a
// request whose target has no authority sends an empty Host).
bool host_without_port(std::string_view value, std::string_view& host) {
  std::string_view rest;
  if (!value.empty() && value.front() == '[') {
    const size_t close = value.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : value.substr(1, close - 1)) {
      if (!is_ip_literal_char(c)) return false;
    }
    host = value.substr(0, close + 1);
    rest = value.substr(close + 1);
  } else {
    const size_t colon = value.find(':');
    host = value.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : value.substr(colon);
    for (char c : host) {
      if (!is_reg_name_char(c)) return false;
    }
    if (host.empty() && !rest.empty()) return false;
  }
  if (rest.empty()) return true;
  if (rest.front() != ':' || rest.size() > 6) return false;  // port = *DIGIT, at most 65535
  for (char c : rest.substr(1)) {
    if (!is_digit(c)) return false;
  }
  return true;
}

// What the Transfer-Encoding lines of a head say, joined as one list (RFC 9110 5.3).
struct TransferCodings {
  size_t count = 0;          // codings across all lines
  bool only_chunked = true;  // every coding is "chunked"
  bool empty_line = false;   // a Transfer-Encoding line without any coding
};

TransferCodings transfer_codings(const std::vector<Header>& headers) {
  TransferCodings codings;
  for (const Header& header : headers) {
    if (!iequals(header.name, "transfer-encoding")) continue;
    size_t on_this_line = 0;
    for_each_list_element(header.value, [&](std::string_view coding) {
      ++on_this_line;
      codings.only_chunked = codings.only_chunked && iequals(coding, "chunked");
      return true;
    });
    codings.count += on_this_line;
    codings.empty_line = codings.empty_line || on_this_line == 0;
  }
  return codings;
}

// Whether any Upgrade line of a head lists the websocket protocol (RFC 9110 7.8: a list of
// protocol names, case-insensitive; RFC 6455 4.1 names it "websocket").
bool names_websocket(const std::vector<Header>& headers) {
  bool found = false;
  for (const Header& header : headers) {
    if (found || !iequals(header.name, "upgrade")) continue;
    for_each_list_element(header.value, [&](std::string_view protocol) {
      found = iequals(protocol, "websocket");
      return !found;
    });
  }
  return found;
}

// Empties a head for the next message, keeping the headers vector's capacity.
template <typename Head>
void clear_head(Head& head) {
  std::vector<Header> headers = std::move(head.headers);
  headers.clear();
  head = Head{};
  head.headers = std::move(headers);
}

}  // namespace

// The engine behind both parsers. One llhttp parser, one header arena, the head being
// built, and the bookkeeping that turns llhttp's callbacks into one event per feed().
class MessageParser {
 public:
  MessageParser(llhttp_type_t type, size_t max_header_bytes, uint64_t max_body_bytes)
      : type_(type),
        max_header_bytes_(max_header_bytes),
        max_body_bytes_(max_body_bytes),
        arena_(new char[max_header_bytes == 0 ? 1 : max_header_bytes]) {
    request_.headers.reserve(32);
    response_.headers.reserve(32);
    reset();
  }

  void reset();
  FeedResult feed(std::span<const char> data);
  FeedResult finish();

  const RequestHead& request() const { return request_; }
  const ResponseHead& response() const { return response_; }
  std::span<const char> body_chunk() const { return body_chunk_; }
  const ParseError& error() const { return error_; }
  uint64_t body_bytes() const { return body_bytes_; }
  bool in_message() const { return phase_ == Phase::head || phase_ == Phase::body; }
  bool interim() const { return interim_; }
  void set_head_request(bool head_request) { head_request_ = head_request; }
  void set_websocket_upgrade(bool upgrade) { websocket_upgrade_ = upgrade; }

 private:
  bool is_request() const { return type_ == HTTP_REQUEST; }
  std::vector<Header>& headers() { return is_request() ? request_.headers : response_.headers; }

  // Records the first error (responses always answer 502: the upstream failed us) and
  // tells llhttp to stop.
  int fail(int request_status, std::string_view reason) {
    if (phase_ != Phase::failed) {
      error_.status = is_request() ? request_status : 502;
      error_.reason = reason;
      phase_ = Phase::failed;
    }
    return kFail;
  }
  void fail_from_llhttp(llhttp_errno_t err);
  size_t error_offset(const char* begin, size_t size) const;
  bool account_head_bytes(const char* begin, size_t size);

  std::string_view take_piece() {
    const std::string_view piece(arena_.get() + piece_start_, arena_used_ - piece_start_);
    piece_start_ = arena_used_;
    return piece;
  }

  int start_message();
  int append_head_bytes(const char* at, size_t length);
  int end_header_value();
  int complete_request_head();
  int complete_response_head();
  int receive_body(const char* at, size_t length);
  int complete_message();

  static MessageParser& self(llhttp_t* parser) {
    return *static_cast<MessageParser*>(parser->data);
  }
  static const llhttp_settings_t& settings();

  llhttp_t parser_{};
  const llhttp_type_t type_;
  const size_t max_header_bytes_;
  const uint64_t max_body_bytes_;

  // Header bytes of the current head, copied once; sized max_header_bytes up front and
  // never grown, so the views in the heads stay put. Start line + header lines are
  // capped at max_header_bytes, and only their non-delimiter bytes land here.
  std::unique_ptr<char[]> arena_;
  size_t arena_used_ = 0;
  size_t piece_start_ = 0;  // where the span being collected began in the arena

  RequestHead request_;
  ResponseHead response_;
  std::string_view field_name_;  // of the header whose value is being collected

  Phase phase_ = Phase::idle;
  Pending pending_ = Pending::none;
  bool paused_ = false;     // llhttp stopped at our HPE_PAUSED; resume on the next feed
  bool in_finish_ = false;  // inside llhttp_finish: on_message_complete must not pause
  bool head_request_ = false;
  bool websocket_upgrade_ = false;  // responses: the request asked for one, so 101 may come
  bool interim_ = false;
  bool previous_was_lf_ = false;  // the last head byte of the previous feed was LF

  const char* feed_begin_ = nullptr;
  size_t head_bytes_ = 0;  // of the current head, consumed by earlier feeds
  uint64_t body_bytes_ = 0;
  size_t trailer_bytes_ = 0;
  size_t extension_bytes_ = 0;
  std::span<const char> body_chunk_;
  ParseError error_;
};

const llhttp_settings_t& MessageParser::settings() {
  static const llhttp_settings_t kSettings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = [](llhttp_t* p) { return self(p).start_message(); };
    s.on_method = [](llhttp_t* p, const char* at, size_t n) {
      return self(p).append_head_bytes(at, n);
    };
    s.on_method_complete = [](llhttp_t* p) {
      self(p).request_.method = self(p).take_piece();
      return 0;
    };
    s.on_url = [](llhttp_t* p, const char* at, size_t n) {
      return self(p).append_head_bytes(at, n);
    };
    s.on_url_complete = [](llhttp_t* p) {
      self(p).request_.target = self(p).take_piece();
      return 0;
    };
    s.on_version = [](llhttp_t* p, const char* at, size_t n) {
      return self(p).append_head_bytes(at, n);
    };
    s.on_version_complete = [](llhttp_t* p) {
      self(p).take_piece();  // parser_.http_major/minor say it
      return 0;
    };
    s.on_status = [](llhttp_t* p, const char* at, size_t n) {
      return self(p).append_head_bytes(at, n);
    };
    s.on_status_complete = [](llhttp_t* p) {
      self(p).response_.reason = self(p).take_piece();
      return 0;
    };
    s.on_header_field = [](llhttp_t* p, const char* at, size_t n) {
      return self(p).append_head_bytes(at, n);
    };
    s.on_header_field_complete = [](llhttp_t* p) {
      MessageParser& m = self(p);
      m.field_name_ = m.take_piece();
      // field-name = token, at least one character (RFC 9110 5.1); llhttp 8 lets ": v" by.
      // A trailer's name is not kept, so only its presence is known there.
      if (m.field_name_.empty() && m.phase_ != Phase::body) return m.fail(400, "empty header name");
      return 0;
    };
    s.on_header_value = [](llhttp_t* p, const char* at, size_t n) {
      return self(p).append_head_bytes(at, n);
    };
    s.on_header_value_complete = [](llhttp_t* p) { return self(p).end_header_value(); };
    s.on_headers_complete = [](llhttp_t* p) {
      MessageParser& m = self(p);
      return m.is_request() ? m.complete_request_head() : m.complete_response_head();
    };
    // Chunk extensions are parsed (and dropped: the gateway re-chunks) but bounded, so a
    // peer cannot stream an endless chunk-size line.
    s.on_chunk_extension_name = [](llhttp_t* p, const char*, size_t n) {
      MessageParser& m = self(p);
      m.extension_bytes_ += n;
      return m.extension_bytes_ > m.max_header_bytes_ ? m.fail(400, "chunk extensions too long")
                                                      : 0;
    };
    s.on_chunk_extension_value = s.on_chunk_extension_name;
    s.on_body = [](llhttp_t* p, const char* at, size_t n) { return self(p).receive_body(at, n); };
    s.on_message_complete = [](llhttp_t* p) { return self(p).complete_message(); };
    return s;
  }();
  return kSettings;
}

void MessageParser::reset() {
  llhttp_init(&parser_, type_, &settings());
  parser_.data = this;
  arena_used_ = piece_start_ = 0;
  clear_head(request_);
  clear_head(response_);
  field_name_ = {};
  phase_ = Phase::idle;
  pending_ = Pending::none;
  paused_ = in_finish_ = head_request_ = websocket_upgrade_ = interim_ = previous_was_lf_ = false;
  feed_begin_ = nullptr;
  head_bytes_ = trailer_bytes_ = extension_bytes_ = 0;
  body_bytes_ = 0;
  body_chunk_ = {};
  error_ = ParseError{};
}

int MessageParser::start_message() {
  phase_ = Phase::head;
  arena_used_ = piece_start_ = 0;
  field_name_ = {};
  clear_head(request_);
  clear_head(response_);
  body_bytes_ = 0;
  trailer_bytes_ = extension_bytes_ = 0;
  interim_ = false;
  body_chunk_ = {};
  return 0;
}

int MessageParser::append_head_bytes(const char* at, size_t length) {
  if (phase_ == Phase::body) {
    // Trailer fields (RFC 9112 7.1.2): not forwarded (the gateway re-chunks; RFC 9110
    // 6.5.1 lets it discard them), only bounded.
    trailer_bytes_ += length;
    return trailer_bytes_ > max_header_bytes_ ? fail(431, "trailer section too large") : 0;
  }
  // Every span lies in the current input, so its end bounds the head bytes so far;
  // checking before copying keeps the arena within its size.
  const size_t head_end = head_bytes_ + static_cast<size_t>(at + length - feed_begin_);
  if (head_end > max_header_bytes_) return fail(431, "header section too large");
  std::memcpy(arena_.get() + arena_used_, at, length);
  arena_used_ += length;
  return 0;
}

int MessageParser::end_header_value() {
  const std::string_view value = take_piece();
  if (phase_ == Phase::body) return 0;  // a trailer field: dropped
  headers().push_back(Header{field_name_, trim_ows(value)});
  return 0;
}

int MessageParser::complete_request_head() {
  RequestHead& head = request_;
  // Only HTTP/1.0 and 1.1 are spoken: HTTP/0.9 (no version), HTTP/2.0 → 505
  // (RFC 9110 15.6.6). llhttp itself refuses other digit pairs such as HTTP/1.2.
  if (parser_.http_major != 1 || parser_.http_minor > 1) {
    return fail(505, "HTTP version not supported");
  }
  head.version_minor = parser_.http_minor;
  // The one tunnel spoken is WebSocket's: CONNECT (RFC 9110 9.3.6) and other protocols'
  // Upgrade (RFC 9110 7.8; llhttp flags a request as one when Upgrade is listed in
  // Connection) are not implemented.
  if (parser_.method == HTTP_CONNECT) return fail(501, "CONNECT is not supported");
  const bool upgrade = parser_.upgrade != 0;
  if (upgrade && !names_websocket(head.headers)) {
    return fail(501, "protocol upgrade is not supported");
  }

  // The request-target forms (RFC 9112 3.2): origin-form, absolute-form, and asterisk-form
  // for OPTIONS only; authority-form is CONNECT's. A fragment is never sent (RFC 9112
  // 3.2: the target has none), so one here is an attempt at confusing path matching.
  std::string_view authority;
  const std::string_view target = head.target;
  if (target.find('#') != std::string_view::npos) {
    return fail(400, "fragment in request target");
  }
  if (target.empty()) return fail(400, "invalid request target");
  if (target.front() != '/') {
    if (target == "*") {
      if (head.method != "OPTIONS") return fail(400, "asterisk-form target is only for OPTIONS");
    } else if (!syntax::absolute_form_authority(target, authority)) {
      return fail(400, "invalid request target");
    }
  }

  size_t host_count = 0;
  std::string_view host_value;
  for (const Header& header : head.headers) {
    if (iequals(header.name, "host")) {
      ++host_count;
      host_value = header.value;
    } else if (iequals(header.name, "expect")) {
      // RFC 9110 10.1.1: the only expectation defined; any case.
      head.expect_continue = head.expect_continue || iequals(header.value, "100-continue");
    }
  }
  // RFC 9112 3.2: 400 for an HTTP/1.1 request without Host, for more than one Host and
  // for an invalid Host value.
  if (host_count > 1) return fail(400, "multiple Host headers");
  if (host_count == 0 && head.version_minor == 1) return fail(400, "missing Host header");
  if (!host_without_port(host_value, head.host)) return fail(400, "invalid Host header");
  // RFC 9112 3.2.2: with an absolute-form target its authority is the host, whatever
  // the Host header says.
  if (!authority.empty() && !host_without_port(authority, head.host)) {
    return fail(400, "invalid request target");
  }

  // Framing (RFC 9112 6.3). llhttp already refused Content-Length with Transfer-Encoding,
  // differing or repeated Content-Lengths, and "chunked" anywhere but last.
  const uint16_t flags = parser_.flags;
  if ((flags & F_TRANSFER_ENCODING) != 0) {
    // RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
    if (head.version_minor == 0) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    // RFC 9112 6.3: chunked must be the final coding of a request, else 400 and close.
    if ((flags & F_CHUNKED) == 0) return fail(400, "Transfer-Encoding without final chunked");
    // An empty Transfer-Encoding line beside a "chunked" one: parsers disagree on what it
    // means, so it is refused rather than interpreted.
    const TransferCodings codings = transfer_codings(head.headers);
    if (codings.empty_line) return fail(400, "invalid Transfer-Encoding");
    // RFC 9112 6.1: a transfer coding the server does not understand → 501. Re-chunking
    // would silently drop a gzip coding, so only a lone "chunked" is accepted.
    if (!codings.only_chunked || codings.count != 1) {
      return fail(501, "unsupported transfer coding");
    }
    head.framing = BodyFraming::chunked;
  } else if ((flags & F_CONTENT_LENGTH) != 0) {
    head.framing = BodyFraming::length;
    head.content_length = parser_.content_length;
    if (max_body_bytes_ != 0 && head.content_length > max_body_bytes_) {
      return fail(413, "request body too large");
    }
  } else {
    head.framing = BodyFraming::none;
  }
  head.keep_alive = llhttp_should_keep_alive(&parser_) != 0;
  if (upgrade) {
    // RFC 6455 4.1: the opening handshake is an HTTP/1.1 GET. A body would be read as
    // HTTP here and as WebSocket frames by an upstream that switched: refused.
    const bool bodiless = head.framing == BodyFraming::none ||
                          (head.framing == BodyFraming::length && head.content_length == 0);
    if (head.method != "GET" || head.version_minor != 1 || !bodiless) {
      return fail(400, "a WebSocket upgrade is a GET over HTTP/1.1 without a body");
    }
    head.websocket_upgrade = true;
    // llhttp would stop for good after this message; whether the bytes after it are the
    // next request (the upstream refused) or WebSocket frames is the caller's to know.
    parser_.upgrade = 0;
  }
  phase_ = Phase::body;
  pending_ = Pending::head_complete;
  return kPause;
}

int MessageParser::complete_response_head() {
  ResponseHead& head = response_;
  if (parser_.http_major != 1 || parser_.http_minor > 1) {
    return fail(502, "unsupported HTTP version in response");
  }
  head.version_minor = parser_.http_minor;
  head.status = parser_.status_code;
  if (head.status < 100) return fail(502, "invalid status code");
  // An upstream may switch protocols only when asked to (RFC 9110 15.2.2), and only to
  // the one asked for: a tunnel carries WebSocket or nothing.
  const bool switching = head.status == 101;
  if (switching && !websocket_upgrade_) return fail(502, "unexpected 101 Switching Protocols");
  if (switching && !names_websocket(head.headers)) {
    return fail(502, "101 Switching Protocols to another protocol than websocket");
  }
  interim_ = head.status < 200 && !switching;

  // No content, whatever the headers say: 1xx, 204, 304 and any response to HEAD
  // (RFC 9112 6.3 rule 1; RFC 9110 9.3.2). llhttp leaves that to its user (the
  // on_headers_complete return value 1 does the same as setting F_SKIPBODY here).
  const bool no_content =
      interim_ || switching || head.status == 204 || head.status == 304 || head_request_;
  const uint16_t flags = parser_.flags;
  head.content_length = (flags & F_CONTENT_LENGTH) != 0 ? parser_.content_length : 0;
  if (no_content) {
    parser_.flags |= F_SKIPBODY;
    head.framing = BodyFraming::none;
  } else if ((flags & F_TRANSFER_ENCODING) != 0) {
    if (head.version_minor == 0) return fail(502, "Transfer-Encoding in an HTTP/1.0 response");
    // A response whose final coding is not chunked is close-delimited (RFC 9112 6.3
    // rule 4) but still coded; re-framing would drop the coding, so only chunked passes.
    const TransferCodings codings = transfer_codings(head.headers);
    if ((flags & F_CHUNKED) == 0 || codings.empty_line || !codings.only_chunked ||
        codings.count != 1) {
      return fail(502, "unsupported transfer coding in response");
    }
    head.framing = BodyFraming::chunked;
  } else if ((flags & F_CONTENT_LENGTH) != 0) {
    head.framing = BodyFraming::length;
  } else {
    head.framing = BodyFraming::until_close;  // RFC 9112 6.3 rule 8
  }
  // After a 101 the connection carries the new protocol, never another response.
  head.keep_alive = !switching && llhttp_should_keep_alive(&parser_) != 0;
  phase_ = Phase::body;
  pending_ = Pending::head_complete;
  return kPause;
}

int MessageParser::receive_body(const char* at, size_t length) {
  // llhttp flushes an open span at the end of every input, so an empty input in the
  // middle of a body calls this with nothing: not an event.
  if (length == 0) return 0;
  body_bytes_ += length;
  // A Content-Length body was checked at head time; a chunked one is checked as it comes.
  if (is_request() && max_body_bytes_ != 0 && body_bytes_ > max_body_bytes_) {
    return fail(413, "request body too large");
  }
  body_chunk_ = std::span<const char>(at, length);
  pending_ = Pending::body;
  return kPause;
}

int MessageParser::complete_message() {
  pending_ = Pending::message_complete;
  phase_ = Phase::idle;
  // llhttp_finish ignores a pause; the caller of finish() reports the event itself.
  return in_finish_ ? 0 : kPause;
}

size_t MessageParser::error_offset(const char* begin, size_t size) const {
  const char* position = llhttp_get_error_pos(&parser_);
  if (position == nullptr || position < begin || position > begin + size) return 0;
  return static_cast<size_t>(position - begin);
}

// Counts consumed head bytes against max_header_bytes and looks for obs-fold, which
// llhttp 8 accepts even in strict mode (it joins the lines): a line of the header
// section that starts with SP or HTAB. RFC 9112 5.2: reject it with 400 (a proxy may
// not forward it either).
bool MessageParser::account_head_bytes(const char* begin, size_t size) {
  const char* const end = begin + size;
  const char* p = begin;
  if (previous_was_lf_ && p != end && is_ows(*p)) {
    fail(400, "obsolete line folding in header section");
    return false;
  }
  while (p != end) {
    const void* lf = std::memchr(p, '\n', static_cast<size_t>(end - p));
    if (lf == nullptr) break;
    p = static_cast<const char*>(lf) + 1;
    if (p != end && is_ows(*p)) {
      fail(400, "obsolete line folding in header section");
      return false;
    }
  }
  if (size != 0) previous_was_lf_ = end[-1] == '\n';
  head_bytes_ += size;
  if (head_bytes_ > max_header_bytes_) {
    fail(431, "header section too large");
    return false;
  }
  return true;
}

void MessageParser::fail_from_llhttp(llhttp_errno_t err) {
  const char* why = llhttp_get_error_reason(&parser_);
  const std::string_view detail = why == nullptr ? std::string_view() : std::string_view(why);
  switch (err) {
    case HPE_INVALID_METHOD:
      fail(400, "invalid method");
      return;
    case HPE_INVALID_URL:
      fail(400, "invalid request target");
      return;
    case HPE_INVALID_CONSTANT:
      fail(400, is_request() ? "malformed request line" : "malformed status line");
      return;
    case HPE_INVALID_VERSION:
      // "HTTP/1.2", "HTTP/3.0": a well-formed version we do not speak (RFC 9110 15.6.6).
      if (detail == "Invalid HTTP version") {
        fail(505, "HTTP version not supported");
      } else {
        fail(400, "malformed HTTP version");
      }
      return;
    case HPE_INVALID_STATUS:
      fail(400, "invalid status code");
      return;
    case HPE_INVALID_HEADER_TOKEN:
      fail(400, "invalid character in header");
      return;
    case HPE_UNEXPECTED_SPACE:
      // RFC 9112 2.2: whitespace between the start line and the first field line.
      fail(400, "whitespace before the first header");
      return;
    case HPE_INVALID_CONTENT_LENGTH:
      fail(400, "invalid Content-Length");
      return;
    case HPE_UNEXPECTED_CONTENT_LENGTH:
      // RFC 9112 6.3 rules 3 and 5: ambiguous length, never forwarded (SPEC section 4).
      if (detail.starts_with("Duplicate")) {
        fail(400, "multiple Content-Length headers");
      } else {
        fail(400, "both Content-Length and Transfer-Encoding");
      }
      return;
    case HPE_INVALID_TRANSFER_ENCODING:
      fail(400, "invalid Transfer-Encoding");
      return;
    case HPE_INVALID_CHUNK_SIZE:
      fail(400, "invalid chunk size");
      return;
    case HPE_STRICT:
    case HPE_CR_EXPECTED:
    case HPE_LF_EXPECTED:
      // RFC 9112 2.2: a bare CR, or LF without CR, is not a line ending we accept.
      if (detail.find("chunk") != std::string_view::npos) {
        fail(400, "malformed chunked body");
      } else {
        fail(400, "malformed line ending");
      }
      return;
    case HPE_CLOSED_CONNECTION:
      fail(400, "data after Connection: close");
      return;
    case HPE_PAUSED_H2_UPGRADE:
      fail(505, "HTTP/2 is not supported");
      return;
    case HPE_PAUSED_UPGRADE:
      fail(501, "protocol upgrade is not supported");
      return;
    case HPE_INVALID_EOF_STATE:
      fail(400, "incomplete message");
      return;
    default:
      fail(400, is_request() ? "malformed request" : "malformed response");
      return;
  }
}

FeedResult MessageParser::feed(std::span<const char> data) {
  if (phase_ == Phase::failed) return {ParseEvent::error, 0};
  if (phase_ == Phase::closed) {
    fail(400, "data after the end of the stream");
    return {ParseEvent::error, 0};
  }
  if (paused_) {
    llhttp_resume(&parser_);
    paused_ = false;
  }
  const char* const begin = data.empty() ? kNoInput : data.data();
  const size_t size = data.size();
  feed_begin_ = begin;
  pending_ = Pending::none;
  const Phase phase_before = phase_;
  const llhttp_errno_t err = llhttp_execute(&parser_, begin, size);

  if (phase_ == Phase::failed) return {ParseEvent::error, error_offset(begin, size)};
  if (err == HPE_OK) {
    // No event: everything was consumed, in the phase the feed began in (or from idle
    // into a head).
    if ((phase_before == Phase::idle || phase_before == Phase::head) &&
        !account_head_bytes(begin, size)) {
      return {ParseEvent::error, size};
    }
    return {ParseEvent::need_more, size};
  }
  if (err == HPE_PAUSED) {
    paused_ = true;
    const size_t consumed = error_offset(begin, size);
    switch (pending_) {
      case Pending::head_complete:
        if (!account_head_bytes(begin, consumed)) return {ParseEvent::error, consumed};
        return {ParseEvent::head_complete, consumed};
      case Pending::body:
        return {ParseEvent::body, consumed};
      case Pending::message_complete:
        head_bytes_ = 0;
        previous_was_lf_ = false;
        return {ParseEvent::message_complete, consumed};
      case Pending::none:
        break;
    }
  }
  fail_from_llhttp(err);
  return {ParseEvent::error, error_offset(begin, size)};
}

FeedResult MessageParser::finish() {
  if (phase_ == Phase::failed) return {ParseEvent::error, 0};
  if (phase_ == Phase::closed) return {ParseEvent::need_more, 0};
  // A zero-width event may be waiting (the caller stopped after the last body piece):
  // the message did end before the close.
  if (paused_) {
    const FeedResult pending = feed({});
    if (pending.event == ParseEvent::message_complete) {
      phase_ = Phase::closed;
      return pending;
    }
    if (pending.event == ParseEvent::error) return pending;
  }
  if (phase_ == Phase::idle) {
    phase_ = Phase::closed;
    return {ParseEvent::need_more, 0};
  }
  if (!is_request() && phase_ == Phase::body) {
    // A close-delimited body ends here (RFC 9112 6.3 rule 8); llhttp_finish says whether
    // the message could end at this point.
    in_finish_ = true;
    pending_ = Pending::none;
    const llhttp_errno_t err = llhttp_finish(&parser_);
    in_finish_ = false;
    if (err == HPE_OK && pending_ == Pending::message_complete) {
      phase_ = Phase::closed;
      return {ParseEvent::message_complete, 0};
    }
  }
  // RFC 9112 8: a message cut short by a close is incomplete.
  fail(400, is_request() ? "connection closed mid-request" : "upstream closed mid-response");
  return {ParseEvent::error, 0};
}

// ---- RequestParser -----------------------------------------------------------------------

struct RequestParser::Impl : MessageParser {
  explicit Impl(const ParserLimits& limits)
      : MessageParser(HTTP_REQUEST, limits.max_header_bytes, limits.max_body_bytes) {}
};

RequestParser::RequestParser(const ParserLimits& limits) : impl_(std::make_unique<Impl>(limits)) {}
RequestParser::~RequestParser() = default;
FeedResult RequestParser::feed(std::span<const char> data) {
  return impl_->feed(data);
}
FeedResult RequestParser::finish() {
  return impl_->finish();
}
void RequestParser::reset() {
  impl_->reset();
}
const RequestHead& RequestParser::head() const {
  return impl_->request();
}
std::span<const char> RequestParser::body_chunk() const {
  return impl_->body_chunk();
}
const ParseError& RequestParser::error() const {
  return impl_->error();
}
uint64_t RequestParser::body_bytes() const {
  return impl_->body_bytes();
}
bool RequestParser::in_message() const {
  return impl_->in_message();
}

// ---- ResponseParser ----------------------------------------------------------------------

struct ResponseParser::Impl : MessageParser {
  explicit Impl(size_t max_header_bytes) : MessageParser(HTTP_RESPONSE, max_header_bytes, 0) {}
};

ResponseParser::ResponseParser(size_t max_header_bytes)
    : impl_(std::make_unique<Impl>(max_header_bytes)) {}
ResponseParser::~ResponseParser() = default;
void ResponseParser::expect_response_to(std::string_view request_method, bool websocket_upgrade) {
  // A response to a new request starts at a message boundary, possibly on another
  // upstream connection, after an error or an EOF: nothing of the previous one matters.
  impl_->reset();
  impl_->set_head_request(request_method == "HEAD");
  impl_->set_websocket_upgrade(websocket_upgrade);
}
FeedResult ResponseParser::feed(std::span<const char> data) {
  return impl_->feed(data);
}
FeedResult ResponseParser::finish() {
  return impl_->finish();
}
void ResponseParser::reset() {
  impl_->reset();
}
const ResponseHead& ResponseParser::head() const {
  return impl_->response();
}
std::span<const char> ResponseParser::body_chunk() const {
  return impl_->body_chunk();
}
const ParseError& ResponseParser::error() const {
  return impl_->error();
}
bool ResponseParser::is_interim() const {
  return impl_->interim();
}
uint64_t ResponseParser::body_bytes() const {
  return impl_->body_bytes();
}
bool ResponseParser::in_message() const {
  return impl_->in_message();
}

namespace syntax {
bool host_of_authority(std::string_view authority, std::string_view& host) {
  return host_without_port(authority, host);
}
}  // namespace syntax

}  // namespace glidepath::http
