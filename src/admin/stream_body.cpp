#include "admin/stream_body.h"

#include <utility>

namespace glidepath::admin {

StreamBody::StreamBody() : StreamBody(Options{}) {}

StreamBody::StreamBody(Options options) : options_(std::move(options)) {}

bool StreamBody::push(std::string_view data) {
  std::lock_guard lock(mutex_);
  if (!open_) return false;
  if (pending_.size() + data.size() > options_.max_pending_bytes) {
    // Too far behind: drop what waits and end the stream. The client's Last-Event-ID is
    // then the last event it really received, and its reconnection replays the rest.
    pending_.clear();
    pending_.shrink_to_fit();
    open_ = false;
    aborted_ = true;
    overflowed_ = true;
    if (wake_) wake_();
    return false;
  }
  const bool was_empty = pending_.empty();
  pending_.append(data);
  if (was_empty && wake_) wake_();
  return true;
}

void StreamBody::close() {
  std::lock_guard lock(mutex_);
  if (!open_) return;
  open_ = false;
  if (wake_) wake_();
}

bool StreamBody::is_open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

bool StreamBody::overflowed() const {
  std::lock_guard lock(mutex_);
  return overflowed_;
}

void StreamBody::set_wake(std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  wake_ = std::move(wake);
  if (wake_ && (!pending_.empty() || !open_)) wake_();
}

std::string StreamBody::take() {
  std::lock_guard lock(mutex_);
  return std::exchange(pending_, std::string());
}

bool StreamBody::finished() const {
  std::lock_guard lock(mutex_);
  return !open_ && pending_.empty();
}

bool StreamBody::aborted() const {
  std::lock_guard lock(mutex_);
  return aborted_;
}

void StreamBody::abort() {
  std::lock_guard lock(mutex_);
  pending_.clear();
  open_ = false;
  aborted_ = true;
  wake_ = nullptr;
}

}  // namespace glidepath::admin
