// The admin API's keys and consumers endpoints in process (SPEC sections 5 and 7): an
// in-memory SQLite store, a manual clock and requests handed straight to AdminApi::handle.
// Also the key request's parsing and checks (admin/key_requests.h).
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "access/key_material.h"
#include "admin/admin_api.h"
#include "admin/key_requests.h"
#include "store/sqlite/sqlite_store.h"

namespace glidepath::admin {
namespace {

using nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// A whole minute, as usage buckets need.
const core::TimePoint kStart = core::TimePoint(hours(24 * 365 * 56));

int64_t minute_of(core::TimePoint t) {
  return core::epoch_second(std::chrono::floor<minutes>(t));
}

access::UsageBucket bucket(std::string consumer, std::string service, std::string operation,
                           std::string version, std::string status_class, core::TimePoint at,
                           uint64_t count) {
  access::UsageBucket b;
  b.consumer = std::move(consumer);
  b.service = std::move(service);
  b.operation = std::move(operation);
  b.version = std::move(version);
  b.status_class = std::move(status_class);
  b.minute = minute_of(at);
  b.count = count;
  b.first_seen = at;
  b.last_seen = at + seconds(30);
  return b;
}

class KeysApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::open_sqlite_store(":memory:");
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    AdminDeps deps;
    deps.snapshot = [] { return std::shared_ptr<const gateway::Snapshot>(); };
    deps.gateway_stats = [] { return gateway::GatewayStats{}; };
    deps.store = store_.get();
    deps.clock = &clock_;
    deps.keys_changed = [this]() -> core::Result<void> {
      ++keys_changed_calls_;
      if (!publish_error_.empty()) return core::fail(publish_error_);
      return {};
    };
    api_ = std::make_unique<AdminApi>(std::move(deps));
  }

  Response call(const std::string& method, const std::string& target,
                const std::string& body = "") {
    Request r;
    r.method = method;
    r.target = target;
    r.body = body;
    const size_t q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) {
      std::string rest = target.substr(q + 1);
      while (!rest.empty()) {
        const size_t amp = rest.find('&');
        const std::string pair = rest.substr(0, amp);
        const size_t eq = pair.find('=');
        r.query[pair.substr(0, eq)] = eq == std::string::npos ? "" : pair.substr(eq + 1);
        if (amp == std::string::npos) break;
        rest = rest.substr(amp + 1);
      }
    }
    return api_->handle(r);
  }

  json create(const json& body) {
    const Response r = call("POST", "/v1/keys", body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body);
  }

  void add_usage(const std::vector<access::UsageBucket>& buckets) {
    auto added = store_->add_usage(buckets);
    ASSERT_TRUE(added.ok()) << added.error().message;
  }

  std::unique_ptr<store::Store> store_;
  core::ManualClock clock_{kStart};
  int keys_changed_calls_ = 0;
  std::string publish_error_;
  std::unique_ptr<AdminApi> api_;
};

// --- POST /v1/keys ---

TEST_F(KeysApiTest, CreateShowsTheKeyOnceAndStoresOnlyItsHash) {
  const Response r = call("POST", "/v1/keys",
                          R"({"consumer": "billing", "contact": "billing@example.com",
                              "metadata": {"team": "payments", "tier": "gold"},
                              "rate": "100/second", "quota": "100000 / day", "preview": true})");
  ASSERT_EQ(r.status, 201) << r.body;
  const json created = json::parse(r.body);
  const std::string key = created["key"];
  const std::string id = created["id"];
  EXPECT_THAT(key, StartsWith("gp_"));
  EXPECT_EQ(key.size(), access::kKeyLength);
  EXPECT_THAT(id, StartsWith("key_"));
  EXPECT_EQ(created["consumer"], "billing");
  EXPECT_EQ(created["contact"], "billing@example.com");
  EXPECT_EQ(created["metadata"], (json{{"team", "payments"}, {"tier", "gold"}}));
  EXPECT_EQ(created["prefix"], key.substr(0, access::kDisplayPrefixLength));
  EXPECT_EQ(created["rate"], "100/s");  // canonical spelling
  EXPECT_EQ(created["quota"], "100000/day");
  EXPECT_EQ(created["preview"], true);
  EXPECT_EQ(created["created_at"], core::format_rfc3339_micros(kStart));
  EXPECT_FALSE(created.contains("key_hash"));
  EXPECT_FALSE(created.contains("state"));
  std::vector<std::string> names;
  for (const auto& [name, value] : created.items())
    names.push_back(name);
  EXPECT_THAT(names,
              ::testing::UnorderedElementsAre("id", "key", "consumer", "contact", "metadata",
                                              "prefix", "rate", "quota", "preview", "created_at"));
  bool location = false;
  for (const auto& [name, value] : r.headers)
    location = location || (name == "Location" && value == "/v1/keys/" + id);
  EXPECT_TRUE(location);

  auto stored = store_->get_api_key(id);
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  ASSERT_TRUE(stored->has_value());
  const access::ApiKeyRecord& record = **stored;
  EXPECT_EQ(record.key_hash, access::key_hash_hex(key));
  EXPECT_NE(record.key_hash, key);
  EXPECT_EQ(record.key_prefix, key.substr(0, access::kDisplayPrefixLength));
  EXPECT_EQ(record.rate, "100/s");
  EXPECT_EQ(record.quota, "100000/day");
  EXPECT_TRUE(record.preview);
  EXPECT_EQ(record.created_at, kStart);
  EXPECT_FALSE(record.revoked());
  // No stored field holds the key.
  for (const std::string& field :
       {record.id, record.consumer, record.contact, record.key_hash, record.key_prefix,
        record.rate.value_or(""), record.quota.value_or("")}) {
    EXPECT_THAT(field, Not(HasSubstr(key)));
  }
  auto by_hash = store_->find_api_key_by_hash(access::key_hash_hex(key));
  ASSERT_TRUE(by_hash.ok() && by_hash->has_value());
  EXPECT_EQ((*by_hash)->id, id);
}

TEST_F(KeysApiTest, TheSmallestKeyHasNoLimitsAndNoMetadata) {
  const json created = create({{"consumer", "web"}, {"contact", "https://example.com/web-team"}});
  EXPECT_EQ(created["rate"], nullptr);
  EXPECT_EQ(created["quota"], nullptr);
  EXPECT_EQ(created["preview"], false);
  EXPECT_EQ(created["metadata"], json::object());
  auto stored = store_->get_api_key(created["id"].get<std::string>());
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_FALSE((*stored)->rate.has_value());
  EXPECT_FALSE((*stored)->quota.has_value());
}

TEST_F(KeysApiTest, EveryKeyIsNew) {
  const json a = create({{"consumer", "web"}, {"contact", "web@example.com"}});
  const json b = create({{"consumer", "web"}, {"contact", "web@example.com"}});
  EXPECT_NE(a["id"], b["id"]);
  EXPECT_NE(a["key"], b["key"]);
}

TEST_F(KeysApiTest, KeysChangedRunsAfterCreateAndRevokeButNotAfterAMistake) {
  EXPECT_EQ(keys_changed_calls_, 0);
  const json created = create({{"consumer", "web"}, {"contact", "web@example.com"}});
  EXPECT_EQ(keys_changed_calls_, 1);
  EXPECT_EQ(call("POST", "/v1/keys", R"({"consumer": "web"})").status, 400);
  EXPECT_EQ(keys_changed_calls_, 1);
  EXPECT_EQ(call("DELETE", "/v1/keys/" + created["id"].get<std::string>()).status, 200);
  EXPECT_EQ(keys_changed_calls_, 2);
  EXPECT_EQ(call("DELETE", "/v1/keys/" + created["id"].get<std::string>()).status, 409);
  EXPECT_EQ(call("DELETE", "/v1/keys/key_nope").status, 404);
  EXPECT_EQ(keys_changed_calls_, 2);
}

TEST_F(KeysApiTest, AKeyStoredButNotPublishedIsA500ThatNeverShowsTheKey) {
  publish_error_ = "worker 3 did not answer";
  const Response r =
      call("POST", "/v1/keys", R"({"consumer": "web", "contact": "web@example.com"})");
  EXPECT_EQ(r.status, 500);
  const std::string message = json::parse(r.body)["error"];
  EXPECT_THAT(message, HasSubstr("stored but is not yet in force"));
  EXPECT_THAT(message, HasSubstr("worker 3 did not answer"));
  EXPECT_THAT(r.body, Not(HasSubstr("gp_")));
  auto keys = store_->list_api_keys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_THAT(message, HasSubstr(keys->front().id));
  EXPECT_THAT(r.body, Not(HasSubstr(keys->front().key_hash)));
}

TEST_F(KeysApiTest, ARevocationNotPublishedIsA500) {
  const json created = create({{"consumer", "web"}, {"contact", "web@example.com"}});
  publish_error_ = "worker 3 did not answer";
  const Response r = call("DELETE", "/v1/keys/" + created["id"].get<std::string>());
  EXPECT_EQ(r.status, 500);
  EXPECT_THAT(json::parse(r.body)["error"].get<std::string>(),
              HasSubstr("revoked in the store but the gateway may still accept it"));
  auto stored = store_->get_api_key(created["id"].get<std::string>());
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_TRUE((*stored)->revoked());
}

TEST_F(KeysApiTest, EveryMistakeIsA400NamingTheField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "body: a JSON object is required"},
      {"[]", "body: must be a JSON object"},
      {"{", "body: not valid JSON"},
      {"{}", "consumer: is required"},
      {R"({"consumer": 5, "contact": "a@example.com"})", "consumer: must be a string"},
      {R"({"consumer": "bad name!", "contact": "a@example.com"})",
       "consumer: invalid consumer name 'bad name!'"},
      {R"({"consumer": "", "contact": "a@example.com"})", "consumer: invalid consumer name"},
      {R"({"consumer": "anonymous", "contact": "a@example.com"})",
       "consumer: 'anonymous' is reserved"},
      {R"({"consumer": "Anonymous", "contact": "a@example.com"})",
       "consumer: 'Anonymous' is reserved"},
      {R"({"consumer": "web"})", "contact: is required"},
      {R"({"consumer": "web", "contact": null})", "contact: is required"},
      {R"({"consumer": "web", "contact": 7})", "contact: must be a string"},
      {R"({"consumer": "web", "contact": "the web team"})", "contact: must not contain spaces"},
      {R"({"consumer": "web", "contact": "webteam"})", "contact: must be an e-mail address"},
      {R"({"consumer": "web", "contact": "web@localhost"})", "contact: must be an e-mail address"},
      {R"({"consumer": "web", "contact": "ftp://example.com"})",
       "contact: must be an e-mail address"},
      {R"({"consumer": "web", "contact": ")" + std::string(250, 'a') + R"(@example.com"})",
       "contact: at most 256 characters"},
      {R"({"consumer": "web", "contact": "a@example.com", "metadata": ["x"]})",
       "metadata: must be an object of strings"},
      {R"({"consumer": "web", "contact": "a@example.com", "metadata": {"team": 5}})",
       "metadata.team: must be a string"},
      {R"({"consumer": "web", "contact": "a@example.com", "metadata": {"": "x"}})",
       "metadata: keys must not be empty"},
      {R"({"consumer": "web", "contact": "a@example.com", "metadata": {")" + std::string(65, 'k') +
           R"(": "x"}})",
       "metadata: key 'kkkkkkkkkkkkkkkk...' is longer than 64 characters"},
      {R"({"consumer": "web", "contact": "a@example.com", "metadata": {"team": ")" +
           std::string(1025, 'v') + R"("}})",
       "metadata.team: at most 1024 characters"},
      {R"({"consumer": "web", "contact": "a@example.com", "metadata": {"team": "a\nb"}})",
       "metadata.team: must not contain control characters"},
      {R"({"consumer": "web", "contact": "a@example.com", "rate": "fast"})",
       "rate: invalid rate 'fast'"},
      {R"({"consumer": "web", "contact": "a@example.com", "rate": 100})", "rate: must be a string"},
      {R"({"consumer": "web", "contact": "a@example.com", "rate": "0/s"})",
       "rate: invalid rate '0/s': count must be at least 1"},
      {R"({"consumer": "web", "contact": "a@example.com", "quota": "10/week"})",
       "quota: invalid quota '10/week'"},
      {R"({"consumer": "web", "contact": "a@example.com", "quota": true})",
       "quota: must be a string"},
      {R"({"consumer": "web", "contact": "a@example.com", "preview": "yes"})",
       "preview: must be true or false"},
      {R"({"consumer": "web", "contact": "a@example.com", "contakt": "x"})",
       "contakt: unknown field (did you mean 'contact'?)"},
      {R"({"consumer": "web", "contact": "a@example.com", "key": "gp_mine"})",
       "key: unknown field (expected consumer, contact, metadata, rate, quota, preview)"},
  };
  for (const auto& [body, message] : cases) {
    const Response r = call("POST", "/v1/keys", body);
    EXPECT_EQ(r.status, 400) << body;
    const json error = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(error.is_object()) << r.body;
    EXPECT_THAT(error.value("error", ""), StartsWith(message)) << body;
  }
  json too_many = json::object();
  for (int i = 0; i < 65; ++i)
    too_many[fmt::format("k{}", i)] = "v";
  const Response r =
      call("POST", "/v1/keys",
           json{{"consumer", "web"}, {"contact", "a@example.com"}, {"metadata", too_many}}.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"], "metadata: at most 64 entries");
  auto keys = store_->list_api_keys();
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->empty());
}

TEST_F(KeysApiTest, WrongMethodsAre405WithAllow) {
  Response r = call("PUT", "/v1/keys");
  EXPECT_EQ(r.status, 405);
  EXPECT_THAT(r.headers,
              ::testing::Contains(std::pair<std::string, std::string>("Allow", "GET, POST")));
  r = call("POST", "/v1/keys/key_1");
  EXPECT_EQ(r.status, 405);
  EXPECT_THAT(r.headers,
              ::testing::Contains(std::pair<std::string, std::string>("Allow", "GET, DELETE")));
  EXPECT_EQ(call("POST", "/v1/consumers").status, 405);
  EXPECT_EQ(call("DELETE", "/v1/consumers/web/usage").status, 405);
  EXPECT_EQ(call("DELETE", "/v1/keys/").status, 404);  // an empty id matches nothing
}

// --- GET /v1/keys, GET and DELETE /v1/keys/{id} ---

TEST_F(KeysApiTest, TheListShowsStatesAndNeverAKeyOrHash) {
  const json web = create({{"consumer", "web"}, {"contact", "web@example.com"}, {"rate", "5/s"}});
  clock_.advance(seconds(10));
  const json mobile = create({{"consumer", "mobile"}, {"contact", "https://example.com/m"}});
  clock_.advance(seconds(10));
  const std::string web_id = web["id"];
  const Response revoked = call("DELETE", "/v1/keys/" + web_id);
  ASSERT_EQ(revoked.status, 200) << revoked.body;

  const Response r = call("GET", "/v1/keys");
  ASSERT_EQ(r.status, 200) << r.body;
  for (const json* created : {&web, &mobile}) {
    const std::string key = (*created)["key"];
    EXPECT_THAT(r.body, Not(HasSubstr(key)));
    EXPECT_THAT(r.body, Not(HasSubstr(access::key_hash_hex(key))));
  }
  const json list = json::parse(r.body)["keys"];
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["id"], web_id);  // oldest first
  EXPECT_EQ(list[0]["state"], "revoked");
  EXPECT_EQ(list[0]["revoked_at"], core::format_rfc3339_micros(kStart + seconds(20)));
  EXPECT_EQ(list[0]["rate"], "5/s");
  EXPECT_EQ(list[0]["prefix"], web["prefix"]);
  EXPECT_EQ(list[1]["id"], mobile["id"]);
  EXPECT_EQ(list[1]["state"], "active");
  EXPECT_FALSE(list[1].contains("revoked_at"));
  for (const json& k : list) {
    EXPECT_FALSE(k.contains("key"));
    EXPECT_FALSE(k.contains("key_hash"));
    EXPECT_FALSE(k.contains("hash"));
  }

  const json only_mobile = json::parse(call("GET", "/v1/keys?consumer=mobile").body)["keys"];
  ASSERT_EQ(only_mobile.size(), 1u);
  EXPECT_EQ(only_mobile[0]["consumer"], "mobile");
  EXPECT_TRUE(json::parse(call("GET", "/v1/keys?consumer=nobody").body)["keys"].empty());
}

TEST_F(KeysApiTest, RevokeAnswersTheRevokedRecordThen409And404) {
  const json created = create({{"consumer", "web"}, {"contact", "web@example.com"}});
  const std::string id = created["id"];
  clock_.advance(minutes(5));
  Response r = call("DELETE", "/v1/keys/" + id);
  ASSERT_EQ(r.status, 200) << r.body;
  const json body = json::parse(r.body);
  EXPECT_EQ(body["id"], id);
  EXPECT_EQ(body["state"], "revoked");
  EXPECT_EQ(body["revoked_at"], core::format_rfc3339_micros(kStart + minutes(5)));
  EXPECT_FALSE(body.contains("key"));
  EXPECT_THAT(r.body, Not(HasSubstr(created["key"].get<std::string>())));

  r = call("DELETE", "/v1/keys/" + id);
  EXPECT_EQ(r.status, 409);
  EXPECT_THAT(json::parse(r.body)["error"].get<std::string>(), HasSubstr("already revoked"));
  r = call("DELETE", "/v1/keys/key_unknown");
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(json::parse(r.body)["error"].get<std::string>(), StartsWith("not found: "));

  r = call("GET", "/v1/keys/" + id);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["state"], "revoked");
  EXPECT_EQ(call("GET", "/v1/keys/key_unknown").status, 404);
}

// --- GET /v1/consumers ---

class ConsumersApiTest : public KeysApiTest {
 protected:
  void SetUp() override {
    KeysApiTest::SetUp();
    // alice: an old key (revoked) and a newer one whose contact the report shows.
    const json old_key = create(
        {{"consumer", "alice"}, {"contact", "old@alice.example"}, {"metadata", {{"v", "1"}}}});
    ASSERT_EQ(call("DELETE", "/v1/keys/" + old_key["id"].get<std::string>()).status, 200);
    clock_.advance(seconds(1));
    create({{"consumer", "alice"}, {"contact", "alice@example.com"}, {"metadata", {{"v", "2"}}}});
    // bob: a key and no usage in the last week.
    create({{"consumer", "bob"}, {"contact", "https://bob.example/oncall"}});
    clock_.set(kStart + hours(24 * 10));
    const core::TimePoint now = clock_.now();
    add_usage({
        bucket("alice", "orders", "GET /orders/{id}", "v1", "2xx", now - hours(2), 90),
        bucket("alice", "orders", "GET /orders/{id}", "v1", "5xx", now - hours(2), 4),
        bucket("alice", "orders", "POST /orders", "v2", "4xx", now - hours(1), 6),
        bucket("alice", "users", "GET /users/{id}", "u1", "2xx", now - minutes(3), 10),
        bucket("anonymous", "orders", "GET /orders", "v1", "2xx", now - minutes(10), 7),
        // Nine days ago: outside the default week.
        bucket("bob", "orders", "GET /orders", "v1", "2xx", now - hours(24 * 9), 3),
    });
  }
};

TEST_F(ConsumersApiTest, TheReportCountsTheLastWeekByDefault) {
  const Response r = call("GET", "/v1/consumers");
  ASSERT_EQ(r.status, 200) << r.body;
  const json body = json::parse(r.body);
  EXPECT_EQ(body["since"], core::format_rfc3339(clock_.now() - hours(24 * 7)));
  const json& list = body["consumers"];
  ASSERT_EQ(list.size(), 3u) << body.dump(2);
  EXPECT_EQ(list[0]["name"], "alice");
  EXPECT_EQ(list[1]["name"], "anonymous");
  EXPECT_EQ(list[2]["name"], "bob");

  const json& alice = list[0];
  EXPECT_EQ(alice["contact"], "alice@example.com");
  EXPECT_EQ(alice["metadata"], (json{{"v", "2"}}));
  EXPECT_EQ(alice["keys"], 1);
  EXPECT_EQ(alice["services"], (json{"orders", "users"}));
  EXPECT_EQ(alice["operations"], (json{"GET /orders/{id}", "GET /users/{id}", "POST /orders"}));
  EXPECT_EQ(alice["versions"], (json{"u1", "v1", "v2"}));
  EXPECT_EQ(alice["requests"], 110);
  EXPECT_EQ(alice["errors"], 10);
  EXPECT_EQ(alice["by_class"], (json{{"2xx", 100}, {"3xx", 0}, {"4xx", 6}, {"5xx", 4}}));
  EXPECT_EQ(alice["first_seen"], core::format_rfc3339(clock_.now() - hours(2)));
  EXPECT_EQ(alice["last_seen"], core::format_rfc3339(clock_.now() - minutes(3) + seconds(30)));

  const json& anonymous = list[1];
  EXPECT_EQ(anonymous["contact"], nullptr);
  EXPECT_EQ(anonymous["keys"], 0);
  EXPECT_EQ(anonymous["requests"], 7);

  const json& bob = list[2];  // keys, but no usage in the window
  EXPECT_EQ(bob["contact"], "https://bob.example/oncall");
  EXPECT_EQ(bob["keys"], 1);
  EXPECT_EQ(bob["requests"], 0);
  EXPECT_EQ(bob["errors"], 0);
  EXPECT_EQ(bob["operations"], json::array());
  EXPECT_EQ(bob["first_seen"], nullptr);
  EXPECT_EQ(bob["last_seen"], nullptr);
}

TEST_F(ConsumersApiTest, SinceWidensOrNarrowsTheWindow) {
  json list = json::parse(call("GET", "/v1/consumers?since=30d").body)["consumers"];
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[2]["name"], "bob");
  EXPECT_EQ(list[2]["requests"], 3);

  list = json::parse(call("GET", "/v1/consumers?since=30m").body)["consumers"];
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0]["requests"], 10);  // alice's call to users three minutes ago
  EXPECT_EQ(list[1]["requests"], 7);
  EXPECT_EQ(list[2]["requests"], 0);

  EXPECT_EQ(call("GET", "/v1/consumers?since=400d").status, 200);
  for (const std::string since : {"week", "0", "401d", "-1h", "7"}) {
    const Response r = call("GET", "/v1/consumers?since=" + since);
    EXPECT_EQ(r.status, 400) << since;
    EXPECT_THAT(json::parse(r.body)["error"].get<std::string>(), StartsWith("since: ")) << since;
  }
}

TEST_F(ConsumersApiTest, AServiceListsOnlyWhoCalledIt) {
  Response r = call("GET", "/v1/consumers?service=users");
  ASSERT_EQ(r.status, 200) << r.body;
  json body = json::parse(r.body);
  EXPECT_EQ(body["service"], "users");
  ASSERT_EQ(body["consumers"].size(), 1u);
  EXPECT_EQ(body["consumers"][0]["name"], "alice");
  EXPECT_EQ(body["consumers"][0]["requests"], 10);
  EXPECT_EQ(body["consumers"][0]["services"], (json{"users"}));

  body = json::parse(call("GET", "/v1/consumers?service=orders").body);
  ASSERT_EQ(body["consumers"].size(), 2u);  // bob's call is older than a week
  EXPECT_EQ(body["consumers"][0]["requests"], 100);
  EXPECT_EQ(body["consumers"][1]["name"], "anonymous");

  EXPECT_TRUE(json::parse(call("GET", "/v1/consumers?service=nothing").body)["consumers"].empty());
  EXPECT_EQ(call("GET", "/v1/consumers?service=bad%20name").status, 400);
}

// --- GET /v1/consumers/{name}/usage ---

TEST_F(ConsumersApiTest, UsageListsOperationsAndMinutes) {
  const Response r = call("GET", "/v1/consumers/alice/usage");
  ASSERT_EQ(r.status, 200) << r.body;
  const json body = json::parse(r.body);
  EXPECT_EQ(body["consumer"], "alice");
  EXPECT_EQ(body["contact"], "alice@example.com");
  EXPECT_EQ(body["since"], core::format_rfc3339(clock_.now() - hours(24 * 7)));
  const json& ops = body["operations"];
  ASSERT_EQ(ops.size(), 3u) << body.dump(2);
  EXPECT_EQ(ops[0]["service"], "orders");
  EXPECT_EQ(ops[0]["operation"], "GET /orders/{id}");
  EXPECT_EQ(ops[0]["version"], "v1");
  EXPECT_EQ(ops[0]["requests"], 94);
  EXPECT_EQ(ops[0]["errors"], 4);
  EXPECT_EQ(ops[0]["by_class"]["5xx"], 4);
  EXPECT_EQ(ops[1]["operation"], "POST /orders");
  EXPECT_EQ(ops[1]["errors"], 6);
  EXPECT_EQ(ops[2]["service"], "users");
  EXPECT_EQ(ops[2]["last_seen"], core::format_rfc3339(clock_.now() - minutes(3) + seconds(30)));

  const json& minutes_list = body["minutes"];
  ASSERT_EQ(minutes_list.size(), 4u);
  EXPECT_EQ(minutes_list[0]["minute"], core::format_rfc3339(clock_.now() - hours(2)));
  EXPECT_EQ(minutes_list[0]["status_class"], "2xx");
  EXPECT_EQ(minutes_list[0]["count"], 90);
  EXPECT_EQ(minutes_list[1]["status_class"], "5xx");
  EXPECT_EQ(minutes_list[3]["service"], "users");
  EXPECT_EQ(minutes_list[3]["operation"], "GET /users/{id}");
  EXPECT_EQ(minutes_list[3]["version"], "u1");
  EXPECT_EQ(body["minutes_truncated"], false);
}

TEST_F(ConsumersApiTest, UsageFollowsSinceAndService) {
  json body = json::parse(call("GET", "/v1/consumers/alice/usage?service=orders&since=90m").body);
  ASSERT_EQ(body["operations"].size(), 1u);
  EXPECT_EQ(body["operations"][0]["operation"], "POST /orders");
  EXPECT_EQ(body["minutes"].size(), 1u);
  EXPECT_EQ(call("GET", "/v1/consumers/alice/usage?since=never").status, 400);
}

TEST_F(ConsumersApiTest, UsageOfAnonymousAndOfAKeyHolderWithoutCalls) {
  Response r = call("GET", "/v1/consumers/anonymous/usage");
  ASSERT_EQ(r.status, 200) << r.body;
  json body = json::parse(r.body);
  EXPECT_EQ(body["contact"], nullptr);
  EXPECT_EQ(body["operations"].size(), 1u);

  r = call("GET", "/v1/consumers/bob/usage");
  ASSERT_EQ(r.status, 200) << r.body;
  body = json::parse(r.body);
  EXPECT_EQ(body["contact"], "https://bob.example/oncall");
  EXPECT_TRUE(body["operations"].empty());
  EXPECT_TRUE(body["minutes"].empty());

  r = call("GET", "/v1/consumers/nobody/usage");
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(json::parse(r.body)["error"].get<std::string>(), StartsWith("not found: "));
}

// --- key_requests.h on its own ---

TEST(KeyRequest, TheRecordKeepsTheHashAndCanonicalLimits) {
  auto request = parse_key_request(
      R"({"consumer": "web", "contact": "web@example.com", "rate": "6000/m",
          "quota": "5000/hour", "metadata": null, "preview": null})");
  ASSERT_TRUE(request.ok()) << request.error().message;
  const std::string key = "gp_" + std::string(52, 'a');
  const access::ApiKeyRecord record = new_key_record(*request, "key_1", key, kStart);
  EXPECT_EQ(record.id, "key_1");
  EXPECT_EQ(record.key_hash, access::key_hash_hex(key));
  EXPECT_EQ(record.key_prefix, "gp_aaaaa");
  EXPECT_EQ(record.rate, "6000/min");
  EXPECT_EQ(record.quota, "5000/hour");
  EXPECT_FALSE(record.preview);
  EXPECT_TRUE(record.metadata.empty());
  const json listed = key_json(record);
  EXPECT_FALSE(listed.contains("key"));
  EXPECT_THAT(listed.dump(), Not(HasSubstr(record.key_hash)));
  EXPECT_EQ(created_key_json(record, key)["key"], key);
}

}  // namespace
}  // namespace glidepath::admin
