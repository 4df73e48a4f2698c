// A thread that runs one job on a schedule until stopped: the control plane's loops (the
// metrics collector, the usage flusher, the name refresher, the fleet's merge and
// election) are each one of these, so none of them owns a thread, a mutex and a
// condition variable of its own, and stopping one wakes it at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/clock.h"

namespace glidepath::core {

class Ticker {
 public:
  // Every `interval` after the previous run ends (the first one `interval` after start).
  static Ticker every(std::chrono::milliseconds interval, std::function<void()> job);
  // `offset` after each whole second of `clock`: just after a second has ended.
  static Ticker past_each_second(const Clock& clock, std::chrono::milliseconds offset,
                                 std::function<void()> job);

  Ticker() = default;  // runs nothing
  Ticker(Ticker&& other) noexcept;
  Ticker& operator=(Ticker&& other) noexcept;
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;
  ~Ticker();  // stop()

  // Wakes the thread if it sleeps, lets a run in progress finish, and joins it.
  void stop();

 private:
  struct State {
    std::mutex mutex;
    std::condition_variable wake;
    bool stopping = false;
  };
  Ticker(std::unique_ptr<State> state, std::thread thread);
  std::unique_ptr<State> state_;
  std::thread thread_;
};

}  // namespace glidepath::core
