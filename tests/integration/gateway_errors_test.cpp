// Every status the gateway makes itself (SPEC section 4), provoked for real through the
// `glidepath serve` binary: each answer has the JSON body {"error": ..., "request_id": ...}
// and the request id of its X-Request-Id header. Timeouts are set to a second so the
// tests stay quick; every wait is bounded.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "support/gateway_harness.h"

namespace glidepath::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string service(const std::string& name, const std::string& prefix,
                    const std::vector<std::string>& upstreams) {
  std::string list;
  for (const auto& u : upstreams)
    list += (list.empty() ? "" : ", ") + u;
  return "  - name: " + name + "\n    match: {path_prefix: " + prefix +
         "}\n"
         "    versions:\n"
         "      - name: v1\n"
         "        upstreams: [" +
         list + "]\n    live: v1\n";
}

enum class Then { closes, stays_open, either };

// The gateway's own error answer: the status, a JSON body with both members, the request
// id of the header. Then::closes: the gateway announced and did close the connection.
void expect_gateway_error(const HttpResponse& r, int status, Then then) {
  ASSERT_EQ(r.status, status) << r.error << " " << r.body;
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  const Json body = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(body.is_object()) << r.body;
  ASSERT_TRUE(body.contains("error")) << r.body;
  EXPECT_TRUE(body["error"].is_string() && !body["error"].get<std::string>().empty()) << r.body;
  ASSERT_TRUE(body.contains("request_id")) << r.body;
  EXPECT_EQ(body["request_id"], r.header("X-Request-Id")) << r.body;
  EXPECT_FALSE(r.header("X-Request-Id").empty());
  if (then == Then::closes) {
    EXPECT_EQ(r.header("Connection"), "close");
    EXPECT_TRUE(r.closed) << status;
  } else if (then == Then::stays_open) {
    EXPECT_TRUE(r.keep_alive) << status;
    EXPECT_FALSE(r.closed) << status;
  }
}

TEST(GatewayErrors, MalformedRequestIs400AndClosesTheConnection) {
  SampleBackend backend("v1");
  GatewayServer gateway(service("orders", "/orders", {backend.address()}));
  HttpClient client = gateway.client();
  HttpResponse first = client.request("GET", "/orders/1");
  ASSERT_EQ(first.status, 200) << first.error;
  ASSERT_TRUE(client.send_raw("GET /orders/1 HTTP/1.1\r\nHost: gw\r\nNo colon here\r\n\r\n"));
  HttpResponse refused = client.read_response();
  expect_gateway_error(refused, 400, Then::closes);
  // An id of its own, not the previous request's.
  EXPECT_TRUE(looks_like_uuid(refused.header("X-Request-Id"))) << refused.header("X-Request-Id");
  EXPECT_NE(refused.header("X-Request-Id"), first.header("X-Request-Id"));
  // An id sent with a malformed request is still the one answered with, when it was read.
  HttpClient second = gateway.client();
  ASSERT_TRUE(
      second.send_raw("GET /orders/%zz HTTP/1.1\r\nHost: gw\r\nX-Request-Id: bad-1\r\n\r\n"));
  HttpResponse r = second.read_response();
  expect_gateway_error(r, 400, Then::stays_open);
  EXPECT_EQ(r.header("X-Request-Id"), "bad-1");
  // Only the good request reached the backend.
  EXPECT_EQ(backend.requests_seen(), "GET /orders/1\nGET /_test/requests\n");
}

TEST(GatewayErrors, NoRouteIs404AndTheConnectionGoesOn) {
  SampleBackend backend("v1");
  GatewayServer gateway(service("orders", "/orders", {backend.address()}));
  HttpClient client = gateway.client();
  expect_gateway_error(client.request("GET", "/payments/1"), 404, Then::stays_open);
  expect_gateway_error(client.request("GET", "/ordersx"), 404, Then::stays_open);
  // With a body the gateway did not read, it cannot go on: it closes.
  expect_gateway_error(client.request("POST", "/payments/1", {}, "some body"), 404, Then::closes);
  HttpClient again = gateway.client();
  EXPECT_EQ(again.request("GET", "/orders/1").status, 200);
}

TEST(GatewayErrors, BodyOverMaxBodyBytesIs413WithContentLengthAndChunked) {
  SampleBackend backend("v1");
  GatewaySettings settings;
  settings.max_body_bytes = 1000;
  GatewayServer gateway(service("orders", "/orders", {backend.address()}), settings);

  // Exactly the limit passes.
  HttpClient client = gateway.client();
  HttpResponse r = client.request("POST", "/orders/_test/echo", {}, std::string(1000, 'x'));
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body.size(), 1000u);

  // A Content-Length over it is refused at once, before anything is forwarded.
  client = gateway.client();
  r = client.request("POST", "/orders/too-long", {}, std::string(1001, 'x'));
  expect_gateway_error(r, 413, Then::closes);
  EXPECT_THAT(backend.requests_seen(), Not(HasSubstr("/orders/too-long")));

  // A chunked body as soon as it passes the limit (the backend answers once it has read
  // the whole body, so the answer is still the gateway's to give).
  client = gateway.client();
  r = client.request("POST", "/orders/upload", {{"Transfer-Encoding", "chunked"}},
                     encode_chunked(std::string(1500, 'y'), 600));
  expect_gateway_error(r, 413, Then::closes);
  // ... also in many small chunks.
  client = gateway.client();
  r = client.request("POST", "/orders/upload", {{"Transfer-Encoding", "chunked"}},
                     encode_chunked(std::string(1001, 'z'), 7));
  expect_gateway_error(r, 413, Then::closes);
  EXPECT_EQ(gateway.client().request("GET", "/orders/ok").status, 200);
}

TEST(GatewayErrors, HeadersOverMaxHeaderBytesAre431) {
  SampleBackend backend("v1");
  GatewaySettings settings;
  settings.max_header_bytes = 2048;
  GatewayServer gateway(service("orders", "/orders", {backend.address()}), settings);
  HttpClient client = gateway.client();
  EXPECT_EQ(client.request("GET", "/orders/1", {{"X-Fill", std::string(1500, 'a')}}).status, 200);
  client = gateway.client();
  expect_gateway_error(client.request("GET", "/orders/1", {{"X-Fill", std::string(3000, 'a')}}),
                       431, Then::closes);
  client = gateway.client();
  HeaderFields many;
  for (int i = 0; i < 200; ++i)
    many.emplace_back("X-Many-" + std::to_string(i), "v");
  expect_gateway_error(client.request("GET", "/orders/1", many), 431, Then::closes);
  client = gateway.client();
  expect_gateway_error(client.request("GET", "/orders/" + std::string(3000, 'p')), 431,
                       Then::closes);
}

TEST(GatewayErrors, UpstreamRefusedResetOrInvalidIs502) {
  SampleBackend backend("v1");
  SampleBackend doomed("gone");
  const std::string dead_address = doomed.address();
  doomed.kill();  // nothing listens on its port any more
  GatewayServer gateway(service("orders", "/orders", {backend.address()}) +
                        service("dead", "/dead", {dead_address}));
  HttpClient client = gateway.client();

  HttpResponse r = client.request("GET", "/dead/1");
  expect_gateway_error(r, 502, Then::either);
  EXPECT_EQ(r.header("X-Glidepath-Version"), "v1");

  // The client's connection is not to blame for the upstream's failures.
  client = gateway.client();
  r = client.request("GET", "/orders/_test/reset");
  expect_gateway_error(r, 502, Then::stays_open);
  EXPECT_EQ(r.header("X-Glidepath-Version"), "v1");
  r = client.request("GET", "/orders/_test/garbage");
  expect_gateway_error(r, 502, Then::stays_open);

  // The same upstream serves the next request as ever.
  r = client.request("GET", "/orders/fine");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.header("X-Glidepath-Version"), "v1");
}

TEST(GatewayErrors, SlowUpstreamIs504AfterRequestTimeout) {
  SampleBackend backend("v1");
  GatewaySettings settings;
  settings.request_timeout = "1s";
  GatewayServer gateway(service("orders", "/orders", {backend.address()}), settings);
  HttpClient client = gateway.client();
  const auto start = Clock::now();
  HttpResponse r = client.request("GET", "/orders/_test/sleep/3000", {}, {}, 10s);
  const auto took = Clock::now() - start;
  expect_gateway_error(r, 504, Then::stays_open);
  EXPECT_EQ(r.header("X-Glidepath-Version"), "v1");
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 2900ms);
  // Within the timeout is fine, on the same connection.
  r = client.request("GET", "/orders/_test/sleep/100");
  EXPECT_EQ(r.status, 200) << r.error;
}

TEST(GatewayErrors, HalfSentRequestGets408AfterHeaderTimeoutWithoutBlockingOthers) {
  SampleBackend backend("v1");
  GatewaySettings settings;
  settings.header_timeout = "1s";
  GatewayServer gateway(service("orders", "/orders", {backend.address()}), settings);
  HttpClient stalled = gateway.client();
  const auto start = Clock::now();
  ASSERT_TRUE(stalled.send_raw("GET /orders/1 HTTP/1.1\r\nHost: gw\r\nX-Part"));

  // The one worker goes on serving others meanwhile.
  HttpClient other = gateway.client();
  for (int i = 0; i < 5; ++i) {
    HttpResponse r = other.request("GET", "/orders/other");
    ASSERT_EQ(r.status, 200) << r.error;
  }
  EXPECT_LT(Clock::now() - start, 900ms);

  HttpResponse r = stalled.read_response(5s);
  const auto took = Clock::now() - start;
  expect_gateway_error(r, 408, Then::closes);
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 3s);
  EXPECT_THAT(backend.requests_seen(), Not(HasSubstr("GET /orders/1\n")));
}

TEST(GatewayErrors, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  SampleBackend backend("v1");
  GatewaySettings settings;
  settings.idle_timeout = "1s";
  GatewayServer gateway(service("orders", "/orders", {backend.address()}), settings);
  HttpClient client = gateway.client();
  HttpResponse r = client.request("GET", "/orders/1");
  ASSERT_EQ(r.status, 200) << r.error;
  ASSERT_TRUE(r.keep_alive);
  const auto start = Clock::now();
  RawRead rest = client.read_all_until_close(5s);
  const auto took = Clock::now() - start;
  EXPECT_TRUE(rest.closed);
  EXPECT_FALSE(rest.timed_out);
  EXPECT_EQ(rest.data, "");  // closed quietly: no response was owed
  EXPECT_GE(took, 800ms);
  EXPECT_LT(took, 3s);
}

TEST(GatewayErrors, RoundRobinSkipsAnUpstreamThatRefusesConnections) {
  SampleBackend a("a");
  SampleBackend b("b");
  SampleBackend doomed("gone");
  const std::string dead_address = doomed.address();
  doomed.kill();
  GatewayServer gateway(service("orders", "/orders", {a.address(), dead_address, b.address()}) +
                        service("pair", "/pair", {dead_address, a.address()}));
  HttpClient client = gateway.client();
  int served_by_a = 0;
  int served_by_b = 0;
  for (int i = 0; i < 30; ++i) {
    HttpResponse r = client.request("GET", "/orders/" + std::to_string(i));
    ASSERT_EQ(r.status, 200) << i << ": " << r.error;
    served_by_a += r.header("X-Backend-Version") == "a";
    served_by_b += r.header("X-Backend-Version") == "b";
  }
  EXPECT_EQ(served_by_a + served_by_b, 30);
  EXPECT_GE(served_by_a, 5);
  EXPECT_GE(served_by_b, 5);
  for (int i = 0; i < 10; ++i) {
    HttpResponse r = client.request("GET", "/pair/" + std::to_string(i));
    ASSERT_EQ(r.status, 200) << i << ": " << r.error;
    EXPECT_EQ(r.header("X-Backend-Version"), "a");
  }
}

TEST(GatewayErrors, GatewayMade502And504CountAsTheVersionsServerErrors) {
  SampleBackend backend("v1");
  GatewaySettings settings;
  settings.request_timeout = "1s";
  GatewayServer gateway(service("orders", "/orders", {backend.address()}), settings);
  const std::string five_xx =
      R"(glidepath_requests_total{service="orders",version="v1",code="5xx"})";
  const std::string two_xx =
      R"(glidepath_requests_total{service="orders",version="v1",code="2xx"})";
  const double before = prometheus_value(gateway.metrics_text(), five_xx).value_or(0);

  EXPECT_EQ(gateway.client().request("GET", "/orders/ok").status, 200);
  EXPECT_EQ(gateway.client().request("GET", "/orders/_test/garbage").status, 502);
  EXPECT_EQ(gateway.client().request("GET", "/orders/_test/reset").status, 502);
  EXPECT_EQ(gateway.client().request("GET", "/orders/_test/sleep/2000", {}, {}, 10s).status, 504);

  // The collector merges the workers' windows once a second: poll, bounded.
  const auto deadline = Clock::now() + 8s;
  std::string text;
  while (true) {
    text = gateway.metrics_text();
    if (prometheus_value(text, five_xx).value_or(0) >= before + 3) break;
    ASSERT_LT(Clock::now(), deadline) << "5xx never counted:\n" << text;
    // Each /metrics call is a full round trip; no sleep needed to bound the rate, but do
    // not spin the admin API flat out either.
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(prometheus_value(text, five_xx).value_or(0), before + 3) << text;
  EXPECT_GE(prometheus_value(text, two_xx).value_or(0), 1) << text;
}

}  // namespace
}  // namespace glidepath::testing
