// TLS listeners through the real binary (issue 14): `glidepath serve` with certificates
// made at test time, and OpenSSL's own client (support/http_client.h) verifying them.
// HTTPS reaches the upstream marked https and splits traffic like HTTP/1.1; a plain and a
// redirecting listener serve beside it; SNI picks the certificate; old protocols are
// refused and counted; tickets resume; certificate files are reloaded for new handshakes
// while open connections go on, a bad pair is refused (degraded, old certificate kept),
// SIGHUP forces a reload, and a reload under load fails nothing.
//
// Every wait is bounded: on a printed line, a response, or a condition polled until a
// deadline (certificate files are checked once a second).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/gateway_harness.h"
#include "tls/support/test_certificates.h"

namespace glidepath::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Polls `condition` every 20 ms until it holds or `timeout` passes; its last answer.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

std::string orders_service(const SampleBackend& backend) {
  return "  - name: orders\n"
         "    match: {path_prefix: /orders}\n"
         "    versions:\n"
         "      - name: v1\n"
         "        upstreams: [" +
         backend.address() +
         "]\n"
         "    live: v1\n";
}

Json json_body(const HttpResponse& r) {
  const Json body = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(body.is_discarded()) << r.body;
  return body;
}

// A CA, and certificates it signs written into a directory of their own.
class Certificates {
 public:
  Certificates() : ca_file_(ca_.write_cert(dir_.path())) {}

  // A certificate for localhost (and 127.0.0.1) whose subject is /CN=`common_name`.
  CertificateFiles localhost(const std::string& common_name, const std::string& file_name) const {
    return ca_.issue_files(localhost_spec(common_name), dir_.path(), file_name);
  }
  PemPair localhost_pair(const std::string& common_name) const {
    return ca_.issue(localhost_spec(common_name));
  }
  CertificateFiles issue(const LeafSpec& spec, const std::string& file_name) const {
    return ca_.issue_files(spec, dir_.path(), file_name);
  }

  // What a verifying client for `server_name` offers.
  TlsOptions client(const std::string& server_name = "localhost") const {
    TlsOptions options;
    options.server_name = server_name;
    options.ca_file = ca_file_;
    return options;
  }
  const std::string& dir() const { return dir_.path(); }

 private:
  static LeafSpec localhost_spec(const std::string& common_name) {
    LeafSpec spec;
    spec.common_name = common_name;
    spec.dns_names = {"localhost"};
    spec.ip_addresses = {"127.0.0.1"};
    return spec;
  }

  TempDir dir_;
  TestCa ca_;
  std::string ca_file_;
};

// A `tls:` block at `indent` spaces with these certificates.
std::string tls_yaml(const std::vector<CertificateFiles>& files, int indent,
                     const std::string& more = "") {
  const std::string pad(static_cast<size_t>(indent), ' ');
  std::string out = pad + "tls:\n" + pad + "  certificates:\n";
  for (const CertificateFiles& f : files)
    out += pad + "    - {cert: " + f.cert + ", key: " + f.key + "}\n";
  return out + more;
}

GatewaySettings with_tls(const CertificateFiles& files, const std::string& more = "",
                         int workers = 1) {
  GatewaySettings settings;
  settings.workers = workers;
  settings.more_yaml = tls_yaml({files}, 2) + more;
  return settings;
}

// The subject of the certificate a new connection to `listener` gets.
std::string subject_of_new_connection(const GatewayServer& gateway, const TlsOptions& options,
                                      size_t listener = 0) {
  HttpClient client = gateway.tls_client(options, listener);
  return client.tls_info().peer_subject;
}

Json healthz(const GatewayServer& gateway) {
  HttpResponse r = gateway.admin_client().request("GET", "/healthz");
  EXPECT_EQ(r.status, 200) << r.error << r.body;
  return json_body(r);
}

double metric(const GatewayServer& gateway, std::string_view series) {
  return prometheus_value(gateway.metrics_text(), series).value_or(-1);
}

// The admin API's event stream from the start (Last-Event-ID: 0), read as it comes.
class EventStream {
 public:
  explicit EventStream(const GatewayServer& gateway) : client_(gateway.admin_client()) {
    EXPECT_TRUE(
        client_.send_raw("GET /v1/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
                         "Last-Event-ID: 0\r\n\r\n"));
  }

  // Reads until `text` has arrived; false on timeout or when the server closed first.
  bool read_until(const std::string& text, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = Clock::now() + timeout;
    while (received.find(text) == std::string::npos) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{client_.fd(), POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) != 1) return false;
      char buffer[4096];
      const ssize_t n = ::recv(client_.fd(), buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      received.append(buffer, static_cast<size_t>(n));
    }
    return true;
  }

  // The data of every event of `type`, parsed.
  std::vector<Json> events(const std::string& type) const {
    std::vector<Json> out;
    const std::string marker = "\nevent: " + type + "\ndata: ";
    for (size_t at = received.find(marker); at != std::string::npos;
         at = received.find(marker, at + 1)) {
      const size_t start = at + marker.size();
      out.push_back(
          Json::parse(received.substr(start, received.find('\n', start) - start), nullptr, false));
    }
    return out;
  }

  std::string received;

 private:
  HttpClient client_;
};

constexpr std::string_view kReloadedLine = "^tls: gateway: certificates reloaded";
constexpr std::string_view kRefusedLine = "^error: gateway: the new certificate was refused";

// ---- serving HTTPS ----------------------------------------------------------------------

TEST(GatewayTls, HttpsRequestsReachTheUpstreamMarkedHttps) {
  SampleBackend backend("v1");
  Certificates certs;
  GatewayServer gateway(orders_service(backend), with_tls(certs.localhost("localhost", "site")));
  EXPECT_THAT(gateway.process().out(), HasSubstr(" (TLS)\n"));

  HttpClient client = gateway.tls_client(certs.client());
  const TlsInfo info = client.tls_info();
  EXPECT_EQ(info.version, "TLSv1.3");
  EXPECT_EQ(info.alpn, "http/1.1");
  EXPECT_EQ(info.peer_subject, "/CN=localhost");
  EXPECT_FALSE(info.session_reused);

  for (int i = 0; i < 5; ++i) {
    // A client's own X-Forwarded-Proto is replaced: the gateway knows the scheme.
    HttpResponse r =
        client.request("GET", "/orders/" + std::to_string(i), {{"X-Forwarded-Proto", "http"}});
    ASSERT_EQ(r.status, 200) << r.error;
    EXPECT_EQ(r.header("X-Glidepath-Version"), "v1");
    const Json seen = json_body(r);
    EXPECT_EQ(seen["x_forwarded_proto"], "https");
    EXPECT_EQ(seen["target"], "/orders/" + std::to_string(i));
    EXPECT_EQ(seen["x_forwarded_for"], "127.0.0.1");
  }
  EXPECT_EQ(client.connects(), 1) << "keep-alive over TLS";

  // A large body both ways, through TLS records.
  const std::string upload = test_data(300'000);
  HttpResponse echoed = client.request("POST", "/orders/_test/echo", {}, upload, 20s);
  ASSERT_EQ(echoed.status, 200) << echoed.error;
  EXPECT_EQ(echoed.body.size(), upload.size());
  EXPECT_TRUE(echoed.body == upload);

  // TLS 1.2 too, with an ECDHE AEAD cipher.
  TlsOptions tls12 = certs.client();
  tls12.max_version = "1.2";
  HttpClient old = gateway.tls_client(tls12);
  EXPECT_EQ(old.tls_info().version, "TLSv1.2");
  EXPECT_THAT(old.tls_info().cipher, StartsWith("ECDHE-ECDSA-"));
  HttpResponse r = old.request("GET", "/orders/12");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(json_body(r)["x_forwarded_proto"], "https");

  // Counted by version and cipher.
  const std::string metrics = gateway.metrics_text();
  EXPECT_GE(prometheus_value(metrics, "glidepath_tls_handshakes_total{version=\"1.3\",cipher=\"" +
                                          info.cipher + "\"}")
                .value_or(0),
            1);
  EXPECT_EQ(prometheus_value(metrics, "glidepath_tls_handshakes_total{version=\"1.2\",cipher=\"" +
                                          old.tls_info().cipher + "\"}"),
            1);
  EXPECT_EQ(prometheus_value(metrics, "glidepath_tls_handshake_failures_total"), 0);
  // /healthz shows the certificate in force.
  const Json health = healthz(gateway);
  EXPECT_EQ(health["status"], "ok");
  ASSERT_EQ(health["tls"].size(), 1u) << health.dump();
  EXPECT_EQ(health["tls"][0]["listener"], "gateway");
  EXPECT_EQ(health["tls"][0]["status"], "ok");
  EXPECT_EQ(health["tls"][0]["certificates"][0]["subject"], "/CN=localhost");
  EXPECT_EQ(health["tls"][0]["certificates"][0]["key"], "EC P-256");
}

TEST(GatewayTls, ACanarySplitsOverHttpsAsOverHttp) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  Certificates certs;
  GatewayServer gateway(
      "  - name: orders\n    match: {path_prefix: /orders}\n"
      "    stickiness: none\n"
      "    versions:\n"
      "      - {name: v1, upstreams: [" +
          v1.address() + "]}\n      - {name: v2, upstreams: [" + v2.address() +
          "]}\n    live: v1\n    traffic: {v1: 90, v2: 10}\n",
      with_tls(certs.localhost("localhost", "site")));
  HttpClient client = gateway.tls_client(certs.client());
  constexpr int kRequests = 1000;
  constexpr int kBatch = 50;
  const std::string head = "GET /orders/split HTTP/1.1\r\nHost: gw\r\n\r\n";
  std::map<std::string, int> served;
  for (int sent = 0; sent < kRequests; sent += kBatch) {
    std::string batch;
    for (int i = 0; i < kBatch; ++i)
      batch += head;
    ASSERT_TRUE(client.send_raw(batch));
    for (int i = 0; i < kBatch; ++i) {
      HttpResponse r = client.read_response();
      ASSERT_EQ(r.status, 200) << "request " << sent + i << ": " << r.error;
      ASSERT_EQ(r.header("X-Glidepath-Version"), r.header("X-Backend-Version"));
      ++served[r.header("X-Glidepath-Version")];
    }
  }
  EXPECT_EQ(client.connects(), 1);
  EXPECT_EQ(served["v1"] + served["v2"], kRequests);
  // Binomial(1000, 0.1): mean 100, standard deviation 9.5; 55..145 is over four of them.
  EXPECT_GT(served["v2"], 55);
  EXPECT_LT(served["v2"], 145);
}

// ---- listeners side by side ---------------------------------------------------------------

TEST(GatewayTls, PlainTlsAndRedirectingListenersServeSideBySide) {
  SampleBackend backend("v1");
  Certificates certs;
  const CertificateFiles site = certs.localhost("localhost", "site");
  GatewaySettings settings;
  settings.workers = 2;
  // gateway.listen plain; listeners[0] TLS; [1] redirects to 8443; [2] to 443.
  settings.more_yaml = "  listeners:\n    - listen: 127.0.0.1:0\n" + tls_yaml({site}, 6) +
                       "    - listen: 127.0.0.1:0\n      redirect_https: 8443\n"
                       "    - listen: 127.0.0.1:0\n      redirect_https: 443\n";
  GatewayServer gateway(orders_service(backend), settings);
  ASSERT_EQ(gateway.listener_count(), 4u);
  EXPECT_THAT(gateway.process().out(), HasSubstr(" (redirects to HTTPS)\n"));

  // Plain and TLS clients, interleaved on their own connections.
  HttpClient plain = gateway.client(0);
  HttpClient secure = gateway.tls_client(certs.client(), 1);
  for (int i = 0; i < 10; ++i) {
    HttpResponse p = plain.request("GET", "/orders/p" + std::to_string(i));
    HttpResponse s = secure.request("GET", "/orders/s" + std::to_string(i));
    ASSERT_EQ(p.status, 200) << p.error;
    ASSERT_EQ(s.status, 200) << s.error;
    EXPECT_EQ(json_body(p)["x_forwarded_proto"], "http");
    EXPECT_EQ(json_body(s)["x_forwarded_proto"], "https");
  }
  EXPECT_EQ(plain.connects(), 1);
  EXPECT_EQ(secure.connects(), 1);
  const Json health = healthz(gateway);
  ASSERT_EQ(health["tls"].size(), 1u) << health.dump();
  EXPECT_EQ(health["tls"][0]["listener"], "gateway.listeners[0]");

  // Plain HTTP to the TLS listener gets no HTTP answer, and is a failed handshake.
  HttpClient confused = gateway.client(1);
  HttpResponse nothing = confused.request("GET", "/orders/x", {}, {}, 5s);
  EXPECT_EQ(nothing.status, 0);
  EXPECT_TRUE(
      eventually([&] { return metric(gateway, "glidepath_tls_handshake_failures_total") == 1; }));
  // TLS to a plain listener fails on the client's side.
  EXPECT_THROW(gateway.tls_client(certs.client(), 0), std::runtime_error);

  // The redirecting listeners: 308 to the same target on https, nothing forwarded.
  HttpClient redirected = gateway.client(2);
  HttpResponse r =
      redirected.request("GET", "/orders/1?expand=items", {{"Host", "api.example.com:8080"}});
  ASSERT_EQ(r.status, 308) << r.error;
  EXPECT_EQ(r.header("Location"), "https://api.example.com:8443/orders/1?expand=items");
  EXPECT_TRUE(looks_like_uuid(r.header("X-Request-Id"))) << r.header("X-Request-Id");
  EXPECT_TRUE(r.keep_alive);
  // Keep-alive: the next request on the same connection is redirected too.
  r = redirected.request("DELETE", "/orders/2", {{"Host", "api.example.com"}});
  ASSERT_EQ(r.status, 308) << r.error;
  EXPECT_EQ(r.header("Location"), "https://api.example.com:8443/orders/2");
  EXPECT_EQ(redirected.connects(), 1);
  // A request with a body is answered, and the connection closes (the body is not read).
  r = redirected.request("POST", "/orders", {{"Host", "api.example.com"}}, "{\"a\":1}");
  ASSERT_EQ(r.status, 308) << r.error;
  EXPECT_EQ(r.header("Connection"), "close");
  EXPECT_TRUE(r.closed);
  // Port 443 is left out.
  HttpClient to443 = gateway.client(3);
  r = to443.request("GET", "/", {{"Host", "API.example.com"}});
  ASSERT_EQ(r.status, 308) << r.error;
  EXPECT_EQ(r.header("Location"), "https://API.example.com/");
  // No Host to redirect to.
  HttpClient hostless = gateway.client(3);
  ASSERT_TRUE(hostless.send_raw("GET /orders HTTP/1.0\r\n\r\n"));
  r = hostless.read_response();
  EXPECT_EQ(r.status, 400) << r.error;
  EXPECT_THAT(backend.requests_seen(), ::testing::Not(HasSubstr("/orders/1?expand")));
  EXPECT_THAT(backend.requests_seen(), ::testing::Not(HasSubstr("DELETE")));
}

TEST(GatewayTls, SniPicksTheCertificate) {
  SampleBackend backend("v1");
  Certificates certs;
  LeafSpec first;
  first.common_name = "first";
  first.dns_names = {"localhost"};
  LeafSpec api;
  api.common_name = "api.example.com";
  api.dns_names = {"api.example.com"};
  LeafSpec shop;
  shop.common_name = "shop wildcard";
  shop.dns_names = {"*.shop.example.com"};
  const CertificateFiles a = certs.issue(first, "first");
  const CertificateFiles b = certs.issue(api, "api");
  const CertificateFiles c = certs.issue(shop, "shop");
  GatewaySettings settings;
  settings.more_yaml =
      "  tls:\n    certificates:\n"
      "      - {cert: " +
      a.cert + ", key: " + a.key +
      "}\n"
      "      - {cert: " +
      b.cert + ", key: " + b.key +
      "}\n"
      "      - cert: " +
      c.cert + "\n        key: " + c.key +
      "\n"
      "        hosts: [\"*.shop.example.com\", shop.example.com]\n";
  GatewayServer gateway(orders_service(backend), settings);

  EXPECT_EQ(subject_of_new_connection(gateway, certs.client("api.example.com")),
            "/CN=api.example.com");
  EXPECT_EQ(subject_of_new_connection(gateway, certs.client("API.Example.com")),
            "/CN=api.example.com");
  EXPECT_EQ(subject_of_new_connection(gateway, certs.client("cart.shop.example.com")),
            "/CN=shop wildcard");
  EXPECT_EQ(subject_of_new_connection(gateway, certs.client("localhost")), "/CN=first");
  // Configured hosts beyond the certificate's own names are matched (the client then
  // refuses a certificate that does not name it: its business).
  TlsOptions bare = certs.client("shop.example.com");
  bare.ca_file.clear();
  EXPECT_EQ(subject_of_new_connection(gateway, bare), "/CN=shop wildcard");
  // No server name: the first.
  TlsOptions nameless = certs.client("");
  EXPECT_EQ(subject_of_new_connection(gateway, nameless), "/CN=first");
  // Requests work whichever certificate answered.
  HttpClient client = gateway.tls_client(certs.client("cart.shop.example.com"));
  HttpResponse r = client.request("GET", "/orders/1");
  ASSERT_EQ(r.status, 200) << r.error;
}

// ---- refused handshakes -------------------------------------------------------------------

TEST(GatewayTls, OldProtocolsAndWeakCiphersAreRefusedAndCounted) {
  SampleBackend backend("v1");
  Certificates certs;
  GatewayServer gateway(orders_service(backend), with_tls(certs.localhost("localhost", "site")));

  // Clients that connect and hang up (a load balancer's TCP check), before or in the
  // middle of a ClientHello, are not failed handshakes. (One worker: they are seen
  // before the next client's handshake.)
  { HttpClient silent = gateway.client(); }
  {
    HttpClient partial = gateway.client();
    ASSERT_TRUE(partial.send_raw(std::string("\x16\x03\x01\x02\x00\x01\x00", 7)));
  }

  TlsOptions tls11 = certs.client();
  tls11.min_version = "1.1";
  tls11.max_version = "1.1";
  try {
    gateway.tls_client(tls11);
    ADD_FAILURE() << "a TLS 1.1 handshake succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("protocol version")) << e.what();
  }
  EXPECT_TRUE(eventually([&] {
    return metric(gateway, "glidepath_tls_handshake_failures_total") == 1;
  })) << gateway.metrics_text();

  // TLS 1.2 with CBC ciphers only.
  TlsOptions cbc = certs.client();
  cbc.max_version = "1.2";
  cbc.ciphers = "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:@SECLEVEL=0";
  try {
    gateway.tls_client(cbc);
    ADD_FAILURE() << "a CBC cipher was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("handshake failure")) << e.what();
  }
  EXPECT_TRUE(eventually([&] {
    return metric(gateway, "glidepath_tls_handshake_failures_total") == 2;
  })) << gateway.metrics_text();

  // A good client still gets in, and is counted as a handshake, not a failure.
  HttpClient good = gateway.tls_client(certs.client());
  HttpResponse r = good.request("GET", "/orders/1");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(metric(gateway, "glidepath_tls_handshake_failures_total"), 2);
  EXPECT_EQ(metric(gateway, "glidepath_tls_handshakes_total{version=\"1.3\",cipher=\"" +
                                good.tls_info().cipher + "\"}"),
            1);
}

// ---- resumption ---------------------------------------------------------------------------

TEST(GatewayTls, SessionTicketsResume) {
  SampleBackend backend("v1");
  Certificates certs;
  GatewayServer gateway(orders_service(backend),
                        with_tls(certs.localhost("localhost", "site"), "", /*workers=*/2));
  for (const std::string version : {"1.3", "1.2"}) {
    TlsOptions options = certs.client();
    options.max_version = version;
    HttpClient first = gateway.tls_client(options);
    ASSERT_EQ(first.request("GET", "/orders/1").status, 200);  // TLS 1.3: tickets arrive
    TlsSession session = first.tls_session();
    ASSERT_NE(session, nullptr);
    // Several resumptions: with two workers, both hold the same keys.
    for (int i = 0; i < 4; ++i) {
      options.session = session;
      HttpClient again = gateway.tls_client(options);
      EXPECT_TRUE(again.tls_info().session_reused) << version << " #" << i;
      EXPECT_EQ(again.tls_info().version, "TLSv" + version);
      HttpResponse r = again.request("GET", "/orders/2");
      ASSERT_EQ(r.status, 200) << r.error;
      EXPECT_EQ(json_body(r)["x_forwarded_proto"], "https");
    }
  }
}

// ---- certificate reloads ------------------------------------------------------------------

TEST(GatewayTls, ANewPairGoesToNewHandshakesWhileOpenConnectionsGoOn) {
  SampleBackend backend("v1");
  Certificates certs;
  const CertificateFiles site = certs.localhost("before", "site");
  GatewayServer gateway(orders_service(backend), with_tls(site, "", /*workers=*/2));
  gateway.allow_stderr(std::string(kReloadedLine));

  HttpClient open = gateway.tls_client(certs.client());
  ASSERT_EQ(open.request("GET", "/orders/1").status, 200);
  EXPECT_EQ(open.tls_info().peer_subject, "/CN=before");
  const TlsSession before_session = open.tls_session();

  replace_pair(site, certs.localhost_pair("after"));
  EXPECT_TRUE(eventually([&] {
    return subject_of_new_connection(gateway, certs.client()) == "/CN=after";
  })) << "the new certificate never reached new handshakes";

  // The connection opened before goes on (keep-alive) with the certificate it started with.
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = open.request("GET", "/orders/" + std::to_string(i));
    ASSERT_EQ(r.status, 200) << r.error;
  }
  EXPECT_EQ(open.connects(), 1);
  EXPECT_EQ(open.tls_info().peer_subject, "/CN=before");
  // Its ticket still resumes: the ticket keys outlived the reload.
  TlsOptions resume = certs.client();
  resume.session = before_session;
  HttpClient resumed = gateway.tls_client(resume);
  EXPECT_TRUE(resumed.tls_info().session_reused);
  ASSERT_EQ(resumed.request("GET", "/orders/9").status, 200);

  const Json health = healthz(gateway);
  EXPECT_EQ(health["status"], "ok");
  EXPECT_EQ(health["tls"][0]["status"], "ok");
  EXPECT_EQ(health["tls"][0]["reloads"], 1);
  EXPECT_EQ(health["tls"][0]["certificates"][0]["subject"], "/CN=after");
  gateway.stop();
  EXPECT_THAT(gateway.process().err(),
              HasSubstr("tls: gateway: certificates reloaded (/CN=after)\n"));
}

TEST(GatewayTls, AGarbageCertificateIsRefusedAndTheOldOneServesUntilAGoodPairComes) {
  SampleBackend backend("v1");
  Certificates certs;
  const CertificateFiles site = certs.localhost("original", "site");
  GatewayServer gateway(orders_service(backend), with_tls(site));
  gateway.allow_stderr(std::string(kRefusedLine));
  gateway.allow_stderr(std::string(kReloadedLine));

  replace_file(site.cert, "-----BEGIN CERTIFICATE-----\nnot base64 at all\n");
  Json health;
  ASSERT_TRUE(eventually([&] {
    health = healthz(gateway);
    return health["status"] == "degraded";
  })) << health.dump();
  ASSERT_EQ(health["tls"].size(), 1u);
  const Json& tls = health["tls"][0];
  EXPECT_EQ(tls["listener"], "gateway");
  EXPECT_EQ(tls["status"], "error");
  EXPECT_THAT(tls["error"].get<std::string>(),
              HasSubstr("cert " + site.cert + ": not a usable PEM certificate"));
  EXPECT_EQ(tls["refused"], 1);
  EXPECT_TRUE(tls.contains("refused_at"));
  EXPECT_EQ(tls["certificates"][0]["subject"], "/CN=original");

  // New handshakes still get the old certificate, and requests are served.
  HttpClient client = gateway.tls_client(certs.client());
  EXPECT_EQ(client.tls_info().peer_subject, "/CN=original");
  ASSERT_EQ(client.request("GET", "/orders/1").status, 200);

  // The refusal is an event of the gateway's own.
  EventStream events(gateway);
  ASSERT_TRUE(events.read_until("the new certificate was refused")) << events.received;
  const std::vector<Json> tls_events = events.events("tls");
  ASSERT_EQ(tls_events.size(), 1u) << events.received;
  EXPECT_EQ(tls_events[0]["service"], "_gateway");
  EXPECT_EQ(tls_events[0]["type"], "tls");
  EXPECT_THAT(tls_events[0]["message"].get<std::string>(),
              StartsWith("gateway: the new certificate was refused and the one loaded before "
                         "stays in force: tls: cert " +
                         site.cert));

  // A good pair restores it.
  replace_pair(site, certs.localhost_pair("renewed"));
  ASSERT_TRUE(eventually([&] {
    health = healthz(gateway);
    return health["status"] == "ok";
  })) << health.dump();
  EXPECT_EQ(health["tls"][0]["status"], "ok");
  EXPECT_FALSE(health["tls"][0].contains("error"));
  EXPECT_EQ(health["tls"][0]["certificates"][0]["subject"], "/CN=renewed");
  EXPECT_EQ(subject_of_new_connection(gateway, certs.client()), "/CN=renewed");
  ASSERT_TRUE(events.read_until("certificates reloaded (/CN=renewed)")) << events.received;

  gateway.stop();
  EXPECT_THAT(gateway.process().err(),
              HasSubstr("error: gateway: the new certificate was refused and the one loaded "
                        "before stays in force: tls: cert " +
                        site.cert));
}

TEST(GatewayTls, SighupForcesAReloadAndRecordsIt) {
  SampleBackend backend("v1");
  Certificates certs;
  GatewayServer gateway(orders_service(backend), with_tls(certs.localhost("localhost", "site")));
  gateway.allow_stderr(std::string(kReloadedLine));
  EventStream events(gateway);
  ASSERT_TRUE(events.read_until("retry: ")) << events.received;  // subscribed

  // The files have not changed: only SIGHUP makes this reload.
  gateway.process().send_signal(SIGHUP);
  ASSERT_TRUE(events.read_until("certificates reloaded")) << events.received;
  const std::vector<Json> tls_events = events.events("tls");
  ASSERT_EQ(tls_events.size(), 1u) << events.received;
  EXPECT_EQ(tls_events[0]["service"], "_gateway");
  EXPECT_EQ(tls_events[0]["type"], "tls");
  EXPECT_TRUE(tls_events[0]["deployment_id"].is_null());
  EXPECT_EQ(tls_events[0]["message"], "gateway: certificates reloaded (/CN=localhost)");
  EXPECT_EQ(healthz(gateway)["tls"][0]["reloads"], 1);

  // A stream opened afterwards replays it from Last-Event-ID: 0.
  EventStream replay(gateway);
  ASSERT_TRUE(replay.read_until("certificates reloaded")) << replay.received;
  EXPECT_EQ(replay.events("tls").size(), 1u);

  // The process goes on serving, and a second SIGHUP reloads again.
  HttpClient client = gateway.tls_client(certs.client());
  ASSERT_EQ(client.request("GET", "/orders/1").status, 200);
  gateway.process().send_signal(SIGHUP);
  EXPECT_TRUE(eventually([&] { return healthz(gateway)["tls"][0]["reloads"] == 2; }));
  EXPECT_EQ(gateway.stop(), 0);
}

TEST(GatewayTls, AReloadUnderLoadFailsNoHandshakeAndNoRequest) {
  SampleBackend backend("v1");
  Certificates certs;
  const CertificateFiles site = certs.localhost("generation 0", "site");
  GatewayServer gateway(orders_service(backend), with_tls(site, "", /*workers=*/2));
  gateway.allow_stderr(std::string(kReloadedLine));

  constexpr int kReloads = 3;
  constexpr int kMaxRequestsPerLoop = 20'000;
  const auto give_up = Clock::now() + 40s;
  std::atomic<bool> stop{false};
  std::atomic<int> requests{0};
  std::atomic<int> handshakes{0};
  std::mutex failures_mutex;
  std::vector<std::string> failures;
  const auto fail = [&](std::string what) {
    std::lock_guard lock(failures_mutex);
    if (failures.size() < 10) failures.push_back(std::move(what));
  };
  const auto running = [&](int done) {
    return !stop.load() && done < kMaxRequestsPerLoop && Clock::now() < give_up;
  };
  // One keep-alive connection, opened before any reload.
  std::thread keep_alive([&] {
    try {
      HttpClient client = gateway.tls_client(certs.client());
      for (int done = 0; running(done); ++done) {
        HttpResponse r = client.request("GET", "/orders/keep-alive");
        if (r.status != 200) return fail("keep-alive request: " + r.error);
        ++requests;
      }
      if (client.connects() != 1) fail("the keep-alive connection was reopened");
    } catch (const std::exception& e) {
      fail(std::string("keep-alive: ") + e.what());
    }
  });
  // A new connection (a full handshake) per request.
  std::thread fresh([&] {
    for (int done = 0; running(done); ++done) {
      try {
        HttpClient client = gateway.tls_client(certs.client());
        ++handshakes;
        HttpResponse r = client.request("GET", "/orders/fresh");
        if (r.status != 200) return fail("request on a new connection: " + r.error);
        ++requests;
      } catch (const std::exception& e) {
        return fail(std::string("new connection: ") + e.what());
      }
    }
  });

  for (int generation = 1; generation <= kReloads; ++generation) {
    const std::string subject = "generation " + std::to_string(generation);
    replace_pair(site, certs.localhost_pair(subject));
    EXPECT_TRUE(eventually(
        [&] { return subject_of_new_connection(gateway, certs.client()) == "/CN=" + subject; },
        15s))
        << subject;
  }
  stop = true;
  keep_alive.join();
  fresh.join();

  EXPECT_TRUE(failures.empty()) << ::testing::PrintToString(failures);
  EXPECT_GT(handshakes.load(), kReloads) << "the load ran alongside the reloads";
  EXPECT_GT(requests.load(), 2 * kReloads);
  EXPECT_EQ(metric(gateway, "glidepath_tls_handshake_failures_total"), 0);
  const Json health = healthz(gateway);
  EXPECT_EQ(health["tls"][0]["reloads"], kReloads);
  EXPECT_EQ(health["tls"][0]["refused"], 0);
}

}  // namespace
}  // namespace glidepath::testing
