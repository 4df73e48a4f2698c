#include "http/serialize.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "http/parser.h"

namespace glidepath::http {
namespace {

// Parses a request head so the serializer sees what the gateway will hand it.
class ParsedRequest {
 public:
  explicit ParsedRequest(std::string raw) : raw_(std::move(raw)), parser_(ParserLimits{}) {
    const FeedResult r = parser_.feed(std::span<const char>(raw_.data(), raw_.size()));
    EXPECT_EQ(r.event, ParseEvent::head_complete) << raw_;
  }
  const RequestHead& head() const { return parser_.head(); }

 private:
  std::string raw_;
  RequestParser parser_;
};

class ParsedResponse {
 public:
  explicit ParsedResponse(std::string raw, bool websocket_upgrade = false)
      : raw_(std::move(raw)), parser_(16384) {
    parser_.expect_response_to("GET", websocket_upgrade);
    const FeedResult r = parser_.feed(std::span<const char>(raw_.data(), raw_.size()));
    EXPECT_EQ(r.event, ParseEvent::head_complete) << raw_;
  }
  const ResponseHead& head() const { return parser_.head(); }

 private:
  std::string raw_;
  ResponseParser parser_;
};

TEST(Serialize, RequestHeadDropsHopByHopAndReframes) {
  const ParsedRequest request(
      "POST /api/orders?id=1 HTTP/1.1\r\n"
      "User-Agent: curl/8\r\n"
      "Host: shop.example.com\r\n"
      "Connection: keep-alive, X-Secret-Hop, Upgrade-Insecure\r\n"
      "Keep-Alive: timeout=5\r\n"
      "X-Secret-Hop: drop me\r\n"
      "TE: trailers\r\n"
      "Proxy-Authorization: Basic abc\r\n"
      "Proxy-Connection: keep-alive\r\n"
      "X-Forwarded-For: 203.0.113.7\r\n"
      "X-Forwarded-Proto: https\r\n"
      "X-Request-Id: client-id\r\n"
      "Accept: */*\r\n"
      "Transfer-Encoding: chunked\r\n"
      "\r\n");
  ForwardedRequest forwarded;
  forwarded.method = "POST";
  forwarded.target = "/orders?id=1";
  forwarded.original = &request.head();
  forwarded.client_address = "198.51.100.2";
  forwarded.forwarded_proto = "http";
  forwarded.request_id = "gp-123";
  forwarded.framing = BodyFraming::chunked;
  std::string out;
  write_request_head(out, forwarded);
  EXPECT_EQ(out,
            "POST /orders?id=1 HTTP/1.1\r\n"
            "Host: shop.example.com\r\n"
            "User-Agent: curl/8\r\n"
            "Accept: */*\r\n"
            "X-Forwarded-For: 203.0.113.7, 198.51.100.2\r\n"
            "X-Forwarded-Proto: http\r\n"
            "X-Request-Id: gp-123\r\n"
            "Transfer-Encoding: chunked\r\n"
            "Connection: keep-alive\r\n"
            "\r\n");
}

TEST(Serialize, RequestHeadLengthFramingAndForwardedFor) {
  const ParsedRequest request(
      "PUT /x HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1, 2.2.2.2\r\n"
      "x-forwarded-for: 3.3.3.3\r\nContent-Length: 7\r\nContent-Type: text/plain\r\n\r\n");
  ForwardedRequest forwarded;
  forwarded.method = "PUT";
  forwarded.target = "/x";
  forwarded.original = &request.head();
  forwarded.client_address = "10.0.0.9";
  forwarded.forwarded_proto = "http";
  forwarded.request_id = "rid";
  forwarded.framing = BodyFraming::length;
  forwarded.content_length = 7;
  std::string out;
  write_request_head(out, forwarded);
  EXPECT_EQ(out,
            "PUT /x HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\n"
            "X-Forwarded-For: 1.1.1.1, 2.2.2.2, 3.3.3.3, 10.0.0.9\r\n"
            "X-Forwarded-Proto: http\r\nX-Request-Id: rid\r\nContent-Length: 7\r\n"
            "Connection: keep-alive\r\n\r\n");

  // No received X-Forwarded-For: one is added.
  const ParsedRequest plain("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  forwarded.original = &plain.head();
  forwarded.method = "GET";
  forwarded.target = "/";
  forwarded.framing = BodyFraming::none;
  out.clear();
  write_request_head(out, forwarded);
  EXPECT_EQ(out,
            "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.0.0.9\r\n"
            "X-Forwarded-Proto: http\r\nX-Request-Id: rid\r\nConnection: keep-alive\r\n\r\n");
}

TEST(Serialize, RequestHeadHostRules) {
  // Connection naming Host does not remove it.
  const ParsedRequest named("GET / HTTP/1.1\r\nConnection: Host\r\nHost: keep.example\r\n\r\n");
  ForwardedRequest forwarded;
  forwarded.method = "GET";
  forwarded.target = "/";
  forwarded.original = &named.head();
  std::string out;
  write_request_head(out, forwarded);
  EXPECT_EQ(out, "GET / HTTP/1.1\r\nHost: keep.example\r\nConnection: keep-alive\r\n\r\n");

  // Absolute-form: the target's authority replaces Host (RFC 9112 3.2.2).
  const ParsedRequest absolute(
      "GET http://real.example:8080/p HTTP/1.1\r\nHost: other.example\r\n\r\n");
  forwarded.original = &absolute.head();
  forwarded.target = "/p";
  out.clear();
  write_request_head(out, forwarded);
  EXPECT_EQ(out, "GET /p HTTP/1.1\r\nHost: real.example:8080\r\nConnection: keep-alive\r\n\r\n");

  // HTTP/1.0 without Host: an empty Host keeps the upstream request valid HTTP/1.1.
  const ParsedRequest old("GET / HTTP/1.0\r\n\r\n");
  forwarded.original = &old.head();
  forwarded.target = "/";
  out.clear();
  write_request_head(out, forwarded);
  EXPECT_EQ(out, "GET / HTTP/1.1\r\nHost: \r\nConnection: keep-alive\r\n\r\n");
}

TEST(Serialize, RequestHeadDropsCredentialsAndNamesTheConsumer) {
  const ParsedRequest request(
      "GET /orders HTTP/1.1\r\n"
      "Host: shop.example\r\n"
      "X-Api-Key: gp_secret\r\n"
      "x-glidepath-consumer: someone-else\r\n"
      "X-Glidepath-Preview-Token: hook-token\r\n"
      "Authorization: Bearer kept-for-the-upstream\r\n"
      "\r\n");
  ForwardedRequest forwarded;
  forwarded.method = "GET";
  forwarded.target = "/orders";
  forwarded.original = &request.head();
  forwarded.credential_header = "x-api-key";
  forwarded.consumer = "acme";
  std::string out;
  write_request_head(out, forwarded);
  EXPECT_EQ(out,
            "GET /orders HTTP/1.1\r\nHost: shop.example\r\n"
            "Authorization: Bearer kept-for-the-upstream\r\n"
            "X-Glidepath-Consumer: acme\r\nConnection: keep-alive\r\n\r\n");

  // Bearer keys: Authorization is the credential; a claimed consumer never passes, even
  // without a consumer of our own to name.
  forwarded.credential_header = "authorization";
  forwarded.consumer = {};
  out.clear();
  write_request_head(out, forwarded);
  EXPECT_EQ(out,
            "GET /orders HTTP/1.1\r\nHost: shop.example\r\nX-Api-Key: gp_secret\r\n"
            "Connection: keep-alive\r\n\r\n");
}

TEST(Serialize, AWebSocketUpgradeKeepsUpgradeAndConnectionOnly) {
  const ParsedRequest request(
      "GET /chat HTTP/1.1\r\n"
      "Host: a\r\n"
      "Upgrade: websocket\r\n"
      "Connection: keep-alive, Upgrade, X-Hop\r\n"
      "Keep-Alive: timeout=5\r\n"
      "X-Hop: drop me\r\n"
      "TE: trailers\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n"
      "Sec-WebSocket-Protocol: chat, superchat\r\n"
      "Sec-WebSocket-Extensions: permessage-deflate\r\n"
      "Origin: https://a\r\n"
      "\r\n");
  ASSERT_TRUE(request.head().websocket_upgrade);
  ForwardedRequest forwarded;
  forwarded.method = "GET";
  forwarded.target = "/chat";
  forwarded.original = &request.head();
  forwarded.request_id = "rid";
  forwarded.websocket_upgrade = true;
  std::string out;
  write_request_head(out, forwarded);
  const std::string end_to_end =
      "GET /chat HTTP/1.1\r\n"
      "Host: a\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n"
      "Sec-WebSocket-Protocol: chat, superchat\r\n"
      "Sec-WebSocket-Extensions: permessage-deflate\r\n"
      "Origin: https://a\r\n"
      "X-Request-Id: rid\r\n";
  EXPECT_EQ(out, end_to_end + "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n");

  // Not an upgrade (no websocket_upgrade): Upgrade is dropped like every hop-by-hop header.
  forwarded.websocket_upgrade = false;
  out.clear();
  write_request_head(out, forwarded);
  EXPECT_EQ(out, end_to_end + "Connection: keep-alive\r\n\r\n");

  // The 101: the upstream's end-to-end headers, ours, then Upgrade and Connection; no
  // framing, no Connection: close.
  const ParsedResponse switching(
      "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade, X-Hop\r\n"
      "X-Hop: drop me\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
      "Sec-WebSocket-Protocol: chat\r\n"
      "\r\n",
      /*websocket_upgrade=*/true);
  ForwardedResponse response;
  response.original = &switching.head();
  response.version_name = "v2";
  response.request_id = "rid";
  response.keep_alive = false;
  response.websocket_upgrade = true;
  out.clear();
  write_response_head(out, response);
  EXPECT_EQ(out,
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Sec-WebSocket-Protocol: chat\r\n"
            "X-Glidepath-Version: v2\r\n"
            "X-Request-Id: rid\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "\r\n");
}

TEST(Serialize, IsHopByHop) {
  const std::vector<Header> headers = {
      {"Connection", "close, X-Custom ,, x-other"}, {"connection", "Foo"}, {"X-Custom", "1"}};
  for (std::string_view name :
       {"Connection", "keep-alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding",
        "UPGRADE", "Proxy-Authenticate", "proxy-authorization", "x-custom", "X-OTHER", "foo"}) {
    EXPECT_TRUE(is_hop_by_hop(name, headers)) << name;
  }
  for (std::string_view name : {"Host", "Content-Type", "X-Customer", "Authorization", "Cookie"}) {
    EXPECT_FALSE(is_hop_by_hop(name, headers)) << name;
  }
  EXPECT_FALSE(is_hop_by_hop("x-custom", {}));
}

TEST(Serialize, ResponseHead) {
  const ParsedResponse response(
      "HTTP/1.0 201 Created\r\nServer: up\r\nConnection: X-Internal\r\nX-Internal: secret\r\n"
      "Keep-Alive: timeout=5\r\nX-Glidepath-Version: spoofed\r\nX-Request-Id: upstream-id\r\n"
      "Content-Length: 4\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n");
  ForwardedResponse forwarded;
  forwarded.original = &response.head();
  forwarded.version_name = "v2";
  forwarded.request_id = "rid-9";
  forwarded.framing = BodyFraming::length;
  forwarded.content_length = 4;
  std::string out;
  write_response_head(out, forwarded);
  EXPECT_EQ(out,
            "HTTP/1.1 201 Created\r\nServer: up\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
            "X-Glidepath-Version: v2\r\nX-Request-Id: rid-9\r\nContent-Length: 4\r\n\r\n");

  forwarded.framing = BodyFraming::chunked;
  forwarded.keep_alive = false;
  out.clear();
  write_response_head(out, forwarded);
  EXPECT_NE(out.find("Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"), std::string::npos)
      << out;

  forwarded.framing = BodyFraming::until_close;
  forwarded.keep_alive = true;
  forwarded.client_is_http10 = true;
  out.clear();
  write_response_head(out, forwarded);
  EXPECT_NE(out.find("X-Request-Id: rid-9\r\nConnection: close\r\n\r\n"), std::string::npos) << out;

  forwarded.framing = BodyFraming::length;
  out.clear();
  write_response_head(out, forwarded);
  EXPECT_NE(out.find("Content-Length: 4\r\nConnection: keep-alive\r\n\r\n"), std::string::npos)
      << out;
}

TEST(Serialize, ResponseHeadWithoutReasonUsesTheStandardOne) {
  const ParsedResponse response("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n");
  ForwardedResponse forwarded;
  forwarded.original = &response.head();
  forwarded.framing = BodyFraming::length;
  std::string out;
  write_response_head(out, forwarded);
  EXPECT_EQ(out, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
}

TEST(Serialize, ChunkHeaders) {
  std::string out;
  write_chunk_header(out, 0);
  write_chunk_header(out, 10);
  write_chunk_header(out, 255);
  write_chunk_header(out, 4096);
  write_chunk_header(out, 0xFFFFFFFFFFFFFFFFull);
  EXPECT_EQ(out, "0\r\na\r\nff\r\n1000\r\nffffffffffffffff\r\n");
  EXPECT_EQ(kChunkEnd, "\r\n");
  EXPECT_EQ(kLastChunk, "0\r\n\r\n");
}

TEST(Serialize, ErrorResponseGolden) {
  std::string out;
  write_error_response(out, 429, "rate limit exceeded", "req-1", false, "v1", 30);
  const std::string body = R"({"error": "rate limit exceeded", "request_id": "req-1"})";
  EXPECT_EQ(out,
            "HTTP/1.1 429 Too Many Requests\r\n"
            "Content-Type: application/json\r\n"
            "Content-Length: " +
                std::to_string(body.size()) +
                "\r\n"
                "X-Request-Id: req-1\r\n"
                "X-Glidepath-Version: v1\r\n"
                "Retry-After: 30\r\n"
                "\r\n" +
                body);

  out.clear();
  write_error_response(out, 502, "upstream refused", "", true);
  EXPECT_EQ(out,
            "HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: 47\r\n"
            "Connection: close\r\n\r\n"
            R"({"error": "upstream refused", "request_id": ""})");
}

std::string body_of(const std::string& response) {
  return response.substr(response.find("\r\n\r\n") + 4);
}

TEST(Serialize, ErrorResponseEscapesJson) {
  struct Case {
    std::string message;
    std::string escaped;
  };
  const std::vector<Case> cases = {
      {"say \"hi\"", R"(say \"hi\")"},
      {"back\\slash", R"(back\\slash)"},
      {"line\nbreak\r\ttab", R"(line\nbreak\r\ttab)"},
      {std::string("nul\0byte", 8), R"(nul\u0000byte)"},
      {"\x01\x1f\x7f\b\f", R"(\u0001\u001f\u007f\b\f)"},
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
      {"bad \xff byte", R"(bad \ufffd byte)"},
      {"cut \xe2\x82", R"(cut \ufffd\ufffd)"},
      {"overlong \xc0\xaf", R"(overlong \ufffd\ufffd)"},
      {"surrogate \xed\xa0\x80", R"(surrogate \ufffd\ufffd\ufffd)"},
      {"", ""},
  };
  for (const Case& c : cases) {
    std::string out;
    write_error_response(out, 400, c.message, "id\"1", true);
    const std::string body = body_of(out);
    EXPECT_EQ(body, "{\"error\": \"" + c.escaped + "\", \"request_id\": \"id\\\"1\"}") << c.message;
    const size_t cl = out.find("Content-Length: ") + 16;
    EXPECT_EQ(std::stoul(out.substr(cl)), body.size()) << c.message;
  }
}

TEST(Serialize, UnsafeRequestIdIsNotWrittenAsAHeader) {
  std::string out;
  write_error_response(out, 400, "bad", "evil\r\nSet-Cookie: x=1", true);
  EXPECT_EQ(out.find("\r\nSet-Cookie: x"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("request_id": "evil\r\nSet-Cookie: x=1")"), std::string::npos) << out;
}

TEST(Serialize, AppendsWithoutAllocatingWhenThereIsCapacity) {
  const ParsedRequest request(
      "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\nAccept: */*\r\n\r\n");
  const ParsedResponse response("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n");
  std::string out;
  out.reserve(4096);
  out = "prefix";
  const char* const storage = out.data();
  ForwardedRequest forwarded_request;
  forwarded_request.method = "GET";
  forwarded_request.target = "/";
  forwarded_request.original = &request.head();
  forwarded_request.client_address = "5.6.7.8";
  forwarded_request.request_id = "r";
  write_request_head(out, forwarded_request);
  ForwardedResponse forwarded_response;
  forwarded_response.original = &response.head();
  forwarded_response.framing = BodyFraming::length;
  forwarded_response.content_length = 1;
  write_response_head(out, forwarded_response);
  write_chunk_header(out, 1234);
  write_error_response(out, 404, "no \"route\"", "r", true, "v", 1);
  EXPECT_EQ(out.data(), storage);
  EXPECT_TRUE(out.starts_with("prefixGET / HTTP/1.1\r\n")) << "appends, never clears";
}

TEST(Serialize, ReasonPhrases) {
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(400), "Bad Request");
  EXPECT_EQ(reason_phrase(401), "Unauthorized");
  EXPECT_EQ(reason_phrase(403), "Forbidden");
  EXPECT_EQ(reason_phrase(404), "Not Found");
  EXPECT_EQ(reason_phrase(413), "Content Too Large");
  EXPECT_EQ(reason_phrase(429), "Too Many Requests");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(501), "Not Implemented");
  EXPECT_EQ(reason_phrase(502), "Bad Gateway");
  EXPECT_EQ(reason_phrase(504), "Gateway Timeout");
  EXPECT_EQ(reason_phrase(505), "HTTP Version Not Supported");
  EXPECT_EQ(reason_phrase(599), "");
  for (int status : {100, 101, 201, 202, 204, 206, 301, 302, 304, 307, 308, 405, 408,
                     409, 410, 411, 412, 414, 415, 416, 417, 422, 426, 500, 503}) {
    EXPECT_FALSE(reason_phrase(status).empty()) << status;
  }
}

}  // namespace
}  // namespace glidepath::http
