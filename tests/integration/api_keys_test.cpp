// API keys through the real binary (SPEC sections 4, 5 and 7): the admin calls that issue,
// list and revoke keys; every answer the gateway gives a request because of its key (401,
// 403, 429 with Retry-After for a rate and for a daily quota); where the key may travel;
// what the upstream learns (the consumer, never the key); quota counts that outlive the
// process; preview pins; and the `glidepath keys` commands.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <regex>
#include <set>
#include <thread>

#include "support/access_harness.h"
#include "support/process.h"

namespace glidepath::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string orders(const SampleBackend& v1, const std::string& extra) {
  return service_yaml("orders", "/orders", {{"v1", v1.address(), ""}}, extra);
}

// `n` GETs of `path` pipelined on one connection (so they reach the gateway within a
// millisecond or so), with `headers`; the answers in order.
std::vector<HttpResponse> pipelined(HttpClient& client, int n, const std::string& path,
                                    const HeaderFields& headers) {
  std::string bytes;
  for (int i = 0; i < n; ++i) {
    bytes += "GET " + path + " HTTP/1.1\r\nHost: gw\r\n";
    for (const auto& [name, value] : headers)
      bytes += name + ": " + value + "\r\n";
    bytes += "\r\n";
  }
  std::vector<HttpResponse> answers;
  if (!client.send_raw(bytes)) {
    ADD_FAILURE() << "could not send " << n << " pipelined requests";
    return answers;
  }
  for (int i = 0; i < n; ++i)
    answers.push_back(client.read_response());
  return answers;
}

std::vector<int> statuses(const std::vector<HttpResponse>& answers) {
  std::vector<int> out;
  for (const auto& r : answers)
    out.push_back(r.status);
  return out;
}

// The single value of a header the upstream received ("" when absent).
std::string upstream_header(const HttpResponse& r, const std::string& name) {
  const Json headers = upstream_headers(r);
  if (!headers.is_object() || !headers.contains(name) || !headers[name].is_string()) return "";
  return headers[name].get<std::string>();
}

// A key must never be shown again: not in a body, a header, nor the server's output.
void expect_key_absent(const std::string& text, const std::string& key, const std::string& where) {
  ASSERT_FALSE(key.empty());
  EXPECT_THAT(text, Not(HasSubstr(key))) << "the key appears in " << where;
  // Nor most of it: the display prefix may be shown, the rest may not.
  EXPECT_THAT(text, Not(HasSubstr(key.substr(key.size() - 40)))) << "part of the key in " << where;
}

std::string everything_in(const HttpResponse& r) {
  std::string text = r.body;
  for (const auto& [name, value] : r.headers.fields())
    text += "\n" + name + ": " + value;
  return text;
}

bool near_utc_midnight() {
  return seconds_to_utc_midnight() < 60 || seconds_to_utc_midnight() > 86400 - 5;
}

// ---- the admin API ------------------------------------------------------------------------------

TEST(ApiKeysAdmin, CreateAnswersTheWholeKeyOnceAndListNeverShowsIt) {
  SampleBackend v1("v1");
  AccessServer server(orders(v1, ""));
  const Json body = {{"consumer", "acme"},
                     {"contact", "ops@acme.test"},
                     {"metadata", {{"team", "payments"}, {"tier", "gold"}}},
                     {"rate", "100/s"},
                     {"quota", "1000/day"},
                     {"preview", true}};
  const AdminReply created = server.post("/v1/keys", body);
  ASSERT_EQ(created.status, 201) << created.body << created.error;
  const Json& k = created.json;
  ASSERT_TRUE(k.is_object()) << created.body;
  for (const char* field : {"id", "key", "consumer", "contact", "metadata", "prefix", "rate",
                            "quota", "preview", "created_at"}) {
    EXPECT_TRUE(k.contains(field)) << field << " missing: " << created.body;
  }
  const std::string key = k.value("key", "");
  EXPECT_TRUE(looks_like_api_key(key)) << key;
  EXPECT_FALSE(k.value("id", "").empty());
  EXPECT_EQ(k.value("consumer", ""), "acme");
  EXPECT_EQ(k.value("contact", ""), "ops@acme.test");
  EXPECT_EQ(k["metadata"], body["metadata"]);
  EXPECT_EQ(k.value("rate", ""), "100/s");
  EXPECT_EQ(k.value("quota", ""), "1000/day");
  EXPECT_EQ(k.value("preview", false), true);
  EXPECT_FALSE(k.value("created_at", "").empty());
  const std::string prefix = k.value("prefix", "");
  EXPECT_FALSE(prefix.empty());
  EXPECT_LT(prefix.size(), 16u) << "a display prefix, not most of the key";
  EXPECT_EQ(key.rfind(prefix, 0), 0u) << prefix << " does not start " << key;

  // A minimal key: no limits, no preview; every key is new.
  const AdminReply minimal =
      server.post("/v1/keys", {{"consumer", "acme"}, {"contact", "https://acme.test/api"}});
  ASSERT_EQ(minimal.status, 201) << minimal.body;
  EXPECT_EQ(minimal.json.value("preview", true), false) << minimal.body;
  EXPECT_TRUE(minimal.json.value("rate", Json()).is_null()) << minimal.body;
  EXPECT_TRUE(minimal.json.value("quota", Json()).is_null()) << minimal.body;
  const std::string key2 = minimal.json.value("key", "");
  EXPECT_NE(key2, key);
  EXPECT_NE(minimal.json.value("id", ""), k.value("id", ""));

  const AdminReply list = server.get("/v1/keys");
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_TRUE(list.json.is_object() && list.json["keys"].is_array()) << list.body;
  ASSERT_EQ(list.json["keys"].size(), 2u) << list.body;
  std::set<std::string> ids;
  for (const Json& entry : list.json["keys"]) {
    EXPECT_FALSE(entry.contains("key")) << entry.dump();
    ids.insert(entry.value("id", ""));
    EXPECT_EQ(entry.value("consumer", ""), "acme");
    EXPECT_FALSE(entry.value("prefix", "").empty()) << entry.dump();
  }
  EXPECT_EQ(ids, (std::set<std::string>{k.value("id", ""), minimal.json.value("id", "")}));
  expect_key_absent(list.body, key, "GET /v1/keys");
  expect_key_absent(list.body, key2, "GET /v1/keys");
}

TEST(ApiKeysAdmin, RevokeAnswers200Then409AndUnknownIs404) {
  SampleBackend v1("v1");
  AccessServer server(orders(v1, "    api_keys: required\n"));
  const ApiKey key = create_key(server, "acme");
  ASSERT_FALSE(key.id.empty());
  HttpClient client = server.client();
  ASSERT_EQ(client.request("GET", "/orders/1", key_header(key.key)).status, 200);

  EXPECT_EQ(server.del("/v1/keys/key_doesnotexist").status, 404);
  const AdminReply revoked = server.del("/v1/keys/" + key.id);
  EXPECT_EQ(revoked.status, 200) << revoked.body;
  expect_key_absent(revoked.body, key.key, "DELETE /v1/keys/{id}");
  const AdminReply again = server.del("/v1/keys/" + key.id);
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_TRUE(again.json.is_object() && again.json.contains("error")) << again.body;

  // A revoked key may stay listed, but then as revoked.
  const AdminReply list = server.get("/v1/keys");
  ASSERT_EQ(list.status, 200);
  for (const Json& entry : list.json["keys"]) {
    if (entry.value("id", "") != key.id) continue;
    const bool marked = entry.value("revoked", false) || entry.value("state", "") == "revoked" ||
                        (entry.contains("revoked_at") && !entry["revoked_at"].is_null());
    EXPECT_TRUE(marked) << "a revoked key listed as if in force: " << entry.dump();
  }
  expect_gateway_error(server.client().request("GET", "/orders/2", key_header(key.key)), 403);
}

TEST(ApiKeysAdmin, InvalidRequestsAre400WithAMessage) {
  SampleBackend v1("v1");
  AccessServer server(orders(v1, ""));
  const std::vector<std::string> bodies = {
      "not json",
      "[]",
      R"({"contact": "ops@acme.test"})",                  // no consumer
      R"({"consumer": "acme"})",                          // no contact
      R"({"consumer": "", "contact": "ops@acme.test"})",  // empty name
      R"({"consumer": "acme", "contact": "nobody"})",     // neither email nor URL
      R"({"consumer": "acme", "contact": "ops@acme.test", "rate": "fast"})",  // bad rate
      R"({"consumer": "acme", "contact": "ops@acme.test", "quota": "5/fortnight"})",
      R"({"consumer": "acme", "contact": "ops@acme.test", "preview": "yes"})",
      R"({"consumer": "acme", "contact": "ops@acme.test", "metadata": "team=x"})",
  };
  for (const std::string& body : bodies) {
    const AdminReply r = server.admin("POST", "/v1/keys", body);
    EXPECT_EQ(r.status, 400) << body << " → " << r.body;
    EXPECT_TRUE(r.json.is_object() && r.json.contains("error")) << body << " → " << r.body;
  }
  const AdminReply list = server.get("/v1/keys");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.json["keys"].size(), 0u) << "a refused key was created: " << list.body;
}

// ---- what the gateway answers -------------------------------------------------------------------

TEST(ApiKeys, ARequiredKeyThatIsMissingIs401UnknownOrRevokedIs403) {
  SampleBackend v1("v1");
  AccessServer server(orders(v1, "    api_keys: required\n"));
  const ApiKey key = create_key(server, "acme");
  const ApiKey revoked = create_key(server, "gone");
  revoke_key(server, revoked.id);
  HttpClient client = server.client();

  expect_gateway_error(client.request("GET", "/orders/no-key"), 401);
  expect_gateway_error(client.request("GET", "/orders/empty-key", {{"X-Api-Key", ""}}), 401);
  expect_gateway_error(client.request("GET", "/orders/unknown", key_header(unknown_key())), 403);
  expect_gateway_error(client.request("GET", "/orders/garbage", key_header("let me in")), 403);
  expect_gateway_error(client.request("GET", "/orders/revoked", key_header(revoked.key)), 403);
  // The refusals keep the connection: the next request on it is served.
  const HttpResponse ok = client.request("GET", "/orders/with-key", key_header(key.key));
  ASSERT_EQ(ok.status, 200) << ok.error << ok.body;
  EXPECT_EQ(client.connects(), 1);
  EXPECT_EQ(ok.header("X-Glidepath-Version"), "v1");

  const std::string seen = v1.requests_seen();
  EXPECT_THAT(seen, HasSubstr("/orders/with-key"));
  for (const char* refused : {"/orders/no-key", "/orders/empty-key", "/orders/unknown",
                              "/orders/garbage", "/orders/revoked"}) {
    EXPECT_THAT(seen, Not(HasSubstr(refused))) << "a refused request reached the upstream";
  }
  // Every refusal is counted per service and reason.
  const AdminReply metrics = server.get("/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.error;
  EXPECT_THAT(metrics.body, HasSubstr("# TYPE glidepath_requests_refused_total counter"));
  EXPECT_THAT(metrics.body, HasSubstr("glidepath_requests_refused_total{service=\"orders\","
                                      "reason=\"missing_key\"} 2\n"));
  EXPECT_THAT(metrics.body, HasSubstr("glidepath_requests_refused_total{service=\"orders\","
                                      "reason=\"invalid_key\"} 3\n"));
  EXPECT_THAT(metrics.body, HasSubstr("glidepath_requests_refused_total{service=\"orders\","
                                      "reason=\"rate_limited\"} 0\n"));
}

TEST(ApiKeys, AnOptionalServiceLetsAnonymousRequestsInButChecksAPresentedKey) {
  SampleBackend v1("v1");
  // No api_keys line: optional is the default.
  AccessServer server(orders(v1, ""));
  const ApiKey key = create_key(server, "acme");
  const ApiKey revoked = create_key(server, "gone");
  revoke_key(server, revoked.id);
  HttpClient client = server.client();

  const HttpResponse anonymous = client.request("GET", "/orders/anonymous");
  EXPECT_EQ(anonymous.status, 200) << anonymous.body;
  const HttpResponse known = client.request("GET", "/orders/known", key_header(key.key));
  EXPECT_EQ(known.status, 200) << known.body;
  EXPECT_EQ(upstream_header(known, "x-glidepath-consumer"), "acme");
  expect_gateway_error(client.request("GET", "/orders/unknown", key_header(unknown_key())), 403);
  expect_gateway_error(client.request("GET", "/orders/revoked", key_header(revoked.key)), 403);
}

TEST(ApiKeys, WithKeysOffEveryRequestPassesWhateverItCarries) {
  SampleBackend v1("v1");
  AccessServer server(orders(v1, "    api_keys: off\n"));
  const ApiKey key = create_key(server, "acme");
  const ApiKey revoked = create_key(server, "gone");
  revoke_key(server, revoked.id);
  HttpClient client = server.client();
  EXPECT_EQ(client.request("GET", "/orders/none").status, 200);
  EXPECT_EQ(client.request("GET", "/orders/unknown", key_header(unknown_key())).status, 200);
  EXPECT_EQ(client.request("GET", "/orders/revoked", key_header(revoked.key)).status, 200);
  EXPECT_EQ(client.request("GET", "/orders/known", key_header(key.key)).status, 200);
}

TEST(ApiKeys, ABearerServiceTakesTheKeyFromAuthorizationOnly) {
  SampleBackend v1("v1");
  AccessServer server(orders(v1,
                             "    api_keys: required\n"
                             "    api_key_source: bearer\n"));
  const ApiKey key = create_key(server, "acme");
  HttpClient client = server.client();

  HttpResponse r = client.request("GET", "/orders/bearer", bearer_header(key.key));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(upstream_header(r, "x-glidepath-consumer"), "acme");
  EXPECT_EQ(upstream_header(r, "authorization"), "")
      << "the credential went on to the upstream: " << r.body;
  expect_key_absent(r.body, key.key, "the upstream's view of a bearer request");
  // The scheme is case-insensitive (RFC 9110 section 11.1).
  EXPECT_EQ(client.request("GET", "/orders/lower", {{"Authorization", "bearer " + key.key}}).status,
            200);

  // On this service X-Api-Key is not where keys travel: the request carries none.
  expect_gateway_error(client.request("GET", "/orders/header", key_header(key.key)), 401);
  expect_gateway_error(client.request("GET", "/orders/basic", {{"Authorization", "Basic YTpi"}}),
                       401);
  expect_gateway_error(client.request("GET", "/orders/unknown", bearer_header(unknown_key())), 403);
}

TEST(ApiKeys, TheUpstreamLearnsTheConsumerAndNeverSeesTheKey) {
  SampleBackend v1("v1");
  AccessServer server(orders(v1, ""));
  const ApiKey key = create_key(server, "acme");
  HttpClient client = server.client();

  HttpResponse r = client.request("GET", "/orders/7", key_header(key.key));
  ASSERT_EQ(r.status, 200) << r.body;
  const Json headers = upstream_headers(r);
  ASSERT_TRUE(headers.is_object()) << r.body;
  EXPECT_EQ(headers.value("x-glidepath-consumer", ""), "acme") << headers.dump();
  EXPECT_FALSE(headers.contains("x-api-key")) << headers.dump();
  expect_key_absent(everything_in(r), key.key, "the proxied answer");

  // Header names are case-insensitive (RFC 9110 section 5.1): any spelling is the key, and
  // none of them goes on.
  for (const std::string name : {"x-api-key", "X-API-KEY"}) {
    r = client.request("GET", "/orders/spelling", {{name, key.key}});
    ASSERT_EQ(r.status, 200) << name << ": " << r.body;
    EXPECT_EQ(upstream_header(r, "x-glidepath-consumer"), "acme") << name;
    expect_key_absent(r.body, key.key, "the upstream's view with " + name);
  }
  // The key twice: refused or not, it never reaches the upstream.
  r = client.request("GET", "/orders/twice", {{"X-Api-Key", key.key}, {"X-Api-Key", key.key}});
  if (r.status == 200) expect_key_absent(r.body, key.key, "the upstream's view of a doubled key");
  if (!r.ok() || r.closed) client.reconnect();

  // A client cannot name itself someone else: what the upstream gets is the gateway's word.
  r = client.request("GET", "/orders/8",
                     {{"X-Api-Key", key.key}, {"X-Glidepath-Consumer", "mallory"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(upstream_header(r, "x-glidepath-consumer"), "acme") << r.body;
  r = client.request("GET", "/orders/9", {{"X-Glidepath-Consumer", "mallory"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(upstream_header(r, "x-glidepath-consumer"), Not(HasSubstr("mallory"))) << r.body;
}

TEST(ApiKeys, ANewOrRevokedKeyIsInForceOnEveryWorkerOnceTheAdminCallReturns) {
  SampleBackend v1("v1");
  AccessServerOptions options;
  options.workers = 4;
  AccessServer server(orders(v1, "    api_keys: required\n"), options);
  for (int round = 0; round < 3; ++round) {
    const ApiKey key = create_key(server, "acme-" + std::to_string(round));
    ASSERT_FALSE(key.key.empty());
    // Fresh connections land on all the workers; none may still have the old table.
    for (int c = 0; c < 12; ++c) {
      HttpClient client = server.client();
      const HttpResponse r = client.request("GET", "/orders/new", key_header(key.key));
      ASSERT_EQ(r.status, 200) << "round " << round << " connection " << c << ": " << r.body;
    }
    revoke_key(server, key.id);
    for (int c = 0; c < 12; ++c) {
      HttpClient client = server.client();
      const HttpResponse r = client.request("GET", "/orders/revoked", key_header(key.key));
      ASSERT_EQ(r.status, 403) << "round " << round << " connection " << c << ": " << r.body;
    }
  }
}

TEST(ApiKeys, AKeyRevokedWhileAConnectionUsesItIsRefusedOnItsNextRequest) {
  SampleBackend v1("v1");
  AccessServer server(orders(v1, "    api_keys: required\n"));
  const ApiKey key = create_key(server, "acme");
  const ApiKey other = create_key(server, "other");
  HttpClient client = server.client();
  for (int i = 0; i < 3; ++i) {
    const HttpResponse r = client.request("GET", "/orders/before", key_header(key.key));
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_TRUE(r.keep_alive);
  }
  revoke_key(server, key.id);
  expect_gateway_error(client.request("GET", "/orders/after", key_header(key.key)), 403);
  EXPECT_EQ(client.connects(), 1) << "the refusal must come on the same keep-alive connection";
  // The connection itself is fine: another key goes on using it.
  EXPECT_EQ(client.request("GET", "/orders/other", key_header(other.key)).status, 200);
  EXPECT_EQ(client.connects(), 1);
  EXPECT_THAT(v1.requests_seen(), Not(HasSubstr("/orders/after")));
}

// ---- rate and quota -----------------------------------------------------------------------------

TEST(ApiKeys, ARateAdmitsItsBurstAtOnceThenOneRequestPerInterval) {
  SampleBackend v1("v1");
  AccessServer server(orders(v1, "    api_keys: required\n"));
  const ApiKey limited = create_key(server, "limited", {{"rate", "5/s"}});
  const ApiKey free = create_key(server, "free");
  HttpClient client = server.client();

  // 5/s: a burst of five, then one every 200 ms.
  const auto sent = Clock::now();
  const auto burst = pipelined(client, 8, "/orders/burst", key_header(limited.key));
  const auto answered = Clock::now();  // the burst was admitted between `sent` and now
  ASSERT_EQ(statuses(burst), (std::vector<int>{200, 200, 200, 200, 200, 429, 429, 429}));
  for (size_t i = 5; i < burst.size(); ++i) {
    expect_gateway_error(burst[i], 429);
    EXPECT_EQ(retry_after_seconds(burst[i]), 1)
        << "Retry-After: " << burst[i].header("Retry-After");
  }
  // The limit is the key's, not the gateway's.
  EXPECT_EQ(client.request("GET", "/orders/free", key_header(free.key)).status, 200);

  // This test is about time: 250 ms after the burst one token is back, and only one; 200 ms
  // later the next. Two requests pipelined at each point: the first admitted, the second
  // refused — unless this machine stalled for so long (over 150 ms) that a second token
  // could be back too, in which case only the first is checked.
  for (const auto after : {250ms, 450ms}) {
    std::this_thread::sleep_until(answered + after);
    const auto pair = pipelined(client, 2, "/orders/refill", key_header(limited.key));
    const auto late = (answered - sent) + (Clock::now() - (answered + after));
    ASSERT_EQ(pair.size(), 2u);
    EXPECT_EQ(pair[0].status, 200) << "no token " << after.count() << " ms after the burst";
    if (late < 150ms) {
      EXPECT_EQ(pair[1].status, 429) << "a second token " << after.count() << " ms after the burst";
    }
  }
}

TEST(ApiKeys, RetryAfterSaysWhenTheNextTokenComes) {
  SampleBackend v1("v1");
  AccessServer server(orders(v1, ""));
  const ApiKey key = create_key(server, "slow", {{"rate", "2/min"}});
  HttpClient client = server.client();
  const auto answers = pipelined(client, 3, "/orders/slow", key_header(key.key));
  ASSERT_EQ(statuses(answers), (std::vector<int>{200, 200, 429}));
  // One token per 30 s, the burst spent a moment ago: the next in 29 point something seconds.
  const long retry = retry_after_seconds(answers[2]);
  EXPECT_GE(retry, 28) << answers[2].header("Retry-After");
  EXPECT_LE(retry, 30) << answers[2].header("Retry-After");
}

TEST(ApiKeys, ADailyQuotaRefusesUntilMidnightUtc) {
  if (near_utc_midnight()) GTEST_SKIP() << "too close to midnight UTC for a daily quota";
  SampleBackend v1("v1");
  AccessServer server(orders(v1, "    api_keys: required\n"));
  const ApiKey key = create_key(server, "quota", {{"quota", "3/day"}});
  const ApiKey other = create_key(server, "other", {{"quota", "3/day"}});
  HttpClient client = server.client();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(client.request("GET", "/orders/q", key_header(key.key)).status, 200) << i;
  }
  for (int i = 0; i < 2; ++i) {
    HttpClient fresh = server.client();  // a new connection changes nothing
    const HttpResponse r = fresh.request("GET", "/orders/over", key_header(key.key));
    expect_gateway_error(r, 429);
    const long expected = seconds_to_utc_midnight();
    const long retry = retry_after_seconds(r);
    EXPECT_GE(retry, 1);
    EXPECT_NEAR(static_cast<double>(retry), static_cast<double>(expected), 3.0)
        << "Retry-After: " << r.header("Retry-After") << "; next midnight UTC in " << expected
        << " s";
  }
  EXPECT_EQ(client.request("GET", "/orders/other", key_header(other.key)).status, 200);
  EXPECT_THAT(v1.requests_seen(), Not(HasSubstr("/orders/over")));
}

TEST(ApiKeys, AQuotaIsOneCountForEveryWorkerAndConnection) {
  if (near_utc_midnight()) GTEST_SKIP() << "too close to midnight UTC for a daily quota";
  SampleBackend v1("v1");
  AccessServerOptions options;
  options.workers = 4;
  AccessServer server(orders(v1, "    api_keys: required\n"), options);
  const ApiKey key = create_key(server, "shared", {{"quota", "10/day"}});
  // Four threads at once, each on fresh connections (spread over the workers).
  std::atomic<int> admitted{0};
  std::atomic<int> refused{0};
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 8; ++i) {
        HttpClient client = server.client();
        const int status = client.request("GET", "/orders/shared", key_header(key.key)).status;
        (status == 200 ? admitted : status == 429 ? refused : other)++;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(admitted.load(), 10);
  EXPECT_EQ(refused.load(), 22);
  EXPECT_EQ(other.load(), 0);
}

TEST(ApiKeys, ARateIsOneBucketForEveryWorkerAndConnection) {
  SampleBackend v1("v1");
  AccessServerOptions options;
  options.workers = 4;
  AccessServer server(orders(v1, "    api_keys: required\n"), options);
  // A burst of five, then one token per 12 s: nothing comes back while the test runs.
  const ApiKey key = create_key(server, "shared", {{"rate", "5/min"}});
  std::atomic<int> admitted{0};
  std::atomic<int> refused{0};
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 6; ++i) {
        HttpClient client = server.client();
        const HttpResponse r = client.request("GET", "/orders/shared", key_header(key.key));
        if (r.status == 429 && retry_after_seconds(r) >= 1) {
          ++refused;
        } else {
          (r.status == 200 ? admitted : other)++;
        }
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(admitted.load(), 5);
  EXPECT_EQ(refused.load(), 19);
  EXPECT_EQ(other.load(), 0);
}

TEST(ApiKeys, RequestsRefusedForTheRateDoNotUseUpTheQuota) {
  if (near_utc_midnight()) GTEST_SKIP() << "too close to midnight UTC for a daily quota";
  SampleBackend v1("v1");
  AccessServer server(orders(v1, ""));
  const ApiKey key = create_key(server, "both", {{"rate", "5/s"}, {"quota", "6/day"}});
  HttpClient client = server.client();
  // Five admitted (quota 5 of 6), then ten refused for the rate: Retry-After 1.
  const auto burst = pipelined(client, 15, "/orders/both", key_header(key.key));
  ASSERT_EQ(burst.size(), 15u);
  for (size_t i = 0; i < burst.size(); ++i) {
    EXPECT_EQ(burst[i].status, i < 5 ? 200 : 429) << i;
    if (i >= 5) {
      EXPECT_EQ(retry_after_seconds(burst[i]), 1) << i;
    }
  }
  // This test is about time: a token is back after 200 ms. The sixth request of the day is
  // admitted, so none of the ten refusals counted...
  std::this_thread::sleep_for(250ms);
  EXPECT_EQ(client.request("GET", "/orders/sixth", key_header(key.key)).status, 200);
  // ... and the seventh, with a token to spare, is over the quota: until midnight UTC.
  std::this_thread::sleep_for(250ms);
  const HttpResponse over = client.request("GET", "/orders/seventh", key_header(key.key));
  expect_gateway_error(over, 429);
  EXPECT_NEAR(static_cast<double>(retry_after_seconds(over)),
              static_cast<double>(seconds_to_utc_midnight()), 3.0)
      << over.header("Retry-After");
}

TEST(ApiKeys, AQuotaCountSurvivesAGracefulRestart) {
  if (near_utc_midnight()) GTEST_SKIP() << "too close to midnight UTC for a daily quota";
  SampleBackend v1("v1");
  AccessServer server(orders(v1, "    api_keys: required\n"));
  const ApiKey key = create_key(server, "quota", {{"quota", "5/day"}});
  const ApiKey revoked = create_key(server, "gone");
  revoke_key(server, revoked.id);
  {
    HttpClient client = server.client();
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(client.request("GET", "/orders/before", key_header(key.key)).status, 200) << i;
    }
  }
  // Straight after the requests: the count gets to the store on the way out.
  ASSERT_EQ(server.stop(), 0);
  server.start();
  HttpClient client = server.client();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(client.request("GET", "/orders/after", key_header(key.key)).status, 200) << i;
  }
  const HttpResponse over = client.request("GET", "/orders/over", key_header(key.key));
  expect_gateway_error(over, 429);
  EXPECT_NEAR(static_cast<double>(retry_after_seconds(over)),
              static_cast<double>(seconds_to_utc_midnight()), 3.0);
  // Keys and revocations are in the store too.
  expect_gateway_error(client.request("GET", "/orders/revoked", key_header(revoked.key)), 403);
  ASSERT_EQ(server.stop(), 0);
  expect_key_absent(server.output(), key.key, "the server's output");
}

TEST(ApiKeys, AQuotaCountReachesTheStoreWithinSecondsWithoutAGracefulStop) {
  if (near_utc_midnight()) GTEST_SKIP() << "too close to midnight UTC for a daily quota";
  SampleBackend v1("v1");
  AccessServer server(orders(v1, "    api_keys: required\n"));
  const ApiKey key = create_key(server, "quota", {{"quota", "4/day"}});
  {
    HttpClient client = server.client();
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(client.request("GET", "/orders/before", key_header(key.key)).status, 200) << i;
    }
  }
  // This test is about time: counts are flushed about once a second, so after a few
  // seconds a crash loses none.
  std::this_thread::sleep_for(2500ms);
  server.kill();
  server.start();
  HttpClient client = server.client();
  EXPECT_EQ(client.request("GET", "/orders/fourth", key_header(key.key)).status, 200);
  expect_gateway_error(client.request("GET", "/orders/fifth", key_header(key.key)), 429);
}

// ---- secrecy ------------------------------------------------------------------------------------

TEST(ApiKeys, AKeyNeverAppearsInAnAnswerOrInTheServersOutput) {
  SampleBackend v1("v1");
  AccessServer server(orders(v1, "    api_keys: required\n") +
                      service_yaml("bearer", "/bearer", {{"v1", v1.address(), ""}},
                                   "    api_keys: required\n    api_key_source: bearer\n"));
  const ApiKey key = create_key(server, "acme", {{"rate", "2/s"}, {"quota", "100/day"}});
  const ApiKey gone = create_key(server, "gone");
  const std::string stranger = unknown_key();
  std::vector<HttpResponse> answers;
  {
    HttpClient client = server.client();
    for (HttpResponse& r : pipelined(client, 4, "/orders/x", key_header(key.key))) {
      answers.push_back(std::move(r));  // two admitted, two refused for the rate
    }
    answers.push_back(client.request("GET", "/orders/_test/status/500", key_header(gone.key)));
    revoke_key(server, gone.id);
    answers.push_back(client.request("GET", "/orders/x", key_header(gone.key)));
    answers.push_back(client.request("GET", "/orders/x", key_header(stranger)));
    answers.push_back(client.request("GET", "/bearer/x", bearer_header(stranger)));
    answers.push_back(client.request("GET", "/bearer/x", bearer_header(gone.key)));
    answers.push_back(client.request("GET", "/bearer/x", key_header(key.key)));  // not its place
    answers.push_back(client.request("GET", "/nowhere", key_header(key.key)));   // 404
  }
  std::vector<int> codes = statuses(answers);
  EXPECT_EQ(codes, (std::vector<int>{200, 200, 429, 429, 500, 403, 403, 403, 403, 401, 404}));
  for (const HttpResponse& r : answers) {
    for (const std::string& secret : {key.key, gone.key, stranger}) {
      expect_key_absent(everything_in(r), secret,
                        "an answer with status " + std::to_string(r.status));
    }
  }
  for (const std::string target :
       {"/v1/keys", "/v1/consumers", "/v1/consumers/acme/usage", "/v1/services", "/metrics"}) {
    const AdminReply r = server.get(target);
    for (const std::string& secret : {key.key, gone.key, stranger}) {
      expect_key_absent(r.body, secret, target);
    }
  }
  ASSERT_EQ(server.stop(), 0);
  for (const std::string& secret : {key.key, gone.key, stranger}) {
    expect_key_absent(server.output(), secret, "the server's output");
  }
}

// ---- preview pins -------------------------------------------------------------------------------

TEST(ApiKeys, APreviewKeyMayPinAVersionAndOtherKeysMayNot) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  const std::vector<VersionSpec> versions = {{"v1", v1.address(), ""}, {"v2", v2.address(), ""}};
  AccessServer server(service_yaml("orders", "/orders", versions, "    preview: keys\n") +
                      service_yaml("open", "/open", versions, "    preview: anyone\n") +
                      service_yaml("closed", "/closed", versions, "    preview: off\n"));
  const ApiKey tester = create_key(server, "tester", {{"preview", true}});
  const ApiKey regular = create_key(server, "regular");
  HttpClient client = server.client();
  auto pin = [](const ApiKey& key, const std::string& version) {
    HeaderFields h = key_header(key.key);
    h.emplace_back("X-Glidepath-Version", version);
    return h;
  };

  for (int i = 0; i < 3; ++i) {
    const HttpResponse r = client.request("GET", "/orders/pinned", pin(tester, "v2"));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.header("X-Glidepath-Version"), "v2");
    EXPECT_EQ(r.header("X-Backend-Version"), "v2");
    EXPECT_EQ(upstream_header(r, "x-glidepath-consumer"), "tester");
  }
  HttpResponse r = client.request("GET", "/orders/unpinned", key_header(tester.key));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("X-Glidepath-Version"), "v1");

  expect_gateway_error(client.request("GET", "/orders/regular", pin(regular, "v2")), 403);
  expect_gateway_error(client.request("GET", "/orders/anonymous", {{"X-Glidepath-Version", "v2"}}),
                       403);
  expect_gateway_error(client.request("GET", "/orders/nosuch", pin(tester, "v9")), 400);
  // preview: anyone lets any caller pin; preview: off lets nobody, preview keys included.
  r = client.request("GET", "/open/regular", pin(regular, "v2"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("X-Glidepath-Version"), "v2");
  expect_gateway_error(client.request("GET", "/closed/tester", pin(tester, "v2")), 403);

  const std::string seen = v2.requests_seen();
  EXPECT_THAT(seen, HasSubstr("/orders/pinned"));
  for (const char* refused : {"/orders/regular", "/orders/anonymous", "/closed/"}) {
    EXPECT_THAT(seen, Not(HasSubstr(refused)));
  }
}

// ---- glidepath keys ---------------------------------------------------------------------------

ProcessResult glidepath(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
  args.insert(args.begin(), glidepath_binary());
  return run_process(args, 30s, env);
}

std::vector<std::string> keys_in(const std::string& text) {
  static const std::regex kKey("gp_[A-Za-z0-9]{52}");
  std::vector<std::string> found;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kKey); it != std::sregex_iterator();
       ++it) {
    found.push_back(it->str());
  }
  return found;
}

// `keys list --json`: the API's {"keys": [...]} or the list itself.
Json listed_keys(const std::string& out) {
  const Json j = Json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (j.is_array()) return j;
  if (j.is_object() && j.contains("keys") && j["keys"].is_array()) return j["keys"];
  ADD_FAILURE() << "keys list --json printed neither a list nor {\"keys\": [...]}:\n" << out;
  return Json::array();
}

TEST(KeysCli, CreatePrintsTheKeyOnceAndListNeverShowsIt) {
  SampleBackend v1("v1");
  AccessServer server(orders(v1, "    api_keys: required\n"));
  const std::string admin = server.admin_url();

  ProcessResult r = glidepath({"keys", "create", "--consumer", "acme", "--contact", "ops@acme.test",
                               "--metadata", "team=payments", "--metadata", "tier=gold", "--rate",
                               "100/s", "--quota", "1000/day", "--preview", "--admin", admin});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::vector<std::string> printed = keys_in(r.out + r.err);
  ASSERT_EQ(printed.size(), 1u) << "the key, exactly once:\n" << r.out << r.err;
  const std::string key = printed[0];
  EXPECT_THAT(r.out, HasSubstr(key));

  // The key works, for its consumer, with what the command gave it.
  HttpClient client = server.client();
  const HttpResponse proxied = client.request("GET", "/orders/cli", key_header(key));
  ASSERT_EQ(proxied.status, 200) << proxied.body;
  EXPECT_EQ(upstream_header(proxied, "x-glidepath-consumer"), "acme");
  const AdminReply stored = server.get("/v1/keys");
  ASSERT_EQ(stored.status, 200);
  ASSERT_EQ(stored.json["keys"].size(), 1u) << stored.body;
  const Json entry = stored.json["keys"][0];
  EXPECT_EQ(entry.value("contact", ""), "ops@acme.test");
  EXPECT_EQ(entry["metadata"], (Json{{"team", "payments"}, {"tier", "gold"}})) << entry.dump();
  EXPECT_EQ(entry.value("rate", ""), "100/s");
  EXPECT_EQ(entry.value("quota", ""), "1000/day");
  EXPECT_EQ(entry.value("preview", false), true);
  const std::string id = entry.value("id", "");

  r = glidepath({"keys", "list", "--admin", admin});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr(id));
  EXPECT_THAT(r.out, HasSubstr("acme"));
  EXPECT_TRUE(keys_in(r.out + r.err).empty()) << r.out;
  expect_key_absent(r.out + r.err, key, "keys list");

  r = glidepath({"keys", "list", "--json", "--admin", admin});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const Json listed = listed_keys(r.out);
  ASSERT_EQ(listed.size(), 1u) << r.out;
  EXPECT_EQ(listed[0].value("id", ""), id);
  EXPECT_FALSE(listed[0].contains("key"));
  expect_key_absent(r.out + r.err, key, "keys list --json");
}

TEST(KeysCli, CreateJsonPrintsTheApiObjectAndRevokeEndsTheKey) {
  SampleBackend v1("v1");
  AccessServer server(orders(v1, "    api_keys: required\n"));
  const std::vector<std::string> env = {"GLIDEPATH_ADMIN=" + server.admin_url()};

  ProcessResult r = glidepath({"keys", "create", "--consumer", "shop", "--contact",
                               "https://shop.example/contact", "--metadata", "env=prod", "--json"},
                              env);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const Json k = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(k.is_object()) << r.out;
  for (const char* field : {"id", "key", "consumer", "contact", "metadata", "prefix", "rate",
                            "quota", "preview", "created_at"}) {
    EXPECT_TRUE(k.contains(field)) << field << " missing: " << r.out;
  }
  const std::string key = k.value("key", "");
  const std::string id = k.value("id", "");
  EXPECT_TRUE(looks_like_api_key(key)) << r.out;
  EXPECT_EQ(k.value("consumer", ""), "shop");
  EXPECT_EQ(k.value("contact", ""), "https://shop.example/contact");
  EXPECT_EQ(k["metadata"], (Json{{"env", "prod"}}));
  EXPECT_EQ(k.value("preview", true), false);
  EXPECT_EQ(keys_in(r.out + r.err).size(), 1u) << "--json prints the key once:\n" << r.out << r.err;

  HttpClient client = server.client();
  ASSERT_EQ(client.request("GET", "/orders/1", key_header(key)).status, 200);

  r = glidepath({"keys", "revoke", id}, env);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  expect_key_absent(r.out + r.err, key, "keys revoke");
  // In force at once, on the connection that used the key too.
  expect_gateway_error(client.request("GET", "/orders/2", key_header(key)), 403);

  r = glidepath({"keys", "revoke", id}, env);  // already revoked: the operation failed
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("error"));
  r = glidepath({"keys", "revoke", "key_nosuchkey"}, env);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
}

TEST(KeysCli, MistakesExitTwoAndNothingIsCreated) {
  SampleBackend v1("v1");
  AccessServer server(orders(v1, ""));
  const std::string admin = server.admin_url();
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"keys"},
           {"keys", "frobnicate"},
           {"keys", "create", "--contact", "ops@acme.test"},  // no --consumer
           {"keys", "create", "--consumer", "acme"},          // no --contact
           {"keys", "create", "--consumer", "acme", "--contact", "ops@acme.test", "--rate", "fast"},
           {"keys", "create", "--consumer", "acme", "--contact", "ops@acme.test", "--quota",
            "lots"},
           {"keys", "create", "--consumer", "acme", "--contact", "ops@acme.test", "--metadata",
            "novalue"},
           {"keys", "create", "--consumer", "acme", "--contact", "ops@acme.test", "--bogus"},
           {"keys", "revoke"},
           {"keys", "list", "--bogus"},
           {"keys", "list", "--admin", "ftp://127.0.0.1:1"},
       }) {
    std::vector<std::string> full = args;
    if (std::find(full.begin(), full.end(), "--admin") == full.end()) {
      full.push_back("--admin");
      full.push_back(admin);
    }
    const ProcessResult r = glidepath(full);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args) << "\n" << r.out << r.err;
    EXPECT_FALSE(r.err.empty()) << ::testing::PrintToString(args) << ": say what is wrong";
  }
  const AdminReply list = server.get("/v1/keys");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.json["keys"].size(), 0u) << list.body;
}

TEST(KeysCli, TheTokenComesFromTheFlagOrTheEnvironment) {
  SampleBackend v1("v1");
  AccessServerOptions options;
  options.token = "t0ken";
  AccessServer server(orders(v1, ""), options);
  EXPECT_EQ(server.admin("GET", "/v1/keys", "", /*with_token=*/false).status, 401);
  EXPECT_EQ(server
                .admin("POST", "/v1/keys", R"({"consumer":"x","contact":"x@example.com"})",
                       /*with_token=*/false)
                .status,
            401);

  ProcessResult r = glidepath({"keys", "list", "--admin", server.admin_url()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("401"));
  r = glidepath({"keys", "create", "--consumer", "acme", "--contact", "ops@acme.test", "--admin",
                 server.admin_url(), "--token", "t0ken"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  r = glidepath({"keys", "list"},
                {"GLIDEPATH_ADMIN=" + server.admin_url(), "GLIDEPATH_TOKEN=t0ken"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("acme"));
  r = glidepath({"consumers", "--admin", server.admin_url(), "--token", "t0ken"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  r = glidepath({"consumers", "--admin", server.admin_url()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
}

}  // namespace
}  // namespace glidepath::testing
