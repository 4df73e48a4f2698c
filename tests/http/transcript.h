// Drives a parser the way the gateway does (feed the unconsumed rest until need_more,
// then "read" the next piece) over an input split in a chosen way, and records what came
// out as a transcript that does not depend on the split: one entry per message (its head
// rendered as text, its body bytes joined, whether it completed) and the error, if any.
// Feeding whole and byte-at-a-time must give equal transcripts.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "http/parser.h"

namespace glidepath::http::testing {

inline std::string framing_name(BodyFraming framing) {
  switch (framing) {
    case BodyFraming::none:
      return "none";
    case BodyFraming::length:
      return "length";
    case BodyFraming::chunked:
      return "chunked";
    case BodyFraming::until_close:
      return "until_close";
  }
  return "?";
}

inline std::string render(const RequestHead& head) {
  std::string text = std::string(head.method) + " " + std::string(head.target) + " HTTP/1." +
                     std::to_string(head.version_minor) + " host=" + std::string(head.host) +
                     " framing=" + framing_name(head.framing) +
                     " cl=" + std::to_string(head.content_length) +
                     " keep_alive=" + std::to_string(head.keep_alive) +
                     " expect=" + std::to_string(head.expect_continue);
  for (const Header& h : head.headers) {
    text += " [" + std::string(h.name) + ":" + std::string(h.value) + "]";
  }
  return text;
}

inline std::string render(const ResponseHead& head) {
  std::string text = std::to_string(head.status) + " " + std::string(head.reason) + " HTTP/1." +
                     std::to_string(head.version_minor) + " framing=" + framing_name(head.framing) +
                     " cl=" + std::to_string(head.content_length) +
                     " keep_alive=" + std::to_string(head.keep_alive);
  for (const Header& h : head.headers) {
    text += " [" + std::string(h.name) + ":" + std::string(h.value) + "]";
  }
  return text;
}

struct MessageRecord {
  std::string head;
  std::string body;
  bool complete = false;
  bool operator==(const MessageRecord&) const = default;
};

struct Transcript {
  std::vector<MessageRecord> messages;
  int error_status = 0;
  std::string error_reason;
  bool operator==(const Transcript&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const Transcript& t) {
  for (const MessageRecord& m : t.messages) {
    os << "\n  {" << m.head << "} body=\"" << m.body << "\" complete=" << m.complete;
  }
  if (t.error_status != 0) os << "\n  error " << t.error_status << " " << t.error_reason;
  return os;
}

// Splits: whole, one byte at a time, or fixed-size pieces.
inline std::vector<std::string_view> split(std::string_view input, size_t piece) {
  std::vector<std::string_view> pieces;
  if (piece == 0) piece = input.size() == 0 ? 1 : input.size();
  for (size_t i = 0; i < input.size(); i += piece)
    pieces.push_back(input.substr(i, piece));
  return pieces;
}

// The gateway's loop, with the parser's promises checked on every call.
template <typename Parser, typename Render>
Transcript drive(Parser& parser, std::string_view input, size_t piece, Render&& render_head,
                 bool finish = false, const std::function<void()>& before_message = {}) {
  Transcript t;
  std::string buffer;  // the read buffer: unconsumed bytes stay at its front
  bool expecting_message = true;
  auto run = [&](bool at_eof) {
    for (int guard = 0; guard < 1000000; ++guard) {
      if (expecting_message && before_message) before_message();
      expecting_message = false;
      const FeedResult r = at_eof ? parser.finish() : parser.feed(buffer);
      EXPECT_LE(r.consumed, buffer.size());
      if (at_eof) {
        EXPECT_EQ(r.consumed, 0u);
      }
      const std::string_view fed(buffer);
      switch (r.event) {
        case ParseEvent::need_more:
          EXPECT_EQ(r.consumed, buffer.size()) << "need_more leaves no byte behind";
          buffer.clear();
          return true;
        case ParseEvent::head_complete:
          t.messages.push_back({render_head(parser.head()), {}, false});
          break;
        case ParseEvent::body: {
          const auto chunk = parser.body_chunk();
          EXPECT_FALSE(chunk.empty());
          EXPECT_EQ(r.consumed, static_cast<size_t>(chunk.data() + chunk.size() - fed.data()))
              << "a body event stops right after its piece";
          EXPECT_GE(chunk.data(), fed.data()) << "body pieces point into the fed bytes";
          if (t.messages.empty()) {
            ADD_FAILURE() << "body before head";
            return false;
          }
          t.messages.back().body.append(chunk.data(), chunk.size());
          break;
        }
        case ParseEvent::message_complete:
          if (t.messages.empty()) {
            ADD_FAILURE() << "complete before head";
            return false;
          }
          t.messages.back().complete = true;
          EXPECT_FALSE(parser.in_message());
          expecting_message = true;
          break;
        case ParseEvent::error:
          t.error_status = parser.error().status;
          t.error_reason = std::string(parser.error().reason);
          EXPECT_FALSE(parser.error().reason.empty());
          return false;
      }
      buffer.erase(0, r.consumed);
      if (at_eof && r.event == ParseEvent::message_complete) return true;
    }
    ADD_FAILURE() << "no progress";
    return false;
  };
  for (std::string_view p : split(input, piece)) {
    buffer.append(p);
    if (!run(false)) return t;
  }
  if (finish) run(true);
  return t;
}

inline Transcript drive_requests(std::string_view input, size_t piece,
                                 const ParserLimits& limits = {}) {
  RequestParser parser(limits);
  return drive(parser, input, piece, [](const RequestHead& h) { return render(h); });
}

// Each response answers the next method of `methods` (GET once they run out).
inline Transcript drive_responses(std::string_view input, size_t piece,
                                  std::vector<std::string> methods = {}, bool finish = false,
                                  size_t max_header_bytes = 16384) {
  ResponseParser parser(max_header_bytes);
  std::deque<std::string> queue(methods.begin(), methods.end());
  std::string current;
  return drive(
      parser, input, piece,
      [&](const ResponseHead& h) { return render(h) + (parser.is_interim() ? " interim" : ""); },
      finish,
      [&] {
        if (parser.is_interim()) return;  // the final response answers the same request
        current = queue.empty() ? "GET" : queue.front();
        if (!queue.empty()) queue.pop_front();
        parser.expect_response_to(current);
      });
}

}  // namespace glidepath::http::testing
