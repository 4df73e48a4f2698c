// The control plane's one owner of what the gateways route with (SPEC sections 3, 4, 5
// and 9). It keeps every service's routing intent (deploy/routing_intent.h), the API key
// table and the parsed OpenAPI documents that name operations, builds immutable gateway
// snapshots from them and hands each to the data plane. The deployment controller sets
// one service's intent (a weight step, a rollback), the admin API and a fleet's sync set
// the key table, and a fleet's gateways replace every intent from the database; nothing
// else in the process holds routing state.
//
// Publishing a weight step or a rollback is memory only: no resolver or database is
// touched while a snapshot is built, so a rollback waits on nothing but the workers
// adopting it. A version's OpenAPI document is read once, when the version first appears
// (at start, or when the deployment that brings it is created), never again.
//
// Thread-safe: one mutex serialises changes, so generations increase in the order the
// data plane receives them.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "access/key_table.h"
#include "access/operations.h"
#include "config/config.h"
#include "core/result.h"
#include "deploy/routing_intent.h"
#include "gateway/routing.h"
#include "routing/name_cache.h"

namespace glidepath::metrics {
class SeriesRegistry;
}

namespace glidepath::routing {

// The gateway's run-time routing of one service from an intent, against the config: a
// version the config lists routes per the config (in a fleet each process's config may
// point a version at its own upstreams), so only the others are added; a live version
// neither the config nor the intent knows is ignored (the config's live routes).
gateway::ServiceRuntime to_service_runtime(const config::ServiceConfig& service,
                                           const deploy::RoutingIntent& intent);

class RoutingPublisher {
 public:
  // Hands a snapshot to the data plane; true once every worker routes with it. Null: no
  // gateway in this process (--role controller), the snapshot only answers the admin API.
  using Sink = std::function<bool(std::shared_ptr<const gateway::Snapshot>)>;
  // The operation matcher of a version's OpenAPI document; null for none or unreadable.
  using SpecLoader =
      std::function<std::shared_ptr<const access::OperationMatcher>(const std::string& path)>;

  struct Options {
    std::shared_ptr<const config::Config> config;
    metrics::SeriesRegistry* registry = nullptr;
    // Unset: OperationMatcher::from_file, with a warning on stderr for a document that
    // cannot be read (its version's usage is then named by literal paths).
    SpecLoader specs;
    // Upstream names → addresses (memory only while building); null: upstreams are used
    // as configured.
    const NameCache* names = nullptr;
  };

  // Builds the first snapshot (generation 1) from `intents` and `keys` (null: no keys).
  // Intents for services the config does not have are dropped.
  static core::Result<std::unique_ptr<RoutingPublisher>> create(
      Options options, std::map<std::string, deploy::RoutingIntent> intents,
      std::shared_ptr<const access::KeyTable> keys);

  // From now on every new snapshot goes to `sink` before it counts as published.
  void attach(Sink sink);

  // One service's routing changed: a new snapshot is built and published; returns once
  // the data plane routes with it. A snapshot that cannot be built (an intent naming an
  // unknown version, say) leaves everything as it was and returns why. A data plane that
  // does not confirm in time returns an error too, but the intent stays: the workers
  // adopt the snapshot as soon as they get to it.
  core::Result<void> set_intent(const std::string& service, deploy::RoutingIntent intent);
  // Every intent at once (a fleet's gateway re-reading the database), except the
  // services in `keep`, whose current intents stay (the ones this process drives).
  core::Result<void> replace_intents(std::map<std::string, deploy::RoutingIntent> intents,
                                     const std::set<std::string>& keep = {});
  // A key was created or revoked: the table every worker checks keys against.
  core::Result<void> set_keys(std::shared_ptr<const access::KeyTable> keys);

  // Reads the OpenAPI document at `path` into the matcher cache without holding the lock
  // every publication takes, so a large document (a second or more to read) never delays
  // another service's publication, a rollback's included. Later publications naming the
  // path find it ready.
  void preload_spec(const std::string& path);

  // The same routing again, with the names' current addresses (after a refresh changed
  // some): connections in flight keep theirs, new ones use the new addresses.
  core::Result<void> republish();

  // The snapshot last published (never null).
  std::shared_ptr<const gateway::Snapshot> snapshot() const;
  // The intent a service routes by; nullopt when it routes by the config alone.
  std::optional<deploy::RoutingIntent> intent(const std::string& service) const;

 private:
  explicit RoutingPublisher(Options options);
  std::shared_ptr<const access::OperationMatcher> matcher(const std::string& path);
  // With mutex_ held: a snapshot of intents_ and keys_ at the next generation.
  core::Result<std::shared_ptr<const gateway::Snapshot>> build();
  core::Result<void> publish(std::shared_ptr<const gateway::Snapshot> built);

  Options options_;
  mutable std::mutex mutex_;
  Sink sink_;
  std::map<std::string, deploy::RoutingIntent> intents_;  // by service
  std::shared_ptr<const access::KeyTable> keys_;
  std::map<std::string, std::shared_ptr<const access::OperationMatcher>> specs_;  // by path
  std::map<std::string, std::shared_ptr<gateway::RefusalCounters>> refusals_;     // by service
  std::shared_ptr<const gateway::Snapshot> snapshot_;
  uint64_t generation_ = 0;
};

}  // namespace glidepath::routing
