#include "admin/event_feed.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace glidepath::admin {

namespace {

// Stored events are read in pages of this many, so a long replay never holds one big
// result set.
constexpr size_t kReplayPage = 500;

}  // namespace

nlohmann::json event_json(const store::EventRecord& record) {
  return nlohmann::json{
      {"id", record.id},
      {"time", core::format_rfc3339(record.event.time)},
      {"service", record.service},
      {"deployment_id", record.deployment_id.empty() ? nlohmann::json(nullptr)
                                                     : nlohmann::json(record.deployment_id)},
      {"type", record.event.type},
      {"message", record.event.message}};
}

std::string format_sse(const store::EventRecord& record) {
  // An event type with a line break would end the field early; types are plain words,
  // but the stream's framing must not depend on that.
  std::string type = record.event.type.empty() ? std::string("message") : record.event.type;
  std::replace_if(
      type.begin(), type.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  // dump() escapes control characters inside strings, so the JSON is one line.
  return fmt::format(
      "id: {}\nevent: {}\ndata: {}\n\n", record.id, type,
      event_json(record).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

bool EventFilter::matches(const store::EventRecord& record) const {
  return (service.empty() || record.service == service) &&
         (deployment_id.empty() || record.deployment_id == deployment_id);
}

EventFeed::EventFeed(store::Store& store) : EventFeed(store, Options{}) {}

EventFeed::EventFeed(store::Store& store, Options options)
    : store_(store), options_(std::move(options)) {}

core::Result<std::shared_ptr<StreamBody>> EventFeed::subscribe(std::optional<int64_t> after_id,
                                                               EventFilter filter) {
  auto subscriber = std::make_shared<Subscriber>();
  subscriber->stream = std::make_shared<StreamBody>(options_.stream);
  subscriber->filter = std::move(filter);
  {
    // Registered before the store is read, so an event appended meanwhile is either in
    // the replay or held, never missed; held ones the replay covered are skipped by id.
    std::lock_guard lock(mutex_);
    std::erase_if(subscribers_, [](const auto& s) { return !s->stream->is_open(); });
    if (subscribers_.size() >= options_.max_subscribers) {
      return core::fail(fmt::format("too many event streams open ({}); try again later",
                                    options_.max_subscribers));
    }
    subscribers_.push_back(subscriber);
  }
  auto unregister = [&] {
    std::lock_guard lock(mutex_);
    std::erase(subscribers_, subscriber);
  };

  StreamBody& stream = *subscriber->stream;
  // Browsers' EventSource waits this long before reconnecting (the default is seconds).
  stream.push("retry: 1000\n\n");
  int64_t replayed_up_to = 0;
  if (!after_id) {
    auto last = store_.last_event_id();
    if (!last) {
      unregister();
      return core::fail("cannot read the event log: " + last.error().message);
    }
    replayed_up_to = *last;
  } else {
    replayed_up_to = std::max<int64_t>(*after_id, 0);
    size_t sent = 0;
    while (true) {
      auto page = store_.events_after(replayed_up_to, kReplayPage);
      if (!page) {
        unregister();
        return core::fail("cannot read the event log: " + page.error().message);
      }
      for (const store::EventRecord& record : *page) {
        replayed_up_to = record.id;
        if (!subscriber->filter.matches(record)) continue;
        stream.push(format_sse(record));
        ++sent;
      }
      if (page->size() < kReplayPage) break;
      if (sent >= options_.max_replay) {
        // Far behind: skip to the present rather than replay without end.
        auto last = store_.last_event_id();
        if (last) replayed_up_to = std::max(replayed_up_to, *last);
        stream.push(
            fmt::format(": older events skipped; continuing after id {}\n\n", replayed_up_to));
        break;
      }
    }
  }
  {
    std::lock_guard lock(mutex_);
    finish_replay(*subscriber, replayed_up_to);
  }
  return subscriber->stream;
}

void EventFeed::finish_replay(Subscriber& subscriber, int64_t replayed_up_to) {
  subscriber.last_id = replayed_up_to;
  subscriber.replaying = false;
  for (const store::EventRecord& record : subscriber.held) {
    if (record.id <= subscriber.last_id) continue;
    subscriber.last_id = record.id;
    if (subscriber.filter.matches(record)) subscriber.stream->push(format_sse(record));
  }
  subscriber.held.clear();
  subscriber.held.shrink_to_fit();
}

void EventFeed::publish(const store::EventRecord& record) {
  std::string text;  // formatted once, for the first stream that wants it
  std::lock_guard lock(mutex_);
  for (auto& subscriber : subscribers_) {
    if (subscriber->replaying) {
      // Bounded like the stream itself: a replay that cannot keep up is cut off.
      if (subscriber->held.size() >= options_.max_replay) {
        subscriber->stream->abort();
      } else {
        subscriber->held.push_back(record);
      }
      continue;
    }
    if (record.id <= subscriber->last_id) continue;
    subscriber->last_id = record.id;
    if (!subscriber->filter.matches(record)) continue;
    if (text.empty()) text = format_sse(record);
    subscriber->stream->push(text);
  }
  std::erase_if(subscribers_, [](const auto& s) { return !s->stream->is_open(); });
}

void EventFeed::close_all() {
  std::lock_guard lock(mutex_);
  for (auto& subscriber : subscribers_)
    subscriber->stream->close();
  subscribers_.clear();
}

size_t EventFeed::subscriber_count() const {
  std::lock_guard lock(mutex_);
  return static_cast<size_t>(std::count_if(subscribers_.begin(), subscribers_.end(),
                                           [](const auto& s) { return s->stream->is_open(); }));
}

}  // namespace glidepath::admin
