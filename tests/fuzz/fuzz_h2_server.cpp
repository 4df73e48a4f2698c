// Fuzz target for http::H2ServerSession (issue 14). The input is what a client sends
// after the connection preface: any frames, valid or not, in one or two pieces. Whatever
// it is, every request the session hands over must be one the gateway may forward to an
// HTTP/1.1 upstream (RFC 9113 8.2): lower-case names without connection-specific ones, no
// CR, LF or NUL anywhere, a valid host, an origin-form or asterisk target, no CONNECT; and
// request data only for a stream that was handed over and not yet ended. A broken promise
// traps, so libFuzzer keeps the input as a reproducer.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <string_view>

#include "http/h2_server.h"

namespace {

using namespace glidepath::http;

void require(bool holds, const char* what) {
  if (holds) return;
  std::fprintf(stderr, "fuzz_h2_server: invariant broken: %s\n", what);
  __builtin_trap();
}

bool clean(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

class Checker : public H2ServerSession::Handler {
 public:
  void on_request(int32_t stream, const RequestHead& head, bool end_stream) override {
    require(open_.insert(stream).second, "a stream is handed over once");
    require(!head.method.empty() && clean(head.method), "a clean method");
    require(head.method != "CONNECT", "CONNECT refused");
    require(!head.target.empty() && clean(head.target), "a clean target");
    require(head.target.front() == '/' || (head.target == "*" && head.method == "OPTIONS"),
            "origin-form, or asterisk-form for OPTIONS");
    require(head.target.find('#') == std::string_view::npos, "no fragment");
    require(clean(head.host), "a clean host");
    for (const Header& h : head.headers) {
      require(!h.name.empty() && clean(h.name) && clean(h.value), "clean fields");
      for (char c : h.name)
        require(!(c >= 'A' && c <= 'Z'), "lower-case names");
      require(h.name.front() != ':', "no pseudo-header forwarded");
      for (std::string_view banned : {"connection", "keep-alive", "proxy-connection",
                                      "transfer-encoding", "upgrade"}) {
        require(h.name != banned, "no connection-specific field");
      }
      require(h.name != "te" || h.value == "trailers", "te only as trailers");
    }
    if (end_stream) open_.erase(stream);
  }
  void on_request_data(int32_t stream, std::span<const char>) override {
    require(open_.count(stream) == 1, "data only for an open, handed-over stream");
  }
  void on_request_end(int32_t stream) override {
    require(open_.erase(stream) == 1, "an end only for an open stream");
  }
  void on_stream_closed(int32_t stream, uint32_t) override { open_.erase(stream); }

 private:
  std::set<int32_t> open_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Checker checker;
  H2Settings settings;
  settings.max_header_list_bytes = 4096;
  auto session = H2ServerSession::create(settings, checker);
  require(session.ok(), "a session");
  H2ServerSession& s = **session;
  std::string out;
  if (!s.receive(kH2Preface).ok()) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // Split where the first byte says, so frames cut at any point are exercised.
  const size_t split = size == 0 ? 0 : data[0] % (size + 1);
  for (std::string_view piece : {input.substr(0, split), input.substr(split)}) {
    if (!s.receive(piece).ok()) break;
    s.produce(out);
    out.clear();
  }
  return 0;
}
