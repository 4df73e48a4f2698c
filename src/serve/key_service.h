// API keys and their usage between the store and the gateways (SPEC section 5): the key
// table built from the stored records (each key's quota count seeded from the store), and
// the flush of what the workers counted. The gateway never touches the store; this is
// where its key table comes from and where its counts go.
#pragma once

#include <memory>
#include <vector>

#include "access/key_table.h"
#include "access/usage.h"
#include "core/clock.h"
#include "core/result.h"

namespace glidepath::store {
class Store;
}
namespace glidepath::metrics {
class SeriesRegistry;
}
namespace glidepath::routing {
class RoutingPublisher;
}
namespace glidepath::fleet {
class StoreHealth;
}

namespace glidepath::serve {

class KeyService {
 public:
  // `health` (may be null) hears how reading the keys went.
  KeyService(store::Store& store, const core::Clock& clock, fleet::StoreHealth* health = nullptr);

  // A table of every stored key, revoked ones marked. A key's rate and quota state carry
  // over from the previous table, so a rebuild neither refills a bucket nor resets a count.
  core::Result<std::shared_ptr<const access::KeyTable>> load();
  // load(), then publish the table: returns once every worker checks keys against it.
  core::Result<void> refresh(routing::RoutingPublisher& publisher);

  // Adds what the workers recorded to the store's usage, and writes the quota counters'
  // new admissions. Failures are reported on stderr; quota counts not written are kept for
  // the next flush.
  void flush(const std::vector<access::UsageDelta>& deltas,
             const metrics::SeriesRegistry& registry);

  access::KeyRegistry& registry() { return registry_; }

 private:
  store::Store& store_;
  const core::Clock& clock_;
  fleet::StoreHealth* health_;
  access::KeyRegistry registry_;
};

}  // namespace glidepath::serve
