// Who calls what, through the real binary (SPEC sections 4, 5 and 7): usage recorded per
// consumer × service × operation × version × status class, compared request for request with
// what the test sent and what each answer said about the version that served it — during a
// canary with an OpenAPI document on each version, for anonymous callers, and for a version
// without a document (ids folded). Also: stickiness by API key across a canary's steps,
// usage that outlives the process, and `glidepath consumers`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "support/access_harness.h"
#include "support/process.h"

namespace glidepath::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

// OpenAPI documents for the two versions of orders. v2 names the order's path parameter
// differently, so an operation shows which version's document named it.
std::string orders_spec(const std::string& id_name) {
  const std::string param =
      "          - {name: " + id_name + ", in: path, required: true, schema: {type: string}}\n";
  return "openapi: 3.0.3\n"
         "info: {title: Orders, version: '1'}\n"
         "paths:\n"
         "  /orders:\n"
         "    get:\n"
         "      responses: {'200': {description: the orders}}\n"
         "    post:\n"
         "      responses: {'201': {description: created}}\n"
         "  /orders/mine:\n"
         "    get:\n"
         "      responses: {'200': {description: the caller's orders}}\n"
         "  /orders/{" +
         id_name +
         "}:\n"
         "    get:\n"
         "      parameters:\n" +
         param +
         "      responses: {'200': {description: one order}}\n"
         "  /orders/{id}/items:\n"
         "    get:\n"
         "      parameters:\n"
         "          - {name: id, in: path, required: true, schema: {type: string}}\n"
         "      responses: {'200': {description: its items}}\n"
         // The sample backend answers any path containing /_test/status/C with status C.
         "  /orders/{id}/_test/status/{code}:\n"
         "    get:\n"
         "      parameters:\n"
         "          - {name: id, in: path, required: true, schema: {type: string}}\n"
         "          - {name: code, in: path, required: true, schema: {type: integer}}\n"
         "      responses: {'200': {description: a test answer}}\n";
}

std::string status_class(int status) {
  return std::to_string(status / 100) + "xx";
}

// Sends requests and keeps the books: what the usage should say afterwards.
class Ledger {
 public:
  explicit Ledger(const AccessServer& server) : server_(server) {}

  // One request. `operations`: version → the operation it should be recorded as.
  HttpResponse send(const std::string& consumer, const std::string& key, const std::string& method,
                    const std::string& target, const std::map<std::string, std::string>& operations,
                    const std::string& service = "orders") {
    HttpClient& client = client_for(consumer);
    HeaderFields headers;
    if (!key.empty()) headers = key_header(key);
    std::string body;
    if (method == "POST" || method == "PUT") {
      headers.emplace_back("Content-Type", "application/json");
      body = "{}";
    }
    HttpResponse r = client.request(method, target, headers, body);
    if (!r.ok() || !r.keep_alive) client.reconnect();
    const std::string version = r.header("X-Glidepath-Version");
    EXPECT_NE(r.status, 0) << method << " " << target << ": " << r.error;
    EXPECT_EQ(version, r.header("X-Backend-Version")) << method << " " << target;
    const auto op = operations.find(version);
    if (op == operations.end()) {
      ADD_FAILURE() << method << " " << target << " served by unexpected version '" << version
                    << "' (HTTP " << r.status << ")";
      return r;
    }
    UsageCounts& counts = expected_[consumer][{service, op->second, version}];
    ++counts.requests;
    ++counts.by_class[status_class(r.status)];
    ++total_[consumer];
    return r;
  }

  const OperationUsage& expected(const std::string& consumer) { return expected_[consumer]; }
  std::uint64_t total(const std::string& consumer) { return total_[consumer]; }

 private:
  HttpClient& client_for(const std::string& consumer) {
    auto it = clients_.find(consumer);
    if (it == clients_.end()) it = clients_.emplace(consumer, server_.client()).first;
    return it->second;
  }

  const AccessServer& server_;
  std::map<std::string, HttpClient> clients_;
  std::map<std::string, OperationUsage> expected_;
  std::map<std::string, std::uint64_t> total_;
};

std::uint64_t requests_on(const OperationUsage& table, const std::string& version) {
  std::uint64_t n = 0;
  for (const auto& [key, counts] : table) {
    if (std::get<2>(key) == version) n += counts.requests;
  }
  return n;
}

// The checks every operation row of a usage answer must pass.
void expect_well_formed_rows(const Json& usage) {
  ASSERT_TRUE(usage.is_object()) << usage.dump();
  ASSERT_TRUE(usage.contains("operations") && usage["operations"].is_array()) << usage.dump();
  for (const Json& op : usage["operations"]) {
    for (const char* field : {"service", "operation", "version", "requests", "errors", "by_class",
                              "first_seen", "last_seen"}) {
      EXPECT_TRUE(op.contains(field)) << field << " missing in " << op.dump();
    }
    const std::string first = op.value("first_seen", "");
    const std::string last = op.value("last_seen", "");
    EXPECT_FALSE(first.empty()) << op.dump();
    EXPECT_LE(first, last) << op.dump();
    const Json& by_class = op["by_class"];
    const std::uint64_t errors = op.value("errors", std::uint64_t{0});
    // Errors are the failed requests: at least the 5xx, at most the 4xx and 5xx.
    EXPECT_GE(errors, class_count(by_class, "5xx")) << op.dump();
    EXPECT_LE(errors, class_count(by_class, "4xx") + class_count(by_class, "5xx")) << op.dump();
  }
  ASSERT_TRUE(usage.contains("minutes") && usage["minutes"].is_array()) << usage.dump();
  // Per-minute buckets, where they carry a count, add up to the operations' requests.
  std::uint64_t in_minutes = 0;
  bool counted = false;
  for (const Json& minute : usage["minutes"]) {
    for (const char* field : {"count", "requests"}) {
      if (minute.contains(field) && minute[field].is_number_unsigned()) {
        in_minutes += minute[field].get<std::uint64_t>();
        counted = true;
        break;
      }
    }
  }
  if (counted && !usage.value("minutes_truncated", false)) {
    EXPECT_EQ(in_minutes, usage_total(usage)) << usage.dump();
  }
  EXPECT_FALSE(usage.value("since", "").empty()) << usage.dump();
}

TEST(Consumers, UsageCountsEveryRequestByOperationAndVersionDuringACanary) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  // Relative spec paths: resolved against the config file's directory.
  AccessServerOptions options;
  options.files = {{"specs/orders-v1.yaml", orders_spec("id")},
                   {"specs/orders-v2.yaml", orders_spec("order_id")}};
  AccessServer server(service_yaml("orders", "/orders",
                                   {{"v1", v1.address(), "specs/orders-v1.yaml"},
                                    {"v2", v2.address(), "specs/orders-v2.yaml"}},
                                   "    api_keys: required\n    stickiness: none\n"),
                      options);
  const ApiKey alice = create_key(server, "alice", {{"metadata", {{"team", "web"}}}});
  const ApiKey bob = create_key(server, "bob");
  ASSERT_FALSE(alice.key.empty() || bob.key.empty());
  ASSERT_FALSE(
      start_held_canary(server, "orders", "v2", Json::array({{{"weight", 50}}, {{"pause", {}}}}))
          .empty());

  Ledger ledger(server);
  auto same = [](const std::string& op) {
    return std::map<std::string, std::string>{{"v1", op}, {"v2", op}};
  };
  const std::map<std::string, std::string> one_order = {{"v1", "GET /orders/{id}"},
                                                        {"v2", "GET /orders/{order_id}"}};
  for (int i = 0; i < 24; ++i)
    ledger.send("alice", alice.key, "GET", "/orders/ab-" + std::to_string(i), one_order);
  for (int i = 0; i < 10; ++i)
    ledger.send("alice", alice.key, "GET", "/orders", same("GET /orders"));
  for (int i = 0; i < 6; ++i)
    ledger.send("alice", alice.key, "POST", "/orders", same("POST /orders"));
  for (int i = 0; i < 8; ++i)
    ledger.send("alice", alice.key, "GET", "/orders/mine", same("GET /orders/mine"));
  for (int i = 0; i < 6; ++i) {
    ledger.send("alice", alice.key, "GET", "/orders/ab-" + std::to_string(i) + "/items",
                same("GET /orders/{id}/items"));
  }
  for (const int code : {404, 404, 404, 503, 503, 503, 503}) {
    const HttpResponse r =
        ledger.send("alice", alice.key, "GET", "/orders/x/_test/status/" + std::to_string(code),
                    same("GET /orders/{id}/_test/status/{code}"));
    EXPECT_EQ(r.status, code);
  }
  for (int i = 0; i < 16; ++i)
    ledger.send("bob", bob.key, "GET", "/orders/cd-" + std::to_string(i), one_order);
  for (int i = 0; i < 4; ++i)
    ledger.send("bob", bob.key, "GET", "/orders?page=" + std::to_string(i), same("GET /orders"));

  for (const std::string consumer : {"alice", "bob"}) {
    SCOPED_TRACE(consumer);
    const Json usage = wait_for_usage(server, consumer, ledger.total(consumer), "orders");
    const OperationUsage recorded = operation_usage(usage, "orders");
    EXPECT_EQ(recorded, ledger.expected(consumer)) << "recorded:\n"
                                                   << describe(recorded) << "sent:\n"
                                                   << describe(ledger.expected(consumer));
    expect_well_formed_rows(usage);
    EXPECT_EQ(usage.value("consumer", ""), consumer);
    EXPECT_EQ(usage.value("contact", ""), consumer + "@example.com");
  }
  // A 50% canary over 60-odd requests: both versions served alice.
  EXPECT_GT(requests_on(ledger.expected("alice"), "v1"), 0u);
  EXPECT_GT(requests_on(ledger.expected("alice"), "v2"), 0u);

  const AdminReply all = server.get("/v1/consumers");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_FALSE(all.json.value("since", "").empty()) << all.body;
  const Json a = find_consumer(all.json, "alice");
  ASSERT_TRUE(a.is_object()) << all.body;
  for (const char* field :
       {"name", "contact", "metadata", "keys", "services", "operations", "versions", "requests",
        "errors", "by_class", "first_seen", "last_seen"}) {
    EXPECT_TRUE(a.contains(field)) << field << " missing in " << a.dump();
  }
  EXPECT_EQ(a.value("requests", std::uint64_t{0}), ledger.total("alice")) << a.dump();
  EXPECT_EQ(a.value("contact", ""), "alice@example.com");
  EXPECT_EQ(a["metadata"], (Json{{"team", "web"}}));
  EXPECT_EQ(count_of(a["keys"]), 1) << a.dump();
  EXPECT_EQ(count_of(a["services"]), 1) << a.dump();
  EXPECT_EQ(count_of(a["versions"]), 2) << a.dump();
  EXPECT_GE(count_of(a["operations"]), 6) << a.dump();
  EXPECT_EQ(class_count(a["by_class"], "4xx"), 3u) << a.dump();
  EXPECT_EQ(class_count(a["by_class"], "5xx"), 4u) << a.dump();
  EXPECT_EQ(class_count(a["by_class"], "2xx"), ledger.total("alice") - 7) << a.dump();
  const Json b = find_consumer(all.json, "bob");
  ASSERT_TRUE(b.is_object()) << all.body;
  EXPECT_EQ(b.value("requests", std::uint64_t{0}), ledger.total("bob")) << b.dump();
  EXPECT_EQ(b.value("errors", std::uint64_t{1}), 0u) << b.dump();
}

TEST(Consumers, RequestsWithoutAKeyAreTheAnonymousConsumers) {
  SampleBackend v1("v1");
  AccessServer server(service_yaml("things", "/things", {{"v1", v1.address(), ""}}));
  const ApiKey carol = create_key(server, "carol");
  Ledger ledger(server);
  const std::map<std::string, std::string> op = {{"v1", "GET /things/{id}"}};
  for (int i = 0; i < 7; ++i)
    ledger.send("anonymous", "", "GET", "/things/" + std::to_string(i), op, "things");
  for (int i = 0; i < 3; ++i)
    ledger.send("carol", carol.key, "GET", "/things/" + std::to_string(i), op, "things");

  const Json usage = wait_for_usage(server, "anonymous", 7);
  EXPECT_EQ(operation_usage(usage), ledger.expected("anonymous")) << usage.dump();
  const Json carols = wait_for_usage(server, "carol", 3);
  EXPECT_EQ(operation_usage(carols), ledger.expected("carol")) << carols.dump();

  const AdminReply all = server.get("/v1/consumers");
  ASSERT_EQ(all.status, 200) << all.body;
  const Json anonymous = find_consumer(all.json, "anonymous");
  ASSERT_TRUE(anonymous.is_object()) << all.body;
  EXPECT_EQ(anonymous.value("requests", std::uint64_t{0}), 7u) << anonymous.dump();
  EXPECT_EQ(find_consumer(all.json, "carol").value("requests", std::uint64_t{0}), 3u) << all.body;
}

TEST(Consumers, WithoutASpecTheOperationIsTheLiteralPathWithIdsFolded) {
  SampleBackend v1("v1");
  AccessServer server(service_yaml("things", "/things", {{"v1", v1.address(), ""}}));
  const ApiKey key = create_key(server, "folder");
  Ledger ledger(server);
  struct Case {
    std::string method;
    std::string target;
    std::string operation;
  };
  const std::vector<Case> cases = {
      {"GET", "/things/123", "GET /things/{id}"},
      {"GET", "/things/550e8400-e29b-41d4-a716-446655440000", "GET /things/{id}"},
      {"GET", "/things/5f0c2a9e7b1d4c3a8e6f0b12", "GET /things/{id}"},  // long hex
      {"GET", "/things/42?color=red", "GET /things/{id}"},              // the query is dropped
      {"GET", "/things/123/parts/77", "GET /things/{id}/parts/{id}"},
      {"PUT", "/things/00000000-0000-0000-0000-000000000000/parts/9",
       "PUT /things/{id}/parts/{id}"},
      {"GET", "/things/search", "GET /things/search"},  // a word is not an id
      {"GET", "/things/search", "GET /things/search"},
      {"DELETE", "/things/9", "DELETE /things/{id}"},
      {"POST", "/things", "POST /things"},
  };
  for (const Case& c : cases) {
    const HttpResponse r =
        ledger.send("folder", key.key, c.method, c.target, {{"v1", c.operation}}, "things");
    EXPECT_EQ(r.status, 200) << c.method << " " << c.target;
  }
  const Json usage = wait_for_usage(server, "folder", cases.size());
  const OperationUsage recorded = operation_usage(usage);
  EXPECT_EQ(recorded, ledger.expected("folder")) << "recorded:\n"
                                                 << describe(recorded) << "sent:\n"
                                                 << describe(ledger.expected("folder"));
}

// SPEC section 4: with stickiness by API key a consumer sees one version at each weight,
// and as the canary grows moves from stable to canary once, never back.
TEST(Consumers, StickinessByKeyKeepsAConsumerOnOneVersionAndMovesItOnlyForward) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  AccessServer server(service_yaml("orders", "/orders",
                                   {{"v1", v1.address(), ""}, {"v2", v2.address(), ""}},
                                   "    api_keys: required\n    stickiness: api_key\n"));
  constexpr int kConsumers = 60;
  std::vector<ApiKey> keys;
  for (int i = 0; i < kConsumers; ++i) {
    keys.push_back(create_key(server, "consumer-" + std::to_string(i)));
    ASSERT_FALSE(keys.back().key.empty());
  }
  // Three requests each, every one on a fresh connection: the version each consumer got.
  auto observe = [&](const std::string& stage) {
    std::vector<bool> on_canary(kConsumers);
    for (int i = 0; i < kConsumers; ++i) {
      std::set<std::string> seen;
      for (int n = 0; n < 3; ++n) {
        HttpClient client = server.client();
        const HttpResponse r = client.request("GET", "/orders/1", key_header(keys[i].key));
        EXPECT_EQ(r.status, 200) << stage << " " << r.error;
        seen.insert(r.header("X-Glidepath-Version"));
      }
      EXPECT_EQ(seen.size(), 1u) << stage << ": consumer-" << i << " saw "
                                 << ::testing::PrintToString(seen);
      on_canary[i] = seen.count("v2") > 0;
    }
    return on_canary;
  };
  auto canary_count = [](const std::vector<bool>& v) {
    return std::count(v.begin(), v.end(), true);
  };

  const std::string id = start_held_canary(server, "orders", "v2",
                                           Json::array({{{"weight", 25}},
                                                        {{"pause", {}}},
                                                        {{"weight", 75}},
                                                        {{"pause", {}}},
                                                        {{"weight", 100}}}));
  ASSERT_FALSE(id.empty());
  const std::vector<bool> at25 = observe("25%");
  ASSERT_EQ(server.admin("POST", "/v1/deployments/" + id + "/promote").status, 200);
  wait_for_weight(server, id, 75);
  const std::vector<bool> at75 = observe("75%");
  ASSERT_EQ(server.admin("POST", "/v1/deployments/" + id + "/promote").status, 200);
  const Json done = wait_for_deployment(
      server, id, [](const Json& d) { return d.value("state", "") == "succeeded"; }, 20s,
      "success");
  const std::vector<bool> at100 = observe("100%");

  for (int i = 0; i < kConsumers; ++i) {
    EXPECT_FALSE(at25[i] && !at75[i]) << "consumer-" << i << " moved back from v2 at 75%";
    EXPECT_TRUE(at100[i]) << "consumer-" << i << " is not on v2 once it is live";
  }
  // Binomial(60, p) with p = 0.25 and 0.75: far outside these bands means no weighting.
  EXPECT_GE(canary_count(at25), 3);
  EXPECT_LE(canary_count(at25), 28);
  EXPECT_GE(canary_count(at75), 32);
  EXPECT_LE(canary_count(at75), 57);
}

// Workers record usage in tables of their own; every request must reach the report once.
TEST(Consumers, ConcurrentRequestsOnEveryWorkerAreEachCountedOnce) {
  SampleBackend v1("v1");
  AccessServerOptions options;
  options.workers = 4;
  AccessServer server(service_yaml("things", "/things", {{"v1", v1.address(), ""}}), options);
  const ApiKey key = create_key(server, "busy");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 150;
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::optional<HttpClient> client;
      for (int i = 0; i < kPerThread; ++i) {
        if (i % 10 == 0) client.emplace(server.client());  // new connections, other workers
        const bool anonymous = i % 3 == 0;
        const HttpResponse r = client->request("GET", "/things/" + std::to_string(t * 1000 + i),
                                               anonymous ? HeaderFields{} : key_header(key.key));
        if (r.status != 200) ++failed;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  ASSERT_EQ(failed.load(), 0);
  const std::uint64_t anonymous = kThreads * ((kPerThread + 2) / 3);  // i % 3 == 0
  const std::uint64_t keyed = kThreads * kPerThread - anonymous;
  const Json busy = wait_for_usage(server, "busy", keyed);
  const OperationUsage expected_busy = {
      {{"things", "GET /things/{id}", "v1"}, {keyed, {{"2xx", keyed}}}}};
  EXPECT_EQ(operation_usage(busy), expected_busy) << describe(operation_usage(busy));
  const Json anon = wait_for_usage(server, "anonymous", anonymous);
  const OperationUsage expected_anon = {
      {{"things", "GET /things/{id}", "v1"}, {anonymous, {{"2xx", anonymous}}}}};
  EXPECT_EQ(operation_usage(anon), expected_anon) << describe(operation_usage(anon));
}

// The consumer is the request's, not the connection's: keys may change from one request to
// the next on a keep-alive connection, pipelined or not.
TEST(Consumers, EachRequestOnAConnectionIsCountedForItsOwnKey) {
  SampleBackend v1("v1");
  AccessServer server(service_yaml("things", "/things", {{"v1", v1.address(), ""}}));
  const ApiKey alice = create_key(server, "alice");
  const ApiKey bob = create_key(server, "bob");
  const std::vector<std::string> order = {"alice", "bob", "",      "alice", "bob",
                                          "bob",   "",    "alice", "alice", "bob"};
  std::string bytes;
  for (const std::string& who : order) {
    bytes += "GET /things/1 HTTP/1.1\r\nHost: gw\r\n";
    if (!who.empty()) bytes += "X-Api-Key: " + (who == "alice" ? alice.key : bob.key) + "\r\n";
    bytes += "\r\n";
  }
  HttpClient client = server.client();
  ASSERT_TRUE(client.send_raw(bytes));
  for (const std::string& who : order) {
    const HttpResponse r = client.read_response();
    ASSERT_EQ(r.status, 200) << r.error;
    const Json headers = upstream_headers(r);
    if (!who.empty()) {
      EXPECT_EQ(headers.value("x-glidepath-consumer", ""), who) << headers.dump();
    } else {
      EXPECT_NE(headers.value("x-glidepath-consumer", ""), "alice") << headers.dump();
      EXPECT_NE(headers.value("x-glidepath-consumer", ""), "bob") << headers.dump();
    }
  }
  EXPECT_EQ(usage_total(wait_for_usage(server, "alice", 4)), 4u);
  EXPECT_EQ(usage_total(wait_for_usage(server, "bob", 4)), 4u);
  EXPECT_EQ(usage_total(wait_for_usage(server, "anonymous", 2)), 2u);
}

TEST(Consumers, UsageSurvivesARestart) {
  SampleBackend v1("v1");
  AccessServer server(service_yaml("orders", "/orders", {{"v1", v1.address(), ""}}));
  const ApiKey key = create_key(server, "durable");
  {
    HttpClient client = server.client();
    for (int i = 0; i < 12; ++i)
      ASSERT_EQ(client.request("GET", "/orders/" + std::to_string(i), key_header(key.key)).status,
                200);
  }
  wait_for_usage(server, "durable", 12);
  ASSERT_EQ(server.stop(), 0);
  server.start();
  AdminReply usage = get_usage(server, "durable");
  ASSERT_EQ(usage.status, 200) << usage.body;
  EXPECT_EQ(usage_total(usage.json), 12u) << usage.body;

  // Requests just before a graceful stop are not lost either.
  {
    HttpClient client = server.client();
    for (int i = 0; i < 5; ++i)
      ASSERT_EQ(client.request("GET", "/orders/" + std::to_string(i), key_header(key.key)).status,
                200);
  }
  ASSERT_EQ(server.stop(), 0);
  server.start();
  usage = get_usage(server, "durable");
  ASSERT_EQ(usage.status, 200) << usage.body;
  EXPECT_EQ(usage_total(usage.json), 17u) << usage.body;
  const OperationUsage table = operation_usage(usage.json);
  const OperationUsage expected = {{{"orders", "GET /orders/{id}", "v1"}, {17, {{"2xx", 17}}}}};
  EXPECT_EQ(table, expected) << describe(table);
  const AdminReply all = server.get("/v1/consumers");
  EXPECT_EQ(find_consumer(all.json, "durable").value("requests", std::uint64_t{0}), 17u)
      << all.body;
}

// ---- the service filter and glidepath consumers --------------------------------------------

// `glidepath consumers --json`: the API's {"consumers": [...]} or the list itself.
Json listed_consumers(const std::string& out) {
  const Json j = Json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (j.is_array()) return Json{{"consumers", j}};
  if (j.is_object() && j.contains("consumers") && j["consumers"].is_array()) return j;
  ADD_FAILURE() << "consumers --json printed neither a list nor {\"consumers\": [...]}:\n" << out;
  return Json{{"consumers", Json::array()}};
}

// The line of a table that names `name`.
std::string line_of(const std::string& text, const std::string& name) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (std::regex_search(line, std::regex("(^|\\s)" + name + "(\\s|$)"))) return line;
  }
  return "";
}

bool has_word(const std::string& line, const std::string& word) {
  return std::regex_search(line, std::regex("(^|\\s)" + word + "(\\s|$)"));
}

class ConsumersReport : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<AccessServer>(
        service_yaml("orders", "/orders", {{"v1", v1_.address(), ""}}) +
        service_yaml("payments", "/payments", {{"v1", v1_.address(), ""}}));
    alice_ = create_key(*server_, "alice");
    bob_ = create_key(*server_, "bob", {{"contact", "https://bob.example/contact"}});
    HttpClient client = server_->client();
    for (int i = 0; i < 9; ++i)
      ASSERT_EQ(client.request("GET", "/orders/1", key_header(alice_.key)).status, 200);
    for (int i = 0; i < 4; ++i)
      ASSERT_EQ(client.request("POST", "/payments", key_header(alice_.key), "{}").status, 200);
    for (int i = 0; i < 6; ++i)
      ASSERT_EQ(client.request("GET", "/orders/2", key_header(bob_.key)).status, 200);
    wait_for_usage(*server_, "alice", 13);
    wait_for_usage(*server_, "bob", 6);
  }

  ProcessResult glidepath(std::vector<std::string> args) const {
    args.insert(args.begin(), glidepath_binary());
    args.push_back("--admin");
    args.push_back(server_->admin_url());
    return run_process(args, 30s);
  }

  SampleBackend v1_{"v1"};
  std::unique_ptr<AccessServer> server_;
  ApiKey alice_;
  ApiKey bob_;
};

TEST_F(ConsumersReport, TheAdminApiFiltersByServiceAndTime) {
  AdminReply r = server_->get("/v1/consumers?service=payments&since=7d");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(r.json.value("since", "").empty()) << r.body;
  const Json a = find_consumer(r.json, "alice");
  EXPECT_EQ(a.value("requests", std::uint64_t{0}), 4u) << r.body;
  EXPECT_TRUE(find_consumer(r.json, "bob").is_null()) << "bob never called payments: " << r.body;

  r = server_->get("/v1/consumers?since=7d");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(find_consumer(r.json, "alice").value("requests", std::uint64_t{0}), 13u) << r.body;
  EXPECT_EQ(count_of(find_consumer(r.json, "alice")["services"]), 2) << r.body;
  EXPECT_EQ(find_consumer(r.json, "bob").value("contact", ""), "https://bob.example/contact");

  EXPECT_EQ(server_->get("/v1/consumers?since=yesterday").status, 400);
  // A service nobody called (or that does not exist): nobody, or 404.
  const AdminReply nosuch = server_->get("/v1/consumers?service=nosuch");
  EXPECT_TRUE(nosuch.status == 404 ||
              (nosuch.status == 200 && nosuch.json.value("consumers", Json::array()).empty()))
      << nosuch.status << " " << nosuch.body;
  // Alice's usage of one service.
  const AdminReply usage = get_usage(*server_, "alice");
  ASSERT_EQ(usage.status, 200);
  EXPECT_EQ(usage_total(usage.json, "payments"), 4u) << usage.body;
  EXPECT_EQ(usage_total(usage.json, "orders"), 9u) << usage.body;
}

TEST_F(ConsumersReport, TheCommandPrintsATableOrJson) {
  ProcessResult r = glidepath({"consumers"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("\x1b["))) << "no colour when not on a terminal";
  const std::string alice = line_of(r.out, "alice");
  const std::string bob = line_of(r.out, "bob");
  ASSERT_FALSE(alice.empty()) << r.out;
  ASSERT_FALSE(bob.empty()) << r.out;
  EXPECT_TRUE(has_word(alice, "13")) << "alice's request count:\n" << r.out;
  EXPECT_THAT(alice, HasSubstr("alice@example.com"));
  EXPECT_TRUE(has_word(bob, "6")) << "bob's request count:\n" << r.out;
  for (const ApiKey* k : {&alice_, &bob_})
    EXPECT_THAT(r.out, Not(HasSubstr(k->key)));

  r = glidepath({"consumers", "--service", "payments"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(has_word(line_of(r.out, "alice"), "4")) << r.out;
  EXPECT_EQ(line_of(r.out, "bob"), "") << r.out;

  r = glidepath({"consumers", "--json", "--since", "7d"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  Json listed = listed_consumers(r.out);
  EXPECT_EQ(find_consumer(listed, "alice").value("requests", std::uint64_t{0}), 13u) << r.out;
  EXPECT_EQ(find_consumer(listed, "bob").value("requests", std::uint64_t{0}), 6u) << r.out;

  r = glidepath({"consumers", "--json", "--service", "payments"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  listed = listed_consumers(r.out);
  EXPECT_EQ(find_consumer(listed, "alice").value("requests", std::uint64_t{0}), 4u) << r.out;
  EXPECT_TRUE(find_consumer(listed, "bob").is_null()) << r.out;

  r = glidepath({"consumers", "--since", "yesterday"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_FALSE(r.err.empty());
  r = glidepath({"consumers", "--bogus"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
}

TEST(ConsumersCli, AnUnreachableAdminApiIsAFailure) {
  // A port nobody listens on: a gateway's admin port once it has stopped.
  std::string url;
  {
    SampleBackend v1("v1");
    AccessServer server(service_yaml("orders", "/orders", {{"v1", v1.address(), ""}}));
    url = server.admin_url();
  }
  const ProcessResult r = run_process({glidepath_binary(), "consumers", "--admin", url}, 30s);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_FALSE(r.err.empty());
}

}  // namespace
}  // namespace glidepath::testing
