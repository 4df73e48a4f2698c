// The control plane's loops (core/ticker.h): a job runs on its schedule until stopped, and
// stopping wakes a sleeping loop at once. Waits are on a condition with a bound, never a
// sleep.
#include "core/ticker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

namespace glidepath::core {
namespace {

// Counts runs; waits (bounded) for a number of them.
class Runs {
 public:
  void add() {
    std::lock_guard lock(mutex_);
    ++count_;
    changed_.notify_all();
  }
  bool wait_for(int n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return count_ >= n; });
  }
  int count() {
    std::lock_guard lock(mutex_);
    return count_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int count_ = 0;
};

TEST(Ticker, AJobRunsAgainAndAgainUntilStopped) {
  Runs runs;
  Ticker ticker = Ticker::every(std::chrono::milliseconds(1), [&] { runs.add(); });
  ASSERT_TRUE(runs.wait_for(3));
  ticker.stop();
  const int stopped_at = runs.count();
  ticker.stop();  // twice is fine
  EXPECT_EQ(runs.count(), stopped_at) << "no run after stop() returned";
}

TEST(Ticker, StoppingWakesALoopThatSleepsForAnHour) {
  Runs runs;
  Ticker ticker = Ticker::every(std::chrono::hours(1), [&] { runs.add(); });
  ticker.stop();  // would block for an hour if it did not wake the loop
  EXPECT_EQ(runs.count(), 0);
}

TEST(Ticker, PastEachSecondWaitsOnTheClockItIsGiven) {
  // A clock 2 ms before a whole second: the first run comes 2 ms + the offset later.
  ManualClock clock(from_epoch_micros(1'795'683'600'998'000));
  std::atomic<int64_t> seen_at{0};
  Runs runs;
  Ticker ticker = Ticker::past_each_second(clock, std::chrono::milliseconds(1), [&] {
    seen_at = to_epoch_micros(clock.now());
    runs.add();
  });
  ASSERT_TRUE(runs.wait_for(1));
  ticker.stop();
  EXPECT_EQ(seen_at.load(), 1'795'683'600'998'000) << "the job reads the clock it was given";
}

TEST(Ticker, AMovedTickerKeepsRunningAndStopsOnce) {
  Runs runs;
  Ticker first = Ticker::every(std::chrono::milliseconds(1), [&] { runs.add(); });
  Ticker second = std::move(first);
  ASSERT_TRUE(runs.wait_for(2));
  first.stop();  // moved from: nothing to stop
  second.stop();
  Ticker idle;
  idle.stop();
}

}  // namespace
}  // namespace glidepath::core
