// The admin listener's streaming responses (server-sent events) over a real socket:
// bytes pushed on another thread reach the client, heartbeats keep the stream alive, and
// a client that leaves — or a server that stops — ends the stream for the producer.
#include "admin/http_server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <thread>

namespace glidepath::admin {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A raw client: connect, send, read what arrives until a condition or a deadline.
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("connect failed");
    }
  }
  ~RawClient() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void send(const std::string& data) {
    ASSERT_EQ(::send(fd_, data.data(), data.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(data.size()));
  }
  // Reads until `received` contains `text`, the peer closes, or `timeout`.
  bool read_until(const std::string& text, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = Clock::now() + timeout;
    while (received.find(text) == std::string::npos) {
      if (!read_some(deadline)) return false;
    }
    return true;
  }
  // Reads until the peer closes; false on timeout.
  bool read_until_closed(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = Clock::now() + timeout;
    while (!closed) {
      if (!read_some(deadline) && !closed) return false;
    }
    return true;
  }

  std::string received;
  bool closed = false;

 private:
  bool read_some(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) != 1) return false;
    char buffer[4096];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) {
      closed = true;
      return false;
    }
    received.append(buffer, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
};

// Polls `condition` until it holds or `timeout` passes.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

class StreamingServer : public ::testing::Test {
 protected:
  void start(StreamBody::Options stream_options = {}, std::string token = "",
             std::string public_prefix = "") {
    ServerOptions options;
    options.listen = {"127.0.0.1", 0};
    options.token = std::move(token);
    options.public_prefix = std::move(public_prefix);
    auto server = HttpServer::start(options, [this, stream_options](const Request& request) {
      if (request.path == "/stream") {
        std::lock_guard lock(mutex_);
        last_event_id_ = request.last_event_id;
        Response r;
        r.content_type = "text/event-stream";
        r.headers.emplace_back("X-Test", "1");
        r.body = ": hello\n\n";
        stream_ = std::make_shared<StreamBody>(stream_options);
        r.stream = stream_;
        return r;
      }
      if (request.path == "/ui/cached") {
        Response r = Response::json(200, R"({"fresh":true})");
        if (request.if_none_match == "\"v1\"") {
          r.status = 304;
          r.body.clear();
        }
        return r;
      }
      return Response::json(200, R"({"ok":true})");
    });
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
  }

  std::shared_ptr<StreamBody> stream() {
    std::lock_guard lock(mutex_);
    return stream_;
  }

  static constexpr const char* kStreamRequest =
      "GET /stream HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 41\r\n\r\n";

  std::unique_ptr<HttpServer> server_;
  std::mutex mutex_;
  std::shared_ptr<StreamBody> stream_;
  std::string last_event_id_;
};

TEST_F(StreamingServer, PushedBytesReachTheClientAsTheyAreProduced) {
  start();
  RawClient client(server_->port());
  client.send(kStreamRequest);
  ASSERT_TRUE(client.read_until(": hello\n\n")) << client.received;
  EXPECT_THAT(client.received, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(client.received, HasSubstr("Content-Type: text/event-stream\r\n"));
  EXPECT_THAT(client.received, HasSubstr("Connection: close\r\n"));
  EXPECT_THAT(client.received, HasSubstr("X-Test: 1\r\n"));
  EXPECT_EQ(client.received.find("Content-Length"), std::string::npos);
  {
    std::lock_guard lock(mutex_);
    EXPECT_EQ(last_event_id_, "41");
  }

  // From another thread, as the controller does.
  std::thread producer([s = stream()] {
    for (int i = 0; i < 3; ++i)
      s->push("id: " + std::to_string(i) + "\ndata: {}\n\n");
  });
  producer.join();
  ASSERT_TRUE(client.read_until("id: 2\ndata: {}\n\n")) << client.received;
  EXPECT_THAT(client.received, HasSubstr("id: 0\ndata: {}\n\nid: 1\ndata: {}\n\n"));

  // The producer ends it: the connection closes after the last bytes.
  stream()->push("id: 3\ndata: {}\n\n");
  stream()->close();
  ASSERT_TRUE(client.read_until_closed());
  EXPECT_THAT(client.received, HasSubstr("id: 3\ndata: {}\n\n"));
}

TEST_F(StreamingServer, AClientThatLeavesEndsTheStream) {
  start();
  RawClient client(server_->port());
  client.send(kStreamRequest);
  ASSERT_TRUE(client.read_until(": hello\n\n"));
  auto s = stream();
  EXPECT_TRUE(s->is_open());
  client.close();
  EXPECT_TRUE(eventually([&] { return !s->is_open(); }));
  EXPECT_FALSE(s->push("too late"));
}

TEST_F(StreamingServer, HeartbeatsKeepAnIdleStreamAlive) {
  StreamBody::Options options;
  options.heartbeat_interval = 50ms;
  start(options);
  RawClient client(server_->port());
  client.send(kStreamRequest);
  ASSERT_TRUE(client.read_until(": keep-alive\n\n: keep-alive\n\n")) << client.received;
}

TEST_F(StreamingServer, AClientTooSlowToReadIsDisconnected) {
  StreamBody::Options options;
  options.max_pending_bytes = 64 * 1024;
  start(options);
  RawClient client(server_->port());
  client.send(kStreamRequest);
  ASSERT_TRUE(client.read_until(": hello\n\n"));
  // The client stops reading; the producer never waits, and the stream is cut once the
  // socket buffers and the pending bound are full.
  auto s = stream();
  const std::string chunk(8192, 'x');
  bool refused = false;
  for (int i = 0; i < 20'000 && !refused; ++i) {
    refused = !s->push(chunk);
    if (i % 64 == 0) std::this_thread::sleep_for(1ms);  // let the writer fill the socket
  }
  EXPECT_TRUE(refused);
  EXPECT_TRUE(s->overflowed());
  EXPECT_TRUE(client.read_until_closed(10s));
}

TEST_F(StreamingServer, StoppingTheServerEndsOpenStreams) {
  start();
  RawClient client(server_->port());
  client.send(kStreamRequest);
  ASSERT_TRUE(client.read_until(": hello\n\n"));
  auto s = stream();
  server_->stop();
  EXPECT_FALSE(s->is_open());
  EXPECT_FALSE(s->push("after stop"));
  server_.reset();
  EXPECT_FALSE(s->push("after destruction"));  // must not touch the gone io_context
}

TEST_F(StreamingServer, OrdinaryResponsesAndHeadStillWork) {
  start();
  RawClient client(server_->port());
  client.send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(client.read_until(R"({"ok":true})"));
  EXPECT_THAT(client.received, HasSubstr("Content-Length: 11\r\n"));
  client.received.clear();
  client.send("HEAD /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(client.read_until_closed());
  EXPECT_THAT(client.received, HasSubstr("Content-Length: 11\r\n"));
  EXPECT_EQ(client.received.find(R"({"ok":true})"), std::string::npos);
}

TEST_F(StreamingServer, TheTokenGuardsStreamsToo) {
  start({}, "s3cret");
  RawClient client(server_->port());
  client.send(kStreamRequest);
  ASSERT_TRUE(client.read_until("\r\n\r\n"));
  EXPECT_THAT(client.received, StartsWith("HTTP/1.1 401"));
  EXPECT_EQ(stream(), nullptr);
}

// The dashboard's files (GET and HEAD under the public prefix) need no token; the API,
// other methods and look-alike paths still do.
TEST_F(StreamingServer, OnlyReadsUnderThePublicPrefixSkipTheToken) {
  start({}, "s3cret", "/ui");
  auto status_of = [&](const std::string& request_line) {
    RawClient client(server_->port());
    client.send(request_line + "\r\nHost: x\r\nConnection: close\r\n\r\n");
    client.read_until_closed();
    return client.received.substr(0, 12);
  };
  EXPECT_EQ(status_of("GET /ui/ HTTP/1.1"), "HTTP/1.1 200");
  EXPECT_EQ(status_of("GET /ui HTTP/1.1"), "HTTP/1.1 200");
  EXPECT_EQ(status_of("HEAD /ui/app.js HTTP/1.1"), "HTTP/1.1 200");
  EXPECT_EQ(status_of("GET /ui/app.js?v=2 HTTP/1.1"), "HTTP/1.1 200");
  EXPECT_EQ(status_of("POST /ui/ HTTP/1.1"), "HTTP/1.1 401");
  EXPECT_EQ(status_of("GET /uix HTTP/1.1"), "HTTP/1.1 401");
  EXPECT_EQ(status_of("GET /v1/services HTTP/1.1"), "HTTP/1.1 401");
  EXPECT_EQ(status_of("GET /stream HTTP/1.1"), "HTTP/1.1 401");
}

// If-None-Match reaches the handler, and a 304 goes out without a body on a connection
// that stays usable.
TEST_F(StreamingServer, ANotModifiedAnswerKeepsTheConnection) {
  start();
  RawClient client(server_->port());
  client.send("GET /ui/cached HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"v1\"\r\n\r\n");
  ASSERT_TRUE(client.read_until("\r\n\r\n"));
  EXPECT_THAT(client.received, StartsWith("HTTP/1.1 304"));
  client.received.clear();
  client.send("GET /ui/cached HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(client.read_until(R"({"fresh":true})"));
  EXPECT_THAT(client.received, StartsWith("HTTP/1.1 200"));
}

}  // namespace
}  // namespace glidepath::admin
