// Malformed and hostile requests, written raw on a fresh connection each, through the
// real `glidepath serve`: each gets its expected status with the JSON error body, and the
// connection is closed after it. The requests that try to smuggle carry a second request
// in their body (RFC 9112 11.2); the backend's own log proves it never arrived, and the
// gateway serves normally afterwards.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "support/gateway_harness.h"

namespace glidepath::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;
using namespace std::string_literals;

// What a front end that disagrees with the gateway on the framing would see as the next
// request on the connection.
const std::string kSmuggled = "GET /smuggled HTTP/1.1\r\nHost: gw.test\r\n\r\n";

struct HostileCase {
  std::string name;
  std::string bytes;
  int status;
  bool closes = true;
};

std::string post(const std::string& headers, const std::string& body) {
  return "POST /orders/x HTTP/1.1\r\nHost: gw.test\r\n" + headers + "\r\n" + body;
}

std::vector<HostileCase> hostile_cases() {
  const std::string chunked_end = "0\r\n\r\n";
  // The smuggled request sits where a parser trusting the other header would look.
  const std::string cl_te_body = chunked_end + kSmuggled;  // "0\r\n\r\n" + request
  // ... or inside a chunk, for a parser that ignores the Transfer-Encoding.
  char chunk_size[16];
  std::snprintf(chunk_size, sizeof chunk_size, "%zx\r\n", kSmuggled.size());
  const std::string te_cl_body = chunk_size + kSmuggled + "\r\n" + chunked_end;
  const std::string cl = "Content-Length: " + std::to_string(cl_te_body.size()) + "\r\n";
  return {
      // ---- request smuggling: ambiguous length (RFC 9112 6.3) ----
      {"CL then TE", post(cl + "Transfer-Encoding: chunked\r\n", cl_te_body), 400},
      {"TE then CL", post("Transfer-Encoding: chunked\r\n" + cl, cl_te_body), 400},
      {"TE with trailing space and CL", post(cl + "Transfer-Encoding: chunked \r\n", cl_te_body),
       400},
      {"TE xchunked", post("Transfer-Encoding: xchunked\r\n", te_cl_body), 400},
      {"TE xchunked and CL", post(cl + "Transfer-Encoding: xchunked\r\n", cl_te_body), 400},
      {"TE chunked, identity", post("Transfer-Encoding: chunked, identity\r\n", te_cl_body), 400},
      {"TE with a tab before the colon", post("Transfer-Encoding\t: chunked\r\n", te_cl_body), 400},
      {"TE with a tab value and CL", post(cl + "Transfer-Encoding:\tchunked\r\n", cl_te_body), 400},
      {"duplicate TE lines",
       post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", te_cl_body), 400},
      // "identity" is no transfer coding (RFC 9112 removed it): one not understood, 501.
      {"TE identity then chunked line",
       post("Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n", te_cl_body), 501},
      {"TE in HTTP/1.0",
       "POST /orders/x HTTP/1.0\r\nHost: gw.test\r\nTransfer-Encoding: chunked\r\n\r\n" +
           te_cl_body,
       400},
      {"two different CLs",
       post("Content-Length: 0\r\nContent-Length: " + std::to_string(kSmuggled.size()) + "\r\n",
            kSmuggled),
       400},
      {"CL list 0,41", post("Content-Length: 0,41\r\n", kSmuggled), 400},
      {"negative CL", post("Content-Length: -1\r\n", kSmuggled), 400},
      {"CL with a plus sign", post("Content-Length: +0\r\n", kSmuggled), 400},
      {"CL that overflows 64 bits", post("Content-Length: 99999999999999999999999\r\n", kSmuggled),
       400},
      {"huge CL", post("Content-Length: 1000000000000\r\n", kSmuggled), 413},
      {"chunk size not hex", post("Transfer-Encoding: chunked\r\n", "zz\r\n" + kSmuggled), 400},
      {"negative chunk size", post("Transfer-Encoding: chunked\r\n", "-1\r\n" + kSmuggled), 400},
      {"chunk size overflow",
       post("Transfer-Encoding: chunked\r\n", "10000000000000001\r\nx\r\n0\r\n\r\n" + kSmuggled),
       400},
      {"chunk longer than its size",
       post("Transfer-Encoding: chunked\r\n", "3\r\nabcdef\r\n0\r\n\r\n" + kSmuggled), 400},
      {"chunk size with bare LF",
       post("Transfer-Encoding: chunked\r\n", "3\nabc\r\n0\r\n\r\n" + kSmuggled), 400},
      // ---- header injection and bad syntax (RFC 9112 2.2, 5) ----
      {"bare CR in a header value",
       "GET /orders/x HTTP/1.1\r\nHost: gw.test\r\nX-A: b\rX-Injected: 1\r\n\r\n", 400},
      {"bare LF ends a header line",
       "GET /orders/x HTTP/1.1\r\nHost: gw.test\r\nX-A: b\nContent-Length: " +
           std::to_string(kSmuggled.size()) + "\r\n\r\n" + kSmuggled,
       400},
      {"NUL in a header value", "GET /orders/x HTTP/1.1\r\nHost: gw.test\r\nX-A: b\0c\r\n\r\n"s,
       400},
      {"NUL in the target", "GET /orders/\0x HTTP/1.1\r\nHost: gw.test\r\n\r\n"s, 400},
      {"obs-fold continuation line",
       "GET /orders/x HTTP/1.1\r\nHost: gw.test\r\nX-A: b\r\n c\r\n\r\n", 400},
      {"obs-fold hiding a TE",
       post("X-A: b\r\n Transfer-Encoding: chunked\r\nContent-Length: 0\r\n", kSmuggled), 400},
      {"space before the colon", "GET /orders/x HTTP/1.1\r\nHost : gw.test\r\n\r\n", 400},
      {"space before the first header", "GET /orders/x HTTP/1.1\r\n Host: gw.test\r\n\r\n", 400},
      {"invalid character in a header name",
       "GET /orders/x HTTP/1.1\r\nHost: gw.test\r\nX(A): b\r\n\r\n", 400},
      {"empty header name", "GET /orders/x HTTP/1.1\r\nHost: gw.test\r\n: b\r\n\r\n", 400},
      // ---- request line ----
      {"HTTP/2.0", "GET /orders/x HTTP/2.0\r\nHost: gw.test\r\n\r\n", 505},
      {"HTTP/1.2", "GET /orders/x HTTP/1.2\r\nHost: gw.test\r\n\r\n", 505},
      {"HTTP/0.9 style", "GET /orders/x\r\n\r\n", 505},
      {"lower-case protocol name", "GET /orders/x http/1.1\r\nHost: gw.test\r\n\r\n", 400},
      {"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
      {"invalid method characters", "G(T /orders/x HTTP/1.1\r\nHost: gw.test\r\n\r\n", 400},
      {"tab between method and target", "GET\t/orders/x HTTP/1.1\r\nHost: gw.test\r\n\r\n", 400},
      {"target not origin-form", "GET orders/x HTTP/1.1\r\nHost: gw.test\r\n\r\n", 400},
      {"fragment in the target", "GET /orders/x#y HTTP/1.1\r\nHost: gw.test\r\n\r\n", 400},
      {"control character in the target", "GET /orders/\x01 HTTP/1.1\r\nHost: gw.test\r\n\r\n",
       400},
      {"percent-encoded NUL",
       "GET /orders/%00 HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n", 400},
      {"very long request line",
       "GET /orders/" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: gw.test\r\n\r\n", 431},
      // ---- hosts ----
      {"missing Host", "GET /orders/x HTTP/1.1\r\n\r\n", 400},
      {"duplicate Host", "GET /orders/x HTTP/1.1\r\nHost: gw.test\r\nHost: evil.test\r\n\r\n", 400},
      {"invalid Host", "GET /orders/x HTTP/1.1\r\nHost: gw.test/evil\r\n\r\n", 400},
      {"absolute-form naming another host",
       "POST http://evil.test/orders/x HTTP/1.1\r\nHost: gw.test\r\nContent-Length: " +
           std::to_string(kSmuggled.size()) + "\r\n\r\n" + kSmuggled,
       404},
      {"oversize header",
       "GET /orders/x HTTP/1.1\r\nHost: gw.test\r\nX-Big: " + std::string(20000, 'b') + "\r\n\r\n",
       431},
      // ---- tunnels ----
      {"CONNECT", "CONNECT gw.test:443 HTTP/1.1\r\nHost: gw.test:443\r\n\r\n" + kSmuggled, 501},
      {"Upgrade to a protocol other than websocket",
       "GET /orders/ws HTTP/1.1\r\nHost: gw.test\r\nConnection: Upgrade\r\nUpgrade: irc/6.9\r\n"
       "\r\n" +
           kSmuggled,
       501},
      // A WebSocket upgrade with a body: HTTP here, frames upstream once it switched.
      {"WebSocket upgrade with a body",
       "GET /orders/ws HTTP/1.1\r\nHost: gw.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
       "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
       "Content-Length: " +
           std::to_string(kSmuggled.size()) + "\r\n\r\n" + kSmuggled,
       400},
      {"WebSocket upgrade with POST",
       "POST /orders/ws HTTP/1.1\r\nHost: gw.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
       "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n" +
           kSmuggled,
       400},
  };
}

TEST(GatewayHostile, EveryHostileRequestIsRefusedAndNothingIsSmuggled) {
  SampleBackend backend("v1");
  GatewaySettings settings;
  settings.max_body_bytes = 1024 * 1024;
  GatewayServer gateway(
      "  - name: orders\n"
      "    match: {hosts: [gw.test], path_prefix: /orders}\n"
      "    versions:\n"
      "      - name: v1\n"
      "        upstreams: [" +
          backend.address() +
          "]\n"
          "    live: v1\n",
      settings);

  const std::vector<HostileCase> cases = hostile_cases();
  ASSERT_GE(cases.size(), 25u);
  for (const HostileCase& c : cases) {
    SCOPED_TRACE(c.name);
    HttpClient client = gateway.client();
    // The gateway may answer and close before it has read everything; that is fine.
    client.send_raw(c.bytes, 5s);
    HttpResponse r = client.read_response(5s);
    EXPECT_EQ(r.status, c.status) << r.error << "\n" << r.body;
    if (r.status == 0) continue;
    EXPECT_EQ(r.header("Content-Type"), "application/json");
    const Json body = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(body.is_object()) << r.body;
    EXPECT_TRUE(body.contains("error")) << r.body;
    EXPECT_EQ(body.value("request_id", "?"), r.header("X-Request-Id")) << r.body;
    EXPECT_TRUE(looks_like_uuid(r.header("X-Request-Id"))) << r.header("X-Request-Id");
    if (c.closes) {
      EXPECT_EQ(r.header("Connection"), "close");
      EXPECT_TRUE(r.closed);
      // Nothing after the answer: the smuggled request got no response of its own.
      RawRead rest = client.read_all_until_close(2s);
      EXPECT_TRUE(rest.closed);
      EXPECT_EQ(rest.data, "");
    }
  }

  const std::string seen = backend.requests_seen();
  EXPECT_THAT(seen, Not(HasSubstr("/smuggled"))) << seen;
  EXPECT_THAT(seen, Not(HasSubstr("/orders/ws"))) << seen;

  // Still healthy: ordinary requests, keep-alive, a body.
  HttpClient client = gateway.client();
  HttpResponse r = client.request("GET", "/orders/after", {{"Host", "gw.test"}});
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.header("X-Glidepath-Version"), "v1");
  r = client.request("POST", "/orders/_test/echo", {{"Host", "gw.test"}}, "still fine");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.body, "still fine");
  HttpResponse health = gateway.admin_client().request("GET", "/healthz");
  EXPECT_EQ(health.status, 200) << health.body;
}

// A request line or header block sent slowly, byte by byte, is parsed the same: framing
// checks do not depend on where the reads split the input.
TEST(GatewayHostile, SmugglingIsRefusedWhateverTheReadBoundaries) {
  SampleBackend backend("v1");
  GatewayServer gateway(
      "  - name: orders\n"
      "    match: {path_prefix: /orders}\n"
      "    versions:\n"
      "      - name: v1\n"
      "        upstreams: [" +
      backend.address() +
      "]\n"
      "    live: v1\n");
  const std::string request =
      "POST /orders/x HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 46\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" +
      kSmuggled;
  HttpClient client = gateway.client();
  for (char c : request) {
    if (!client.send_raw(std::string_view(&c, 1))) break;  // answered and closed early
  }
  HttpResponse r = client.read_response(5s);
  ASSERT_EQ(r.status, 400) << r.error;
  EXPECT_TRUE(r.closed);
  EXPECT_THAT(backend.requests_seen(), Not(HasSubstr("/smuggled")));
}

}  // namespace
}  // namespace glidepath::testing
