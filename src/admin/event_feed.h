// The admin API's event stream (SPEC section 7, GET /v1/events): every event the store's
// log receives — state changes, weight changes, alarms, hooks — as server-sent events.
//
// A subscriber first gets the stored events after the id it names (Last-Event-ID or
// ?since=), then live ones as the controller appends them. The controller's thread calls
// publish(), which formats each event once and queues it on every stream without waiting
// for any client (StreamBody is bounded; a client that falls behind is disconnected and
// catches up from the store when it reconnects).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "admin/stream_body.h"
#include "core/result.h"
#include "store/store.h"

namespace glidepath::admin {

// {"id", "time", "service", "deployment_id", "type", "message"}; deployment_id is null for
// events that belong to no deployment.
nlohmann::json event_json(const store::EventRecord& record);

// One server-sent event (WHATWG HTML 9.2.6): "id: <id>\nevent: <type>\ndata: <json>\n\n".
// The JSON is one line (serialised without newlines), so one data field carries it.
std::string format_sse(const store::EventRecord& record);

// Which events a subscriber wants; empty fields match everything.
struct EventFilter {
  std::string service;
  std::string deployment_id;
  bool matches(const store::EventRecord& record) const;
};

class EventFeed {
 public:
  struct Options {
    size_t max_subscribers = 64;
    size_t max_replay = 10'000;  // stored events sent to one new subscriber, at most
    StreamBody::Options stream;
  };

  explicit EventFeed(store::Store& store);
  EventFeed(store::Store& store, Options options);
  EventFeed(const EventFeed&) = delete;
  EventFeed& operator=(const EventFeed&) = delete;

  // A new stream. With `after_id`, the stored events after it come first (a reconnecting
  // client misses nothing); without, the stream starts with the next new event. Errors:
  // too many subscribers, or the store cannot be read.
  core::Result<std::shared_ptr<StreamBody>> subscribe(std::optional<int64_t> after_id,
                                                      EventFilter filter = {});

  // Queues `record` on every matching stream (called on the controller's thread, in id
  // order). Never blocks on a client; drops streams that have closed.
  void publish(const store::EventRecord& record);

  // Ends every stream (the server is stopping).
  void close_all();
  size_t subscriber_count() const;

 private:
  struct Subscriber {
    std::shared_ptr<StreamBody> stream;
    EventFilter filter;
    int64_t last_id = 0;  // events up to this id were sent (or predate the subscription)
    bool replaying = true;
    std::vector<store::EventRecord> held;  // live events that arrived during the replay
  };
  void finish_replay(Subscriber& subscriber, int64_t replayed_up_to);

  store::Store& store_;
  const Options options_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<Subscriber>> subscribers_;
};

}  // namespace glidepath::admin
