#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "http/parser.h"
#include "transcript.h"

namespace glidepath::http {
namespace {

using testing::drive_requests;
using testing::render;
using testing::Transcript;

std::span<const char> bytes(std::string_view text) {
  return {text.data(), text.size()};
}

// ---- events and where the parser stops ------------------------------------------------

TEST(RequestParser, GetWithoutBodyStopsAfterHeadThenCompletesWithoutInput) {
  const std::string input = "GET /orders/1?x=2 HTTP/1.1\r\nHost: api.example.com:8080\r\n\r\n";
  RequestParser parser(ParserLimits{});
  EXPECT_FALSE(parser.in_message());

  FeedResult r = parser.feed(bytes(input));
  ASSERT_EQ(r.event, ParseEvent::head_complete);
  EXPECT_EQ(r.consumed, input.size());
  EXPECT_TRUE(parser.in_message());
  const RequestHead& head = parser.head();
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/orders/1?x=2");
  EXPECT_EQ(head.version_minor, 1);
  EXPECT_EQ(head.host, "api.example.com");
  EXPECT_EQ(head.framing, BodyFraming::none);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_FALSE(head.expect_continue);
  ASSERT_EQ(head.headers.size(), 1u);
  EXPECT_EQ(head.headers[0].name, "Host");
  EXPECT_EQ(head.find("HOST"), "api.example.com:8080");
  EXPECT_EQ(head.find("missing"), "");

  // The completion is zero-width: it comes from an empty feed.
  r = parser.feed({});
  EXPECT_EQ(r.event, ParseEvent::message_complete);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_FALSE(parser.in_message());
  r = parser.feed({});
  EXPECT_EQ(r.event, ParseEvent::need_more);
  EXPECT_EQ(r.consumed, 0u);
}

TEST(RequestParser, ContentLengthBodyEventsAndCompletion) {
  const std::string head = "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n";
  const std::string input = head + "0123456789";
  RequestParser parser(ParserLimits{});
  FeedResult r = parser.feed(bytes(input));
  ASSERT_EQ(r.event, ParseEvent::head_complete);
  EXPECT_EQ(r.consumed, head.size());
  EXPECT_EQ(parser.head().framing, BodyFraming::length);
  EXPECT_EQ(parser.head().content_length, 10u);

  std::string_view rest = std::string_view(input).substr(r.consumed);
  r = parser.feed(bytes(rest.substr(0, 4)));  // the read so far ends mid-body
  ASSERT_EQ(r.event, ParseEvent::body);
  EXPECT_EQ(r.consumed, 4u);
  EXPECT_EQ(std::string_view(parser.body_chunk().data(), parser.body_chunk().size()), "0123");
  EXPECT_EQ(parser.body_chunk().data(), rest.data()) << "zero copy: points into the input";
  EXPECT_EQ(parser.body_bytes(), 4u);
  r = parser.feed({});
  EXPECT_EQ(r.event, ParseEvent::need_more);

  rest.remove_prefix(4);
  r = parser.feed(bytes(rest));
  ASSERT_EQ(r.event, ParseEvent::body);
  EXPECT_EQ(r.consumed, 6u);
  EXPECT_EQ(std::string_view(parser.body_chunk().data(), parser.body_chunk().size()), "456789");
  r = parser.feed(bytes(rest.substr(6)));
  EXPECT_EQ(r.event, ParseEvent::message_complete);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_EQ(parser.body_bytes(), 10u);
}

TEST(RequestParser, ChunkedBodyPiecesAreDecodedAndExact) {
  const std::string head = "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string body = "5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
  const std::string input = head + body;
  RequestParser parser(ParserLimits{});
  FeedResult r = parser.feed(bytes(input));
  ASSERT_EQ(r.event, ParseEvent::head_complete);
  EXPECT_EQ(r.consumed, head.size());
  EXPECT_EQ(parser.head().framing, BodyFraming::chunked);

  size_t offset = r.consumed;
  r = parser.feed(bytes(std::string_view(input).substr(offset)));
  ASSERT_EQ(r.event, ParseEvent::body);
  EXPECT_EQ(std::string_view(parser.body_chunk().data(), parser.body_chunk().size()), "hello");
  EXPECT_EQ(r.consumed, std::string_view("5;name=value\r\nhello").size());
  offset += r.consumed;
  r = parser.feed(bytes(std::string_view(input).substr(offset)));
  ASSERT_EQ(r.event, ParseEvent::body);
  EXPECT_EQ(std::string_view(parser.body_chunk().data(), parser.body_chunk().size()), " world");
  offset += r.consumed;
  r = parser.feed(bytes(std::string_view(input).substr(offset)));
  ASSERT_EQ(r.event, ParseEvent::message_complete);
  offset += r.consumed;
  EXPECT_EQ(offset, input.size()) << "the trailer section and final CRLF belong to the message";
  // Trailers are dropped: the head is what it was.
  EXPECT_EQ(parser.head().find("X-Trailer"), "");
  EXPECT_EQ(parser.head().headers.size(), 2u);
  EXPECT_EQ(parser.body_bytes(), 11u);
}

TEST(RequestParser, PipelinedRequestsStopAtEachBoundary) {
  const std::string first = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string second = "POST /b HTTP/1.1\r\nHost: b\r\nContent-Length: 3\r\n\r\nxyz";
  const std::string third = "GET /c HTTP/1.1\r\nHost: c\r\n\r\n";
  const std::string input = first + second + third;
  RequestParser parser(ParserLimits{});
  std::string_view rest(input);

  FeedResult r = parser.feed(bytes(rest));
  ASSERT_EQ(r.event, ParseEvent::head_complete);
  EXPECT_EQ(r.consumed, first.size());
  EXPECT_EQ(parser.head().target, "/a");
  rest.remove_prefix(r.consumed);
  r = parser.feed(bytes(rest));
  ASSERT_EQ(r.event, ParseEvent::message_complete);
  EXPECT_EQ(r.consumed, 0u) << "no byte of the next request is taken";
  EXPECT_EQ(parser.head().target, "/a") << "the head stays until the next request starts";
  EXPECT_FALSE(parser.in_message());

  r = parser.feed(bytes(rest));
  ASSERT_EQ(r.event, ParseEvent::head_complete);
  EXPECT_EQ(r.consumed, second.size() - 3);
  EXPECT_EQ(parser.head().target, "/b");
  EXPECT_EQ(parser.head().host, "b");
  rest.remove_prefix(r.consumed);
  r = parser.feed(bytes(rest));
  ASSERT_EQ(r.event, ParseEvent::body);
  EXPECT_EQ(r.consumed, 3u);
  rest.remove_prefix(r.consumed);
  r = parser.feed(bytes(rest));
  ASSERT_EQ(r.event, ParseEvent::message_complete);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_EQ(rest, third);

  r = parser.feed(bytes(rest));
  ASSERT_EQ(r.event, ParseEvent::head_complete);
  EXPECT_EQ(parser.head().target, "/c");
  EXPECT_EQ(r.consumed, third.size());
}

TEST(RequestParser, HeadViewsSurviveTheInputBeingOverwritten) {
  // The head is copied into the parser's arena: the read buffer can be reused at once.
  std::string buffer = "PUT /k HTTP/1.1\r\nHost: h\r\nX-Long: ";
  buffer += std::string(3000, 'v');
  buffer += "\r\nContent-Length: 2\r\n\r\n";
  RequestParser parser(ParserLimits{});
  FeedResult r = parser.feed(bytes(buffer));
  ASSERT_EQ(r.event, ParseEvent::head_complete);
  std::fill(buffer.begin(), buffer.end(), '#');
  std::string body = "ok";
  r = parser.feed(bytes(body));
  ASSERT_EQ(r.event, ParseEvent::body);
  EXPECT_EQ(parser.head().method, "PUT");
  EXPECT_EQ(parser.head().target, "/k");
  EXPECT_EQ(parser.head().find("x-long"), std::string(3000, 'v'));
  EXPECT_EQ(parser.head().find("content-length"), "2");
}

TEST(RequestParser, HeaderPiecesSplitAcrossFeedsAreJoined) {
  const std::string input =
      "GET /a/very/long/path?q=1 HTTP/1.1\r\nHost: example.org\r\nX-Name-Split: value "
      "split\r\n\r\n";
  for (size_t cut = 1; cut < input.size(); ++cut) {
    RequestParser parser(ParserLimits{});
    std::string first = input.substr(0, cut);
    FeedResult r = parser.feed(bytes(first));
    ASSERT_EQ(r.event, ParseEvent::need_more) << cut;
    std::fill(first.begin(), first.end(), '#');  // the first read's buffer is gone
    const std::string second = input.substr(cut);
    r = parser.feed(bytes(second));
    ASSERT_EQ(r.event, ParseEvent::head_complete) << cut;
    EXPECT_EQ(parser.head().target, "/a/very/long/path?q=1") << cut;
    EXPECT_EQ(parser.head().find("x-name-split"), "value split") << cut;
    EXPECT_EQ(parser.head().host, "example.org") << cut;
  }
}

// ---- any split gives the same result --------------------------------------------------

const std::vector<std::string>& valid_streams() {
  static const std::vector<std::string> streams = {
      "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
      "POST /orders HTTP/1.1\r\nHost: shop.example\r\nContent-Type: application/json\r\n"
      "Content-Length: 15\r\n\r\n{\"id\": 1234567}",
      "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "4;ext=1\r\nWiki\r\n5;quoted=\"a b\"\r\npedia\r\nE;flag\r\n in\r\n\r\nchunks.\r\n"
      "0\r\nX-Checksum: abc\r\nX-More: def\r\n\r\n",
      "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
      "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
      "PUT /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
      "DELETE /4 HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET /old HTTP/1.0\r\n\r\n",
      "POST /old HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi"
      "GET /next HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET http://Example.COM:8080/x?y HTTP/1.1\r\nHost: ignored.example\r\n\r\n",
      "GET /ws HTTP/1.1\r\nHost: [::1]:8443\r\nX-Empty:\r\nX-Spaces:   padded value   \r\n"
      "X-Tab:\tt\t\r\n\r\n",
      "PUT /big HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 5000\r\n\r\n" +
          std::string(5000, 'b'),
      "\r\nGET /after-empty-line HTTP/1.1\r\nHost: a\r\n\r\n",
      "POST /empty HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"
      "GET /close HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
      "PATCH /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "1000\r\n" +
          std::string(4096, 'z') + "\r\n0\r\n\r\n",
  };
  return streams;
}

TEST(RequestParser, AnySplitGivesTheSameTranscript) {
  for (const std::string& stream : valid_streams()) {
    const Transcript whole = drive_requests(stream, 0);
    EXPECT_EQ(whole.error_status, 0) << stream << whole;
    ASSERT_FALSE(whole.messages.empty()) << stream;
    for (const auto& m : whole.messages)
      EXPECT_TRUE(m.complete) << stream << whole;
    for (size_t piece : {1, 2, 3, 7, 64}) {
      EXPECT_EQ(drive_requests(stream, piece), whole) << "piece " << piece << ": " << stream;
    }
  }
}

TEST(RequestParser, TranscriptDetails) {
  const Transcript chunked = drive_requests(valid_streams()[2], 1);
  ASSERT_EQ(chunked.messages.size(), 1u);
  EXPECT_EQ(chunked.messages[0].body, "Wikipedia in\r\n\r\nchunks.");

  const Transcript pipelined = drive_requests(valid_streams()[3], 1);
  ASSERT_EQ(pipelined.messages.size(), 4u);
  EXPECT_EQ(pipelined.messages[1].body, "hello");
  EXPECT_EQ(pipelined.messages[2].body, "abc");

  const Transcript old = drive_requests(valid_streams()[4], 1);
  ASSERT_EQ(old.messages.size(), 1u);
  EXPECT_EQ(old.messages[0].head,
            "GET /old HTTP/1.0 host= framing=none cl=0 keep_alive=0 expect=0");
  const Transcript old_keep_alive = drive_requests(valid_streams()[5], 0);
  ASSERT_EQ(old_keep_alive.messages.size(), 2u);
  EXPECT_NE(old_keep_alive.messages[0].head.find("keep_alive=1"), std::string::npos);

  const Transcript absolute = drive_requests(valid_streams()[7], 0);
  ASSERT_EQ(absolute.messages.size(), 1u);
  EXPECT_NE(absolute.messages[0].head.find("host=Example.COM "), std::string::npos)
      << "RFC 9112 3.2.2: the target's authority wins over Host";

  const Transcript trimmed = drive_requests(valid_streams()[8], 0);
  ASSERT_EQ(trimmed.messages.size(), 1u);
  EXPECT_EQ(trimmed.messages[0].head,
            "GET /ws HTTP/1.1 host=[::1] framing=none cl=0 keep_alive=1 expect=0 "
            "[Host:[::1]:8443] [X-Empty:] [X-Spaces:padded value] [X-Tab:t]");

  const Transcript expect = drive_requests(valid_streams()[9], 0);
  ASSERT_EQ(expect.messages.size(), 1u);
  EXPECT_NE(expect.messages[0].head.find("expect=1"), std::string::npos);

  const Transcript closing = drive_requests(valid_streams()[11], 0);
  ASSERT_EQ(closing.messages.size(), 2u);
  EXPECT_NE(closing.messages[0].head.find("framing=length cl=0 keep_alive=1"), std::string::npos);
  EXPECT_NE(closing.messages[1].head.find("keep_alive=0"), std::string::npos);
}

// ---- malformed and hostile requests ------------------------------------------------------

struct Hostile {
  const char* name;
  std::string raw;
  int status;
};

std::string with_host(std::string_view request_line, std::string_view headers,
                      std::string_view body = {}) {
  return std::string(request_line) + "\r\nHost: example.com\r\n" + std::string(headers) + "\r\n" +
         std::string(body);
}

const std::vector<Hostile>& hostile_requests() {
  static const std::vector<Hostile> table = {
      // Request smuggling: ambiguous framing (RFC 9112 6.1, 6.3).
      {"cl_then_te",
       with_host("POST / HTTP/1.1", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                 "0\r\n\r\n"),
       400},
      {"te_then_cl",
       with_host("POST / HTTP/1.1", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
                 "0\r\n\r\n"),
       400},
      {"te_chunked_identity",
       with_host("POST / HTTP/1.1", "Transfer-Encoding: chunked, identity\r\n"), 400},
      {"te_space_before_colon", with_host("POST / HTTP/1.1", "Transfer-Encoding : chunked\r\n"),
       400},
      {"te_xchunked", with_host("POST / HTTP/1.1", "Transfer-Encoding: xchunked\r\n"), 400},
      {"te_duplicate",
       with_host("POST / HTTP/1.1", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
       400},
      {"te_identity", with_host("POST / HTTP/1.1", "Transfer-Encoding: identity\r\n"), 400},
      {"te_empty_line_then_chunked",
       with_host("POST / HTTP/1.1", "Transfer-Encoding:\r\nTransfer-Encoding: chunked\r\n",
                 "0\r\n\r\n"),
       400},
      {"te_two_lines_chunked_last",
       with_host("POST / HTTP/1.1", "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
                 "0\r\n\r\n"),
       501},
      {"te_gzip_then_chunked", with_host("POST / HTTP/1.1", "Transfer-Encoding: gzip, chunked\r\n"),
       501},
      {"te_in_http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"cl_two_different",
       with_host("POST / HTTP/1.1", "Content-Length: 3\r\nContent-Length: 4\r\n", "abcd"), 400},
      {"cl_repeated_same",
       with_host("POST / HTTP/1.1", "Content-Length: 3\r\nContent-Length: 3\r\n", "abc"), 400},
      {"cl_list", with_host("POST / HTTP/1.1", "Content-Length: 1,2\r\n"), 400},
      {"cl_plus_sign", with_host("POST / HTTP/1.1", "Content-Length: +5\r\n"), 400},
      {"cl_negative", with_host("POST / HTTP/1.1", "Content-Length: -1\r\n"), 400},
      {"cl_overflow", with_host("POST / HTTP/1.1", "Content-Length: 99999999999999999999999\r\n"),
       400},
      {"cl_empty", with_host("POST / HTTP/1.1", "Content-Length:\r\n"), 400},
      {"cl_hex", with_host("POST / HTTP/1.1", "Content-Length: 0x10\r\n"), 400},
      {"cl_inner_space", with_host("POST / HTTP/1.1", "Content-Length: 1 2\r\n"), 400},
      // Chunked framing (RFC 9112 7.1).
      {"chunk_size_0x",
       with_host("POST / HTTP/1.1", "Transfer-Encoding: chunked\r\n", "0x5\r\nhello\r\n0\r\n\r\n"),
       400},
      {"chunk_size_trailing_space",
       with_host("POST / HTTP/1.1", "Transfer-Encoding: chunked\r\n", "5 \r\nhello\r\n0\r\n\r\n"),
       400},
      {"chunk_size_leading_space",
       with_host("POST / HTTP/1.1", "Transfer-Encoding: chunked\r\n", " 5\r\nhello\r\n0\r\n\r\n"),
       400},
      {"chunk_size_negative",
       with_host("POST / HTTP/1.1", "Transfer-Encoding: chunked\r\n", "-5\r\nhello\r\n0\r\n\r\n"),
       400},
      {"chunk_size_overflow",
       with_host("POST / HTTP/1.1", "Transfer-Encoding: chunked\r\n",
                 "ffffffffffffffffff\r\nhello\r\n0\r\n\r\n"),
       400},
      {"chunk_missing_crlf_after_data",
       with_host("POST / HTTP/1.1", "Transfer-Encoding: chunked\r\n", "5\r\nhello0\r\n\r\n"), 400},
      {"chunk_size_bare_lf",
       with_host("POST / HTTP/1.1", "Transfer-Encoding: chunked\r\n", "5\nhello\r\n0\r\n\r\n"),
       400},
      {"chunk_data_longer_than_size",
       with_host("POST / HTTP/1.1", "Transfer-Encoding: chunked\r\n", "3\r\nhello\r\n0\r\n\r\n"),
       400},
      // Header syntax (RFC 9112 5).
      {"obs_fold", with_host("GET / HTTP/1.1", "X-A: a\r\n  folded\r\n"), 400},
      {"obs_fold_tab", with_host("GET / HTTP/1.1", "X-A: a\r\n\tfolded\r\n"), 400},
      {"obs_fold_after_empty_value", with_host("GET / HTTP/1.1", "X-A:\r\n folded\r\n"), 400},
      {"obs_fold_into_host", "GET / HTTP/1.1\r\nHost:\r\n evil.example\r\n\r\n", 400},
      {"space_before_colon", "GET / HTTP/1.1\r\nHost : example.com\r\n\r\n", 400},
      {"nul_in_value", with_host("GET / HTTP/1.1", std::string("X-A: a\0b\r\n", 10)), 400},
      {"cr_in_value", with_host("GET / HTTP/1.1", "X-A: a\rb\r\n"), 400},
      {"bare_lf_everywhere", "GET / HTTP/1.1\nHost: example.com\n\n", 400},
      {"bare_lf_in_headers", "GET / HTTP/1.1\r\nHost: example.com\nX-A: b\r\n\r\n", 400},
      {"invalid_header_name_char", with_host("GET / HTTP/1.1", "X@Y: z\r\n"), 400},
      {"empty_header_name", with_host("GET / HTTP/1.1", ": z\r\n"), 400},
      {"whitespace_before_first_header", "GET / HTTP/1.1\r\n Host: example.com\r\n\r\n", 400},
      // Request line (RFC 9112 3).
      {"invalid_method_char", with_host("GE(T / HTTP/1.1", ""), 400},
      {"lowercase_method", with_host("get / HTTP/1.1", ""), 400},
      {"unknown_method", with_host("FOO / HTTP/1.1", ""), 400},
      {"space_in_target", with_host("GET /a b HTTP/1.1", ""), 400},
      {"trailing_space_after_version", with_host("GET / HTTP/1.1 ", ""), 400},
      {"version_letters", with_host("GET / HTTP/1.x", ""), 400},
      {"http_2_0", with_host("GET / HTTP/2.0", ""), 505},
      {"http_1_2", with_host("GET / HTTP/1.2", ""), 505},
      {"http_3_0", with_host("GET / HTTP/3.0", ""), 505},
      {"http_0_9_version", with_host("GET / HTTP/0.9", ""), 505},
      {"http_0_9_simple_request", "GET /\r\n\r\n", 505},
      {"h2_preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
      // Host (RFC 9112 3.2).
      {"missing_host", "GET / HTTP/1.1\r\nX-A: b\r\n\r\n", 400},
      {"duplicate_host", "GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n", 400},
      {"duplicate_host_same", "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400},
      {"host_with_path", "GET / HTTP/1.1\r\nHost: a.example/evil\r\n\r\n", 400},
      {"host_with_userinfo", "GET / HTTP/1.1\r\nHost: user@a.example\r\n\r\n", 400},
      {"host_with_space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
      {"host_bad_port", "GET / HTTP/1.1\r\nHost: a:80x\r\n\r\n", 400},
      {"host_unclosed_ipv6", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400},
      // Target forms (RFC 9112 3.2).
      {"asterisk_form_with_get", with_host("GET * HTTP/1.1", ""), 400},
      {"relative_target", with_host("GET a/b HTTP/1.1", ""), 400},
      {"fragment_in_target", with_host("GET /a#frag HTTP/1.1", ""), 400},
      {"absolute_form_other_scheme", with_host("GET ftp://example.com/ HTTP/1.1", ""), 400},
      {"absolute_form_userinfo", with_host("GET http://user@example.com/ HTTP/1.1", ""), 400},
      // The only tunnel is a WebSocket upgrade: CONNECT and other protocols are 501, and a
      // WebSocket upgrade that is not a bodiless HTTP/1.1 GET (RFC 6455 4.1) is 400.
      {"connect", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 501},
      {"upgrade_websocket_post",
       with_host("POST /chat HTTP/1.1",
                 "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"),
       400},
      {"upgrade_websocket_http_1_0",
       with_host("GET /chat HTTP/1.0",
                 "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"),
       400},
      {"upgrade_websocket_with_length",
       with_host("GET /chat HTTP/1.1",
                 "Upgrade: websocket\r\nConnection: Upgrade\r\nContent-Length: 5\r\n", "abcde"),
       400},
      {"upgrade_websocket_chunked",
       with_host("GET /chat HTTP/1.1",
                 "Upgrade: websocket\r\nConnection: Upgrade\r\nTransfer-Encoding: chunked\r\n",
                 "0\r\n\r\n"),
       400},
      {"upgrade_h2c",
       with_host("GET / HTTP/1.1",
                 "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                 "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"),
       501},
      // Limits (ParserLimits{1024, 64} below).
      {"header_section_too_large",
       with_host("GET / HTTP/1.1", "X-Big: " + std::string(2000, 'x') + "\r\n"), 431},
      {"many_small_headers_too_large",
       with_host("GET / HTTP/1.1",
                 [] {
                   std::string many;
                   for (int i = 0; i < 200; ++i)
                     many += "X-" + std::to_string(i) + ": v\r\n";
                   return many;
                 }()),
       431},
      {"long_target_too_large", with_host("GET /" + std::string(1100, 'p') + " HTTP/1.1", ""), 431},
      {"content_length_over_limit", with_host("POST / HTTP/1.1", "Content-Length: 65\r\n"), 413},
      {"chunked_over_limit",
       with_host(
           "POST / HTTP/1.1", "Transfer-Encoding: chunked\r\n",
           "20\r\n" + std::string(32, 'a') + "\r\n21\r\n" + std::string(33, 'b') + "\r\n0\r\n\r\n"),
       413},
      {"trailers_too_large",
       with_host("POST / HTTP/1.1", "Transfer-Encoding: chunked\r\n",
                 "1\r\na\r\n0\r\nX-T: " + std::string(1100, 't') + "\r\n\r\n"),
       431},
      {"chunk_extensions_too_long",
       with_host("POST / HTTP/1.1", "Transfer-Encoding: chunked\r\n",
                 "1;" + std::string(1100, 'e') + "\r\na\r\n0\r\n\r\n"),
       400},
  };
  return table;
}

TEST(RequestParser, HostileRequestsAreRefusedWithTheirStatus) {
  const ParserLimits limits{1024, 64};
  EXPECT_GE(hostile_requests().size(), 30u);
  for (const Hostile& h : hostile_requests()) {
    for (size_t piece : {0, 1, 5}) {
      const Transcript t = drive_requests(h.raw, piece, limits);
      EXPECT_EQ(t.error_status, h.status) << h.name << " (piece " << piece << ")" << t;
      for (const auto& m : t.messages) {
        EXPECT_FALSE(m.complete) << h.name << ": a refused message never completes" << t;
      }
    }
  }
}

TEST(RequestParser, UpgradeHeaderWithoutConnectionUpgradeIsAnOrdinaryRequest) {
  // Not an upgrade request (RFC 9110 7.8: Upgrade must be listed in Connection); the
  // serializer drops Upgrade as hop-by-hop.
  RequestParser parser(ParserLimits{});
  ASSERT_EQ(parser.feed(bytes("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n")).event,
            ParseEvent::head_complete);
  EXPECT_FALSE(parser.head().websocket_upgrade);
  EXPECT_EQ(parser.feed({}).event, ParseEvent::message_complete);
}

TEST(RequestParser, AWebSocketUpgradeCompletesAndTheNextRequestFollows) {
  // RFC 6455 4.1 / RFC 9110 7.8. The parser does not stop after it (llhttp would): when
  // the upstream refuses, the bytes after it are the next request on the connection.
  const std::string upgrade =
      "GET /chat?room=1 HTTP/1.1\r\nHost: a\r\nUpgrade: WebSocket\r\n"
      "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n";
  const std::string next = "GET /b HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string input = upgrade + next;
  RequestParser parser(ParserLimits{});
  FeedResult r = parser.feed(bytes(input));
  ASSERT_EQ(r.event, ParseEvent::head_complete);
  EXPECT_EQ(r.consumed, upgrade.size());
  EXPECT_TRUE(parser.head().websocket_upgrade);
  EXPECT_EQ(parser.head().framing, BodyFraming::none);
  EXPECT_TRUE(parser.head().keep_alive);
  r = parser.feed(bytes(std::string_view(input).substr(upgrade.size())));
  ASSERT_EQ(r.event, ParseEvent::message_complete);
  EXPECT_EQ(r.consumed, 0u);
  r = parser.feed(bytes(std::string_view(input).substr(upgrade.size())));
  ASSERT_EQ(r.event, ParseEvent::head_complete);
  EXPECT_EQ(parser.head().target, "/b");
  EXPECT_FALSE(parser.head().websocket_upgrade);
}

TEST(RequestParser, WebSocketAmongUpgradeProtocolsAndAnEmptyBodyAreAccepted) {
  for (const std::string headers :
       {"Upgrade: foo/2, websocket\r\nConnection: Upgrade\r\n",
        "Upgrade: h2c\r\nUpgrade: websocket\r\nConnection: upgrade\r\n",
        "Upgrade: websocket\r\nConnection: Upgrade\r\nContent-Length: 0\r\n"}) {
    const Transcript t =
        drive_requests("GET / HTTP/1.1\r\nHost: a\r\n" + headers + "\r\n", 1, ParserLimits{});
    EXPECT_EQ(t.error_status, 0) << headers << t;
    ASSERT_EQ(t.messages.size(), 1u) << headers;
    EXPECT_TRUE(t.messages[0].complete) << headers;
  }
  // Upgrade without Connection: upgrade is no upgrade (the test below); nor is a
  // Connection: upgrade without Upgrade.
  RequestParser parser(ParserLimits{});
  ASSERT_EQ(parser.feed(bytes("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n\r\n")).event,
            ParseEvent::head_complete);
  EXPECT_FALSE(parser.head().websocket_upgrade);
}

TEST(RequestParser, ErrorsAreStickyAndNameTheProblem) {
  RequestParser parser(ParserLimits{});
  const std::string input =
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
  FeedResult r = parser.feed(bytes(input));
  ASSERT_EQ(r.event, ParseEvent::error);
  EXPECT_LE(r.consumed, input.size());
  EXPECT_EQ(parser.error().status, 400);
  EXPECT_EQ(parser.error().reason, "multiple Content-Length headers");
  r = parser.feed(bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_EQ(r.event, ParseEvent::error);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_EQ(parser.finish().event, ParseEvent::error);

  RequestParser smuggle(ParserLimits{});
  ASSERT_EQ(smuggle
                .feed(bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n"))
                .event,
            ParseEvent::error);
  EXPECT_EQ(smuggle.error().reason, "both Content-Length and Transfer-Encoding");
}

TEST(RequestParser, HeaderLimitIsExact) {
  const std::string request = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: 0123456789\r\n\r\n";
  for (size_t piece : {0, 1}) {
    ParserLimits limits;
    limits.max_header_bytes = request.size();
    EXPECT_EQ(drive_requests(request, piece, limits).error_status, 0) << piece;
    limits.max_header_bytes = request.size() - 1;
    EXPECT_EQ(drive_requests(request, piece, limits).error_status, 431) << piece;
  }
  // The limit is per message: many requests of nearly the limit pass on one connection.
  std::string many;
  for (int i = 0; i < 50; ++i)
    many += request;
  ParserLimits limits;
  limits.max_header_bytes = request.size();
  const Transcript t = drive_requests(many, 0, limits);
  EXPECT_EQ(t.error_status, 0);
  EXPECT_EQ(t.messages.size(), 50u);
}

TEST(RequestParser, BodyLimits) {
  ParserLimits limits;
  limits.max_body_bytes = 5;
  EXPECT_EQ(
      drive_requests("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n12345", 1, limits)
          .error_status,
      0);
  const std::string chunked =
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n"
      "0\r\n\r\n";
  const Transcript t = drive_requests(chunked, 0, limits);
  EXPECT_EQ(t.error_status, 413);
  ASSERT_EQ(t.messages.size(), 1u);
  EXPECT_EQ(t.messages[0].body, "abc") << "the pieces within the limit were delivered";

  limits.max_body_bytes = 0;  // unlimited
  EXPECT_EQ(drive_requests(chunked, 0, limits).error_status, 0);
  EXPECT_EQ(
      drive_requests("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n", 0, limits)
          .error_status,
      0);
}

TEST(RequestParser, DataAfterConnectionCloseIsRefused) {
  const Transcript t = drive_requests(
      "GET /1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
      0);
  ASSERT_EQ(t.messages.size(), 1u);
  EXPECT_TRUE(t.messages[0].complete);
  EXPECT_EQ(t.error_status, 400);
}

TEST(RequestParser, KeepAliveFollowsVersionAndConnection) {
  struct Case {
    std::string request;
    bool keep_alive;
  };
  const std::vector<Case> cases = {
      {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n", false},
      {"GET / HTTP/1.0\r\n\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
      {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
  };
  for (const Case& c : cases) {
    RequestParser parser(ParserLimits{});
    ASSERT_EQ(parser.feed(bytes(c.request)).event, ParseEvent::head_complete) << c.request;
    EXPECT_EQ(parser.head().keep_alive, c.keep_alive) << c.request;
  }
}

TEST(RequestParser, ExpectContinueAnyCase) {
  for (std::string_view value : {"100-continue", "100-Continue", "100-CONTINUE"}) {
    RequestParser parser(ParserLimits{});
    const std::string request = "PUT / HTTP/1.1\r\nHost: a\r\nExpect: " + std::string(value) +
                                "\r\nContent-Length: 1\r\n\r\n";
    ASSERT_EQ(parser.feed(bytes(request)).event, ParseEvent::head_complete);
    EXPECT_TRUE(parser.head().expect_continue) << value;
  }
  RequestParser parser(ParserLimits{});
  ASSERT_EQ(parser.feed(bytes("PUT / HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n")).event,
            ParseEvent::head_complete);
  EXPECT_FALSE(parser.head().expect_continue);
}

TEST(RequestParser, HostWithoutPort) {
  struct Case {
    std::string host_header;
    std::string host;
  };
  const std::vector<Case> cases = {
      {"example.com", "example.com"},
      {"Example.COM:8080", "Example.COM"},
      {"[2001:db8::1]:443", "[2001:db8::1]"},
      {"[::1]", "[::1]"},
      {"127.0.0.1:80", "127.0.0.1"},
      {"example.com:", "example.com"},
      {"", ""},
  };
  for (const Case& c : cases) {
    RequestParser parser(ParserLimits{});
    const std::string request = "GET / HTTP/1.1\r\nHost: " + c.host_header + "\r\n\r\n";
    ASSERT_EQ(parser.feed(bytes(request)).event, ParseEvent::head_complete) << c.host_header;
    EXPECT_EQ(parser.head().host, c.host) << c.host_header;
  }
}

TEST(RequestParser, FinishAtEndOfStream) {
  {
    RequestParser parser(ParserLimits{});
    EXPECT_EQ(parser.finish().event, ParseEvent::need_more) << "idle: nothing to complete";
    EXPECT_EQ(parser.feed(bytes("GET")).event, ParseEvent::error) << "nothing after finish";
  }
  {
    RequestParser parser(ParserLimits{});
    EXPECT_EQ(parser.feed(bytes("GET / HTTP/1.1\r\nHo")).event, ParseEvent::need_more);
    EXPECT_TRUE(parser.in_message());
    EXPECT_EQ(parser.finish().event, ParseEvent::error);
    EXPECT_EQ(parser.error().status, 400);
  }
  {
    RequestParser parser(ParserLimits{});
    const std::string request = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok";
    FeedResult r = parser.feed(bytes(request));
    ASSERT_EQ(r.event, ParseEvent::head_complete);
    r = parser.feed(bytes(std::string_view(request).substr(r.consumed)));
    ASSERT_EQ(r.event, ParseEvent::body);
    // The caller stopped after the last piece; the close finds the message complete.
    EXPECT_EQ(parser.finish().event, ParseEvent::message_complete);
  }
  {
    RequestParser parser(ParserLimits{});
    ASSERT_EQ(parser.feed(bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nok")).event,
              ParseEvent::head_complete);
    EXPECT_EQ(parser.finish().event, ParseEvent::error) << "a body cut short";
  }
}

TEST(RequestParser, ResetStartsAfresh) {
  RequestParser parser(ParserLimits{});
  ASSERT_EQ(parser.feed(bytes("BAD\r\n")).event, ParseEvent::error);
  parser.reset();
  EXPECT_FALSE(parser.in_message());
  const FeedResult r = parser.feed(bytes("GET /again HTTP/1.1\r\nHost: a\r\n\r\n"));
  ASSERT_EQ(r.event, ParseEvent::head_complete);
  EXPECT_EQ(parser.head().target, "/again");
  parser.reset();
  EXPECT_EQ(parser.feed(bytes("GET /third HTTP/1.1\r\nHost: a\r\n\r\n")).event,
            ParseEvent::head_complete);
  EXPECT_EQ(parser.head().target, "/third");
}

TEST(RequestParser, ManyMessagesReuseTheArena) {
  std::string stream;
  for (int i = 0; i < 500; ++i) {
    stream += "GET /item/" + std::to_string(i) + " HTTP/1.1\r\nHost: h" + std::to_string(i) +
              "\r\nX-Index: " + std::to_string(i) + "\r\n\r\n";
  }
  const Transcript t = drive_requests(stream, 0);
  ASSERT_EQ(t.messages.size(), 500u);
  EXPECT_EQ(t.messages[499].head,
            "GET /item/499 HTTP/1.1 host=h499 framing=none cl=0 keep_alive=1 expect=0 "
            "[Host:h499] [X-Index:499]");
}

}  // namespace
}  // namespace glidepath::http
