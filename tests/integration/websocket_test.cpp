// WebSocket through the real binary (issue 14): `glidepath serve` in front of sample
// backends whose /_test/ws echoes, and Boost.Beast's WebSocket client on the other side.
// The upgrade is routed like any request, the tunnel copies bytes both ways, and it ends
// when a side closes, when idle, when its version loses its traffic (after the drain) and
// last in a graceful stop. Every wait is bounded; none is a sleep.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "deployment_harness.h"
#include "support/gateway_harness.h"
#include "support/process.h"
#include "support/websocket_client.h"

namespace glidepath::testing {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// One service on /orders with v1 live and, when given, v2 beside it.
std::string orders(const SampleBackend& v1, const SampleBackend* v2 = nullptr,
                   const std::string& extra = "") {
  std::string yaml = "  - name: orders\n    match: {path_prefix: /orders}\n" + extra +
                     "    versions:\n      - name: v1\n        upstreams: [" + v1.address() + "]\n";
  if (v2 != nullptr) yaml += "      - name: v2\n        upstreams: [" + v2->address() + "]\n";
  return yaml + "    live: v1\n";
}

// Sends `data` and expects it back unchanged, of the same kind.
void expect_echo(WebSocketClient& ws, const std::string& data, bool text = true) {
  ASSERT_TRUE(ws.send(data, text)) << "sending " << data.size() << " bytes";
  const WsMessage reply = ws.receive(10s);
  ASSERT_TRUE(reply.ok) << reply.error;
  EXPECT_EQ(reply.text, text);
  EXPECT_EQ(reply.data.size(), data.size());
  EXPECT_TRUE(reply.data == data) << "the echo differs from what was sent";
}

// The version the backend behind the tunnel says it is.
std::string version_behind(WebSocketClient& ws) {
  if (!ws.send("version")) return "(send failed)";
  const WsMessage reply = ws.receive(10s);
  return reply.ok ? reply.data : "(" + reply.error + ")";
}

// Polls /metrics until `series` has `value` (bounded); the last value seen otherwise.
std::optional<double> wait_for_metric(uint16_t admin_port, const std::string& series, double value,
                                      std::chrono::milliseconds timeout = 10s) {
  const auto deadline = Clock::now() + timeout;
  std::optional<double> seen;
  do {
    HttpResponse r = HttpClient("127.0.0.1", admin_port).request("GET", "/metrics");
    seen = prometheus_value(r.body, series);
    if (seen == value) return seen;
    std::this_thread::sleep_for(50ms);  // paces the polling; the deadline bounds it
  } while (Clock::now() < deadline);
  return seen;
}

HeaderFields upgrade_headers() {
  return {{"Upgrade", "websocket"},
          {"Connection", "Upgrade"},
          {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
          {"Sec-WebSocket-Version", "13"}};
}

// ---- the tunnel ---------------------------------------------------------------------------

TEST(WebSocket, EchoesTextAndBinaryThroughTheGatewayAndClosesCleanly) {
  SampleBackend v1("v1");
  GatewayServer gateway(orders(v1));
  WebSocketClient ws(gateway.port());
  const WsHandshake handshake = ws.handshake("/orders/_test/ws", {{"X-Request-Id", "ws-1"}});
  ASSERT_TRUE(handshake.ok) << handshake.status << " " << handshake.error << handshake.body;
  EXPECT_EQ(handshake.status, 101);
  EXPECT_EQ(handshake.headers.value("X-Glidepath-Version"), "v1");
  EXPECT_EQ(handshake.headers.value("X-Backend-Version"), "v1");
  EXPECT_EQ(handshake.headers.value("X-Request-Id"), "ws-1");

  expect_echo(ws, "hello");
  expect_echo(ws, test_data(1000), /*text=*/false);
  // Larger than both of the gateway's 16 KiB buffers, many times over.
  expect_echo(ws, test_data(1 << 20), /*text=*/false);
  // Many messages, several in flight at once.
  for (int round = 0; round < 50; ++round) {
    std::vector<std::string> sent;
    for (int i = 0; i < 10; ++i) {
      sent.push_back("message " + std::to_string(round) + "." + std::to_string(i) +
                     std::string(static_cast<size_t>(round * 37 + i), 'x'));
      ASSERT_TRUE(ws.send(sent.back()));
    }
    for (const std::string& expected : sent) {
      const WsMessage reply = ws.receive(10s);
      ASSERT_TRUE(reply.ok) << reply.error;
      ASSERT_EQ(reply.data, expected);
    }
  }
  EXPECT_EQ(version_behind(ws), "v1");

  // One tunnel open; the upgrade counted once, as a 1xx of v1.
  EXPECT_EQ(wait_for_metric(gateway.admin_port(),
                            R"(glidepath_websocket_tunnels{service="orders",version="v1"})", 1),
            1);
  EXPECT_EQ(
      wait_for_metric(gateway.admin_port(),
                      R"(glidepath_requests_total{service="orders",version="v1",code="1xx"})", 1),
      1);
  // The closing handshake goes through: the echo answers the close frame and ends the
  // connection, and the gateway passes that end on.
  EXPECT_TRUE(ws.close());
  EXPECT_EQ(wait_for_metric(gateway.admin_port(),
                            R"(glidepath_websocket_tunnels{service="orders",version="v1"})", 0),
            0);
  EXPECT_EQ(
      prometheus_value(gateway.metrics_text(),
                       R"(glidepath_requests_total{service="orders",version="v1",code="5xx"})"),
      0);
}

TEST(WebSocket, ClientFramesSentWithTheUpgradeReachTheUpstream) {
  // A client may send its first frame right behind the request, before the 101: those bytes
  // wait in the gateway's buffer and go up first. Raw bytes: a masked text frame "hi".
  SampleBackend v1("v1");
  GatewayServer gateway(orders(v1));
  HttpClient client = gateway.client();
  std::string request = "GET /orders/_test/ws HTTP/1.1\r\nHost: gw\r\n";
  for (const auto& [name, value] : upgrade_headers())
    request += name + ": " + value + "\r\n";
  request += "\r\n";
  const std::string frame = {'\x81', '\x82', '\x01', '\x02', '\x03', '\x04', 'h' ^ 1, 'i' ^ 2};
  ASSERT_TRUE(client.send_raw(request + frame));
  // The 101, then the echo: an unmasked text frame "hi" (read raw: they may come together).
  std::string received;
  size_t head_end = std::string::npos;
  const auto deadline = Clock::now() + 10s;
  while ((head_end == std::string::npos || received.size() < head_end + 4 + 4) &&
         Clock::now() < deadline) {
    pollfd p{client.fd(), POLLIN, 0};
    if (poll(&p, 1, 500) != 1) continue;
    char buffer[4096];
    const ssize_t n = ::recv(client.fd(), buffer, sizeof buffer, 0);
    if (n <= 0) break;
    received.append(buffer, static_cast<size_t>(n));
    head_end = received.find("\r\n\r\n");
  }
  ASSERT_NE(head_end, std::string::npos) << received;
  const std::string head = received.substr(0, head_end + 2);
  EXPECT_THAT(head, ::testing::StartsWith("HTTP/1.1 101 Switching Protocols\r\n"));
  EXPECT_THAT(head, HasSubstr("\r\nUpgrade: websocket\r\n"));
  EXPECT_THAT(head, HasSubstr("\r\nConnection: Upgrade\r\n"));
  EXPECT_THAT(head, HasSubstr("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
  EXPECT_EQ(received.substr(head_end + 4), std::string("\x81\x02hi", 4));
}

// ---- routing ------------------------------------------------------------------------------

TEST(WebSocket, TheVersionIsChosenLikeAnyRequest) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  GatewayServer gateway(orders(v1, &v2, "    stickiness: header:X-User\n    preview: anyone\n") +
                        "    traffic: {v1: 50, v2: 50}\n");

  // A pin, as the preview rules allow it.
  WebSocketClient pinned(gateway.port());
  const WsHandshake pin = pinned.handshake("/orders/_test/ws", {{"X-Glidepath-Version", "v2"}});
  ASSERT_TRUE(pin.ok) << pin.status << " " << pin.error;
  EXPECT_EQ(pin.headers.value("X-Glidepath-Version"), "v2");
  EXPECT_EQ(version_behind(pinned), "v2");

  // Stickiness: a user's tunnel goes where the user's requests go.
  std::set<std::string> seen;
  HttpClient http = gateway.client();
  for (int user = 0; user < 12; ++user) {
    const std::string id = "user-" + std::to_string(user);
    const HttpResponse r = http.request("GET", "/orders/1", {{"X-User", id}});
    ASSERT_EQ(r.status, 200) << r.error;
    WebSocketClient ws(gateway.port());
    const WsHandshake h = ws.handshake("/orders/_test/ws", {{"X-User", id}});
    ASSERT_TRUE(h.ok) << h.error;
    EXPECT_EQ(h.headers.value("X-Glidepath-Version"), r.header("X-Glidepath-Version")) << id;
    EXPECT_EQ(version_behind(ws), r.header("X-Glidepath-Version")) << id;
    seen.insert(r.header("X-Glidepath-Version"));
  }
  EXPECT_EQ(seen.size(), 2u) << "12 users at 50/50 all landed on one version";

  // A pin to a version that does not exist is refused like any request's.
  WebSocketClient unknown(gateway.port());
  const WsHandshake refused =
      unknown.handshake("/orders/_test/ws", {{"X-Glidepath-Version", "v9"}});
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.status, 400);
}

TEST(WebSocket, AnUpgradeTheUpstreamDeclinesIsAnOrdinaryResponse) {
  SampleBackend v1("v1");
  GatewayServer gateway(orders(v1));
  HttpClient client = gateway.client();
  HttpResponse r = client.request("GET", "/orders/_test/status/403", upgrade_headers());
  ASSERT_EQ(r.status, 403) << r.error;
  EXPECT_EQ(r.header("X-Backend-Version"), "v1");
  EXPECT_EQ(r.header("X-Glidepath-Version"), "v1");
  EXPECT_FALSE(r.headers.contains("Upgrade"));
  // The connection goes on with HTTP.
  r = client.request("GET", "/orders/1");
  EXPECT_EQ(r.status, 200) << r.error;
  // Not an upgrade at all: the echo asks for one.
  r = client.request("GET", "/orders/_test/ws");
  EXPECT_EQ(r.status, 426) << r.error;

  // Through Beast: refused, with the upstream's answer.
  WebSocketClient ws(gateway.port());
  const WsHandshake declined = ws.handshake("/orders/_test/status/404");
  EXPECT_FALSE(declined.ok);
  EXPECT_EQ(declined.status, 404);
  EXPECT_THAT(declined.body, HasSubstr("\"version\":\"v1\""));

  // Other upgrades and CONNECT keep their answer.
  HttpClient other = gateway.client();
  r = other.request("GET", "/orders/1",
                    {{"Upgrade", "h2c"}, {"Connection", "Upgrade, HTTP2-Settings"}});
  EXPECT_EQ(r.status, 501) << r.error;
  HttpClient connect = gateway.client();
  ASSERT_TRUE(
      connect.send_raw("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"));
  EXPECT_EQ(connect.read_response().status, 501);
  // Declined upgrades are ordinary requests in the metrics: no tunnel was opened.
  EXPECT_EQ(prometheus_value(gateway.metrics_text(),
                             R"(glidepath_websocket_tunnels{service="orders",version="v1"})"),
            0);
}

// ---- ending -------------------------------------------------------------------------------

TEST(WebSocket, ASilentTunnelIsClosedAfterTheIdleTimeout) {
  SampleBackend v1("v1");
  GatewaySettings settings;
  settings.websocket_idle_timeout = "1s";
  GatewayServer gateway(orders(v1), settings);

  WebSocketClient silent(gateway.port());
  ASSERT_TRUE(silent.handshake("/orders/_test/ws").ok);
  WebSocketClient busy(gateway.port());
  ASSERT_TRUE(busy.handshake("/orders/_test/ws").ok);
  const auto opened = Clock::now();
  // Traffic keeps a tunnel open past the timeout: a message every 300 ms for 2.4 s.
  for (int i = 0; i < 8; ++i) {
    expect_echo(busy, "ping " + std::to_string(i));
    std::this_thread::sleep_for(300ms);  // pacing, not synchronisation
  }
  EXPECT_TRUE(silent.wait_closed(10s)) << "the silent tunnel stayed open";
  EXPECT_GE(Clock::now() - opened, 900ms);
  expect_echo(busy, "still here");
}

TEST(WebSocket, ARollbackClosesTunnelsToTheCanaryAfterTheDrain) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  ServeProcess serve(one_service(v1.address(), "    preview: anyone\n"), "",
                     "  websocket_drain: 2s\n");
  const Json created =
      start_deployment(serve, "orders",
                       {{"version", "v2"},
                        {"upstreams", {v2.address()}},
                        {"steps", Json::array({{{"weight", 50}}, {{"pause", Json::object()}}})}});
  const std::string id = created["id"];
  wait_for(
      serve, id, [](const Json& d) { return d["canary_weight"] == 50; }, 10s, "50%");

  WebSocketClient canary(serve.port());
  const WsHandshake to_canary =
      canary.handshake("/orders/_test/ws", {{"X-Glidepath-Version", "v2"}});
  ASSERT_TRUE(to_canary.ok) << to_canary.status << " " << to_canary.error << to_canary.body;
  ASSERT_EQ(to_canary.headers.value("X-Glidepath-Version"), "v2");
  WebSocketClient stable(serve.port());
  const WsHandshake to_stable =
      stable.handshake("/orders/_test/ws", {{"X-Glidepath-Version", "v1"}});
  ASSERT_TRUE(to_stable.ok) << to_stable.error;
  expect_echo(canary, "before");
  expect_echo(stable, "before");

  const AdminReply aborted = serve.admin("POST", "/v1/deployments/" + id + "/abort");
  ASSERT_EQ(aborted.status, 200) << aborted.body;
  const auto rolled_back_at = Clock::now();
  ASSERT_EQ(wait_until_finished(serve, id)["state"], "rolled_back");
  // The drain has begun, not ended: the canary's tunnel still carries messages.
  expect_echo(canary, "draining");
  EXPECT_TRUE(canary.wait_closed(15s)) << "the canary's tunnel outlived the drain";
  EXPECT_GE(Clock::now() - rolled_back_at, 1500ms);
  expect_echo(stable, "after");

  // The event says how many were closed, in the deployment's log.
  HttpClient events("127.0.0.1", serve.admin_port());
  ASSERT_TRUE(events.send_raw("GET /v1/events?since=0&deployment=" + id +
                              " HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"));
  const std::string wanted = "closed 1 WebSocket tunnel to orders v2 after the rollback";
  std::string received;
  const auto deadline = Clock::now() + 15s;
  while (received.find(wanted) == std::string::npos && Clock::now() < deadline) {
    pollfd p{events.fd(), POLLIN, 0};
    if (poll(&p, 1, 500) != 1) continue;
    char buffer[4096];
    const ssize_t n = ::recv(events.fd(), buffer, sizeof buffer, 0);
    if (n <= 0) break;
    received.append(buffer, static_cast<size_t>(n));
  }
  EXPECT_THAT(received, HasSubstr(wanted));
  EXPECT_THAT(received, HasSubstr("event: websocket\n"));
  EXPECT_EQ(wait_for_metric(serve.admin_port(),
                            R"(glidepath_websocket_tunnels{service="orders",version="v2"})", 0),
            0);
  EXPECT_EQ(wait_for_metric(serve.admin_port(),
                            R"(glidepath_websocket_tunnels{service="orders",version="v1"})", 1),
            1);
}

TEST(WebSocket, AGracefulStopClosesTunnelsLast) {
  SampleBackend v1("v1");
  GatewayServer gateway(orders(v1));
  WebSocketClient ws(gateway.port());
  ASSERT_TRUE(ws.handshake("/orders/_test/ws").ok);
  expect_echo(ws, "before");
  HttpClient slow = gateway.client();
  ASSERT_TRUE(slow.send_raw("GET /orders/_test/sleep/1000 HTTP/1.1\r\nHost: gw\r\n\r\n"));
  const auto seen_deadline = Clock::now() + 10s;
  while (v1.requests_seen().find("/orders/_test/sleep/1000") == std::string::npos) {
    ASSERT_LT(Clock::now(), seen_deadline) << "the slow request never reached the backend";
  }

  gateway.process().send_signal(SIGTERM);
  const auto stopping_at = Clock::now();
  ASSERT_TRUE(gateway.process().wait_for_line("received SIGTERM", 10s));
  // The HTTP exchange in flight finishes first; the tunnel still works after it.
  const HttpResponse r = slow.read_response(10s);
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.header("Connection"), "close");
  expect_echo(ws, "while stopping");
  // Then, at the end of the grace period (5 s), the tunnel goes and the process exits.
  EXPECT_TRUE(ws.wait_closed(15s));
  EXPECT_GE(Clock::now() - stopping_at, 4s);
  EXPECT_EQ(gateway.process().wait_for_exit(15s), 0) << gateway.process().err();
  EXPECT_EQ(gateway.stop(), 0);
}

// ---- TLS ----------------------------------------------------------------------------------

TEST(WebSocket, ATlsListenerPassesUpgradesTheSameWay) {
  TempDir dir;
  const ProcessResult made =
      run_process({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                   "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                   "-keyout", dir.path() + "/key.pem", "-out", dir.path() + "/cert.pem"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  SampleBackend v1("v1");
  GatewaySettings settings;
  settings.more_yaml =
      "  listeners:\n    - listen: 127.0.0.1:0\n      tls:\n        certificates:\n"
      "          - {cert: " +
      dir.path() + "/cert.pem, key: " + dir.path() + "/key.pem}\n";
  GatewayServer gateway(orders(v1), settings);

  WebSocketClient ws(gateway.port(1), /*tls=*/true);
  const WsHandshake handshake = ws.handshake("/orders/_test/ws");
  ASSERT_TRUE(handshake.ok) << handshake.status << " " << handshake.error;
  EXPECT_EQ(handshake.headers.value("X-Glidepath-Version"), "v1");
  expect_echo(ws, "over TLS");
  expect_echo(ws, test_data(300'000), /*text=*/false);
  EXPECT_TRUE(ws.close());
}

}  // namespace
}  // namespace glidepath::testing
