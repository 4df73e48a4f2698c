// `glidepath sample-backend` as the demo and the gateway tests use it: the real binary on
// port 0, its printed port, raw sockets. No sleeps: every wait is on a line or a response,
// with a bounded timeout.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/background_process.h"
#include "support/http_client.h"
#include "support/process.h"

namespace glidepath::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// A sample backend started for one test. At the end it must stop cleanly on SIGTERM with
// nothing on stderr: a sanitizer report (leak, overflow, UB) in the server fails the test.
class RunningBackend {
 public:
  explicit RunningBackend(std::vector<std::string> args, std::string name = "v1")
      : name_(std::move(name)), process_(argv(std::move(args), name_)) {
    auto line = process_.wait_for_line(
        "^sample-backend " + name_ + R"( listening on 127\.0\.0\.1:(\d+)$)", 20s);
    if (!line) throw std::runtime_error("the sample backend did not start: " + process_.err());
    port_ = static_cast<std::uint16_t>(std::stoi((*line)[1]));
  }

  ~RunningBackend() {
    const int code = process_.terminate();
    EXPECT_EQ(code, 0) << process_.err();
    EXPECT_EQ(process_.err(), "");
  }
  RunningBackend(const RunningBackend&) = delete;
  RunningBackend& operator=(const RunningBackend&) = delete;

  HttpClient client() const { return HttpClient("127.0.0.1", port_); }
  BackgroundProcess& process() { return process_; }
  std::uint16_t port() const { return port_; }

  Json control() const {
    HttpResponse r = client().request("GET", "/_control");
    EXPECT_EQ(r.status, 200) << r.error;
    return Json::parse(r.body);
  }

 private:
  static std::vector<std::string> argv(std::vector<std::string> args, const std::string& name) {
    args.insert(args.begin(),
                {glidepath_binary(), "sample-backend", "--port", "0", "--name", name});
    return args;
  }

  std::string name_;
  BackgroundProcess process_;
  std::uint16_t port_ = 0;
};

Json json_of(const HttpResponse& r) {
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  return Json::parse(r.body);
}

std::string test_data(size_t size) {
  std::string data(size, '\0');
  std::uint64_t x = 0x2545f4914f6cdd1dULL;
  for (char& c : data) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return data;
}

TEST(SampleBackend, PrintsOneLineThenAnswersWithItsVersionAndTheRequestItSaw) {
  RunningBackend backend({}, "v2.1");
  HttpClient client = backend.client();
  HttpResponse r = client.request("GET", "/orders/1?expand=items",
                                  {{"X-Request-Id", "req-42"},
                                   {"X-Forwarded-For", "10.0.0.7"},
                                   {"X-Forwarded-Proto", "https"},
                                   {"X-Note", "first"},
                                   {"x-note", "second"},
                                   {"Weird", "quote\" and \\ back"}});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("X-Backend-Version"), "v2.1");
  EXPECT_TRUE(r.keep_alive);
  const Json body = json_of(r);
  EXPECT_EQ(body["version"], "v2.1");
  EXPECT_EQ(body["method"], "GET");
  EXPECT_EQ(body["path"], "/orders/1");
  EXPECT_EQ(body["target"], "/orders/1?expand=items");
  EXPECT_EQ(body["request_id"], "req-42");
  EXPECT_EQ(body["x_forwarded_for"], "10.0.0.7");
  EXPECT_EQ(body["x_forwarded_proto"], "https");
  EXPECT_EQ(body["host"], "127.0.0.1:" + std::to_string(backend.port()));
  EXPECT_EQ(body["body_bytes"], 0);
  EXPECT_EQ(body["headers"]["x-note"], "first, second");
  EXPECT_EQ(body["headers"]["weird"], "quote\" and \\ back");
  EXPECT_EQ(body["headers"]["x-request-id"], "req-42");
  EXPECT_FALSE(body["headers"].contains("connection"));
  EXPECT_FALSE(body.contains("error"));

  // Absent headers are null, and a body is counted, not echoed.
  r = client.request("POST", "/orders", {}, "{\"item\":1}");
  ASSERT_EQ(r.status, 200) << r.error;
  const Json post = json_of(r);
  EXPECT_TRUE(post["request_id"].is_null());
  EXPECT_TRUE(post["x_forwarded_for"].is_null());
  EXPECT_EQ(post["method"], "POST");
  EXPECT_EQ(post["body_bytes"], 10);

  // Exactly one line on stdout.
  EXPECT_EQ(backend.process().terminate(), 0);
  EXPECT_EQ(backend.process().out(),
            "sample-backend v2.1 listening on 127.0.0.1:" + std::to_string(backend.port()) + "\n");
}

TEST(SampleBackend, ErrorRateOneAnswersEveryRequestWith500) {
  RunningBackend backend({"--error-rate", "1"});
  HttpClient client = backend.client();
  for (int i = 0; i < 20; ++i) {
    HttpResponse r = client.request("GET", "/orders/" + std::to_string(i));
    ASSERT_EQ(r.status, 500) << r.error;
    EXPECT_EQ(r.header("X-Backend-Version"), "v1");
    EXPECT_EQ(json_of(r)["error"], "injected failure");
  }
  const Json control = backend.control();
  EXPECT_EQ(control["error_rate"], 1.0);
  EXPECT_EQ(control["requests"]["total"], 20);
  EXPECT_EQ(control["requests"]["5xx"], 20);
  EXPECT_EQ(control["requests"]["2xx"], 0);
}

TEST(SampleBackend, ErrorRateIsAFractionOfRequests) {
  RunningBackend backend({"--error-rate", "0.5"});
  HttpClient client = backend.client();
  int failures = 0;
  for (int i = 0; i < 400; ++i) {
    HttpResponse r = client.request("GET", "/");
    ASSERT_TRUE(r.status == 200 || r.status == 500) << r.status << r.error;
    failures += r.status == 500;
  }
  // 400 fair coin flips: outside 120..280 is a 1-in-10^15 event.
  EXPECT_GT(failures, 120);
  EXPECT_LT(failures, 280);
}

TEST(SampleBackend, ControlChangesBehaviourAtRunTime) {
  RunningBackend backend({});
  HttpClient client = backend.client();
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(client.request("GET", "/a").status, 200);

  HttpResponse r = client.request("POST", "/_control", {}, R"({"error_rate":1.0})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json_of(r)["error_rate"], 1.0);
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(client.request("GET", "/a").status, 500);

  r = client.request("POST", "/_control", {}, R"({"error_rate":0,"latency_ms":0})");
  ASSERT_EQ(r.status, 200) << r.body;
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(client.request("GET", "/a").status, 200);

  // Mistakes are refused and change nothing.
  for (const char* bad :
       {R"({"error_rate":1.5})", R"({"latency_ms":-1})", R"({"speed":2})", "not json", "[1]"}) {
    r = client.request("POST", "/_control", {}, bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_TRUE(json_of(r).contains("error")) << bad;
  }
  EXPECT_EQ(client.request("DELETE", "/_control").status, 405);

  // /_control itself is not counted.
  const Json control = backend.control();
  EXPECT_EQ(control["version"], "v1");
  EXPECT_EQ(control["error_rate"], 0.0);
  EXPECT_EQ(control["latency_ms"], 0);
  EXPECT_EQ(control["requests"]["total"], 25);
  EXPECT_EQ(control["requests"]["2xx"], 15);
  EXPECT_EQ(control["requests"]["5xx"], 10);
}

TEST(SampleBackend, LatencyIsAddedToEachRequest) {
  RunningBackend backend({"--latency-ms", "100"});
  HttpClient client = backend.client();
  auto start = Clock::now();
  ASSERT_EQ(client.request("GET", "/slow").status, 200);
  EXPECT_GE(Clock::now() - start, 100ms);
  EXPECT_EQ(backend.control()["latency_ms"], 100);  // /_control is never delayed

  // Changed at run time; /_test/sleep adds its own delay.
  ASSERT_EQ(client.request("POST", "/_control", {}, R"({"latency_ms":200})").status, 200);
  start = Clock::now();
  ASSERT_EQ(client.request("GET", "/slower").status, 200);
  EXPECT_GE(Clock::now() - start, 200ms);
  ASSERT_EQ(client.request("POST", "/_control", {}, R"({"latency_ms":0})").status, 200);
  start = Clock::now();
  ASSERT_EQ(client.request("GET", "/_test/sleep/100").status, 200);
  EXPECT_GE(Clock::now() - start, 100ms);
}

TEST(SampleBackend, SlowRequestsDoNotBlockOthers) {
  // One worker thread: the delay is a timer, so a second connection is answered at once.
  RunningBackend backend({"--workers", "1"});
  HttpClient slow = backend.client();
  ASSERT_TRUE(slow.send_raw("GET /_test/sleep/3000 HTTP/1.1\r\nHost: x\r\n\r\n"));
  HttpClient fast = backend.client();
  const auto start = Clock::now();
  ASSERT_EQ(fast.request("GET", "/quick").status, 200);
  EXPECT_LT(Clock::now() - start, 2500ms);
}

TEST(SampleBackend, EchoStreamsA20MBChunkedUploadBack) {
  RunningBackend backend({});
  HttpClient client = backend.client();
  const std::string data = test_data(20 * 1024 * 1024);
  const std::string head =
      "POST /_test/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Content-Type: application/x-test\r\n\r\n";
  // The backend answers while the upload is still going: send from another thread so
  // neither side blocks on a full socket buffer.
  bool sent = false;
  std::thread sender([&] { sent = client.send_raw(head + encode_chunked(data, 100'000), 60s); });
  HttpResponse r = client.read_response(60s);
  sender.join();
  ASSERT_TRUE(sent);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.chunked);
  EXPECT_EQ(r.header("Content-Type"), "application/x-test");
  EXPECT_EQ(r.body.size(), data.size());
  EXPECT_TRUE(r.body == data);

  // The connection is still good, and a Content-Length body is echoed with its length.
  r = client.request("POST", "/_test/echo", {}, "hello");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_FALSE(r.chunked);
  EXPECT_EQ(r.header("Content-Length"), "5");
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(client.connects(), 1);
}

TEST(SampleBackend, AnswersExpectContinueBeforeTheBody) {
  RunningBackend backend({});
  HttpClient client = backend.client();
  ASSERT_TRUE(client.send_raw(
      "PUT /things/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  HttpResponse interim = client.read_response();
  ASSERT_EQ(interim.status, 100) << interim.error;
  ASSERT_TRUE(client.send_raw("abcd"));
  HttpResponse r = client.read_response();
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(json_of(r)["body_bytes"], 4);
}

TEST(SampleBackend, ResetHookResetsTheConnectionWithoutAnAnswer) {
  RunningBackend backend({});
  HttpClient client = backend.client();
  HttpResponse r = client.request("GET", "/_test/reset");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status, 0);
  EXPECT_TRUE(r.reset) << r.error;
  EXPECT_TRUE(r.closed);
  // Only that connection: the backend goes on serving.
  EXPECT_EQ(backend.client().request("GET", "/").status, 200);
}

TEST(SampleBackend, GarbageHookWritesSomethingThatIsNotHttpAndCloses) {
  RunningBackend backend({});
  HttpClient raw = backend.client();
  ASSERT_TRUE(raw.send_raw("GET /_test/garbage HTTP/1.1\r\nHost: x\r\n\r\n"));
  RawRead read = raw.read_all_until_close();
  EXPECT_TRUE(read.closed);
  EXPECT_FALSE(read.reset);
  EXPECT_THAT(read.data, StartsWith("\x01\x02 this is not HTTP"));

  HttpClient parsed = backend.client();
  HttpResponse r = parsed.request("GET", "/_test/garbage");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.error, HasSubstr("invalid response"));
}

TEST(SampleBackend, CloseHookAnswersThenCloses) {
  RunningBackend backend({});
  HttpClient client = backend.client();
  HttpResponse r = client.request("GET", "/_test/close");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.header("Connection"), "close");
  EXPECT_TRUE(r.closed);
  EXPECT_FALSE(r.reset);
}

TEST(SampleBackend, KeepsOneConnectionAliveFor100Requests) {
  RunningBackend backend({});
  HttpClient client = backend.client();
  for (int i = 0; i < 100; ++i) {
    HttpResponse r = client.request("GET", "/orders/" + std::to_string(i));
    ASSERT_EQ(r.status, 200) << i << ": " << r.error;
    ASSERT_FALSE(r.closed) << i;
    ASSERT_EQ(json_of(r)["path"], "/orders/" + std::to_string(i));
  }
  EXPECT_EQ(client.connects(), 1);
  const Json count = json_of(client.request("GET", "/_test/count"));
  EXPECT_EQ(count["prefixes"]["/orders"], 100);
  EXPECT_EQ(count["prefixes"]["/_test"], 1);
  EXPECT_EQ(count["total"], 101);
}

TEST(SampleBackend, AnswersPipelinedRequestsInOrder) {
  RunningBackend backend({});
  HttpClient client = backend.client();
  ASSERT_TRUE(client.send_raw(
      "GET /first HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /second HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n"
      "HEAD /third HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /fourth HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  HttpResponse first = client.read_response();
  HttpResponse second = client.read_response();
  HttpResponse third = client.read_response(5s, /*head_request=*/true);
  HttpResponse fourth = client.read_response();
  ASSERT_EQ(first.status, 200) << first.error;
  ASSERT_EQ(second.status, 200) << second.error;
  ASSERT_EQ(third.status, 200) << third.error;
  ASSERT_EQ(fourth.status, 200) << fourth.error;
  EXPECT_EQ(json_of(first)["path"], "/first");
  EXPECT_EQ(json_of(second)["path"], "/second");
  EXPECT_EQ(json_of(second)["body_bytes"], 3);
  EXPECT_TRUE(third.body.empty());
  EXPECT_NE(third.header("Content-Length"), "0");
  EXPECT_EQ(json_of(fourth)["path"], "/fourth");
  EXPECT_TRUE(fourth.closed);
}

TEST(SampleBackend, BytesHookStreamsTheAskedSize) {
  RunningBackend backend({});
  HttpClient client = backend.client();
  std::string expected(300'000, 'a');
  for (size_t i = 0; i < expected.size(); ++i)
    expected[i] = static_cast<char>('a' + i % 26);

  HttpResponse r = client.request("GET", "/_test/bytes/300000");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_FALSE(r.chunked);
  EXPECT_TRUE(r.body == expected);

  r = client.request("GET", "/_test/bytes/300000?chunked=1");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_TRUE(r.chunked);
  EXPECT_TRUE(r.body == expected);

  r = client.request("HEAD", "/_test/bytes/10");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.header("Content-Length"), "10");
  EXPECT_TRUE(r.body.empty());

  r = client.request("GET", "/_test/bytes/0");
  ASSERT_EQ(r.status, 200) << r.error;
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(client.connects(), 1);
}

TEST(SampleBackend, StatusHookAndBadHooks) {
  RunningBackend backend({});
  HttpClient client = backend.client();
  HttpResponse r = client.request("GET", "/_test/status/503");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(json_of(r)["status"], 503);
  r = client.request("GET", "/_test/status/204");
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
  // Reachable after a route prefix too, as through a gateway route /orders.
  EXPECT_EQ(client.request("GET", "/orders/_test/status/418").status, 418);
  EXPECT_EQ(client.request("GET", "/_test/status/99").status, 400);
  EXPECT_EQ(client.request("GET", "/_test/sleep/forever").status, 400);
  EXPECT_EQ(client.request("GET", "/_test/nothing").status, 404);
  EXPECT_EQ(client.connects(), 1);
}

TEST(SampleBackend, RequestsHookListsWhatArrived) {
  RunningBackend backend({});
  HttpClient client = backend.client();
  ASSERT_EQ(client.request("GET", "/x/1?q=2").status, 200);
  ASSERT_EQ(client.request("DELETE", "/y").status, 200);
  HttpResponse r = client.request("GET", "/_test/requests");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "GET /x/1?q=2\nDELETE /y\nGET /_test/requests\n");
}

TEST(SampleBackend, RejectsRequestsOfAmbiguousLengthWith400AndCloses) {
  RunningBackend backend({});
  const char* ambiguous[] = {
      "Content-Length: 1\r\nContent-Length: 2\r\n\r\nab",
      "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
      "Transfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
  };
  for (const char* rest : ambiguous) {
    HttpClient client = backend.client();
    // A request hidden in the body must not be read as a request of its own.
    ASSERT_TRUE(client.send_raw(std::string("POST /ambiguous HTTP/1.1\r\nHost: x\r\n") + rest +
                                "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"));
    HttpResponse r = client.read_response();
    EXPECT_EQ(r.status, 400) << rest << r.error;
    EXPECT_TRUE(r.closed) << rest;
  }
  HttpResponse r = backend.client().request("GET", "/_test/requests");
  EXPECT_THAT(r.body, Not(HasSubstr("/smuggled")));
}

TEST(SampleBackend, SeveralWorkersShareTheLoad) {
  RunningBackend backend({"--workers", "2"});
  std::vector<HttpClient> clients;
  for (int i = 0; i < 4; ++i)
    clients.push_back(backend.client());
  for (int round = 0; round < 5; ++round) {
    for (auto& client : clients)
      ASSERT_EQ(client.request("GET", "/w").status, 200);
  }
  const Json control = backend.control();
  EXPECT_EQ(control["workers"], 2);
  EXPECT_EQ(control["requests"]["2xx"], 20);
  const Json count = json_of(clients[0].request("GET", "/_test/count"));
  EXPECT_EQ(count["prefixes"]["/w"], 20);
}

TEST(SampleBackend, ExitsZeroOnSigtermAndSigint) {
  RunningBackend first({});
  EXPECT_EQ(first.client().request("GET", "/").status, 200);
  EXPECT_EQ(first.process().terminate(), 0) << first.process().err();

  RunningBackend second({});
  HttpClient idle = second.client();  // an open connection does not hold up the exit
  second.process().send_signal(SIGINT);
  EXPECT_EQ(second.process().wait_for_exit(10s), 0) << second.process().err();
}

TEST(SampleBackendCommand, RejectsBadOptionsWithExit2) {
  const std::vector<std::vector<std::string>> bad = {
      {"--port", "0", "--name", "v1", "--error-rate", "1.5"},
      {"--port", "0", "--name", "v1", "--error-rate", "-0.1"},
      {"--port", "0", "--name", "v1", "--latency-ms", "-5"},
      {"--port", "0", "--name", "v1", "--workers", "-1"},
      {"--port", "70000", "--name", "v1"},
      {"--port", "0", "--name", "bad name"},
      {"--port", "0"},
      {"--port", "0", "--name", "v1", "--bind", "not-an-address"},
  };
  // Concurrently: each run is a process start, slow under the sanitizers.
  std::vector<std::future<ProcessResult>> runs;
  for (const auto& args : bad) {
    std::vector<std::string> argv{glidepath_binary(), "sample-backend"};
    argv.insert(argv.end(), args.begin(), args.end());
    runs.push_back(std::async(std::launch::async, [argv] { return run_process(argv, 10s); }));
  }
  for (size_t i = 0; i < bad.size(); ++i) {
    ProcessResult r = runs[i].get();
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(bad[i]) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

TEST(SampleBackendCommand, APortInUseFailsWithExit1) {
  RunningBackend backend({});
  ProcessResult r = run_process({glidepath_binary(), "sample-backend", "--port",
                                 std::to_string(backend.port()), "--name", "v2"},
                                10s);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(backend.port())));
}

}  // namespace
}  // namespace glidepath::testing
