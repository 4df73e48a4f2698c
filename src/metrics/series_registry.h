// Dense ids for (service, version) series, so the hot path indexes arrays instead of
// hashing names. Ids are handed out when a routing snapshot is built (control plane) and
// carried in the snapshot's per-version entries; a worker records with the id it finds
// there. An id is never reused or renumbered, so a new snapshot (a version added) keeps
// every existing id and the history stays indexed by it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "metrics/series_id.h"

namespace glidepath::metrics {

inline constexpr size_t kDefaultMaxSeries = 4096;

struct SeriesName {
  std::string service;
  std::string version;
  friend bool operator==(const SeriesName&, const SeriesName&) = default;
};

// Thread-safe (a mutex): used by snapshot builders, the collector and the admin API,
// never per request.
class SeriesRegistry {
 public:
  explicit SeriesRegistry(size_t max_series = kDefaultMaxSeries) : max_series_(max_series) {}

  // The id of (service, version), assigned now if new; an error once max_series ids
  // exist (each worker's recorder is sized for max_series).
  core::Result<SeriesId> intern(std::string_view service, std::string_view version);
  std::optional<SeriesId> find(std::string_view service, std::string_view version) const;
  // The names of `id`; nullopt for an id never handed out.
  std::optional<SeriesName> name(SeriesId id) const;
  // Every series, index = id.
  std::vector<SeriesName> names() const;
  size_t size() const;
  size_t max_series() const { return max_series_; }

 private:
  const size_t max_series_;
  mutable std::mutex mutex_;
  std::vector<SeriesName> names_;
  std::map<std::pair<std::string, std::string>, SeriesId, std::less<>> ids_;
};

}  // namespace glidepath::metrics
