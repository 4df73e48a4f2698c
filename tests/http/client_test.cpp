// The control-plane client: its URLs (strict ports, https, IPv6, no credentials), name
// resolution bounded by the request's timeout, and real exchanges with servers on
// 127.0.0.1: plain and TLS (a CA made at test time, the system's CAs refusing it, client
// certificates), timeouts at every step, the response size limit.
#include "http/client.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "test_server.h"

namespace glidepath::http {
namespace {

using namespace std::chrono_literals;
using glidepath::testing::answering;
using glidepath::testing::http_response;
using glidepath::testing::ReceivedRequest;
using glidepath::testing::SilentListener;
using glidepath::testing::TestHttpServer;
using glidepath::testing::TestPki;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(ParseUrl, ReadsHostPortAndTarget) {
  auto url = parse_url("http://127.0.0.1:9090/v1/services?x=1");
  ASSERT_TRUE(url) << url.error().message;
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 9090);
  EXPECT_EQ(url->target, "/v1/services?x=1");
  auto v6 = parse_url("http://[::1]:65535");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 65535);
  EXPECT_EQ(v6->target, "/");
  auto plain = parse_url("http://localhost/");
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(plain->port, 80);
  auto one = parse_url("http://h:1/");
  ASSERT_TRUE(one) << one.error().message;
  EXPECT_EQ(one->port, 1);
}

TEST(ParseUrl, RefusesAPortThatIsNotOnlyDigitsFrom1To65535) {
  for (const char* text : {"http://h:80abc/x", "http://h:0/", "http://h:65536/", "http://h:-1/",
                           "http://h:/", "http://h:+80/", "http://h: 80/", "http://h:99999999999/",
                           "http://[::1]:80x/", "http://[::1]:/", "http://h:8080 /"}) {
    auto url = parse_url(text);
    ASSERT_FALSE(url) << text << " was read as port " << url->port;
    EXPECT_THAT(url.error().message, HasSubstr("invalid port")) << text;
    EXPECT_THAT(url.error().message, HasSubstr("1 to 65535")) << text;
  }
  auto url = parse_url("http://h:80abc/x");
  ASSERT_FALSE(url);
  EXPECT_THAT(url.error().message, HasSubstr("'80abc'"));
}

TEST(SendRequest, RefusesAUrlWithABadPortBeforeConnecting) {
  ClientRequest request;
  request.url = "http://127.0.0.1:80abc/v1/services";
  auto response = send_request(request);
  ASSERT_FALSE(response);
  EXPECT_THAT(response.error().message, HasSubstr("invalid port '80abc'"));
}

// A lookup that answers only when released, and says when it has returned.
struct SlowLookup {
  std::mutex mutex;
  std::condition_variable changed;
  bool released = false;
  bool returned = false;

  AddressLookup function(const std::shared_ptr<SlowLookup>& self) {
    return [self](const char*, const char* port, const addrinfo* hints, addrinfo** found) {
      std::unique_lock lock(self->mutex);
      self->changed.wait(lock, [&] { return self->released; });
      // A real result, which whoever drops it must free (ASan's leak check watches).
      addrinfo numeric = *hints;
      numeric.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
      const int rc = ::getaddrinfo("127.0.0.1", port, &numeric, found);
      self->returned = true;
      self->changed.notify_all();
      return rc;
    };
  }
};

TEST(Resolve, ALookupSlowerThanTheTimeoutFailsNamingTheHostAndTheTimeout) {
  auto slow = std::make_shared<SlowLookup>();
  const auto started = std::chrono::steady_clock::now();
  auto addresses = resolve("slow.example", 8080, 100ms, slow->function(slow));
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(addresses);
  EXPECT_EQ(addresses.error().message, "cannot resolve slow.example: no answer within 100 ms");
  EXPECT_GE(took, 100ms);
  EXPECT_LT(took, 5s);
  // The lookup answers late: its result is dropped (and freed) on its own thread.
  std::unique_lock lock(slow->mutex);
  slow->released = true;
  slow->changed.notify_all();
  EXPECT_TRUE(slow->changed.wait_for(lock, 5s, [&] { return slow->returned; }));
}

TEST(Resolve, ALookupThatAnswersInTimeGivesItsAddresses) {
  auto slow = std::make_shared<SlowLookup>();
  slow->released = true;
  auto addresses = resolve("quick.example", 8080, 5s, slow->function(slow));
  ASSERT_TRUE(addresses) << addresses.error().message;
  ASSERT_NE(addresses->get(), nullptr);
  EXPECT_EQ(addresses->get()->ai_socktype, SOCK_STREAM);
}

TEST(Resolve, AnAddressNeedsNoLookup) {
  std::atomic<bool> called{false};
  auto addresses =
      resolve("127.0.0.1", 9090, 1ms, [&](const char*, const char*, const addrinfo*, addrinfo**) {
        called = true;
        return EAI_FAIL;
      });
  ASSERT_TRUE(addresses) << addresses.error().message;
  EXPECT_FALSE(called.load());
}

TEST(Resolve, AFailedLookupSaysWhy) {
  auto addresses =
      resolve("nowhere.example", 80, 5s,
              [](const char*, const char*, const addrinfo*, addrinfo**) { return EAI_NONAME; });
  ASSERT_FALSE(addresses);
  EXPECT_EQ(addresses.error().message,
            std::string("cannot resolve nowhere.example: ") + gai_strerror(EAI_NONAME));
}

TEST(Resolve, LocalhostResolvesThroughTheSystem) {
  auto addresses = resolve("localhost", 80, 5s);
  ASSERT_TRUE(addresses) << addresses.error().message;
  EXPECT_NE(addresses->get(), nullptr);
}

// ---------------------------------------------------------------------------------------
// URLs beyond http://

TEST(ParseUrl, ReadsHttpsWithItsDefaultPortAndIpv6Literals) {
  auto secure = parse_url("https://admin.example/v1/services");
  ASSERT_TRUE(secure) << secure.error().message;
  EXPECT_EQ(secure->scheme, "https");
  EXPECT_TRUE(secure->tls());
  EXPECT_EQ(secure->host, "admin.example");
  EXPECT_EQ(secure->port, 443);
  EXPECT_EQ(secure->target, "/v1/services");
  auto v6 = parse_url("https://[::1]:8443/x?y=1#fragment");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8443);
  EXPECT_EQ(v6->target, "/x?y=1");  // the fragment is the client's own
  EXPECT_EQ(v6->authority(), "[::1]:8443");
  auto plain = parse_url("HTTP://127.0.0.1");
  ASSERT_TRUE(plain) << plain.error().message;
  EXPECT_EQ(plain->scheme, "http");
  EXPECT_FALSE(plain->tls());
  EXPECT_EQ(plain->port, 80);
  EXPECT_EQ(plain->target, "/");
  EXPECT_EQ(plain->authority(), "127.0.0.1:80");
}

TEST(ParseUrl, RefusesOtherSchemesNoSchemeAndCredentials) {
  auto ftp = parse_url("ftp://127.0.0.1:21/file");
  ASSERT_FALSE(ftp);
  EXPECT_THAT(ftp.error().message, HasSubstr("only http:// and https://"));
  auto bare = parse_url("127.0.0.1:9090");
  ASSERT_FALSE(bare);
  EXPECT_THAT(bare.error().message, HasSubstr("needs a scheme"));
  auto user = parse_url("https://admin:secret@127.0.0.1:9090/");
  ASSERT_FALSE(user);
  EXPECT_THAT(user.error().message, HasSubstr("user or password"));
  // The port is still checked strictly behind credentials.
  auto both = parse_url("http://u@h:80abc/");
  ASSERT_FALSE(both);
  EXPECT_THAT(both.error().message, HasSubstr("invalid port '80abc'"));
  auto hostless = parse_url("http:///v1");
  ASSERT_FALSE(hostless);
  EXPECT_THAT(hostless.error().message, HasSubstr("invalid URL"));
  auto open_v6 = parse_url("http://[::1/");
  ASSERT_FALSE(open_v6);
  EXPECT_THAT(open_v6.error().message, HasSubstr("invalid URL"));
}

TEST(SendRequest, RefusesAnUnsupportedSchemeWithoutConnecting) {
  ClientRequest request;
  request.url = "ftp://127.0.0.1:1/x";
  auto response = send_request(request);
  ASSERT_FALSE(response);
  EXPECT_THAT(response.error().message, HasSubstr("only http:// and https://"));
}

// ---------------------------------------------------------------------------------------
// Plain HTTP against a real server.

TEST(SendRequest, GetsStatusHeadersAndBody) {
  TestHttpServer server(answering([](const ReceivedRequest&) {
    return http_response(201, "created!", {{"X-Test", "yes"}, {"Content-Type", "text/plain"}});
  }));
  ClientRequest request;
  request.url = server.url("/v1/things?limit=2");
  request.headers.emplace_back("Accept", "application/json");
  auto response = send_request(request);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, "created!");
  EXPECT_EQ(response->header("x-test"), "yes");
  EXPECT_EQ(response->header("Content-Type"), "text/plain");
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_THAT(seen[0].head, HasSubstr("GET /v1/things?limit=2 HTTP/1.1\r\n"));
  EXPECT_THAT(seen[0].head, HasSubstr("Accept: application/json\r\n"));
  EXPECT_THAT(seen[0].head, HasSubstr(fmt::format("Host: 127.0.0.1:{}\r\n", server.port())));
  EXPECT_THAT(seen[0].head, HasSubstr("Connection: close\r\n"));
}

TEST(SendRequest, SendsBodiesAsJsonWithTheirLengthAndNoExpectContinue) {
  TestHttpServer server(TestHttpServer::Options{});
  ClientRequest post;
  post.method = "POST";
  post.url = server.url("/v1/hook");
  post.body = std::string(2 * 1024 * 1024, 'x');  // large enough for libcurl's Expect
  post.headers.emplace_back("X-Glidepath-Forwarded", "1");
  auto posted = send_request(post);
  ASSERT_TRUE(posted) << posted.error().message;
  ClientRequest put;
  put.method = "PUT";
  put.url = server.url("/v1/empty");
  ASSERT_TRUE(send_request(put));
  ClientRequest del;
  del.method = "DELETE";
  del.url = server.url("/v1/keys/k1");
  del.headers.emplace_back("Content-Type", "text/plain");
  ASSERT_TRUE(send_request(del));
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_THAT(seen[0].head, HasSubstr("POST /v1/hook HTTP/1.1\r\n"));
  EXPECT_THAT(seen[0].head, HasSubstr("Content-Type: application/json\r\n"));
  EXPECT_THAT(seen[0].head, HasSubstr("Content-Length: 2097152\r\n"));
  EXPECT_THAT(seen[0].head, HasSubstr("X-Glidepath-Forwarded: 1\r\n"));
  EXPECT_THAT(seen[0].head, Not(HasSubstr("Expect")));
  EXPECT_EQ(seen[0].body, post.body);
  EXPECT_THAT(seen[1].head, HasSubstr("PUT /v1/empty HTTP/1.1\r\n"));
  EXPECT_THAT(seen[1].head, HasSubstr("Content-Length: 0\r\n"));
  EXPECT_THAT(seen[2].head, HasSubstr("DELETE /v1/keys/k1 HTTP/1.1\r\n"));
  EXPECT_THAT(seen[2].head, Not(HasSubstr("Content-Length")));
  EXPECT_THAT(seen[2].head, HasSubstr("Content-Type: text/plain\r\n"));
  EXPECT_THAT(seen[2].head, Not(HasSubstr("application/json")));
}

TEST(SendRequest, ARedirectIsAnAnswerNotFollowed) {
  TestHttpServer server(answering([](const ReceivedRequest&) {
    return http_response(307, "", {{"Location", "http://127.0.0.1:1/elsewhere"}});
  }));
  ClientRequest request;
  request.url = server.url("/v1/deployments");
  auto response = send_request(request);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 307);
  EXPECT_EQ(response->header("Location"), "http://127.0.0.1:1/elsewhere");
}

TEST(SendRequest, AResponseLargerThanAllowedIsRefusedWithOrWithoutALength) {
  const std::string big(100 * 1024, 'b');
  TestHttpServer with_length(
      answering([&](const ReceivedRequest&) { return http_response(200, big); }));
  TestHttpServer until_close(answering([&](const ReceivedRequest&) {
    return "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + big;
  }));
  for (const TestHttpServer* server : {&with_length, &until_close}) {
    ClientRequest request;
    request.url = server->url("/big");
    request.max_response_bytes = 10 * 1024;
    auto response = send_request(request);
    ASSERT_FALSE(response) << "a " << response->body.size() << "-byte body was kept";
    EXPECT_THAT(response.error().message, HasSubstr("larger than allowed (10240 bytes)"));
    EXPECT_THAT(response.error().message, HasSubstr(fmt::format("127.0.0.1:{}", server->port())));
    request.max_response_bytes = big.size();
    auto exact = send_request(request);
    ASSERT_TRUE(exact) << exact.error().message;
    EXPECT_EQ(exact->body.size(), big.size());
  }
}

TEST(SendRequest, ARefusedConnectionNamesTheServer) {
  uint16_t port = 0;
  {
    SilentListener closed_soon;  // a port that was free a moment ago, now closed
    port = closed_soon.port();
  }
  ClientRequest request;
  request.url = fmt::format("http://127.0.0.1:{}/v1/services", port);
  request.timeout = 5s;
  auto response = send_request(request);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().message,
            fmt::format("http://127.0.0.1:{}: cannot connect: Connection refused", port));
}

TEST(SendRequest, ACallerThatNamesTheServerCanDropItFromTheError) {
  EXPECT_EQ(without_server("http://127.0.0.1:1: cannot connect: Connection refused",
                           "http://127.0.0.1:1/v1/services"),
            "cannot connect: Connection refused");
  EXPECT_EQ(without_server("http://localhost:80: cannot resolve localhost", "http://localhost"),
            "cannot resolve localhost");
  // Another server, or no URL: left whole.
  EXPECT_EQ(without_server("http://127.0.0.1:2: x", "http://127.0.0.1:1"), "http://127.0.0.1:2: x");
  EXPECT_EQ(without_server("invalid URL 'x'", "x"), "invalid URL 'x'");
}

// ---------------------------------------------------------------------------------------
// Timeouts: every step is bounded by the request's timeout.

constexpr auto kTimeout = 300ms;
constexpr auto kMargin = 3s;  // a loaded machine's scheduling, never the client's waiting

TEST(SendRequest, AServerThatNeverAnswersTimesOut) {
  SilentListener silent;
  ClientRequest request;
  request.url = fmt::format("http://127.0.0.1:{}/v1/services", silent.port());
  request.timeout = kTimeout;
  const auto started = std::chrono::steady_clock::now();
  auto response = send_request(request);
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().message,
            fmt::format("http://127.0.0.1:{}: no response: timed out after 300 ms", silent.port()));
  EXPECT_GE(took, kTimeout - 10ms);
  EXPECT_LT(took, kTimeout + kMargin);
}

TEST(SendRequest, ATlsHandshakeThatNeverCompletesTimesOut) {
  SilentListener silent;
  ClientRequest request;
  request.url = fmt::format("https://127.0.0.1:{}/", silent.port());
  request.timeout = kTimeout;
  const auto started = std::chrono::steady_clock::now();
  auto response = send_request(request);
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(response);
  EXPECT_THAT(response.error().message, HasSubstr("TLS handshake timed out after 300 ms"));
  EXPECT_LT(took, kTimeout + kMargin);
}

TEST(SendRequest, ConnectingToAnAddressThatDropsPacketsIsBounded) {
  // 100::1 is IPv6's discard prefix (RFC 6666): where it is routed the SYN goes nowhere
  // (a timeout); where IPv6 is not, the refusal is immediate. Either way the call ends in
  // time and says it could not connect.
  ClientRequest request;
  request.url = "http://[100::1]:9/";
  request.timeout = kTimeout;
  const auto started = std::chrono::steady_clock::now();
  auto response = send_request(request);
  const auto took = std::chrono::steady_clock::now() - started;
  if (response) GTEST_SKIP() << "this network answers for 100::1";
  EXPECT_THAT(response.error().message, HasSubstr("http://[100::1]:9: cannot connect"));
  EXPECT_LT(took, kTimeout + kMargin);
}

TEST(SendRequest, NameResolutionRunsWhereTheTimeoutBoundsIt) {
  // libcurl's threaded resolver: the timeout covers a lookup that hangs
  // (slow_name_test.cpp holds one for real; resolve()'s tests above show the same bound for
  // the gateway's own resolver).
  EXPECT_TRUE(name_resolution_is_bounded());
}

TEST(SendRequest, AnUnknownNameSaysItCouldNotBeResolved) {
  ClientRequest request;
  request.url = "http://no-such-host.invalid:9090/v1/services";  // RFC 6761: never resolves
  request.timeout = 5s;
  const auto started = std::chrono::steady_clock::now();
  auto response = send_request(request);
  ASSERT_FALSE(response);
  EXPECT_THAT(response.error().message,
              HasSubstr("http://no-such-host.invalid:9090: cannot resolve no-such-host.invalid"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s + kMargin);
}

// ---------------------------------------------------------------------------------------
// TLS, against a CA made for the test.

class Https : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto dir = std::filesystem::path(::testing::TempDir()) /
                     ("glidepath-client-pki-" + std::to_string(::getpid()));
    pki_ = new TestPki(glidepath::testing::make_test_pki(dir));
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(std::filesystem::path(pki_->ca_cert).parent_path());
    delete pki_;
    pki_ = nullptr;
  }
  static TestHttpServer::Options tls_server() {
    TestHttpServer::Options options;
    options.cert_file = pki_->server_cert;
    options.key_file = pki_->server_key;
    options.answer = [](const ReceivedRequest& seen) {
      return http_response(200, "secret",
                           {{"X-Client", seen.client_subject}, {"X-Sni", seen.server_name}});
    };
    return options;
  }
  static TestPki* pki_;
};
TestPki* Https::pki_ = nullptr;

TEST_F(Https, AGetTrustingTheTestCaSucceeds) {
  TestHttpServer server(tls_server());
  ClientRequest request;
  request.url = server.url("/v1/services");
  request.tls.ca_file = pki_->ca_cert;
  auto response = send_request(request);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "secret");
  EXPECT_EQ(response->header("X-Client"), "");  // none asked for, none sent
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_THAT(seen[0].head, HasSubstr("GET /v1/services HTTP/1.1\r\n"));
}

TEST_F(Https, TheServerNameIsSentAndChecked) {
  TestHttpServer server(tls_server());
  ClientRequest request;
  request.url = server.url("/", "localhost");  // the certificate names localhost too
  request.tls.ca_file = pki_->ca_cert;
  auto response = send_request(request);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->header("X-Sni"), "localhost");
}

TEST_F(Https, TheSystemsCasDoNotTrustAPrivateCa) {
  TestHttpServer server(tls_server());
  ClientRequest request;
  request.url = server.url("/v1/services");
  auto response = send_request(request);  // no ca_file: the system's CAs
  ASSERT_FALSE(response) << "HTTP " << response->status;
  EXPECT_THAT(response.error().message,
              HasSubstr(fmt::format("https://127.0.0.1:{}: the server's certificate is not "
                                    "trusted by the system's CAs",
                                    server.port())));
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(Https, AnotherCaFileDoesNotTrustTheServer) {
  TestHttpServer server(tls_server());
  ClientRequest request;
  request.url = server.url("/");
  request.tls.ca_file = pki_->other_ca_cert;
  auto response = send_request(request);
  ASSERT_FALSE(response);
  EXPECT_THAT(
      response.error().message,
      HasSubstr("the server's certificate is not trusted by the CA file " + pki_->other_ca_cert));
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(Https, AMissingCaFileSaysSo) {
  TestHttpServer server(tls_server());
  ClientRequest request;
  request.url = server.url("/");
  request.tls.ca_file = pki_->ca_cert + ".missing";
  auto response = send_request(request);
  ASSERT_FALSE(response);
  EXPECT_THAT(response.error().message,
              HasSubstr("cannot use the CA file " + pki_->ca_cert + ".missing"));
}

TEST_F(Https, VerificationIsOffOnlyWhenAskedFor) {
  TestHttpServer server(tls_server());
  ClientRequest request;
  request.url = server.url("/");
  EXPECT_TRUE(request.tls.verify);  // the default
  request.tls.verify = false;
  auto response = send_request(request);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->body, "secret");
}

TEST_F(Https, AClientCertificateIsPresentedWhenTheServerRequiresOne) {
  TestHttpServer::Options options = tls_server();
  options.client_ca_file = pki_->ca_cert;
  TestHttpServer server(options);
  ClientRequest request;
  request.url = server.url("/v1/hook");
  request.method = "POST";
  request.body = R"({"hook":"pre_traffic"})";
  request.tls.ca_file = pki_->ca_cert;
  request.tls.client_cert = pki_->client_cert;
  request.tls.client_key = pki_->client_key;
  auto response = send_request(request);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("X-Client"), "glidepath-test-client");
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].body, request.body);
  EXPECT_EQ(seen[0].client_subject, "glidepath-test-client");

  // Without it the server refuses the handshake, and the request fails.
  ClientRequest anonymous = request;
  anonymous.tls.client_cert.clear();
  anonymous.tls.client_key.clear();
  auto refused = send_request(anonymous);
  ASSERT_FALSE(refused) << "HTTP " << refused->status;
  EXPECT_THAT(refused.error().message, HasSubstr(fmt::format("127.0.0.1:{}", server.port())));
  EXPECT_THAT(refused.error().message,
              HasSubstr("the server asked for a client certificate, and none is configured"));
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_FALSE(server.failed_handshakes().empty());
}

TEST_F(Https, AnUnreadableClientCertificateSaysWhich) {
  TestHttpServer server(tls_server());
  ClientRequest request;
  request.url = server.url("/");
  request.tls.ca_file = pki_->ca_cert;
  request.tls.client_cert = pki_->client_cert + ".missing";
  request.tls.client_key = pki_->client_key;
  auto response = send_request(request);
  ASSERT_FALSE(response);
  EXPECT_THAT(response.error().message,
              HasSubstr("cannot use the client certificate " + pki_->client_cert + ".missing"));
}

TEST_F(Https, PlainHttpToATlsServerFails) {
  TestHttpServer server(tls_server());
  ClientRequest request;
  request.url = fmt::format("http://127.0.0.1:{}/", server.port());
  request.timeout = 5s;
  auto response = send_request(request);
  ASSERT_FALSE(response) << "HTTP " << response->status;
  EXPECT_THAT(response.error().message, HasSubstr(fmt::format("127.0.0.1:{}", server.port())));
}

}  // namespace
}  // namespace glidepath::http
