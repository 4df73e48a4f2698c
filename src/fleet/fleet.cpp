#include "fleet/fleet.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <tuple>
#include <vector>

#include "controller/controller.h"
#include "deploy/routing_intent.h"
#include "metrics/history.h"
#include "metrics/series_registry.h"
#include "routing/name_cache.h"
#include "routing/publisher.h"
#include "store/postgres/leader_lock.h"
#include "store/postgres/postgres_store.h"
#include "store/store.h"

namespace glidepath::fleet {

Fleet::Fleet(FleetDeps deps) : deps_(std::move(deps)) {
  lookup_ = std::make_unique<store::LeaderLock>(deps_.config->store.postgres_url, "lookup");
}

Fleet::~Fleet() {
  stop();
}

core::Result<void> Fleet::start(const std::string& admin_url) {
  const std::string& url = deps_.config->store.postgres_url;
  if (deps_.controller != nullptr) election_ = std::make_unique<store::LeaderLock>(url, admin_url);
  auto listener = store::PgListener::start(
      url, {std::string(kChangeChannel)}, [this](const store::PgNotification& n) { on_change(n); });
  if (!listener) {
    return core::fail("listening for the fleet's changes: " + listener.error().message);
  }
  listener_ = std::move(*listener);
  // The routing the process started with may already be behind: read it all once more
  // now that every later change will be heard of.
  mark_dirty(true, true, false);
  merged_up_to_ = core::epoch_second(deps_.clock->now());
  sync_thread_ = std::thread([this] { run_sync(); });
  fleet_loop_ = core::Ticker::past_each_second(*deps_.clock, kMergeDelay, [this] { fleet_tick(); });
  return {};
}

void Fleet::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
  fleet_loop_.stop();
  listener_.reset();
  if (election_) election_->release();
}

std::string Fleet::leader() {
  return lookup_->current_leader();
}

std::optional<deploy::Deployment> Fleet::stored_deployment(std::string_view service) const {
  std::lock_guard lock(stored_mutex_);
  const auto found = stored_active_.find(service);
  if (found == stored_active_.end()) return std::nullopt;
  return found->second;
}

void Fleet::write_windows(int64_t second) {
  std::vector<metrics::MetricWindow> windows;
  const std::vector<metrics::SeriesName> names = deps_.registry->names();
  for (size_t id = 0; id < names.size(); ++id) {
    metrics::SecondStats stats =
        deps_.local_history->at(static_cast<metrics::SeriesId>(id), second);
    if (stats.requests == 0) continue;
    windows.push_back({names[id].service, names[id].version, second, deps_.name, std::move(stats)});
  }
  if (windows.empty()) return;
  deps_.health->note(deps_.store->put_metric_windows(windows), "writing metric windows");
}

void Fleet::merge_windows(int64_t now_second) {
  const int64_t from = std::max(merged_up_to_, now_second - 5);
  if (from >= now_second) return;
  auto windows = deps_.store->metric_windows(from, now_second);
  deps_.health->note(windows, "reading metric windows");
  if (!windows) return;  // those seconds stay missing: alarms see no data, not health
  merged_up_to_ = now_second;
  std::map<std::tuple<std::string, std::string, int64_t>, metrics::SecondStats> merged;
  for (const metrics::MetricWindow& w : *windows) {
    metrics::SecondStats& into = merged[{w.service, w.version, w.second}];
    into.add(w.stats);
    into.latency.merge(w.stats.latency);
  }
  for (const auto& [key, stats] : merged) {
    auto series = deps_.registry->intern(std::get<0>(key), std::get<1>(key));
    if (series) deps_.merged_history->add(*series, std::get<2>(key), stats);
  }
}

// Takes or confirms the leadership; on a change, takes over every running deployment from
// the store, or lets go of them.
void Fleet::elect() {
  const bool now_leading = election_->poll();
  if (now_leading && !leading_) {
    if (auto resumed = deps_.controller->resume(); !resumed) {
      fmt::print(stderr, "warning: taking over as leader: {}; retrying\n", resumed.error().message);
      election_->release();
      return;
    }
    leading_ = true;
    fmt::print("controller: leading the fleet's deployments\n");
    std::fflush(stdout);
  } else if (!now_leading && leading_) {
    leading_ = false;
    deps_.controller->stand_down();
    fmt::print(stderr, "warning: controller: lost the leadership; standing by\n");
  }
}

void Fleet::fleet_tick() {
  const int64_t second = core::epoch_second(deps_.clock->now());
  merge_windows(second);
  if (deps_.controller == nullptr) return;
  elect();
  if (!leading_) return;
  deps_.controller->tick();
  if (second - last_prune_ >= kPruneEverySeconds) {
    last_prune_ = second;
    deps_.health->note(deps_.store->prune_metric_windows(second - kWindowRetentionSeconds),
                       "pruning metric windows");
  }
}

void Fleet::resync_routing() {
  std::set<std::string> driven;
  if (deps_.controller != nullptr && leading_) {
    for (const config::ServiceConfig& service : deps_.config->services) {
      if (deps_.controller->active_of(service.name)) driven.insert(service.name);
    }
  }
  auto states = deps_.store->list_services();
  deps_.health->note(states, "reading services");
  if (!states) return;
  auto active = deps_.store->active_deployments();
  deps_.health->note(active, "reading deployments");
  if (!active) return;
  std::vector<deploy::Deployment> deployments;
  deployments.reserve(active->size());
  for (store::StoredDeployment& stored : *active) {
    deployments.push_back(std::move(stored.deployment));
  }
  {
    std::lock_guard lock(stored_mutex_);
    stored_active_.clear();
    for (const deploy::Deployment& d : deployments)
      stored_active_[d.spec.service] = d;
  }
  auto intents = deploy::intents_from(*states, deployments);
  if (deps_.names != nullptr) {
    std::vector<core::HostPort> upstreams;
    for (const auto& [service, intent] : intents) {
      const auto some = deploy::upstreams_of(intent.versions);
      upstreams.insert(upstreams.end(), some.begin(), some.end());
    }
    if (auto learned = deps_.names->learn(upstreams); !learned) {
      fmt::print(stderr, "warning: upstreams from the store: {}\n", learned.error().message);
    }
  }
  auto published = deps_.publisher->replace_intents(std::move(intents), driven);
  if (!published) {
    fmt::print(stderr, "warning: routing from the store: {}\n", published.error().message);
  }
}

void Fleet::mark_dirty(bool routing, bool keys, bool events) {
  {
    std::lock_guard lock(mutex_);
    routing_dirty_ = routing_dirty_ || routing;
    keys_dirty_ = keys_dirty_ || keys;
    events_dirty_ = events_dirty_ || events;
  }
  wake_.notify_all();
}

// A notification from the database says what changed, so what to re-read. A reconnection
// may have missed some: everything.
void Fleet::on_change(const store::PgNotification& n) {
  if (n.reconnected) {
    mark_dirty(true, true, true);
  } else if (n.payload.starts_with("event ")) {
    mark_dirty(false, false, true);
  } else if (n.payload.starts_with("api_key ")) {
    mark_dirty(false, true, false);
  } else if (n.payload.starts_with("service ") || n.payload.starts_with("deployment ")) {
    mark_dirty(true, false, false);
  }
}

void Fleet::run_sync() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const bool woken = wake_.wait_for(lock, kResyncInterval, [&] {
      return stopping_ || routing_dirty_ || keys_dirty_ || events_dirty_;
    });
    if (stopping_) break;
    // Without a notification for a while, everything is read again: a safety net for one
    // that was lost, keys included.
    const bool routing_now = routing_dirty_ || !woken;
    const bool keys_now = keys_dirty_ || !woken;
    const bool events_now = events_dirty_ || !woken;
    routing_dirty_ = keys_dirty_ = events_dirty_ = false;
    lock.unlock();
    if (routing_now) resync_routing();
    if (events_now && deps_.events_stored) deps_.events_stored();
    if (keys_now) {
      if (auto refreshed = deps_.refresh_keys(); !refreshed) {
        fmt::print(stderr, "warning: API keys from the store: {}\n", refreshed.error().message);
      }
    }
    lock.lock();
  }
}

}  // namespace glidepath::fleet
