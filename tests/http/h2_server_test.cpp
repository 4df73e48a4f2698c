// H2ServerSession frame by frame: a client written here sends exactly the frames each test
// needs (HPACK through nghttp2's own encoder, so well-formed blocks can carry malformed
// fields), and reads back what the session produces. Each refusal RFC 9113 8.2 and the
// HTTP/2 CVEs ask for is shown to end in a stream error, a 4xx or a GOAWAY, and never in a
// request or request data reaching the handler.
#include "http/h2_server.h"

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <map>
#include <string>
#include <vector>

namespace glidepath::http {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

constexpr uint8_t kData = 0x0;
constexpr uint8_t kHeaders = 0x1;
constexpr uint8_t kRstStream = 0x3;
constexpr uint8_t kSettings = 0x4;
constexpr uint8_t kPing = 0x6;
constexpr uint8_t kGoaway = 0x7;
constexpr uint8_t kWindowUpdate = 0x8;
constexpr uint8_t kContinuation = 0x9;
constexpr uint8_t kEndStream = 0x1;
constexpr uint8_t kAck = 0x1;
constexpr uint8_t kEndHeaders = 0x4;

std::string u32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string frame(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload) {
  const auto length = static_cast<uint32_t>(payload.size());
  std::string out{static_cast<char>(length >> 16), static_cast<char>(length >> 8),
                  static_cast<char>(length), static_cast<char>(type), static_cast<char>(flags)};
  out += u32(stream & 0x7fffffff);
  out += payload;
  return out;
}

// One header block, every field literal and never indexed, so blocks are independent.
std::string hpack(const Fields& fields) {
  nghttp2_hd_deflater* deflater = nullptr;
  EXPECT_EQ(nghttp2_hd_deflate_new(&deflater, 4096), 0);
  std::vector<nghttp2_nv> nv;
  for (const auto& [name, value] : fields) {
    nv.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                  reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                  value.size(), NGHTTP2_NV_FLAG_NO_INDEX});
  }
  std::string out(nghttp2_hd_deflate_bound(deflater, nv.data(), nv.size()), '\0');
  const ssize_t n = nghttp2_hd_deflate_hd(deflater, reinterpret_cast<uint8_t*>(out.data()),
                                          out.size(), nv.data(), nv.size());
  nghttp2_hd_deflate_del(deflater);
  EXPECT_GE(n, 0);
  out.resize(static_cast<size_t>(n));
  return out;
}

Fields get(std::string path = "/orders/1", Fields extra = {}) {
  Fields fields{{":method", "GET"},
                {":scheme", "https"},
                {":authority", "api.example.com"},
                {":path", std::move(path)}};
  fields.insert(fields.end(), extra.begin(), extra.end());
  return fields;
}

struct Received {
  struct Request {
    RequestHead head;
    Fields headers;  // copied: the head's views die with the stream
    std::string method, target, host;
    bool end_stream = false;
    std::string body;
    bool ended = false;
  };
  std::map<int32_t, Request> requests;
  std::map<int32_t, uint32_t> closed;
};

class Recorder : public H2ServerSession::Handler {
 public:
  explicit Recorder(Received& r) : r_(r) {}
  void on_request(int32_t stream, const RequestHead& head, bool end_stream) override {
    auto& req = r_.requests[stream];
    req.method = head.method;
    req.target = head.target;
    req.host = head.host;
    req.end_stream = end_stream;
    req.head.framing = head.framing;
    req.head.content_length = head.content_length;
    for (const Header& h : head.headers)
      req.headers.emplace_back(h.name, h.value);
  }
  void on_request_data(int32_t stream, std::span<const char> data) override {
    r_.requests[stream].body.append(data.data(), data.size());
  }
  void on_request_end(int32_t stream) override { r_.requests[stream].ended = true; }
  void on_stream_closed(int32_t stream, uint32_t error_code) override {
    r_.closed[stream] = error_code;
  }

 private:
  Received& r_;
};

// What the session sent back, frame by frame, with response heads decoded.
struct Sent {
  std::map<int32_t, int> status;
  std::map<int32_t, std::string> body;
  std::map<int32_t, uint32_t> resets;
  std::optional<uint32_t> goaway;
  uint32_t window_updates = 0;  // bytes granted, connection and streams together
  int ping_acks = 0;
};

class Connection {
 public:
  explicit Connection(H2Settings settings = {}) : recorder_(received) {
    auto created = H2ServerSession::create(settings, recorder_);
    EXPECT_TRUE(created.ok());
    session = std::move(*created);
    EXPECT_EQ(nghttp2_hd_inflate_new(&inflater_), 0);
    EXPECT_TRUE(send(std::string(kH2Preface) + frame(kSettings, 0, 0, "")).ok());
    // Our SETTINGS acknowledged, as a client does: from now on they are in force.
    EXPECT_TRUE(send(frame(kSettings, kAck, 0, "")).ok());
  }
  ~Connection() { nghttp2_hd_inflate_del(inflater_); }

  core::Result<void> send(const std::string& bytes) {
    auto r = session->receive(bytes);
    drain();
    return r;
  }
  core::Result<void> request(uint32_t stream, const Fields& fields, bool end_stream = true) {
    return send(
        frame(kHeaders, kEndHeaders | (end_stream ? kEndStream : 0), stream, hpack(fields)));
  }
  // Reads everything the session has to send into `sent`.
  void drain() {
    std::string out;
    session->produce(out);
    pending_ += out;
    while (pending_.size() >= 9) {
      const size_t length = (static_cast<uint8_t>(pending_[0]) << 16) |
                            (static_cast<uint8_t>(pending_[1]) << 8) |
                            static_cast<uint8_t>(pending_[2]);
      if (pending_.size() < 9 + length) break;
      const auto type = static_cast<uint8_t>(pending_[3]);
      const auto flags = static_cast<uint8_t>(pending_[4]);
      const uint32_t stream = be32(pending_.data() + 5) & 0x7fffffff;
      const std::string payload = pending_.substr(9, length);
      pending_.erase(0, 9 + length);
      read_frame(type, flags, static_cast<int32_t>(stream), payload);
    }
  }

  std::unique_ptr<H2ServerSession> session;
  Received received;
  Sent sent;

 private:
  static uint32_t be32(const char* p) {
    return (static_cast<uint32_t>(static_cast<uint8_t>(p[0])) << 24) |
           (static_cast<uint32_t>(static_cast<uint8_t>(p[1])) << 16) |
           (static_cast<uint32_t>(static_cast<uint8_t>(p[2])) << 8) |
           static_cast<uint32_t>(static_cast<uint8_t>(p[3]));
  }
  void read_frame(uint8_t type, uint8_t flags, int32_t stream, const std::string& payload) {
    if (type == kHeaders) {
      auto* in = reinterpret_cast<uint8_t*>(const_cast<char*>(payload.data()));
      size_t left = payload.size();
      while (true) {
        nghttp2_nv nv;
        int inflate_flags = 0;
        const ssize_t n = nghttp2_hd_inflate_hd2(inflater_, &nv, &inflate_flags, in, left, 1);
        ASSERT_GE(n, 0);
        in += n;
        left -= static_cast<size_t>(n);
        if ((inflate_flags & NGHTTP2_HD_INFLATE_EMIT) != 0 &&
            std::string_view(reinterpret_cast<char*>(nv.name), nv.namelen) == ":status") {
          sent.status[stream] =
              std::stoi(std::string(reinterpret_cast<char*>(nv.value), nv.valuelen));
        }
        if ((inflate_flags & NGHTTP2_HD_INFLATE_FINAL) != 0) {
          nghttp2_hd_inflate_end_headers(inflater_);
          break;
        }
        if ((inflate_flags & NGHTTP2_HD_INFLATE_EMIT) == 0 && left == 0) break;
      }
    } else if (type == kData) {
      sent.body[stream] += payload;
    } else if (type == kRstStream) {
      sent.resets[stream] = be32(payload.data());
    } else if (type == kGoaway) {
      sent.goaway = be32(payload.data() + 4);
    } else if (type == kWindowUpdate) {
      sent.window_updates += be32(payload.data()) & 0x7fffffff;
    } else if (type == kPing && (flags & kAck) != 0) {
      ++sent.ping_acks;
    }
  }

  Recorder recorder_;
  nghttp2_hd_inflater* inflater_ = nullptr;
  std::string pending_;
};

TEST(H2Server, ARequestArrivesAsAnHttp11HeadAndItsResponseGoesBack) {
  Connection c;
  ASSERT_TRUE(c.request(1, get("/orders/1?x=2", {{"accept", "application/json"}})).ok());
  ASSERT_EQ(c.received.requests.count(1), 1U);
  const auto& req = c.received.requests[1];
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.target, "/orders/1?x=2");
  EXPECT_EQ(req.host, "api.example.com");
  EXPECT_TRUE(req.end_stream);
  EXPECT_EQ(req.head.framing, BodyFraming::none);
  ASSERT_GE(req.headers.size(), 2U);
  EXPECT_EQ(req.headers[0], (std::pair<std::string, std::string>{"host", "api.example.com"}));
  EXPECT_EQ(req.headers[1], (std::pair<std::string, std::string>{"accept", "application/json"}));

  ASSERT_TRUE(c.session->respond(1, {200, {{"content-type", "text/plain"}}}, true).ok());
  c.session->append_body(1, std::string_view("hello "));
  c.session->append_body(1, std::string_view("world"));
  c.session->end_body(1);
  c.drain();
  EXPECT_EQ(c.sent.status[1], 200);
  EXPECT_EQ(c.sent.body[1], "hello world");
  EXPECT_EQ(c.received.closed.count(1), 1U);
  EXPECT_EQ(c.received.closed[1], kH2NoError);
}

TEST(H2Server, CookieCrumbsAreJoinedIntoOneHeader) {
  Connection c;
  ASSERT_TRUE(c.request(1, get("/", {{"cookie", "a=1"}, {"cookie", "b=2"}})).ok());
  const auto& headers = c.received.requests[1].headers;
  EXPECT_NE(std::find(headers.begin(), headers.end(),
                      std::pair<std::string, std::string>{"cookie", "a=1; b=2"}),
            headers.end());
}

TEST(H2Server, ABodyWithoutLengthIsChunkedForTheUpstreamAndOpensTheWindowOnlyWhenForwarded) {
  Connection c;
  Fields post = get("/upload");
  post[0].second = "POST";
  ASSERT_TRUE(c.request(1, post, false).ok());
  EXPECT_EQ(c.received.requests[1].head.framing, BodyFraming::chunked);
  const uint32_t granted_before = c.sent.window_updates;
  // 160 KiB: more than half the stream's 256 KiB window, where a WINDOW_UPDATE is due.
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(c.send(frame(kData, 0, 1, std::string(16 * 1024, 'x'))).ok());
  EXPECT_EQ(c.received.requests[1].body.size(), 160U * 1024);
  EXPECT_EQ(c.sent.window_updates, granted_before) << "no window before the bytes went upstream";
  c.session->consumed(1, 160 * 1024);
  c.drain();
  EXPECT_GE(c.sent.window_updates, granted_before + 160 * 1024);
  ASSERT_TRUE(c.send(frame(kData, kEndStream, 1, "")).ok());
  EXPECT_TRUE(c.received.requests[1].ended);
}

TEST(H2Server, AContentLengthIsKeptAsTheUpstreamFraming) {
  Connection c;
  Fields post = get("/upload", {{"content-length", "5"}});
  post[0].second = "POST";
  ASSERT_TRUE(c.request(1, post, false).ok());
  EXPECT_EQ(c.received.requests[1].head.framing, BodyFraming::length);
  EXPECT_EQ(c.received.requests[1].head.content_length, 5U);
  ASSERT_TRUE(c.send(frame(kData, kEndStream, 1, "12345")).ok());
  EXPECT_EQ(c.received.requests[1].body, "12345");
}

// RFC 9113 8.2 and 8.3: each is refused before the handler sees anything of the stream.
struct Malformed {
  const char* name;
  Fields fields;
};

class MalformedRequest : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedRequest, IsRefusedAndNeverReachesTheHandler) {
  Connection c;
  (void)c.request(1, GetParam().fields);
  EXPECT_EQ(c.received.requests.count(1), 0U) << GetParam().name;
  const bool reset = c.sent.resets.count(1) == 1;
  const bool client_error = c.sent.status.count(1) == 1 && c.sent.status[1] >= 400;
  EXPECT_TRUE(reset || client_error || c.sent.goaway.has_value()) << GetParam().name;
}

INSTANTIATE_TEST_SUITE_P(
    Rfc9113, MalformedRequest,
    ::testing::Values(
        Malformed{"Connection", get("/", {{"connection", "keep-alive"}})},
        Malformed{"TransferEncoding", get("/", {{"transfer-encoding", "chunked"}})},
        Malformed{"KeepAlive", get("/", {{"keep-alive", "timeout=5"}})},
        Malformed{"Upgrade", get("/", {{"upgrade", "websocket"}})},
        Malformed{"ProxyConnection", get("/", {{"proxy-connection", "close"}})},
        Malformed{"TeNotTrailers", get("/", {{"te", "gzip"}})},
        Malformed{"UppercaseName", get("/", {{"X-Smuggle", "1"}})},
        Malformed{"CrInValue", get("/", {{"x-a", "1\r\nx-b: 2"}})},
        Malformed{"LfInValue", get("/", {{"x-a", "1\nx-b: 2"}})},
        Malformed{"NulInValue", get("/", {{"x-a", std::string("1\0002", 3)}})},
        Malformed{"MissingMethod",
                  Fields{{":scheme", "https"}, {":authority", "a"}, {":path", "/"}}},
        Malformed{"MissingPath",
                  Fields{{":method", "GET"}, {":scheme", "https"}, {":authority", "a"}}},
        Malformed{"MissingScheme", Fields{{":method", "GET"}, {":authority", "a"}, {":path", "/"}}},
        Malformed{"RepeatedPath", get("/", {{":path", "/admin"}})},
        Malformed{"HostDisagreesWithAuthority", get("/", {{"host", "internal.example"}})},
        Malformed{
            "InvalidAuthority",
            Fields{
                {":method", "GET"}, {":scheme", "https"}, {":authority", "a b"}, {":path", "/"}}},
        Malformed{"Connect", Fields{{":method", "CONNECT"}, {":authority", "db:5432"}}},
        Malformed{"FragmentInPath", get("/a#b")}),
    [](const auto& test) { return std::string(test.param.name); });

TEST(H2Server, DataBeyondTheContentLengthNeverReachesTheHandler) {
  // H2.CL: content-length 0 with a smuggled request in DATA.
  Connection c;
  Fields post = get("/upload", {{"content-length", "0"}});
  post[0].second = "POST";
  ASSERT_TRUE(c.request(1, post, false).ok());
  (void)c.send(frame(kData, kEndStream, 1, "GET /admin HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.received.requests[1].body, "");
  EXPECT_EQ(c.sent.resets.count(1), 1U);
  EXPECT_EQ(c.received.closed[1], kH2ProtocolError);
}

TEST(H2Server, ABodyShorterThanItsContentLengthIsAStreamError) {
  Connection c;
  Fields post = get("/upload", {{"content-length", "10"}});
  post[0].second = "POST";
  ASSERT_TRUE(c.request(1, post, false).ok());
  (void)c.send(frame(kData, kEndStream, 1, "12345"));
  EXPECT_FALSE(c.received.requests[1].ended) << "the upstream must not see a complete request";
  EXPECT_EQ(c.sent.resets.count(1), 1U);
}

TEST(H2Server, AHeaderListOverTheLimitGets431) {
  H2Settings settings;
  settings.max_header_list_bytes = 1024;
  Connection c(settings);
  (void)c.request(1, get("/", {{"x-big", std::string(2000, 'a')}}));
  EXPECT_EQ(c.received.requests.count(1), 0U);
  EXPECT_EQ(c.sent.status[1], 431);
}

TEST(H2Server, StreamsBeyondTheConcurrencyLimitAreRefused) {
  H2Settings settings;
  settings.max_concurrent_streams = 2;
  Connection c(settings);
  // The client ignores the advertised limit.
  for (uint32_t id : {1U, 3U, 5U})
    (void)c.request(id, get("/"), true);
  EXPECT_EQ(c.received.requests.size(), 2U);
  EXPECT_EQ(c.received.requests.count(5), 0U);
  EXPECT_TRUE(c.sent.resets.count(5) == 1 || c.sent.goaway.has_value());
}

TEST(H2Server, RapidResetEndsTheConnectionWithEnhanceYourCalm) {
  // CVE-2023-44487: streams opened and reset at once, over and over.
  H2Settings settings;
  settings.reset_burst = 20;
  settings.resets_per_second = 1;
  Connection c(settings);
  bool failed = false;
  for (uint32_t id = 1; id < 2 * 200 && !failed; id += 2) {
    failed = !c.request(id, get("/"), false).ok() ||
             !c.send(frame(kRstStream, 0, id, u32(kH2Cancel))).ok();
    if (c.sent.goaway) break;
  }
  ASSERT_TRUE(c.sent.goaway.has_value());
  EXPECT_NE(*c.sent.goaway, kH2NoError);
  EXPECT_FALSE(c.session->alive());
  EXPECT_LE(c.received.requests.size(), 40U);
}

TEST(H2Server, AContinuationFloodEndsTheConnection) {
  // CVE-2024-27316: one header block spread over endless CONTINUATION frames.
  Connection c;
  std::string block = hpack(get("/", {{"x-pad", std::string(64, 'p')}}));
  std::string bytes = frame(kHeaders, kEndStream, 1, block.substr(0, 10));
  for (int i = 0; i < 100; ++i)
    bytes += frame(kContinuation, 0, 1, "");
  const auto r = c.send(bytes);
  ASSERT_FALSE(r.ok()) << "a connection error: the owner closes";
  EXPECT_NE(r.error().message.find("CONTINUATION"), std::string::npos) << r.error().message;
  EXPECT_EQ(c.received.requests.size(), 0U);
}

TEST(H2Server, ASettingsFloodEndsTheConnection) {
  Connection c;
  std::string entries;
  for (uint16_t i = 0; i < 100; ++i)
    entries += std::string{0, 0x3} + u32(100);  // MAX_CONCURRENT_STREAMS, 100 times over
  (void)c.send(frame(kSettings, 0, 0, entries));
  ASSERT_TRUE(c.sent.goaway.has_value());
  EXPECT_EQ(*c.sent.goaway, kH2EnhanceYourCalm);
  EXPECT_FALSE(c.session->alive());
}

TEST(H2Server, APingFloodWhoseAcksAreNeverReadEndsTheConnection) {
  H2Settings settings;
  settings.max_outbound_acks = 100;
  Connection c(settings);
  std::string pings;
  for (int i = 0; i < 500; ++i)
    pings += frame(kPing, 0, 0, std::string(8, 'p'));
  // Fed at once, without reading: the acknowledgements pile up, and past the limit the
  // session gives up on a client that does not read (it sends nothing more).
  const auto r = c.session->receive(pings);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("Flooding"), std::string::npos) << r.error().message;
  c.drain();
  EXPECT_LE(c.sent.ping_acks, 100);
}

TEST(H2Server, AResponseBodyWaitsForTheClientsWindow) {
  Connection c;
  ASSERT_TRUE(c.request(1, get("/big")).ok());
  ASSERT_TRUE(c.session->respond(1, {200, {}}, true).ok());
  c.session->append_body(1, std::string(100 * 1024, 'b'));
  c.session->end_body(1);
  c.drain();
  // The client's initial window is 65,535 bytes: the rest stays queued.
  EXPECT_EQ(c.sent.body[1].size(), 65535U);
  EXPECT_EQ(c.session->buffered(1), 100U * 1024 - 65535);
  ASSERT_TRUE(
      c.send(frame(kWindowUpdate, 0, 0, u32(1 << 20)) + frame(kWindowUpdate, 0, 1, u32(1 << 20)))
          .ok());
  EXPECT_EQ(c.sent.body[1].size(), 100U * 1024);
  EXPECT_EQ(c.session->buffered(1), 0U);
}

TEST(H2Server, GarbageInsteadOfThePrefaceIsRefused) {
  Received received;
  Recorder recorder(received);
  auto session = H2ServerSession::create({}, recorder);
  ASSERT_TRUE(session.ok());
  EXPECT_FALSE((*session)->receive(std::string_view("GET / HTTP/1.1\r\nHost: a\r\n\r\n")).ok());
}

}  // namespace
}  // namespace glidepath::http
