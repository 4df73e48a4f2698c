// Fuzz target for http::ResponseParser (STYLE.md habit 5). The input is one upstream
// connection's byte stream, read to its end (finish() at EOF). It is parsed as answers to
// GET and as answers to HEAD, each whole, split at a point derived from the input, and,
// for small inputs, one byte at a time. Besides "no crash, no sanitizer report" it checks
// what parser.h promises on every call, and that the split does not change the outcome.
// A broken promise traps, so libFuzzer keeps the input as a reproducer.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "http/parser.h"

namespace {

using namespace glidepath::http;

constexpr size_t kMaxHeaderBytes = 1024;

void require(bool holds, const char* what) {
  if (holds) return;
  std::fprintf(stderr, "fuzz_http_response: invariant broken: %s\n", what);
  __builtin_trap();
}

struct Outcome {
  std::vector<std::string> completed;  // each completed response: its head and body
  bool failed = false;
};

std::string check_head(const ResponseHead& head, bool interim, bool head_request) {
  require(head.status >= 100 && head.status <= 999 && head.status != 101, "a status we accept");
  require(interim == (head.status < 200), "interim exactly for 1xx");
  require(head.version_minor == 0 || head.version_minor == 1, "HTTP/1.0 or 1.1");
  const bool no_content = interim || head.status == 204 || head.status == 304 || head_request;
  require(!no_content || head.framing == BodyFraming::none, "no body for 1xx/204/304/HEAD");
  require(no_content || head.framing != BodyFraming::none, "a framing otherwise");
  require(head.framing != BodyFraming::until_close || !head.keep_alive,
          "a close-delimited body ends the connection");
  std::string text = std::to_string(head.status) + ' ';
  text += head.reason;
  text += ' ' + std::to_string(head.version_minor) + ' ' +
          std::to_string(static_cast<int>(head.framing)) + ' ' +
          std::to_string(head.content_length) + ' ' + std::to_string(head.keep_alive);
  for (const Header& h : head.headers) {
    require(!h.name.empty(), "a header has a name");
    text += '\n';
    text += h.name;
    text += ':';
    text += h.value;
  }
  return text;
}

Outcome run(std::string_view input, const std::vector<size_t>& cuts, bool head_request) {
  ResponseParser parser(kMaxHeaderBytes);
  const std::string_view method = head_request ? "HEAD" : "GET";
  Outcome outcome;
  std::string buffer;
  std::string current;
  bool have_head = false;
  bool expecting = true;
  uint64_t body_bytes = 0;
  uint64_t content_length = 0;
  BodyFraming framing = BodyFraming::none;
  const auto on_complete = [&] {
    require(have_head, "complete after head");
    require(!parser.in_message(), "not in a message after it completed");
    require(framing != BodyFraming::length || body_bytes == content_length,
            "a complete Content-Length body has every byte");
    require(framing != BodyFraming::none || body_bytes == 0, "no body without framing");
    outcome.completed.push_back(current);
    have_head = false;
    expecting = true;
  };
  size_t start = 0;
  for (size_t i = 0; i <= cuts.size(); ++i) {
    const size_t end = i < cuts.size() ? cuts[i] : input.size();
    buffer.append(input.substr(start, end - start));
    start = end;
    int zero_width_events = 0;
    for (;;) {
      // Before each response the gateway says what it answers; an interim one is followed
      // by the final answer to the same request.
      if (expecting && !parser.is_interim()) parser.expect_response_to(method);
      expecting = false;
      const FeedResult r = parser.feed(std::span<const char>(buffer.data(), buffer.size()));
      require(r.consumed <= buffer.size(), "consumed <= given");
      if (r.event == ParseEvent::need_more) {
        require(r.consumed == buffer.size(), "need_more consumes everything");
        buffer.clear();
        break;
      }
      if (r.event == ParseEvent::error) {
        require(parser.error().status == 502, "a response error is a 502");
        require(!parser.error().reason.empty(), "an error has a reason");
        outcome.failed = true;
        return outcome;
      }
      zero_width_events = r.consumed == 0 ? zero_width_events + 1 : 0;
      require(zero_width_events <= 1, "no two events in a row without progress");
      switch (r.event) {
        case ParseEvent::head_complete:
          require(!have_head, "one head per response");
          require(r.consumed > 0, "a head takes bytes");
          have_head = true;
          current = check_head(parser.head(), parser.is_interim(), head_request);
          framing = parser.head().framing;
          content_length = parser.head().content_length;
          body_bytes = 0;
          break;
        case ParseEvent::body: {
          require(have_head, "body after head");
          require(framing != BodyFraming::none, "body only with a framing that has one");
          const auto chunk = parser.body_chunk();
          require(!chunk.empty(), "body pieces are not empty");
          require(chunk.data() >= buffer.data() &&
                      chunk.data() + chunk.size() == buffer.data() + r.consumed,
                  "a body piece is the end of what was consumed");
          body_bytes += chunk.size();
          require(body_bytes == parser.body_bytes(), "body_bytes counts the pieces");
          require(framing != BodyFraming::length || body_bytes <= content_length,
                  "no more body than Content-Length");
          current.append(chunk.data(), chunk.size());
          break;
        }
        case ParseEvent::message_complete:
          on_complete();
          break;
        default:
          break;
      }
      buffer.erase(0, r.consumed);
    }
  }
  const FeedResult end = parser.finish();
  require(end.consumed == 0, "finish consumes nothing");
  if (end.event == ParseEvent::message_complete) {
    require(framing == BodyFraming::until_close, "EOF completes only a close-delimited body");
    on_complete();
  } else if (end.event == ParseEvent::error) {
    require(parser.error().status == 502, "a response cut short is a 502");
    outcome.failed = true;
  } else {
    require(end.event == ParseEvent::need_more, "finish: complete, error or nothing");
    require(!have_head, "nothing pending at a clean end");
  }
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a: the split point, stable per input
  for (unsigned char c : input)
    hash = (hash ^ c) * 0x100000001b3ull;
  const size_t cut = size == 0 ? 0 : static_cast<size_t>(hash % (size + 1));

  for (bool head_request : {false, true}) {
    const Outcome whole = run(input, {}, head_request);
    const Outcome split = run(input, {cut}, head_request);
    require(split.completed == whole.completed, "a split does not change the responses");
    require(split.failed == whole.failed, "a split does not change whether it fails");
    if (size <= 2048) {
      std::vector<size_t> every_byte;
      for (size_t i = 1; i < size; ++i)
        every_byte.push_back(i);
      const Outcome bytewise = run(input, every_byte, head_request);
      require(bytewise.completed == whole.completed, "byte-at-a-time gives the same responses");
      require(bytewise.failed == whole.failed, "byte-at-a-time fails alike");
    }
  }
  return 0;
}
