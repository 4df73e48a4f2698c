// A response body that is written while it is being produced: the admin API's
// server-sent events (SPEC section 7, GET /v1/events). Producers push from any thread (the
// controller's); the admin listener's thread takes the bytes and writes them. Kept free of
// Boost so handlers and tests see a plain class.
//
// Bounded: the controller must never wait for a slow client. When more than
// `max_pending_bytes` wait to be written, the pending bytes are dropped and the stream is
// closed; an SSE client then reconnects with Last-Event-ID and the store replays exactly
// what it missed, so nothing is lost, only delayed.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

namespace glidepath::admin {

class StreamBody {
 public:
  struct Options {
    size_t max_pending_bytes = 1024 * 1024;
    // Written when nothing else was for this long, so proxies and clients see the stream
    // is alive (an SSE comment line: ": keep-alive\n\n"). Zero: never.
    std::chrono::milliseconds heartbeat_interval{15'000};
    std::string heartbeat = ": keep-alive\n\n";
  };

  StreamBody();
  explicit StreamBody(Options options);
  StreamBody(const StreamBody&) = delete;
  StreamBody& operator=(const StreamBody&) = delete;

  // --- Producer side (any thread) ---
  // Queues `data`. False when the stream is closed (the client left, was too slow, or the
  // server stops): the producer should forget this stream.
  bool push(std::string_view data);
  // Ends the stream once what is pending has been written.
  void close();
  bool is_open() const;
  // Whether the stream was closed because the client fell too far behind.
  bool overflowed() const;

  // --- Writer side (the admin listener) ---
  // `wake` is called (under the stream's lock, so it must only post work elsewhere) when
  // data or the end is ready to be taken. Replaces any earlier callback; an empty
  // function detaches.
  void set_wake(std::function<void()> wake);
  // Everything pending, in push order, and empties the queue.
  std::string take();
  // Closed and nothing left to write: the writer ends the response.
  bool finished() const;
  // Closed by overflow or by the writer: end at once, pending bytes are dropped.
  bool aborted() const;
  // The client went away or a write failed: drop everything and refuse further pushes.
  void abort();

  const Options& options() const { return options_; }

 private:
  const Options options_;
  mutable std::mutex mutex_;
  std::string pending_;
  bool open_ = true;
  bool aborted_ = false;
  bool overflowed_ = false;
  std::function<void()> wake_;
};

}  // namespace glidepath::admin
