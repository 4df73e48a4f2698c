#include "metrics/series_registry.h"

#include <fmt/format.h>

namespace glidepath::metrics {

core::Result<SeriesId> SeriesRegistry::intern(std::string_view service, std::string_view version) {
  std::lock_guard lock(mutex_);
  auto key = std::make_pair(std::string(service), std::string(version));
  if (auto it = ids_.find(key); it != ids_.end()) return it->second;
  if (names_.size() >= max_series_) {
    return core::fail(fmt::format("too many metric series (at most {}): cannot add {}/{}",
                                  max_series_, service, version));
  }
  const auto id = static_cast<SeriesId>(names_.size());
  names_.push_back(SeriesName{key.first, key.second});
  ids_.emplace(std::move(key), id);
  return id;
}

std::optional<SeriesId> SeriesRegistry::find(std::string_view service,
                                             std::string_view version) const {
  std::lock_guard lock(mutex_);
  auto it = ids_.find(std::make_pair(std::string(service), std::string(version)));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

std::optional<SeriesName> SeriesRegistry::name(SeriesId id) const {
  std::lock_guard lock(mutex_);
  if (id >= names_.size()) return std::nullopt;
  return names_[id];
}

std::vector<SeriesName> SeriesRegistry::names() const {
  std::lock_guard lock(mutex_);
  return names_;
}

size_t SeriesRegistry::size() const {
  std::lock_guard lock(mutex_);
  return names_.size();
}

}  // namespace glidepath::metrics
