#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "http/parser.h"
#include "transcript.h"

namespace glidepath::http {
namespace {

using testing::drive_responses;
using testing::Transcript;

std::span<const char> bytes(std::string_view text) {
  return {text.data(), text.size()};
}

TEST(ResponseParser, ContentLength) {
  const std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n";
  const std::string input = head + "hello";
  ResponseParser parser(16384);
  parser.expect_response_to("GET");
  FeedResult r = parser.feed(bytes(input));
  ASSERT_EQ(r.event, ParseEvent::head_complete);
  EXPECT_EQ(r.consumed, head.size());
  EXPECT_EQ(parser.head().status, 200);
  EXPECT_EQ(parser.head().reason, "OK");
  EXPECT_EQ(parser.head().framing, BodyFraming::length);
  EXPECT_EQ(parser.head().content_length, 5u);
  EXPECT_TRUE(parser.head().keep_alive);
  EXPECT_FALSE(parser.is_interim());
  r = parser.feed(bytes(std::string_view(input).substr(head.size())));
  ASSERT_EQ(r.event, ParseEvent::body);
  EXPECT_EQ(std::string_view(parser.body_chunk().data(), parser.body_chunk().size()), "hello");
  r = parser.feed({});
  EXPECT_EQ(r.event, ParseEvent::message_complete);
  EXPECT_FALSE(parser.in_message());
}

TEST(ResponseParser, A101AnswersAWebSocketUpgradeOnly) {
  const std::string head =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
  const std::string input = head + "\x81\x02hi";  // a frame right behind it
  ResponseParser parser(16384);
  parser.expect_response_to("GET", /*websocket_upgrade=*/true);
  FeedResult r = parser.feed(bytes(input));
  ASSERT_EQ(r.event, ParseEvent::head_complete);
  EXPECT_EQ(r.consumed, head.size());
  EXPECT_EQ(parser.head().status, 101);
  EXPECT_EQ(parser.head().framing, BodyFraming::none);
  EXPECT_FALSE(parser.head().keep_alive);  // the connection is the new protocol's now
  EXPECT_FALSE(parser.is_interim());
  EXPECT_EQ(parser.head().find("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

  // Refused: to a request that asked for no upgrade, and to another protocol.
  parser.expect_response_to("GET");
  EXPECT_EQ(parser.feed(bytes(input)).event, ParseEvent::error);
  EXPECT_EQ(parser.error().status, 502);
  parser.expect_response_to("GET", true);
  EXPECT_EQ(parser
                .feed(bytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n"
                            "Connection: Upgrade\r\n\r\n"))
                .event,
            ParseEvent::error);
  EXPECT_EQ(parser.error().status, 502);

  // An upstream that declines answers as usual, and the response is parsed as usual.
  parser.expect_response_to("GET", true);
  r = parser.feed(bytes("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno"));
  ASSERT_EQ(r.event, ParseEvent::head_complete);
  EXPECT_EQ(parser.head().status, 403);
  EXPECT_EQ(parser.head().framing, BodyFraming::length);
}

TEST(ResponseParser, ChunkedIsDecoded) {
  const Transcript t = drive_responses(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n10;x=y\r\n0123456789abcdef\r\n0\r\nServer-Timing: db;dur=5\r\n\r\n",
      1);
  EXPECT_EQ(t.error_status, 0) << t;
  ASSERT_EQ(t.messages.size(), 1u);
  EXPECT_EQ(t.messages[0].body, "abc0123456789abcdef");
  EXPECT_TRUE(t.messages[0].complete);
  EXPECT_NE(t.messages[0].head.find("framing=chunked"), std::string::npos);
}

TEST(ResponseParser, UntilCloseEndsWithFinish) {
  for (size_t piece : {0, 1, 4}) {
    const Transcript t =
        drive_responses("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nstreamed until close",
                        piece, {}, /*finish=*/true);
    EXPECT_EQ(t.error_status, 0) << t;
    ASSERT_EQ(t.messages.size(), 1u);
    EXPECT_EQ(t.messages[0].body, "streamed until close");
    EXPECT_TRUE(t.messages[0].complete);
    EXPECT_NE(t.messages[0].head.find("framing=until_close cl=0 keep_alive=0"), std::string::npos)
        << t;
  }
  // HTTP/1.0 without a length too.
  const Transcript old = drive_responses("HTTP/1.0 200 OK\r\n\r\nold", 0, {}, /*finish=*/true);
  ASSERT_EQ(old.messages.size(), 1u);
  EXPECT_EQ(old.messages[0].body, "old");
  EXPECT_TRUE(old.messages[0].complete);
}

TEST(ResponseParser, FinishMidMessageIsAnError) {
  ResponseParser parser(16384);
  parser.expect_response_to("GET");
  ASSERT_EQ(parser.feed(bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")).event,
            ParseEvent::head_complete);
  const FeedResult r = parser.feed(bytes("abc"));
  ASSERT_EQ(r.event, ParseEvent::body);
  EXPECT_EQ(parser.feed({}).event, ParseEvent::need_more);
  EXPECT_EQ(parser.finish().event, ParseEvent::error);
  EXPECT_EQ(parser.error().status, 502);

  ResponseParser idle(16384);
  idle.expect_response_to("GET");
  EXPECT_EQ(idle.finish().event, ParseEvent::need_more) << "no response had started";
  ResponseParser partial(16384);
  partial.expect_response_to("GET");
  EXPECT_EQ(partial.feed(bytes("HTTP/1.1 20")).event, ParseEvent::need_more);
  EXPECT_TRUE(partial.in_message());
  EXPECT_EQ(partial.finish().event, ParseEvent::error);
  EXPECT_EQ(partial.error().status, 502);
}

TEST(ResponseParser, HeadResponseHasNoBodyWhateverItsHeadersSay) {
  // RFC 9110 9.3.2: the next response follows the head directly.
  const std::string stream =
      "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
  for (size_t piece : {0, 1}) {
    const Transcript t = drive_responses(stream, piece, {"HEAD", "HEAD", "GET"});
    EXPECT_EQ(t.error_status, 0) << t;
    ASSERT_EQ(t.messages.size(), 3u) << t;
    EXPECT_NE(t.messages[0].head.find("framing=none cl=1234 keep_alive=1"), std::string::npos)
        << "the announced length is kept for the caller to pass on";
    EXPECT_EQ(t.messages[0].body, "");
    EXPECT_EQ(t.messages[1].body, "");
    EXPECT_EQ(t.messages[2].body, "hi");
    for (const auto& m : t.messages)
      EXPECT_TRUE(m.complete);
  }
}

TEST(ResponseParser, NoContentAndNotModifiedHaveNoBody) {
  const std::string stream =
      "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
      "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\nETag: \"x\"\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nend";
  for (size_t piece : {0, 1, 3}) {
    const Transcript t = drive_responses(stream, piece);
    EXPECT_EQ(t.error_status, 0) << t;
    ASSERT_EQ(t.messages.size(), 3u) << t;
    EXPECT_EQ(t.messages[0].body, "");
    EXPECT_NE(t.messages[0].head.find("204 No Content HTTP/1.1 framing=none"), std::string::npos);
    EXPECT_EQ(t.messages[1].body, "");
    EXPECT_EQ(t.messages[2].body, "end");
  }
}

TEST(ResponseParser, ContinueThenFinalResponse) {
  const std::string stream =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
  for (size_t piece : {0, 1}) {
    const Transcript t = drive_responses(stream, piece, {"PUT"});
    EXPECT_EQ(t.error_status, 0) << t;
    ASSERT_EQ(t.messages.size(), 3u) << t;
    EXPECT_NE(t.messages[0].head.find("100 Continue"), std::string::npos);
    EXPECT_NE(t.messages[0].head.find("interim"), std::string::npos);
    EXPECT_NE(t.messages[1].head.find("103 Early Hints"), std::string::npos);
    EXPECT_NE(t.messages[1].head.find("interim"), std::string::npos);
    EXPECT_EQ(t.messages[2].head.find("interim"), std::string::npos);
    EXPECT_EQ(t.messages[2].body, "ok");
  }

  ResponseParser parser(16384);
  parser.expect_response_to("POST");
  FeedResult r = parser.feed(bytes("HTTP/1.1 100 Continue\r\n\r\n"));
  ASSERT_EQ(r.event, ParseEvent::head_complete);
  EXPECT_TRUE(parser.is_interim());
  EXPECT_EQ(parser.head().status, 100);
  r = parser.feed({});
  ASSERT_EQ(r.event, ParseEvent::message_complete);
  EXPECT_TRUE(parser.is_interim()) << "until the final response starts";
  r = parser.feed(bytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
  ASSERT_EQ(r.event, ParseEvent::head_complete);
  EXPECT_FALSE(parser.is_interim());
}

TEST(ResponseParser, KeepAlive) {
  struct Case {
    std::string response;
    bool keep_alive;
  };
  const std::vector<Case> cases = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true},
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", false},
      {"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false},
      {"HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n", true},
      {"HTTP/1.1 200 OK\r\n\r\n", false},  // until close
      {"HTTP/1.1 204 No Content\r\n\r\n", true},
  };
  for (const Case& c : cases) {
    ResponseParser parser(16384);
    parser.expect_response_to("GET");
    ASSERT_EQ(parser.feed(bytes(c.response)).event, ParseEvent::head_complete) << c.response;
    EXPECT_EQ(parser.head().keep_alive, c.keep_alive) << c.response;
  }
}

TEST(ResponseParser, KeepAliveConnectionParsesTheNextResponse) {
  ResponseParser parser(16384);
  for (int i = 0; i < 3; ++i) {
    parser.expect_response_to("GET");
    const std::string response =
        "HTTP/1.1 200 OK\r\nX-N: " + std::to_string(i) + "\r\nContent-Length: 1\r\n\r\nx";
    FeedResult r = parser.feed(bytes(response));
    ASSERT_EQ(r.event, ParseEvent::head_complete);
    EXPECT_EQ(parser.head().find("x-n"), std::to_string(i));
    r = parser.feed(bytes(std::string_view(response).substr(r.consumed)));
    ASSERT_EQ(r.event, ParseEvent::body);
    r = parser.feed({});
    ASSERT_EQ(r.event, ParseEvent::message_complete);
  }
}

TEST(ResponseParser, ExpectResponseToStartsAfresh) {
  // The gateway reuses one parser across upstream connections: after an EOF-delimited
  // body, an error or a half-read response, the next request's response parses cleanly.
  ResponseParser parser(16384);
  parser.expect_response_to("GET");
  ASSERT_EQ(parser.feed(bytes("HTTP/1.1 200 OK\r\n\r\nuntil close")).event,
            ParseEvent::head_complete);
  ASSERT_EQ(parser.feed(bytes("until close")).event, ParseEvent::body);
  ASSERT_EQ(parser.finish().event, ParseEvent::message_complete);

  const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  parser.expect_response_to("GET");
  ASSERT_EQ(parser.feed(bytes(ok)).event, ParseEvent::head_complete);
  EXPECT_EQ(parser.feed({}).event, ParseEvent::message_complete);

  parser.expect_response_to("GET");
  ASSERT_EQ(parser.feed(bytes("NOT HTTP\r\n")).event, ParseEvent::error);
  parser.expect_response_to("GET");
  ASSERT_EQ(parser.feed(bytes(ok)).event, ParseEvent::head_complete);

  parser.expect_response_to("GET");
  ASSERT_EQ(parser.feed(bytes("HTTP/1.1 200 OK\r\nContent-Le")).event, ParseEvent::need_more);
  parser.expect_response_to("HEAD");  // a retry on a new connection
  ASSERT_EQ(parser.feed(bytes("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n")).event,
            ParseEvent::head_complete);
  EXPECT_EQ(parser.head().framing, BodyFraming::none);
  EXPECT_EQ(parser.feed({}).event, ParseEvent::message_complete);
}

TEST(ResponseParser, InvalidResponsesAre502) {
  const std::vector<std::string> bad = {
      "garbage\r\n\r\n",
      "HTTP/1.1 2000 OK\r\n\r\n",
      "HTTP/1.1 99 Too Low\r\n\r\n",
      "HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
      "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\nX-A: a\r\n folded\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\nContent-Length: 0\n\n",
      "HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX-Big: " + std::string(20000, 'x') + "\r\n\r\n",
  };
  for (const std::string& response : bad) {
    for (size_t piece : {0, 1}) {
      const Transcript t = drive_responses(response, piece, {}, /*finish=*/true);
      EXPECT_EQ(t.error_status, 502) << response.substr(0, 80) << " piece " << piece << t;
    }
  }
}

TEST(ResponseParser, HeaderLimit) {
  const std::string response = "HTTP/1.1 200 OK\r\nX-Pad: 0123456789\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(drive_responses(response, 1, {}, false, response.size()).error_status, 0);
  const Transcript t = drive_responses(response, 1, {}, false, response.size() - 1);
  EXPECT_EQ(t.error_status, 502);
  EXPECT_EQ(t.error_reason, "header section too large");
}

TEST(ResponseParser, AnySplitGivesTheSameTranscript) {
  const std::vector<std::string> streams = {
      "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world"
      "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nnope\r\n0\r\n\r\n"
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
      "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"
      "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
      "HTTP/1.1 200\r\nX-No-Reason: 1\r\nContent-Length: 1\r\n\r\n!",
  };
  for (const std::string& stream : streams) {
    const Transcript whole = drive_responses(stream, 0);
    EXPECT_EQ(whole.error_status, 0) << whole;
    for (size_t piece : {1, 2, 5, 13}) {
      EXPECT_EQ(drive_responses(stream, piece), whole) << piece;
    }
  }
}

}  // namespace
}  // namespace glidepath::http
