// Opens the Store a location names, whichever backend that is (SPEC section 2's `store:`
// setting): "sqlite:PATH" (PATH may be ":memory:") or a PostgreSQL URL starting with
// "postgres://" or "postgresql://". The caller keeps no backend-specific code.
#pragma once

#include <memory>
#include <string_view>

#include "core/result.h"
#include "store/store.h"

namespace glidepath::store {

// Fails, naming the location, when it has neither form or the backend cannot open it.
core::Result<std::unique_ptr<Store>> open_store_at(std::string_view location);

}  // namespace glidepath::store
