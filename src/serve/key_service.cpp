#include "serve/key_service.h"

#include <fmt/format.h>

#include <cstdio>

#include "fleet/store_health.h"
#include "metrics/series_registry.h"
#include "routing/publisher.h"
#include "store/store.h"

namespace glidepath::serve {

KeyService::KeyService(store::Store& store, const core::Clock& clock, fleet::StoreHealth* health)
    : store_(store), clock_(clock), health_(health) {}

core::Result<std::shared_ptr<const access::KeyTable>> KeyService::load() {
  auto records = store_.list_api_keys();
  if (health_ != nullptr) health_->note(records, "reading API keys");
  if (!records) return core::fail("reading API keys: " + records.error().message);
  return registry_.build(
      *records,
      [this](std::string_view id, int64_t period_start) {
        return store_.get_quota_usage(id, period_start);
      },
      clock_.now());
}

core::Result<void> KeyService::refresh(routing::RoutingPublisher& publisher) {
  auto table = load();
  if (!table) return core::Failure{table.error()};
  return publisher.set_keys(*table);
}

void KeyService::flush(const std::vector<access::UsageDelta>& deltas,
                       const metrics::SeriesRegistry& registry) {
  if (!deltas.empty()) {
    const auto buckets = access::to_buckets(
        deltas, [this](uint32_t id) { return registry_.consumer_name(id); },
        [&registry](metrics::SeriesId id) { return registry.name(id); });
    if (auto added = store_.add_usage(buckets); !added) {
      fmt::print(stderr, "warning: recording usage: {}\n", added.error().message);
    }
  }
  const auto add = [this](std::string_view key_id, int64_t period_start, uint64_t n) {
    return store_.add_quota_usage(key_id, period_start, n);
  };
  if (auto flushed = registry_.flush_quotas(add, clock_.now()); !flushed) {
    fmt::print(stderr, "warning: recording quota counts: {}\n", flushed.error().message);
  }
}

}  // namespace glidepath::serve
