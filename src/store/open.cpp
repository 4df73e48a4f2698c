#include "store/open.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"

namespace glidepath::store {

core::Result<std::unique_ptr<Store>> open_store_at(std::string_view location) {
  if (location.starts_with("postgres://") || location.starts_with("postgresql://")) {
    return open_postgres_store(std::string(location));
  }
  if (location.starts_with("sqlite:")) {
    return open_sqlite_store(std::string(location.substr(std::string_view("sqlite:").size())));
  }
  // Not echoed whole: a URL may carry a password.
  return core::fail(
      fmt::format("store: '{}...' is neither sqlite:PATH nor a postgres:// or postgresql:// URL",
                  location.substr(0, std::min<std::size_t>(location.size(), 12))));
}

}  // namespace glidepath::store
