// The gateway's proxying as a client sees it (SPEC section 4): the real `glidepath serve`
// in front of real sample backends, raw sockets on both sides. Each test starts its own
// servers on free ports; every wait is on a printed line or a response, bounded.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <future>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/gateway_harness.h"

namespace glidepath::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// One service on /orders in front of `backend`.
std::string orders_service(const SampleBackend& backend, const std::string& extra = "") {
  return "  - name: orders\n"
         "    match: {path_prefix: /orders}\n" +
         extra +
         "    versions:\n"
         "      - name: v1\n"
         "        upstreams: [" +
         backend.address() +
         "]\n"
         "    live: v1\n";
}

// The service `name` on `prefix` with versions v1 and v2 on the two backends.
std::string two_version_service(const std::string& name, const std::string& prefix,
                                const SampleBackend& v1, const SampleBackend& v2,
                                const std::string& extra = "") {
  return "  - name: " + name + "\n    match: {path_prefix: " + prefix + "}\n" + extra +
         "    versions:\n"
         "      - name: v1\n"
         "        upstreams: [" +
         v1.address() +
         "]\n"
         "      - name: v2\n"
         "        upstreams: [" +
         v2.address() +
         "]\n"
         "    live: v1\n";
}

Json json_of(const HttpResponse& r) {
  EXPECT_THAT(r.header("Content-Type"), StartsWith("application/json")) << r.body;
  const Json body = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(body.is_discarded()) << r.body;
  return body;
}

// The pattern /_test/bytes/N answers with.
std::string alphabet_bytes(size_t size) {
  std::string expected(size, 'a');
  for (size_t i = 0; i < size; ++i)
    expected[i] = static_cast<char>('a' + i % 26);
  return expected;
}

// Sends `requests` GETs of `target` on `client` in pipelined batches (fewer round trips:
// thousands of requests stay quick under the sanitizers) and calls `each` with each
// response in order.
template <typename Each>
void pipelined_gets(HttpClient& client, int requests, const std::string& target,
                    const HeaderFields& headers, Each&& each) {
  constexpr int kBatch = 50;
  std::string head = "GET " + target + " HTTP/1.1\r\nHost: gw\r\n";
  for (const auto& [name, value] : headers)
    head += name + ": " + value + "\r\n";
  head += "\r\n";
  for (int sent = 0; sent < requests;) {
    const int batch = std::min(kBatch, requests - sent);
    std::string bytes;
    for (int i = 0; i < batch; ++i)
      bytes += head;
    ASSERT_TRUE(client.send_raw(bytes));
    for (int i = 0; i < batch; ++i) {
      HttpResponse r = client.read_response();
      ASSERT_EQ(r.status, 200) << "request " << sent + i << ": " << r.error;
      each(r);
    }
    sent += batch;
  }
}

// ---- headers ------------------------------------------------------------------------------

TEST(GatewayProxy, ResponsesCarryTheVersionAndARequestIdTheBackendSawToo) {
  SampleBackend backend("v1");
  GatewayServer gateway(orders_service(backend));
  HttpClient client = gateway.client();

  HttpResponse r = client.request("GET", "/orders/1?expand=items");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.header("X-Glidepath-Version"), "v1");
  EXPECT_EQ(r.header("X-Backend-Version"), "v1");
  const std::string first_id = r.header("X-Request-Id");
  EXPECT_TRUE(looks_like_uuid(first_id)) << first_id;
  Json seen = json_of(r);
  EXPECT_EQ(seen["request_id"], first_id);
  EXPECT_EQ(seen["target"], "/orders/1?expand=items");
  EXPECT_EQ(seen["x_forwarded_for"], "127.0.0.1");
  EXPECT_EQ(seen["x_forwarded_proto"], "http");

  // Another request, another id.
  r = client.request("GET", "/orders/2");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_TRUE(looks_like_uuid(r.header("X-Request-Id")));
  EXPECT_NE(r.header("X-Request-Id"), first_id);

  // An id that came in is kept, both ways; an X-Forwarded-For that came in is extended
  // with the client's address; X-Forwarded-Proto is the gateway's to say.
  r = client.request("GET", "/orders/3",
                     {{"X-Request-Id", "trace-abc-123"},
                      {"X-Forwarded-For", "10.0.0.7"},
                      {"X-Forwarded-Proto", "https"}});
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.header("X-Request-Id"), "trace-abc-123");
  EXPECT_EQ(r.headers.get_all("X-Request-Id").size(), 1u);
  seen = json_of(r);
  EXPECT_EQ(seen["request_id"], "trace-abc-123");
  EXPECT_EQ(seen["x_forwarded_for"], "10.0.0.7, 127.0.0.1");
  EXPECT_EQ(seen["x_forwarded_proto"], "http");
  EXPECT_EQ(client.connects(), 1);
}

TEST(GatewayProxy, HopByHopHeadersNeverReachTheBackend) {
  SampleBackend backend("v1");
  GatewayServer gateway(orders_service(backend));
  HttpClient client = gateway.client();
  HttpResponse r = client.request("GET", "/orders/hop",
                                  {{"Connection", "X-Custom-Hop, keep-alive"},
                                   {"X-Custom-Hop", "secret"},
                                   {"Keep-Alive", "timeout=5, max=100"},
                                   {"TE", "trailers"},
                                   {"Upgrade", "websocket"},
                                   {"Proxy-Connection", "keep-alive"},
                                   {"Proxy-Authorization", "Basic Zm9vOmJhcg=="},
                                   {"X-End-To-End", "kept"}});
  ASSERT_EQ(r.status, 200) << r.error;
  const Json headers = json_of(r)["headers"];
  for (const char* hop :
       {"x-custom-hop", "keep-alive", "te", "upgrade", "proxy-connection", "proxy-authorization"}) {
    EXPECT_FALSE(headers.contains(hop)) << hop << " reached the backend: " << headers.dump();
  }
  // The only Connection the backend sees is the gateway's own, for its pooled connection.
  EXPECT_EQ(headers.value("connection", ""), "keep-alive") << headers.dump();
  EXPECT_EQ(headers.value("x-end-to-end", ""), "kept");
  EXPECT_FALSE(r.closed);
}

// ---- connection handling ------------------------------------------------------------------

TEST(GatewayProxy, OneClientConnectionCarriesAHundredRequests) {
  SampleBackend backend("v1");
  GatewayServer gateway(orders_service(backend));
  HttpClient client = gateway.client();
  for (int i = 0; i < 100; ++i) {
    const std::string path = "/orders/" + std::to_string(i);
    HttpResponse r = i % 2 == 0 ? client.request("GET", path)
                                : client.request("POST", path, {}, "body " + std::to_string(i));
    ASSERT_EQ(r.status, 200) << i << ": " << r.error;
    ASSERT_FALSE(r.closed) << i;
    ASSERT_EQ(json_of(r)["path"], path);
  }
  EXPECT_EQ(client.connects(), 1);
}

TEST(GatewayProxy, PipelinedRequestsAreAnsweredInOrder) {
  SampleBackend backend("v1");
  GatewayServer gateway(orders_service(backend));
  HttpClient client = gateway.client();
  std::string bytes;
  for (int i = 0; i < 10; ++i) {
    const std::string path = "/orders/p" + std::to_string(i);
    if (i % 3 == 1) {
      bytes += "POST " + path + " HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\n\r\nhello";
    } else if (i % 3 == 2) {
      bytes += "PUT " + path +
               " HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    } else {
      bytes += "GET " + path + " HTTP/1.1\r\nHost: gw\r\n\r\n";
    }
  }
  ASSERT_TRUE(client.send_raw(bytes));
  for (int i = 0; i < 10; ++i) {
    HttpResponse r = client.read_response();
    ASSERT_EQ(r.status, 200) << i << ": " << r.error;
    const Json seen = json_of(r);
    EXPECT_EQ(seen["path"], "/orders/p" + std::to_string(i));
    EXPECT_EQ(seen["body_bytes"], i % 3 == 0 ? 0 : (i % 3 == 1 ? 5 : 3)) << i;
  }
  EXPECT_EQ(client.request("GET", "/orders/after").status, 200);
  EXPECT_EQ(client.connects(), 1);
}

TEST(GatewayProxy, Http10ClientGetsAResponseItCanReadAndTheConnectionCloses) {
  SampleBackend backend("v1");
  GatewayServer gateway(orders_service(backend));

  // An ordinary Content-Length answer.
  HttpClient client = gateway.client();
  ASSERT_TRUE(client.send_raw("GET /orders/old HTTP/1.0\r\nHost: gw\r\n\r\n"));
  HttpResponse r = client.read_response();
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_FALSE(r.chunked);
  EXPECT_EQ(json_of(r)["path"], "/orders/old");
  EXPECT_TRUE(r.closed);

  // The upstream answers chunked, which an HTTP/1.0 client cannot read (RFC 9112 7.1):
  // the gateway must send the body delimited by length or by closing the connection.
  for (const char* request : {"GET /orders/_test/bytes/5000?chunked=1 HTTP/1.0\r\nHost: gw\r\n\r\n",
                              "GET /orders/_test/bytes/5000?chunked=1 HTTP/1.0\r\n\r\n"}) {
    HttpClient old = gateway.client();
    ASSERT_TRUE(old.send_raw(request));
    RawRead raw = old.read_all_until_close();
    EXPECT_TRUE(raw.closed) << request;
    const size_t end_of_head = raw.data.find("\r\n\r\n");
    ASSERT_NE(end_of_head, std::string::npos) << raw.data;
    const std::string head = raw.data.substr(0, end_of_head + 4);
    EXPECT_THAT(head, StartsWith("HTTP/1.1 200 ")) << head;
    EXPECT_THAT(head, Not(HasSubstr("Transfer-Encoding"))) << head;
    EXPECT_TRUE(raw.data.substr(end_of_head + 4) == alphabet_bytes(5000))
        << raw.data.substr(end_of_head + 4, 64);
  }
}

// ---- bodies -------------------------------------------------------------------------------

TEST(GatewayProxy, ChunkedRequestBodyIsEchoedIntact) {
  SampleBackend backend("v1");
  GatewayServer gateway(orders_service(backend));
  HttpClient client = gateway.client();
  const std::string data = test_data(300'000);
  // Chunks of awkward sizes, one with an extension, which the gateway drops as it
  // re-frames the body.
  std::string body;
  size_t at = 0;
  size_t size = 1;
  while (at < data.size()) {
    const size_t n = std::min(size, data.size() - at);
    char line[32];
    std::snprintf(line, sizeof line, at == 0 ? "%zx;name=value\r\n" : "%zX\r\n", n);
    body += line;
    body.append(data, at, n);
    body += "\r\n";
    at += n;
    size = size * 3 + 7;
  }
  body += "0\r\n\r\n";
  HttpResponse r = client.request(
      "POST", "/orders/_test/echo",
      {{"Transfer-Encoding", "chunked"}, {"Content-Type", "application/octet-stream"}}, body, 20s);
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.header("X-Glidepath-Version"), "v1");
  EXPECT_EQ(r.body.size(), data.size());
  EXPECT_TRUE(r.body == data);

  // And a Content-Length body on the same connection.
  r = client.request("POST", "/orders/_test/echo", {}, "plain body");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "plain body");
  EXPECT_EQ(client.connects(), 1);
}

// A 64 MB upload is echoed back through the gateway while the gateway's memory stays far
// below the body's size: bodies stream, they are not buffered whole (SPEC section 4).
TEST(GatewayProxy, LargeUploadsStreamThroughInBothFramings) {
  constexpr size_t kSize = 64 * 1024 * 1024;
  constexpr size_t kPiece = 1024 * 1024;
  SampleBackend backend("v1");
  GatewaySettings settings;
  settings.max_body_bytes = 2 * kSize;
  GatewayServer gateway(orders_service(backend), settings);
  const std::string data = test_data(kSize);

  // Warm up, so the baseline includes the connection buffers and pools.
  ASSERT_EQ(
      gateway.client().request("POST", "/orders/_test/echo", {}, data.substr(0, 100'000)).status,
      200);
  const std::uint64_t baseline = gateway.rss_bytes();
  ASSERT_GT(baseline, 0u);

  for (const bool chunked : {false, true}) {
    SCOPED_TRACE(chunked ? "chunked" : "Content-Length");
    // A fresh connection each: the response starts before the upload ends, after which
    // the gateway may close the connection (it does not have to keep it).
    HttpClient client = gateway.client();
    std::string head = "POST /orders/_test/echo HTTP/1.1\r\nHost: gw\r\n";
    head += chunked ? "Transfer-Encoding: chunked\r\n"
                    : "Content-Length: " + std::to_string(data.size()) + "\r\n";
    head += "\r\n";
    // The echo starts before the upload ends: send from another thread so neither side
    // blocks on a full socket buffer. The sender samples the gateway's RSS as it goes.
    std::atomic<std::uint64_t> peak{baseline};
    bool sent = true;
    std::thread sender([&] {
      sent = client.send_raw(head, 30s);
      for (size_t at = 0; sent && at < data.size(); at += kPiece) {
        const std::string_view piece = std::string_view(data).substr(at, kPiece);
        std::string framed;
        if (chunked) {
          // One chunk per piece, without the last-chunk that encode_chunked appends.
          framed = encode_chunked(piece, kPiece);
          framed.resize(framed.size() - std::string_view("0\r\n\r\n").size());
        } else {
          framed = piece;
        }
        sent = client.send_raw(framed, 30s);
        peak = std::max<std::uint64_t>(peak, gateway.rss_bytes());
      }
      if (sent && chunked) sent = client.send_raw("0\r\n\r\n", 30s);
    });
    HttpResponse r = client.read_response(30s);
    sender.join();
    ASSERT_TRUE(sent);
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.chunked, chunked);
    EXPECT_EQ(r.body.size(), data.size());
    EXPECT_TRUE(r.body == data);
    peak = std::max<std::uint64_t>(peak, gateway.rss_bytes());
    RecordProperty(chunked ? "rss_growth_kib_chunked" : "rss_growth_kib_length",
                   std::to_string((peak - baseline) / 1024));
    EXPECT_LT(peak - baseline, 32u * 1024 * 1024)
        << "RSS grew from " << baseline / 1024 << " KiB to " << peak / 1024 << " KiB";
  }
}

TEST(GatewayProxy, LargeResponsesArriveIntactChunkedOrNot) {
  SampleBackend backend("v1");
  GatewayServer gateway(orders_service(backend));
  HttpClient client = gateway.client();
  const std::string expected = alphabet_bytes(5'000'000);
  HttpResponse r = client.request("GET", "/orders/_test/bytes/5000000?chunked=1", {}, {}, 20s);
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_TRUE(r.chunked);
  EXPECT_EQ(r.body.size(), expected.size());
  EXPECT_TRUE(r.body == expected);

  r = client.request("GET", "/orders/_test/bytes/5000000", {}, {}, 20s);
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_FALSE(r.chunked);
  EXPECT_EQ(r.header("Content-Length"), "5000000");
  EXPECT_TRUE(r.body == expected);

  // HEAD: the length is announced, no body follows, the connection goes on.
  r = client.request("HEAD", "/orders/_test/bytes/1234");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.header("Content-Length"), "1234");
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(client.request("GET", "/orders/_test/bytes/3").body, "abc");
  EXPECT_EQ(client.connects(), 1);
}

TEST(GatewayProxy, ExpectContinueGetsAnInterimResponseThenTheFinalOne) {
  SampleBackend backend("v1");
  GatewayServer gateway(orders_service(backend));
  HttpClient client = gateway.client();
  // The backend answers once it has read the body.
  ASSERT_TRUE(
      client.send_raw("PUT /orders/things/1 HTTP/1.1\r\nHost: gw\r\nContent-Length: 4\r\n"
                      "Expect: 100-continue\r\n\r\n"));
  HttpResponse interim = client.read_response();
  ASSERT_EQ(interim.status, 100) << interim.error;
  ASSERT_TRUE(client.send_raw("abcd"));
  HttpResponse r = client.read_response();
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(json_of(r)["body_bytes"], 4);
  EXPECT_EQ(r.header("X-Glidepath-Version"), "v1");
  // The connection is still good.
  EXPECT_EQ(client.request("GET", "/orders/next").status, 200);
  EXPECT_EQ(client.connects(), 1);

  // The echo answers while it reads: the body still arrives whole.
  client = gateway.client();
  ASSERT_TRUE(
      client.send_raw("PUT /orders/_test/echo HTTP/1.1\r\nHost: gw\r\nContent-Length: 4\r\n"
                      "Expect: 100-continue\r\n\r\n"));
  interim = client.read_response();
  ASSERT_EQ(interim.status, 100) << interim.error;
  ASSERT_TRUE(client.send_raw("wxyz"));
  r = client.read_response();
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "wxyz");
}

// ---- routing ------------------------------------------------------------------------------

TEST(GatewayProxy, StripPrefixRouteForwardsTheRestOfThePath) {
  SampleBackend api("api");
  SampleBackend orders("orders");
  GatewayServer gateway(
      "  - name: api\n"
      "    match: {path_prefix: /api, strip_prefix: true}\n"
      "    versions:\n"
      "      - name: v1\n"
      "        upstreams: [" +
      api.address() +
      "]\n"
      "    live: v1\n" +
      orders_service(orders));
  HttpClient client = gateway.client();
  HttpResponse r = client.request("GET", "/api/users/7?x=1");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.header("X-Backend-Version"), "api");
  EXPECT_EQ(json_of(r)["target"], "/users/7?x=1");
  r = client.request("GET", "/api");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(json_of(r)["target"], "/");
  r = client.request("GET", "/api?q=1");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(json_of(r)["target"], "/?q=1");
  // Without strip_prefix the prefix is forwarded.
  r = client.request("GET", "/orders/1");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.header("X-Backend-Version"), "orders");
  EXPECT_EQ(json_of(r)["target"], "/orders/1");
  // A prefix matches on a segment boundary only.
  EXPECT_EQ(client.request("GET", "/apix").status, 404);
}

TEST(GatewayProxy, PathIsNormalisedBeforeMatchingAndForwarded) {
  SampleBackend backend("v1");
  GatewayServer gateway(orders_service(backend));
  HttpClient client = gateway.client();
  for (const char* escape : {"/orders/../admin", "/orders/%2e%2e/admin", "/orders/%2E%2E/admin",
                             "/orders/.%2e/admin", "/orders/./../admin/x"}) {
    HttpResponse r = client.request("GET", escape);
    EXPECT_EQ(r.status, 404) << escape << " " << r.error;
    if (r.status == 404) {
      const Json error = json_of(r);
      EXPECT_TRUE(error.contains("error")) << escape;
      EXPECT_EQ(error.value("request_id", ""), r.header("X-Request-Id")) << escape;
    }
  }
  // Climbing above the root is refused outright.
  EXPECT_EQ(gateway.client().request("GET", "/../orders/1").status, 400);

  // Inside the prefix, the normalised form is what the backend gets.
  HttpResponse r = gateway.client().request("GET", "/orders/./a/../b/%2e/c?x=../y");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(json_of(r)["target"], "/orders/b/c?x=../y");

  const std::string seen = backend.requests_seen();
  EXPECT_THAT(seen, Not(HasSubstr("admin"))) << seen;
  EXPECT_THAT(seen, Not(HasSubstr("/.."))) << seen;  // the query keeps its "../" as data
  EXPECT_THAT(seen, HasSubstr("GET /orders/b/c?x=../y\n")) << seen;
}

TEST(GatewayProxy, HostHeaderChoosesBetweenServices) {
  SampleBackend a("a");
  SampleBackend b("b");
  GatewayServer gateway(
      "  - name: alpha\n"
      "    match: {hosts: [a.example.com]}\n"
      "    versions:\n"
      "      - name: v1\n"
      "        upstreams: [" +
      a.address() +
      "]\n"
      "    live: v1\n"
      "  - name: beta\n"
      "    match: {hosts: [b.example.com]}\n"
      "    versions:\n"
      "      - name: v1\n"
      "        upstreams: [" +
      b.address() +
      "]\n"
      "    live: v1\n");
  HttpClient client = gateway.client();
  HttpResponse r = client.request("GET", "/x", {{"Host", "a.example.com"}});
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.header("X-Backend-Version"), "a");
  EXPECT_EQ(json_of(r)["host"], "a.example.com");
  r = client.request("GET", "/x", {{"Host", "B.Example.COM:8080"}});
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.header("X-Backend-Version"), "b");
  // An absolute-form target names the host itself (RFC 9112 3.2.2).
  r = client.request("GET", "http://b.example.com/y", {{"Host", "a.example.com"}});
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.header("X-Backend-Version"), "b");
  EXPECT_EQ(json_of(r)["target"], "/y");
  r = client.request("GET", "/x", {{"Host", "c.example.com"}});
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(json_of(r).contains("error"));
  EXPECT_THAT(a.requests_seen(), Not(HasSubstr("/y")));
}

// ---- version choice -----------------------------------------------------------------------

TEST(GatewayProxy, TenPercentCanaryGetsAboutATenthOfTenThousandRequests) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  GatewayServer gateway(two_version_service("orders", "/orders", v1, v2, "    stickiness: none\n") +
                        "    traffic: {v1: 90, v2: 10}\n");
  HttpClient client = gateway.client();
  std::map<std::string, int> served;
  pipelined_gets(client, 10'000, "/orders/split", {}, [&](const HttpResponse& r) {
    ASSERT_EQ(r.header("X-Glidepath-Version"), r.header("X-Backend-Version"));
    ++served[r.header("X-Glidepath-Version")];
  });
  EXPECT_EQ(served.size(), 2u);
  EXPECT_EQ(served["v1"] + served["v2"], 10'000);
  // Binomial(10000, 0.1): mean 1000, standard deviation 30; 850..1150 is five of them.
  EXPECT_GT(served["v2"], 850);
  EXPECT_LT(served["v2"], 1150);
}

// Sticky monotonicity through the real binary: one gateway per split (0, 10, 50, 90 and
// 100% to v2), the same 500 users on each; as the split rises a user moves from v1 to v2
// once and never back (SPEC section 4).
TEST(GatewayProxy, StickyUsersMoveToTheCanaryOnceAndNeverBack) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  const std::vector<int> splits = {0, 10, 50, 90, 100};
  // Started together: each start is a process launch, slow under the sanitizers.
  std::vector<std::future<std::unique_ptr<GatewayServer>>> starting;
  for (const int w : splits) {
    const std::string yaml =
        two_version_service("orders", "/orders", v1, v2, "    stickiness: header:X-User\n") +
        "    traffic: {v1: " + std::to_string(100 - w) + ", v2: " + std::to_string(w) + "}\n";
    starting.push_back(
        std::async(std::launch::async, [yaml] { return std::make_unique<GatewayServer>(yaml); }));
  }
  std::vector<std::unique_ptr<GatewayServer>> gateways;
  for (auto& s : starting)
    gateways.push_back(s.get());

  constexpr int kUsers = 500;
  // versions[user][split index]: true = v2.
  std::vector<std::vector<bool>> on_canary(kUsers, std::vector<bool>(splits.size()));
  for (size_t g = 0; g < gateways.size(); ++g) {
    HttpClient client = gateways[g]->client();
    std::string bytes;
    for (int user = 0; user < kUsers; ++user) {
      bytes += "GET /orders/me HTTP/1.1\r\nHost: gw\r\nX-User: user-" + std::to_string(user) +
               "\r\n\r\n";
    }
    ASSERT_TRUE(client.send_raw(bytes));
    for (int user = 0; user < kUsers; ++user) {
      HttpResponse r = client.read_response();
      ASSERT_EQ(r.status, 200) << r.error;
      const std::string version = r.header("X-Glidepath-Version");
      ASSERT_TRUE(version == "v1" || version == "v2") << version;
      ASSERT_EQ(r.header("X-Backend-Version"), version);
      on_canary[user][g] = version == "v2";
    }
    // The same user asking again gets the same version.
    for (int user = 0; user < 20; ++user) {
      HttpResponse r =
          client.request("GET", "/orders/again", {{"X-User", "user-" + std::to_string(user)}});
      ASSERT_EQ(r.status, 200) << r.error;
      EXPECT_EQ(r.header("X-Glidepath-Version") == "v2", on_canary[user][g]) << user;
    }
  }
  std::vector<int> canary_users(splits.size());
  for (int user = 0; user < kUsers; ++user) {
    for (size_t g = 0; g < splits.size(); ++g) {
      canary_users[g] += on_canary[user][g];
      if (g > 0) {
        EXPECT_FALSE(on_canary[user][g - 1] && !on_canary[user][g])
            << "user-" << user << " moved back from v2 to v1 when the split rose from "
            << splits[g - 1] << "% to " << splits[g] << "%";
      }
    }
  }
  EXPECT_EQ(canary_users[0], 0);
  EXPECT_EQ(canary_users[4], kUsers);
  // Binomial(500, p): a wide band, the hash is fixed so this never flickers.
  EXPECT_GT(canary_users[1], 20);
  EXPECT_LT(canary_users[1], 80);
  EXPECT_GT(canary_users[2], 200);
  EXPECT_LT(canary_users[2], 300);
  EXPECT_GT(canary_users[3], 420);
  EXPECT_LT(canary_users[3], 480);
}

TEST(GatewayProxy, PreviewHeaderPinsAVersionWherePreviewAllowsIt) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  GatewayServer gateway(two_version_service("anyone", "/anyone", v1, v2, "    preview: anyone\n") +
                        two_version_service("off", "/off", v1, v2, "    preview: off\n") +
                        two_version_service("keys", "/keys", v1, v2, "    preview: keys\n"));
  HttpClient client = gateway.client();
  // Without a pin, all traffic goes to live v1.
  HttpResponse r = client.request("GET", "/anyone/x");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.header("X-Glidepath-Version"), "v1");
  for (int i = 0; i < 5; ++i) {
    r = client.request("GET", "/anyone/x", {{"X-Glidepath-Version", "v2"}});
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.header("X-Glidepath-Version"), "v2");
    EXPECT_EQ(r.header("X-Backend-Version"), "v2");
  }

  struct Refusal {
    const char* target;
    const char* pin;
    int status;
  };
  for (const Refusal& refusal : {Refusal{"/anyone/x", "v3", 400}, Refusal{"/off/x", "v2", 403},
                                 Refusal{"/keys/x", "v2", 403}}) {
    r = client.request("GET", refusal.target, {{"X-Glidepath-Version", refusal.pin}});
    EXPECT_EQ(r.status, refusal.status) << refusal.target << " " << r.error;
    const Json error = json_of(r);
    EXPECT_TRUE(error.contains("error")) << refusal.target;
    EXPECT_EQ(error.value("request_id", ""), r.header("X-Request-Id")) << refusal.target;
    // A bodiless refusal keeps the connection.
    EXPECT_FALSE(r.closed) << refusal.target;
  }
  EXPECT_THAT(v2.requests_seen(), Not(HasSubstr("/off/")));
  EXPECT_THAT(v2.requests_seen(), Not(HasSubstr("/keys/")));
}

// ---- lifecycle ----------------------------------------------------------------------------

TEST(GatewayStop, SigtermLetsARequestInFlightFinishThenExitsZero) {
  SampleBackend backend("v1");
  GatewayServer gateway(orders_service(backend));
  HttpClient slow = gateway.client();
  ASSERT_TRUE(slow.send_raw("GET /orders/_test/sleep/1500 HTTP/1.1\r\nHost: gw\r\n\r\n"));
  // The backend has the request once it lists it: only then is it "in flight".
  const auto deadline = Clock::now() + 10s;
  while (backend.requests_seen().find("/orders/_test/sleep/1500") == std::string::npos) {
    ASSERT_LT(Clock::now(), deadline) << "the slow request never reached the backend";
  }
  HttpClient idle = gateway.client();  // an idle connection does not hold the stop up
  ASSERT_EQ(idle.request("GET", "/orders/idle").status, 200);
  gateway.process().send_signal(SIGTERM);
  ASSERT_TRUE(gateway.process().wait_for_line("received SIGTERM", 10s));

  HttpResponse r = slow.read_response(10s);
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.header("X-Glidepath-Version"), "v1");
  // Stopping, the gateway says it closes the connection after the exchange, and does.
  EXPECT_EQ(r.header("Connection"), "close");
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(gateway.process().wait_for_exit(15s), 0) << gateway.process().err();
  EXPECT_EQ(gateway.stop(), 0);
  // No new connections are accepted once it has gone.
  EXPECT_FALSE(HttpClient::can_connect("127.0.0.1", gateway.port()));
}

}  // namespace
}  // namespace glidepath::testing
