// How the last call to the store went (SPEC section 9): what /healthz and /metrics say
// about the database without a round trip of their own. A fleet's processes keep serving
// and answering while the database is away, so an error is remembered, reported once on
// stderr, and cleared by the next call that succeeds.
#pragma once

#include <mutex>
#include <string>
#include <string_view>

#include "core/result.h"

namespace glidepath::fleet {

class StoreHealth {
 public:
  // `serves_traffic`: the first warning says the gateway serves with its last routing.
  explicit StoreHealth(bool serves_traffic = false) : serves_traffic_(serves_traffic) {}

  template <typename T>
  void note(const core::Result<T>& result, std::string_view what) {
    note_error(result ? nullptr : &result.error(), what);
  }
  // `error` null: the call succeeded. `what` names the call ("reading metric windows"); a
  // message that already says so is not prefixed again.
  void note_error(const core::Error* error, std::string_view what);

  // Empty while the database answers; else "what: why" of the last failure.
  std::string problem() const;

 private:
  bool serves_traffic_;
  mutable std::mutex mutex_;
  std::string problem_;
};

}  // namespace glidepath::fleet
