#include "fleet/store_health.h"

#include <fmt/format.h>

#include <cstdio>

namespace glidepath::fleet {

void StoreHealth::note_error(const core::Error* error, std::string_view what) {
  std::lock_guard lock(mutex_);
  if (error == nullptr) {
    if (!problem_.empty()) fmt::print(stderr, "store: reachable again\n");
    problem_.clear();
    return;
  }
  // The store's messages usually name their operation already ("store: reading metric
  // windows: ..."): saying it twice helps no one reading the log or /healthz.
  const std::string& message = error->message;
  std::string problem =
      message.find(what) != std::string::npos ? message : fmt::format("{}: {}", what, message);
  if (problem_.empty()) {
    fmt::print(stderr, "warning: store: {}{}\n", problem,
               serves_traffic_ ? "; serving with the last routing" : "");
  }
  problem_ = std::move(problem);
}

std::string StoreHealth::problem() const {
  std::lock_guard lock(mutex_);
  return problem_;
}

}  // namespace glidepath::fleet
