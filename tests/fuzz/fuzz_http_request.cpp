// Fuzz target for http::RequestParser (STYLE.md habit 5). The input is one client's byte
// stream. It is parsed three ways: whole, split at a point derived from the input (so the
// incremental paths run: spans cut mid-header, mid-chunk-size, mid-body), and, for small
// inputs, one byte at a time. Besides "no crash, no sanitizer report" it checks what
// parser.h promises on every call, and that the split does not change the outcome: the
// same completed requests (heads and bodies), and an error in all runs or in none.
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

constexpr ParserLimits kLimits{1024, 4096};

void require(bool holds, const char* what) {
  if (holds) return;
  std::fprintf(stderr, "fuzz_http_request: invariant broken: %s\n", what);
  __builtin_trap();
}

struct Outcome {
  std::vector<std::string> completed;  // each completed request: its head and body
  bool failed = false;
};

size_t count_headers(const RequestHead& head, std::string_view name) {
  size_t n = 0;
  for (const Header& h : head.headers)
    n += iequals(h.name, name) ? 1 : 0;
  return n;
}

// Renders the head, touching every byte the views point at (a dangling view is an ASan
// report), and checks what a head promises.
std::string check_head(const RequestHead& head) {
  require(!head.method.empty(), "a method");
  require(!head.target.empty(), "a target");
  require(head.target.find('#') == std::string_view::npos, "no fragment in the target");
  require(head.target.front() == '/' || head.target == "*" ||
              head.target.find("://") != std::string_view::npos,
          "origin-, absolute- or asterisk-form");
  require(head.target != "*" || head.method == "OPTIONS", "asterisk-form only for OPTIONS");
  require(head.version_minor == 0 || head.version_minor == 1, "HTTP/1.0 or 1.1");
  require(head.method != "CONNECT", "CONNECT refused");
  require(head.framing != BodyFraming::until_close, "requests are never close-delimited");
  require(head.framing != BodyFraming::length || head.content_length <= kLimits.max_body_bytes,
          "Content-Length within the limit");
  require(head.framing != BodyFraming::chunked || count_headers(head, "transfer-encoding") == 1,
          "chunked comes from one Transfer-Encoding line");
  require(head.framing != BodyFraming::chunked || count_headers(head, "content-length") == 0,
          "never both Content-Length and chunked");
  require(head.framing != BodyFraming::length || count_headers(head, "content-length") == 1,
          "one Content-Length");
  require(count_headers(head, "host") <= 1, "at most one Host");
  require(head.version_minor == 0 || count_headers(head, "host") == 1, "HTTP/1.1 has Host");
  std::string text(head.method);
  text += ' ';
  text += head.target;
  text += head.version_minor == 1 ? " 1.1 " : " 1.0 ";
  text += head.host;
  text += ' ';
  text += std::to_string(static_cast<int>(head.framing)) + ' ' +
          std::to_string(head.content_length) + ' ' + std::to_string(head.keep_alive) + ' ' +
          std::to_string(head.expect_continue);
  for (const Header& h : head.headers) {
    require(!h.name.empty(), "a header has a name");
    require(h.value.empty() || (h.value.front() != ' ' && h.value.back() != ' '),
            "values are trimmed");
    text += '\n';
    text += h.name;
    text += ':';
    text += h.value;
  }
  return text;
}

// The gateway's loop over the input cut into pieces at `cuts` (offsets, ascending).
Outcome run(std::string_view input, const std::vector<size_t>& cuts) {
  RequestParser parser(kLimits);
  Outcome outcome;
  std::string buffer;
  std::string current;  // head + body of the request in progress
  bool have_head = false;
  uint64_t body_bytes = 0;
  uint64_t content_length = 0;
  BodyFraming framing = BodyFraming::none;
  size_t start = 0;
  for (size_t i = 0; i <= cuts.size(); ++i) {
    const size_t end = i < cuts.size() ? cuts[i] : input.size();
    buffer.append(input.substr(start, end - start));
    start = end;
    int zero_width_events = 0;
    for (;;) {
      const FeedResult r = parser.feed(std::span<const char>(buffer.data(), buffer.size()));
      require(r.consumed <= buffer.size(), "consumed <= given");
      if (r.event == ParseEvent::need_more) {
        require(r.consumed == buffer.size(), "need_more consumes everything");
        buffer.clear();
        break;
      }
      if (r.event == ParseEvent::error) {
        const int status = parser.error().status;
        require(status == 400 || status == 413 || status == 431 || status == 501 || status == 505,
                "a request error status");
        require(!parser.error().reason.empty(), "an error has a reason");
        const FeedResult again = parser.feed(std::span<const char>(buffer.data(), buffer.size()));
        require(again.event == ParseEvent::error && again.consumed == 0, "errors are sticky");
        outcome.failed = true;
        return outcome;
      }
      // Progress: an event either consumes bytes or is a completion right after one that did.
      zero_width_events = r.consumed == 0 ? zero_width_events + 1 : 0;
      require(zero_width_events <= 1, "no two events in a row without progress");
      switch (r.event) {
        case ParseEvent::head_complete:
          require(!have_head, "one head per request");
          require(r.consumed > 0, "a head takes bytes");
          require(parser.in_message(), "in a message after its head");
          have_head = true;
          current = check_head(parser.head());
          framing = parser.head().framing;
          content_length = parser.head().content_length;
          body_bytes = 0;
          break;
        case ParseEvent::body: {
          require(have_head, "body after head");
          require(framing == BodyFraming::length || framing == BodyFraming::chunked,
                  "body only with a framing that has one");
          const auto chunk = parser.body_chunk();
          require(!chunk.empty(), "body pieces are not empty");
          require(chunk.data() >= buffer.data() &&
                      chunk.data() + chunk.size() == buffer.data() + r.consumed,
                  "a body piece is the end of what was consumed");
          body_bytes += chunk.size();
          require(body_bytes == parser.body_bytes(), "body_bytes counts the pieces");
          require(framing != BodyFraming::length || body_bytes <= content_length,
                  "no more body than Content-Length");
          require(body_bytes <= kLimits.max_body_bytes, "body within the limit");
          current.append(chunk.data(), chunk.size());
          break;
        }
        case ParseEvent::message_complete:
          require(have_head, "complete after head");
          require(!parser.in_message(), "not in a message after it completed");
          require(framing != BodyFraming::length || body_bytes == content_length,
                  "a complete Content-Length body has every byte");
          require(framing != BodyFraming::none || body_bytes == 0, "no body without framing");
          outcome.completed.push_back(current);
          have_head = false;
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
    require(have_head, "finish completes a started request");
    outcome.completed.push_back(current);
  } else if (end.event == ParseEvent::error) {
    require(parser.error().status == 400, "a request cut short is a 400");
  } else {
    require(end.event == ParseEvent::need_more, "finish: complete, error or nothing");
  }
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // FNV-1a over the input picks the split point: stable for a given input.
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : input)
    hash = (hash ^ c) * 0x100000001b3ull;

  const Outcome whole = run(input, {});
  const Outcome split = run(input, {size == 0 ? 0 : static_cast<size_t>(hash % (size + 1))});
  require(split.completed == whole.completed, "a split does not change the requests");
  require(split.failed == whole.failed, "a split does not change whether it fails");
  if (size <= 2048) {
    std::vector<size_t> every_byte;
    for (size_t i = 1; i < size; ++i)
      every_byte.push_back(i);
    const Outcome bytewise = run(input, every_byte);
    require(bytewise.completed == whole.completed, "byte-at-a-time gives the same requests");
    require(bytewise.failed == whole.failed, "byte-at-a-time fails alike");
  }
  return 0;
}
