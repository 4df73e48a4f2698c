// The control-plane client's URLs and name resolution: strict ports, and a lookup bounded
// by the request's timeout whose late answer is dropped without leaking.
#include "http/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netdb.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace glidepath::http {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

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

}  // namespace
}  // namespace glidepath::http
