// A name that resolves slower than the request's timeout: send_request gives up at the
// timeout, not when the lookup ends. This binary puts its own getaddrinfo in front of the C
// library's (the executable's definition wins for libcurl's resolver thread too), which
// holds one name until the test releases it and passes every other call through.
#include <dlfcn.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netdb.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string_view>
#include <thread>

#include "http/client.h"
#include "test_server.h"

namespace {

constexpr std::string_view kSlowName = "slow.glidepath.test";

// The slow name's lookups: held until released; `returned` counts the ones that ended.
struct Gate {
  std::mutex mutex;
  std::condition_variable changed;
  bool released = false;
  int waiting = 0;
  int returned = 0;
};
Gate& gate() {
  static Gate* g = new Gate;  // never destroyed: a lookup thread may outlive main's objects
  return *g;
}

}  // namespace

extern "C" int getaddrinfo(const char* node, const char* service, const addrinfo* hints,
                           addrinfo** found) noexcept {
  using Real = int (*)(const char*, const char*, const addrinfo*, addrinfo**);
  static const Real real = reinterpret_cast<Real>(dlsym(RTLD_NEXT, "getaddrinfo"));
  if (node == nullptr || std::string_view(node) != kSlowName) {
    return real(node, service, hints, found);
  }
  Gate& g = gate();
  {
    std::unique_lock lock(g.mutex);
    ++g.waiting;
    g.changed.notify_all();
    g.changed.wait(lock, [&] { return g.released; });
  }
  const int rc = real("127.0.0.1", service, hints, found);
  {
    std::lock_guard lock(g.mutex);
    ++g.returned;
  }
  g.changed.notify_all();
  return rc;
}

namespace glidepath::http {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

TEST(SlowName, ALookupSlowerThanTheTimeoutEndsTheRequestAtTheTimeout) {
  ClientRequest request;
  request.url = fmt::format("http://{}:9/v1/services", kSlowName);
  request.timeout = 300ms;
  // Should the client wait for the lookup after all (libcurl joins its resolver thread at
  // cleanup unless told not to), this releases it after 5 s so the test fails, not hangs.
  Gate& g = gate();
  bool finished = false;
  std::thread watchdog([&] {
    std::unique_lock lock(g.mutex);
    if (!g.changed.wait_for(lock, 5s, [&] { return finished; })) {
      g.released = true;
      g.changed.notify_all();
    }
  });
  const auto started = std::chrono::steady_clock::now();
  auto response = send_request(request);
  const auto took = std::chrono::steady_clock::now() - started;
  {
    std::lock_guard lock(g.mutex);
    finished = true;
  }
  g.changed.notify_all();
  watchdog.join();
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().message,
            "http://slow.glidepath.test:9: cannot resolve slow.glidepath.test: no answer within "
            "300 ms (timed out)");
  EXPECT_GE(took, 290ms);
  EXPECT_LT(took, 300ms + 3s);
  // The lookup is still held: the request did not wait for it. Released, it ends on
  // libcurl's thread, which frees what it found.
  std::unique_lock lock(g.mutex);
  EXPECT_EQ(g.waiting, 1);
  EXPECT_EQ(g.returned, 0);
  g.released = true;
  g.changed.notify_all();
  EXPECT_TRUE(g.changed.wait_for(lock, 5s, [&] { return g.returned == 1; }));
}

TEST(SlowName, ALookupThatAnswersInTimeIsUsed) {
  {
    std::lock_guard lock(gate().mutex);
    gate().released = true;
  }
  glidepath::testing::TestHttpServer server(glidepath::testing::TestHttpServer::Options{});
  ClientRequest request;
  request.url = fmt::format("http://{}:{}/ping", kSlowName, server.port());
  request.timeout = 5s;
  auto response = send_request(request);
  ASSERT_TRUE(response) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello");
  const auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_THAT(seen[0].head, HasSubstr(fmt::format("Host: {}:{}\r\n", kSlowName, server.port())));
}

}  // namespace
}  // namespace glidepath::http
