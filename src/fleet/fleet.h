// One process's part in a fleet on PostgreSQL (SPEC section 9): what keeps it in step
// with the others through the database.
//
// - Its gateway writes each collected second's windows; every process merges all
//   gateways' windows kMergeDelay after the boundary into the history alarms read.
// - Its controller takes part in the election (a session-level advisory lock); the holder
//   resumes every running deployment from the store and ticks them.
// - It re-reads routing and keys when the database announces a change (and every
//   kResyncInterval, a safety net), so every gateway routes by the same rows.
//
// Two threads of its own: the sync thread (notifications → routing, keys, events) and
// the fleet thread (merge, election, ticks, pruning). The routing it reads goes to the
// process's RoutingPublisher, except for services this process's controller drives: it
// publishes those itself, ahead of the database.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"
#include "core/ticker.h"
#include "deploy/deployment.h"
#include "fleet/store_health.h"

namespace glidepath::store {
class Store;
class LeaderLock;
class PgListener;
struct PgNotification;
}  // namespace glidepath::store
namespace glidepath::metrics {
class MetricsHistory;
class SeriesRegistry;
}  // namespace glidepath::metrics
namespace glidepath::routing {
class RoutingPublisher;
class NameCache;
}  // namespace glidepath::routing
namespace glidepath::controller {
class Controller;
}

namespace glidepath::fleet {

// The channel every write of a fleet's store announces itself on (store/postgres).
inline constexpr std::string_view kChangeChannel = "glidepath_changes";
// Windows of second S are written just after the collector takes S; every process merges
// them this long after the boundary. A window later than this is missing for the merge
// (alarms count it as missing data, never as healthy).
inline constexpr std::chrono::milliseconds kMergeDelay{400};
// How long the database keeps metric windows, and how often the leader prunes them.
inline constexpr int64_t kWindowRetentionSeconds = 3600;
inline constexpr int64_t kPruneEverySeconds = 60;
// Routing, keys and events are re-read this often even without a notification.
inline constexpr std::chrono::seconds kResyncInterval{5};

struct FleetDeps {
  std::shared_ptr<const config::Config> config;
  store::Store* store = nullptr;
  routing::RoutingPublisher* publisher = nullptr;
  // Upstream names of versions read from the database are resolved before they are
  // published (null: taken as they are).
  routing::NameCache* names = nullptr;
  controller::Controller* controller = nullptr;  // null: --role gateway
  metrics::SeriesRegistry* registry = nullptr;
  // This process's gateway's per-second history (the windows it writes); null without a
  // gateway (--role controller).
  const metrics::MetricsHistory* local_history = nullptr;
  metrics::MetricsHistory* merged_history = nullptr;  // every gateway's windows, merged
  StoreHealth* health = nullptr;
  const core::Clock* clock = nullptr;
  std::string name;  // this gateway's id in the windows it writes
  // Re-reads the key table from the store and publishes it.
  std::function<core::Result<void>()> refresh_keys;
  // Other processes stored events: the admin API's streams pass them on.
  std::function<void()> events_stored;
};

class Fleet {
 public:
  // Nothing runs yet; the admin API may already ask leader() and stored_deployment().
  explicit Fleet(FleetDeps deps);
  ~Fleet();  // stop()
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // LISTENs for the fleet's changes and starts both threads. `admin_url` is how the
  // other processes reach this one's admin API when it leads.
  core::Result<void> start(const std::string& admin_url);
  // Joins the threads and, when leading, lets go of the lock at once so a standby takes
  // over on its next poll.
  void stop();

  // This gateway's counts of `second`, one window per series that had requests (the
  // collector thread calls it right after collecting).
  void write_windows(int64_t second);

  bool leading() const { return leading_.load(); }
  // The leading controller's admin URL, empty when none leads (the admin thread's).
  std::string leader();
  // A running deployment of `service` as last read from the store: what the admin API
  // shows where this process does not drive it.
  std::optional<deploy::Deployment> stored_deployment(std::string_view service) const;

 private:
  void on_change(const store::PgNotification& n);
  void mark_dirty(bool routing, bool keys, bool events);
  void run_sync();
  // Each second, kMergeDelay after the boundary: merge, elect, tick, prune.
  void fleet_tick();
  void resync_routing();
  void merge_windows(int64_t now_second);
  void elect();

  FleetDeps deps_;
  std::unique_ptr<store::PgListener> listener_;
  std::unique_ptr<store::LeaderLock> election_;  // the fleet thread's
  std::unique_ptr<store::LeaderLock> lookup_;    // the admin thread's: who leads
  std::atomic<bool> leading_{false};

  std::mutex mutex_;  // the flags below
  std::condition_variable wake_;
  bool stopping_ = false;
  bool routing_dirty_ = false;
  bool keys_dirty_ = false;
  bool events_dirty_ = false;
  std::thread sync_thread_;
  core::Ticker fleet_loop_;

  int64_t merged_up_to_ = 0;  // fleet_loop_: seconds before this were merged
  int64_t last_prune_ = 0;    // fleet_loop_

  mutable std::mutex stored_mutex_;
  std::map<std::string, deploy::Deployment, std::less<>> stored_active_;  // by service
};

}  // namespace glidepath::fleet
