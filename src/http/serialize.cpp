#include "http/serialize.h"

#include <charconv>

#include "http/syntax.h"

namespace glidepath::http {

namespace {

// The two hop-by-hop headers an upgrade needs on each hop (RFC 9110 7.8, RFC 6455 4.1).
constexpr std::string_view kUpgradeToWebSocket = "Upgrade: websocket\r\nConnection: Upgrade\r\n";

void append_uint(std::string& out, uint64_t value, int base = 10) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value, base);
  out.append(digits, result.ptr);
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

// A value the gateway puts in a header line itself (request id, version name): no CTL
// but HTAB may appear in a field value (RFC 9110 5.5), and CR/LF would split the line.
bool is_safe_field_value(std::string_view value) {
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) return false;
  }
  return true;
}

void append_framing(std::string& out, BodyFraming framing, uint64_t content_length) {
  if (framing == BodyFraming::length) {
    out.append("Content-Length: ");
    append_uint(out, content_length);
    out.append("\r\n");
  } else if (framing == BodyFraming::chunked) {
    out.append("Transfer-Encoding: chunked\r\n");
  }
}

void append_status_line(std::string& out, int status, std::string_view reason) {
  out.append("HTTP/1.1 ");
  append_uint(out, static_cast<uint64_t>(status < 0 ? 0 : status));
  out.push_back(' ');
  out.append(reason);
  out.append("\r\n");
}

bool has_connection_header(std::span<const Header> headers) {
  for (const Header& header : headers) {
    if (iequals(header.name, "connection")) return true;
  }
  return false;
}

// The length of a valid UTF-8 sequence at the start of `text` (RFC 3629 4: no overlong
// forms, no surrogates, nothing above U+10FFFF), or 0.
size_t utf8_sequence_length(std::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const auto continuation = [&](size_t i) { return i < text.size() && (byte(i) & 0xC0) == 0x80; };
  const unsigned char lead = byte(0);
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (!continuation(1) || !continuation(2)) return 0;
    if (lead == 0xE0 && byte(1) < 0xA0) return 0;  // overlong
    if (lead == 0xED && byte(1) > 0x9F) return 0;  // UTF-16 surrogates
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (lead == 0xF0 && byte(1) < 0x90) return 0;  // overlong
    if (lead == 0xF4 && byte(1) > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// Calls `emit` with the pieces of `text` as the contents of a JSON string (RFC 8259 7):
// quote, backslash and control characters escaped, DEL too, and bytes that are not
// UTF-8 replaced by U+FFFD so the body is always valid JSON.
template <typename Emit>
void for_each_json_piece(std::string_view text, Emit&& emit) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t plain_start = 0;
  size_t i = 0;
  const auto flush = [&] {
    if (i > plain_start) emit(text.substr(plain_start, i - plain_start));
  };
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const size_t length = utf8_sequence_length(text.substr(i));
      if (length != 0) {
        i += length;
        continue;
      }
      flush();
      emit("\\ufffd");
      plain_start = ++i;
      continue;
    }
    std::string_view escape;
    switch (c) {
      case '"':
        escape = "\\\"";
        break;
      case '\\':
        escape = "\\\\";
        break;
      case '\n':
        escape = "\\n";
        break;
      case '\r':
        escape = "\\r";
        break;
      case '\t':
        escape = "\\t";
        break;
      case '\b':
        escape = "\\b";
        break;
      case '\f':
        escape = "\\f";
        break;
      default:
        break;
    }
    if (escape.empty() && c >= 0x20 && c != 0x7f) {
      ++i;
      continue;
    }
    flush();
    if (!escape.empty()) {
      emit(escape);
    } else {
      const char unicode[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      emit(std::string_view(unicode, sizeof unicode));
    }
    plain_start = ++i;
  }
  flush();
}

size_t json_escaped_size(std::string_view text) {
  size_t size = 0;
  for_each_json_piece(text, [&](std::string_view piece) { size += piece.size(); });
  return size;
}

void append_json_escaped(std::string& out, std::string_view text) {
  for_each_json_piece(text, [&](std::string_view piece) { out.append(piece); });
}

}  // namespace

bool is_hop_by_hop(std::string_view name, std::span<const Header> all_headers) {
  // RFC 9110 7.6.1 (Connection and the fields it names), plus the non-standard
  // Keep-Alive and Proxy-Connection, TE/Trailer/Upgrade/Transfer-Encoding (hop-by-hop in
  // HTTP/1.1 framing) and the proxy authentication pair (RFC 9110 11.7).
  static constexpr std::string_view kAlwaysHopByHop[] = {
      "connection",
      "keep-alive",
      "proxy-connection",
      "te",
      "trailer",
      "transfer-encoding",
      "upgrade",
      "proxy-authenticate",
      "proxy-authorization",
  };
  for (std::string_view hop : kAlwaysHopByHop) {
    if (iequals(name, hop)) return true;
  }
  bool named = false;
  for (const Header& header : all_headers) {
    if (!iequals(header.name, "connection")) continue;
    syntax::for_each_list_element(header.value, [&](std::string_view option) {
      named = iequals(option, name);
      return !named;
    });
    if (named) return true;
  }
  return false;
}

void write_request_head(std::string& out, const ForwardedRequest& request) {
  out.append(request.method);
  out.push_back(' ');
  out.append(request.target);
  out.append(" HTTP/1.1\r\n");

  const std::span<const Header> headers = request.original != nullptr
                                              ? std::span<const Header>(request.original->headers)
                                              : std::span<const Header>();
  const bool connection_options = has_connection_header(headers);

  // Host first (RFC 9110 7.2 asks user agents to; upstreams route on it). It is never
  // dropped for being named in Connection. An absolute-form target's authority replaces
  // the received Host (RFC 9112 3.2.2).
  std::string_view host;
  bool have_host = false;
  if (request.original != nullptr &&
      syntax::absolute_form_authority(request.original->target, host)) {
    have_host = true;
  } else {
    for (const Header& header : headers) {
      if (iequals(header.name, "host")) {
        host = header.value;
        have_host = true;
        break;
      }
    }
  }
  // HTTP/1.1 requires a Host line (RFC 9112 3.2); an HTTP/1.0 client may have sent none.
  append_header(out, "Host", have_host ? host : std::string_view());

  bool have_forwarded_for = false;
  for (const Header& header : headers) {
    const std::string_view name = header.name;
    if (iequals(name, "host") || iequals(name, "content-length")) continue;
    if (iequals(name, "x-forwarded-for")) {
      have_forwarded_for = true;
      continue;
    }
    if (iequals(name, "x-forwarded-proto") && !request.forwarded_proto.empty()) continue;
    if (iequals(name, "x-request-id") && !request.request_id.empty()) continue;
    if (!request.credential_header.empty() && iequals(name, request.credential_header)) continue;
    if (name.size() > 12 && (name[0] == 'x' || name[0] == 'X') &&
        (iequals(name, "x-glidepath-consumer") || iequals(name, "x-glidepath-preview-token"))) {
      continue;
    }
    if (connection_options ? is_hop_by_hop(name, headers) : is_hop_by_hop(name, {})) continue;
    append_header(out, name, header.value);
  }

  // X-Forwarded-For: the received list(s), in order, then the client (de facto format:
  // "client, proxy1, proxy2"). Several received lines are joined into one.
  if (have_forwarded_for || !request.client_address.empty()) {
    out.append("X-Forwarded-For: ");
    bool first = true;
    const auto add = [&](std::string_view element) {
      if (!first) out.append(", ");
      out.append(element);
      first = false;
    };
    for (const Header& header : headers) {
      if (!iequals(header.name, "x-forwarded-for")) continue;
      const std::string_view value = syntax::trim_ows(header.value);
      if (!value.empty()) add(value);
    }
    if (!request.client_address.empty()) add(request.client_address);
    out.append("\r\n");
  }
  if (!request.forwarded_proto.empty()) {
    append_header(out, "X-Forwarded-Proto", request.forwarded_proto);
  }
  if (!request.request_id.empty() && is_safe_field_value(request.request_id)) {
    append_header(out, "X-Request-Id", request.request_id);
  }
  if (!request.consumer.empty()) append_header(out, "X-Glidepath-Consumer", request.consumer);
  append_framing(out, request.framing, request.content_length);
  out.append(request.websocket_upgrade ? kUpgradeToWebSocket : "Connection: keep-alive\r\n");
  out.append("\r\n");
}

void write_response_head(std::string& out, const ForwardedResponse& response) {
  const ResponseHead* original = response.original;
  const int status = original != nullptr ? original->status : 502;
  const std::string_view reason =
      original != nullptr && !original->reason.empty() ? original->reason : reason_phrase(status);
  // The gateway speaks HTTP/1.1 whatever the upstream spoke (RFC 9110 6.2: a proxy sends
  // its own version).
  append_status_line(out, status, reason);

  const std::span<const Header> headers =
      original != nullptr ? std::span<const Header>(original->headers) : std::span<const Header>();
  const bool connection_options = has_connection_header(headers);
  for (const Header& header : headers) {
    const std::string_view name = header.name;
    if (iequals(name, "content-length")) continue;
    if (iequals(name, "x-glidepath-version") && !response.version_name.empty()) continue;
    if (iequals(name, "x-request-id") && !response.request_id.empty()) continue;
    if (connection_options ? is_hop_by_hop(name, headers) : is_hop_by_hop(name, {})) continue;
    append_header(out, name, header.value);
  }
  if (!response.version_name.empty() && is_safe_field_value(response.version_name)) {
    append_header(out, "X-Glidepath-Version", response.version_name);
  }
  if (!response.request_id.empty() && is_safe_field_value(response.request_id)) {
    append_header(out, "X-Request-Id", response.request_id);
  }
  if (response.websocket_upgrade) {
    // The connection is the tunnel's from now on: no body, no keep-alive to speak of.
    out.append(kUpgradeToWebSocket);
    out.append("\r\n");
    return;
  }
  append_framing(out, response.framing, response.content_length);
  // A close-delimited body can only end with the connection (RFC 9112 6.3 rule 8).
  if (!response.keep_alive || response.framing == BodyFraming::until_close) {
    out.append("Connection: close\r\n");
  } else if (response.client_is_http10) {
    // HTTP/1.0 closes by default; persistence must be announced (RFC 9112 9.3).
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

void write_chunk_header(std::string& out, uint64_t size) {
  append_uint(out, size, 16);
  out.append("\r\n");
}

void write_error_response(std::string& out, int status, std::string_view message,
                          std::string_view request_id, bool close, std::string_view version_name,
                          int retry_after_seconds) {
  static constexpr std::string_view kBodyStart = "{\"error\": \"";
  static constexpr std::string_view kBodyMiddle = "\", \"request_id\": \"";
  static constexpr std::string_view kBodyEnd = "\"}";
  const size_t body_size = kBodyStart.size() + json_escaped_size(message) + kBodyMiddle.size() +
                           json_escaped_size(request_id) + kBodyEnd.size();

  append_status_line(out, status, reason_phrase(status));
  out.append("Content-Type: application/json\r\nContent-Length: ");
  append_uint(out, body_size);
  out.append("\r\n");
  if (!request_id.empty() && is_safe_field_value(request_id)) {
    append_header(out, "X-Request-Id", request_id);
  }
  if (!version_name.empty() && is_safe_field_value(version_name)) {
    append_header(out, "X-Glidepath-Version", version_name);
  }
  if (retry_after_seconds > 0) {
    out.append("Retry-After: ");
    append_uint(out, static_cast<uint64_t>(retry_after_seconds));
    out.append("\r\n");
  }
  if (close) out.append("Connection: close\r\n");
  out.append("\r\n");
  out.append(kBodyStart);
  append_json_escaped(out, message);
  out.append(kBodyMiddle);
  append_json_escaped(out, request_id);
  out.append(kBodyEnd);
}

void write_https_redirect(std::string& out, std::string_view host, uint16_t port,
                          std::string_view target, std::string_view request_id, bool close) {
  std::string location = "https://";
  location.append(host);
  if (port != 443) {
    location.push_back(':');
    location.append(std::to_string(port));
  }
  location.append(!target.empty() && target.front() == '/' ? target : std::string_view("/"));
  static constexpr std::string_view kBody = "Redirecting to HTTPS\n";
  append_status_line(out, 308, reason_phrase(308));
  out.append("Content-Type: text/plain\r\nContent-Length: ");
  append_uint(out, kBody.size());
  out.append("\r\n");
  if (is_safe_field_value(location)) append_header(out, "Location", location);
  if (!request_id.empty() && is_safe_field_value(request_id)) {
    append_header(out, "X-Request-Id", request_id);
  }
  if (close) out.append("Connection: close\r\n");
  out.append("\r\n");
  out.append(kBody);
}

std::string_view reason_phrase(int status) {
  // RFC 9110 15, plus the few registered elsewhere that gateways meet.
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 102:
      return "Processing";
    case 103:
      return "Early Hints";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 203:
      return "Non-Authoritative Information";
    case 204:
      return "No Content";
    case 205:
      return "Reset Content";
    case 206:
      return "Partial Content";
    case 207:
      return "Multi-Status";
    case 208:
      return "Already Reported";
    case 226:
      return "IM Used";
    case 300:
      return "Multiple Choices";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 305:
      return "Use Proxy";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 418:
      return "I'm a teapot";
    case 421:
      return "Misdirected Request";
    case 422:
      return "Unprocessable Content";
    case 423:
      return "Locked";
    case 424:
      return "Failed Dependency";
    case 425:
      return "Too Early";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 451:
      return "Unavailable For Legal Reasons";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    case 506:
      return "Variant Also Negotiates";
    case 507:
      return "Insufficient Storage";
    case 508:
      return "Loop Detected";
    case 510:
      return "Not Extended";
    case 511:
      return "Network Authentication Required";
    default:
      return {};
  }
}

}  // namespace glidepath::http
