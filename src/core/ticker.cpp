#include "core/ticker.h"

#include <memory>
#include <utility>

namespace glidepath::core {

Ticker::Ticker(std::unique_ptr<State> state, std::thread thread)
    : state_(std::move(state)), thread_(std::move(thread)) {}

Ticker Ticker::every(std::chrono::milliseconds interval, std::function<void()> job) {
  auto state = std::make_unique<State>();
  std::thread thread([s = state.get(), interval, job = std::move(job)] {
    std::unique_lock lock(s->mutex);
    while (!s->wake.wait_for(lock, interval, [s] { return s->stopping; })) {
      lock.unlock();
      job();
      lock.lock();
    }
  });
  return Ticker(std::move(state), std::move(thread));
}

Ticker Ticker::past_each_second(const Clock& clock, std::chrono::milliseconds offset,
                                std::function<void()> job) {
  auto state = std::make_unique<State>();
  std::thread thread([s = state.get(), &clock, offset, job = std::move(job)] {
    std::unique_lock lock(s->mutex);
    while (!s->stopping) {
      const auto now = clock.now();
      const auto next = std::chrono::ceil<std::chrono::seconds>(now) + offset;
      if (s->wake.wait_for(lock, next - now, [s] { return s->stopping; })) break;
      lock.unlock();
      job();
      lock.lock();
    }
  });
  return Ticker(std::move(state), std::move(thread));
}

Ticker::Ticker(Ticker&& other) noexcept
    : state_(std::move(other.state_)), thread_(std::move(other.thread_)) {}

Ticker& Ticker::operator=(Ticker&& other) noexcept {
  if (this != &other) {
    stop();
    state_ = std::move(other.state_);
    thread_ = std::move(other.thread_);
  }
  return *this;
}

Ticker::~Ticker() {
  stop();
}

void Ticker::stop() {
  if (!state_) return;
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace glidepath::core
