#include "admin/event_feed.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "admin/stream_body.h"
#include "deploy/deployment.h"
#include "store/sqlite/sqlite_store.h"

namespace glidepath::admin {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const core::TimePoint kStart =
    core::TimePoint(std::chrono::hours(24 * 365 * 56)) + std::chrono::milliseconds(250);

store::EventRecord record(int64_t id, std::string service, std::string deployment, std::string type,
                          std::string message) {
  store::EventRecord r;
  r.id = id;
  r.service = std::move(service);
  r.deployment_id = std::move(deployment);
  r.event = deploy::DeploymentEvent{kStart, std::move(type), std::move(message)};
  return r;
}

TEST(EventFormat, OneServerSentEventPerRecord) {
  const auto r = record(42, "orders", "dep_01", "weight", "0% → 10% of traffic on v2");
  EXPECT_EQ(format_sse(r),
            "id: 42\nevent: weight\ndata: "
            "{\"deployment_id\":\"dep_01\",\"id\":42,\"message\":\"0% → 10% of traffic on "
            "v2\",\"service\":\"orders\",\"time\":\"" +
                core::format_rfc3339(kStart) + "\",\"type\":\"weight\"}\n\n");
}

TEST(EventFormat, TheDataIsOneLineOfJsonWhateverTheMessage) {
  const auto r = record(7, "orders", "", "hook", "line one\nline two\r\ndata: forged");
  const std::string text = format_sse(r);
  // Exactly three fields and the blank line: a newline in the message cannot start a field.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4);
  const size_t data = text.find("data: ");
  ASSERT_NE(data, std::string::npos);
  const std::string json_text = text.substr(data + 6, text.size() - data - 8);
  const auto j = nlohmann::json::parse(json_text);
  EXPECT_EQ(j["message"], "line one\nline two\r\ndata: forged");
  EXPECT_TRUE(j["deployment_id"].is_null());
  EXPECT_EQ(j["id"], 7);
}

TEST(EventFormat, ATypeCannotBreakTheFraming) {
  EXPECT_THAT(format_sse(record(1, "s", "", "state\nid: 99", "m")),
              HasSubstr("event: state id: 99\ndata: "));
  EXPECT_THAT(format_sse(record(1, "s", "", "", "m")), HasSubstr("event: message\n"));
}

TEST(EventFormat, InvalidUtf8IsReplacedNotThrown) {
  EXPECT_NO_THROW(format_sse(record(1, "s", "", "hook", std::string("bad \xff byte"))));
}

class EventFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open_sqlite_store(":memory:");
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(*opened);
  }

  // Appends an event to the store's log (with no deployment) and returns its record.
  store::EventRecord append(const std::string& service, const std::string& type) {
    const deploy::DeploymentEvent event{kStart, type, type + " happened"};
    auto id = store_->append_event(service, "", event);
    EXPECT_TRUE(id.ok()) << id.error().message;
    store::EventRecord r;
    r.id = id.ok() ? *id : 0;
    r.service = service;
    r.event = event;
    return r;
  }

  static std::vector<int64_t> ids_in(const std::string& text) {
    std::vector<int64_t> ids;
    size_t at = 0;
    while ((at = text.find("id: ", at)) != std::string::npos) {
      if (at == 0 || text[at - 1] == '\n') ids.push_back(std::stoll(text.substr(at + 4)));
      at += 4;
    }
    return ids;
  }

  std::unique_ptr<store::Store> store_;
};

TEST_F(EventFeedTest, WithoutAStartingIdOnlyNewEventsArrive) {
  append("orders", "created");
  append("orders", "state");
  EventFeed feed(*store_);
  auto stream = feed.subscribe(std::nullopt);
  ASSERT_TRUE(stream.ok()) << stream.error().message;
  EXPECT_EQ((*stream)->take(), "retry: 1000\n\n");

  const auto third = append("orders", "weight");
  feed.publish(third);
  EXPECT_EQ((*stream)->take(), format_sse(third));
}

TEST_F(EventFeedTest, ALastEventIdReplaysWhatWasMissedThenGoesLive) {
  const auto first = append("orders", "created");
  const auto second = append("orders", "state");
  const auto third = append("orders", "weight");
  EventFeed feed(*store_);
  auto stream = feed.subscribe(first.id);
  ASSERT_TRUE(stream.ok()) << stream.error().message;
  EXPECT_EQ((*stream)->take(), "retry: 1000\n\n" + format_sse(second) + format_sse(third));

  // The controller publishes the replayed ones again (it does not know the subscriber):
  // they are not sent twice.
  feed.publish(third);
  const auto fourth = append("orders", "alarm");
  feed.publish(fourth);
  EXPECT_EQ((*stream)->take(), format_sse(fourth));
  EXPECT_EQ(ids_in(format_sse(fourth)), std::vector<int64_t>{fourth.id});
}

TEST_F(EventFeedTest, AReplayLongerThanOnePageArrivesWhole) {
  for (int i = 0; i < 1234; ++i)
    append("orders", "weight");
  EventFeed feed(*store_);
  auto stream = feed.subscribe(0);
  ASSERT_TRUE(stream.ok());
  const auto ids = ids_in((*stream)->take());
  ASSERT_EQ(ids.size(), 1234u);
  for (size_t i = 0; i < ids.size(); ++i)
    EXPECT_EQ(ids[i], static_cast<int64_t>(i + 1));
}

TEST_F(EventFeedTest, FiltersByServiceAndDeployment) {
  EventFeed feed(*store_);
  EventFilter only_orders;
  only_orders.service = "orders";
  auto orders = feed.subscribe(std::nullopt, only_orders);
  EventFilter only_dep;
  only_dep.deployment_id = "dep_2";
  auto dep = feed.subscribe(std::nullopt, only_dep);
  ASSERT_TRUE(orders.ok() && dep.ok());
  (*orders)->take();
  (*dep)->take();

  const auto a = record(1, "orders", "dep_1", "state", "a");
  const auto b = record(2, "users", "dep_2", "state", "b");
  feed.publish(a);
  feed.publish(b);
  EXPECT_EQ((*orders)->take(), format_sse(a));
  EXPECT_EQ((*dep)->take(), format_sse(b));
}

TEST_F(EventFeedTest, AClosedStreamIsForgotten) {
  EventFeed feed(*store_);
  auto stream = feed.subscribe(std::nullopt);
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ(feed.subscriber_count(), 1u);
  (*stream)->abort();  // the client left
  feed.publish(record(1, "orders", "", "state", "x"));
  EXPECT_EQ(feed.subscriber_count(), 0u);
}

TEST_F(EventFeedTest, TooManySubscribersAreRefused) {
  EventFeed::Options options;
  options.max_subscribers = 2;
  EventFeed feed(*store_, options);
  auto a = feed.subscribe(std::nullopt);
  auto b = feed.subscribe(std::nullopt);
  ASSERT_TRUE(a.ok() && b.ok());
  auto c = feed.subscribe(std::nullopt);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.error().message, HasSubstr("too many event streams"));
  (*a)->abort();
  EXPECT_TRUE(feed.subscribe(std::nullopt).ok());  // a freed its place
}

TEST_F(EventFeedTest, ASlowClientIsCutOffNotWaitedFor) {
  EventFeed::Options options;
  options.stream.max_pending_bytes = 4096;
  EventFeed feed(*store_, options);
  auto slow = feed.subscribe(std::nullopt);
  auto fast = feed.subscribe(std::nullopt);
  ASSERT_TRUE(slow.ok() && fast.ok());
  size_t fast_bytes = 0;
  for (int i = 1; i <= 200; ++i) {
    feed.publish(record(i, "orders", "dep_1", "weight", std::string(100, 'x')));
    fast_bytes += (*fast)->take().size();  // this one keeps up
  }
  EXPECT_FALSE((*slow)->is_open());
  EXPECT_TRUE((*slow)->overflowed());
  EXPECT_TRUE((*slow)->aborted());
  EXPECT_EQ((*slow)->take(), "");  // what waited was dropped: the client replays it
  EXPECT_TRUE((*fast)->is_open());
  EXPECT_GT(fast_bytes, 200u * 100u);
  EXPECT_EQ(feed.subscriber_count(), 1u);
}

TEST_F(EventFeedTest, EventsPublishedDuringAReplayAreNeitherLostNorDoubled) {
  for (int i = 0; i < 3000; ++i)
    append("orders", "weight");
  EventFeed feed(*store_);
  // The controller keeps appending and publishing while a subscriber replays.
  std::thread controller([&] {
    for (int i = 0; i < 300; ++i)
      feed.publish(append("orders", "state"));
  });
  auto stream = feed.subscribe(1000);
  controller.join();
  ASSERT_TRUE(stream.ok());
  const auto ids = ids_in((*stream)->take());
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), 1001);
  for (size_t i = 1; i < ids.size(); ++i)
    ASSERT_EQ(ids[i], ids[i - 1] + 1) << "at " << i;
  EXPECT_EQ(ids.back(), 3300);
}

TEST_F(EventFeedTest, CloseAllEndsEveryStream) {
  EventFeed feed(*store_);
  auto a = feed.subscribe(std::nullopt);
  ASSERT_TRUE(a.ok());
  (*a)->take();
  feed.close_all();
  EXPECT_FALSE((*a)->is_open());
  EXPECT_TRUE((*a)->finished());
  EXPECT_FALSE((*a)->aborted());
}

TEST(StreamBodyTest, WakesTheWriterWhenDataOrTheEndIsReady) {
  StreamBody body;
  int wakes = 0;
  body.set_wake([&] { ++wakes; });
  EXPECT_EQ(wakes, 0);
  EXPECT_TRUE(body.push("a"));
  EXPECT_EQ(wakes, 1);
  EXPECT_TRUE(body.push("b"));  // already pending: no second wake
  EXPECT_EQ(wakes, 1);
  EXPECT_EQ(body.take(), "ab");
  EXPECT_FALSE(body.finished());
  body.close();
  EXPECT_EQ(wakes, 2);
  EXPECT_TRUE(body.finished());
  EXPECT_FALSE(body.push("c"));
}

TEST(StreamBodyTest, AttachingLateWakesAtOnceWhenSomethingWaits) {
  StreamBody body;
  body.push("early");
  int wakes = 0;
  body.set_wake([&] { ++wakes; });
  EXPECT_EQ(wakes, 1);
}

TEST(StreamBodyTest, AbortDetachesTheWriter) {
  StreamBody body;
  int wakes = 0;
  body.set_wake([&] { ++wakes; });
  body.abort();
  EXPECT_FALSE(body.push("x"));
  body.close();
  EXPECT_EQ(wakes, 0);
  EXPECT_TRUE(body.aborted());
  EXPECT_TRUE(body.finished());
}

}  // namespace
}  // namespace glidepath::admin
