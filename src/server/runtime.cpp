#include "server/runtime.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <tuple>

#include "access/key_table.h"
#include "access/operations.h"
#include "access/usage.h"
#include "admin/admin_api.h"
#include "admin/http_server.h"
#include "admin/ui_requests.h"
#include "controller/contract_gate.h"
#include "controller/controller.h"
#include "controller/hook_runner.h"
#include "controller/routing_state.h"
#include "core/clock.h"
#include "gateway/gateway.h"
#include "gateway/routing.h"
#include "metrics/collector.h"
#include "metrics/history.h"
#include "metrics/prometheus.h"
#include "metrics/series_registry.h"
#include "store/postgres/leader_lock.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"

namespace glidepath::server {

namespace {

// The metrics collector's schedule: a little after each second ends, so workers have
// marked it final (SPEC section 4: per-second windows merged every second).
constexpr auto kCollectDelay = std::chrono::milliseconds(50);
// Usage buckets and quota counters go to the store this often (SPEC section 5: recording
// never waits for the store; a crash loses at most this much of them).
constexpr auto kFlushInterval = std::chrono::seconds(1);

// The channel every write of a fleet's store announces itself on (store/postgres): a
// gateway re-reads its routing when a deployment or service changes, and its key table
// when a key does.
constexpr std::string_view kChangeChannel = "glidepath_changes";
// A fleet's per-second windows: the gateways write second S just after collecting it
// (kCollectDelay after the boundary); every process merges them this long after the
// boundary, and the leader evaluates alarms on the merge. A window later than this is
// missing for the merge (alarms count it as missing data, never as healthy).
constexpr auto kMergeDelay = std::chrono::milliseconds(400);
// How long the database keeps metric windows, and how often the leader prunes them.
constexpr int64_t kWindowRetentionSeconds = 3600;
constexpr int64_t kPruneEverySeconds = 60;
// A gateway re-reads its routing this often even without a notification: a safety net.
constexpr auto kResyncInterval = std::chrono::seconds(5);

core::Result<std::unique_ptr<store::Store>> open_store(const config::StoreConfig& store) {
  if (store.kind == config::StoreKind::postgres) {
    store::PostgresOptions options;
    options.change_channel = std::string(kChangeChannel);
    // A call made while the database is away must not hold a control loop for long.
    options.reconnect_timeout = std::chrono::milliseconds(1500);
    auto opened = store::open_postgres(store.postgres_url, options);
    if (!opened) return core::Failure{opened.error()};
    return std::unique_ptr<store::Store>(std::move(*opened));
  }
  return store::open_sqlite_store(store.sqlite_path);
}

std::string default_name(uint16_t port) {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "gateway");
  return fmt::format("{}:{}", host, port);
}

}  // namespace

struct Runtime::Impl {
  std::shared_ptr<const config::Config> config;
  RuntimeOptions options;
  bool fleet = false;  // the store is PostgreSQL: other processes share it
  bool runs_gateway = true;
  bool runs_controller = true;
  std::unique_ptr<store::Store> store;
  metrics::SeriesRegistry registry;
  metrics::MetricsHistory history;  // this process's gateway: /metrics, its windows
  // What alarms and the per-second series read: `history` in a single process, every
  // gateway's windows merged in a fleet.
  metrics::MetricsHistory fleet_history;
  const metrics::MetricsHistory* evaluated = &history;
  std::unique_ptr<gateway::Gateway> gateway;
  std::unique_ptr<metrics::MetricsCollector> collector;
  std::unique_ptr<admin::HttpServer> admin;

  std::mutex snapshot_mutex;
  std::shared_ptr<const gateway::Snapshot> snapshot;  // the one last published
  access::KeyRegistry key_registry;
  std::shared_ptr<const access::KeyTable> keys;  // in the snapshot last published
  // Parsed OpenAPI documents by path, for operation names; null for an unreadable one.
  std::map<std::string, std::shared_ptr<const access::OperationMatcher>> specs;
  std::map<std::string, gateway::ServiceRuntime> routing;  // by service, what it was built from
  uint64_t generation = 1;

  std::unique_ptr<controller::HookRunner> hooks;
  std::unique_ptr<controller::Controller> controller;

  std::thread collector_thread;
  std::thread flusher_thread;
  std::mutex stop_mutex;
  std::condition_variable stop_cv;
  bool stopping = false;
  core::SystemClock clock;

  // --- A fleet ---
  std::string name;  // in the metric windows this gateway writes
  std::unique_ptr<store::PgListener> listener;
  std::unique_ptr<store::LeaderLock> leader_lock;    // the fleet thread's: elections
  std::unique_ptr<store::LeaderLock> leader_lookup;  // the admin thread's: who leads
  std::atomic<bool> leading{false};
  std::thread fleet_thread;    // merges windows, elects, ticks the controller
  std::thread sync_thread;     // re-reads routing and keys when told to
  bool routing_dirty = false;  // stop_mutex held
  bool keys_dirty = false;     // stop_mutex held
  bool events_dirty = false;   // stop_mutex held
  int64_t merged_up_to = 0;    // fleet_thread: seconds before this were merged
  int64_t last_prune = 0;      // fleet_thread
  std::mutex problem_mutex;
  std::string store_problem;  // empty while the database answers
  // The running deployments as last read from the store (problem_mutex held): what the
  // admin API shows where this process does not drive them.
  std::map<std::string, deploy::Deployment> stored_active;

  // Records how the last call to the store went, for /healthz and /metrics without a
  // round trip of their own.
  template <typename T>
  void note_store(const core::Result<T>& result, std::string_view what) {
    std::lock_guard lock(problem_mutex);
    if (result) {
      if (!store_problem.empty()) fmt::print(stderr, "store: reachable again\n");
      store_problem.clear();
    } else {
      if (store_problem.empty()) {
        fmt::print(stderr, "warning: store: {}: {}{}\n", what, result.error().message,
                   runs_gateway ? "; serving with the last routing" : "");
      }
      store_problem = fmt::format("{}: {}", what, result.error().message);
    }
  }
  std::string current_store_problem() {
    std::lock_guard lock(problem_mutex);
    return store_problem;
  }

  // What a snapshot is built from besides routing; snapshot_mutex held.
  gateway::SnapshotInputs snapshot_inputs() {
    gateway::SnapshotInputs inputs;
    inputs.keys = keys;
    inputs.operations = [this](const std::string& path) { return spec_matcher(path); };
    return inputs;
  }

  // A version's OpenAPI document, read once. One that cannot be read is reported once; its
  // version's usage is then named by literal paths (ids folded).
  std::shared_ptr<const access::OperationMatcher> spec_matcher(const std::string& path) {
    auto found = specs.find(path);
    if (found != specs.end()) return found->second;
    auto matcher = access::OperationMatcher::from_file(path);
    if (!matcher) {
      fmt::print(stderr, "warning: spec {}: {}; usage is recorded by literal path\n", path,
                 matcher.error().message);
      return specs[path] = nullptr;
    }
    return specs[path] = *matcher;
  }

  core::Result<std::shared_ptr<const access::KeyTable>> load_keys() {
    auto records = store->list_api_keys();
    note_store(records, "reading API keys");
    if (!records) return core::fail("reading API keys: " + records.error().message);
    return key_registry.build(
        *records,
        [this](std::string_view id, int64_t period_start) {
          return store->get_quota_usage(id, period_start);
        },
        clock.now());
  }

  // A key was created or revoked: every worker gets the new table, and this returns once
  // all of them use it.
  core::Result<void> refresh_keys() {
    auto table = load_keys();
    if (!table) return core::Failure{table.error()};
    std::lock_guard lock(snapshot_mutex);
    const auto before = keys;
    keys = *table;
    auto built = build_next_snapshot();
    if (!built) {
      keys = before;
      return core::Failure{built.error()};
    }
    return publish_snapshot(*built, "key table");
  }

  // A snapshot of the current routing and keys (snapshot_mutex held).
  core::Result<std::shared_ptr<const gateway::Snapshot>> build_next_snapshot() {
    const std::vector<std::pair<std::string, gateway::ServiceRuntime>> all(routing.begin(),
                                                                           routing.end());
    return gateway::build_snapshot(*config, all, registry, generation + 1, snapshot_inputs());
  }

  // Hands `built` to every worker and returns once all route with it (snapshot_mutex held).
  // Without a gateway (--role controller) the snapshot only answers the admin API.
  core::Result<void> publish_snapshot(std::shared_ptr<const gateway::Snapshot> built,
                                      std::string_view what) {
    ++generation;
    if (gateway && !gateway->publish(built)) {
      return core::fail(fmt::format("the gateway workers did not adopt the new {} in time", what));
    }
    snapshot = std::move(built);
    return {};
  }

  // Usage the workers recorded, and quota counts, to the store. Failures are reported and
  // the counts retried or kept where the store can take them next time.
  void flush_usage() {
    auto deltas = gateway->drain_usage();
    if (!deltas.empty()) {
      auto buckets = access::to_buckets(
          deltas, [this](uint32_t id) { return key_registry.consumer_name(id); },
          [this](metrics::SeriesId id) { return registry.name(id); });
      if (auto added = store->add_usage(buckets); !added) {
        fmt::print(stderr, "warning: recording usage: {}\n", added.error().message);
      }
    }
    const auto add = [this](std::string_view key_id, int64_t period_start, uint64_t n) {
      return store->add_quota_usage(key_id, period_start, n);
    };
    if (auto flushed = key_registry.flush_quotas(add, clock.now()); !flushed) {
      fmt::print(stderr, "warning: recording quota counts: {}\n", flushed.error().message);
    }
  }

  void run_flusher() {
    std::unique_lock lock(stop_mutex);
    while (!stopping) {
      stop_cv.wait_for(lock, kFlushInterval, [&] { return stopping; });
      if (stopping) break;
      lock.unlock();
      flush_usage();
      lock.lock();
    }
  }

  std::shared_ptr<const gateway::Snapshot> current_snapshot() {
    std::lock_guard lock(snapshot_mutex);
    return snapshot;
  }

  // One service's routing changed (a weight step, a rollback, a promotion): a whole new
  // snapshot goes to every worker, and this returns once all of them route with it.
  core::Result<void> publish_routing(const std::string& service,
                                     const gateway::ServiceRuntime& runtime) {
    std::lock_guard lock(snapshot_mutex);
    auto previous = routing.find(service);
    std::optional<gateway::ServiceRuntime> before;
    if (previous != routing.end()) before = previous->second;
    routing[service] = runtime;
    auto built = build_next_snapshot();
    if (!built) {
      if (before) {
        routing[service] = *before;
      } else {
        routing.erase(service);
      }
      return core::Failure{built.error()};
    }
    return publish_snapshot(*built, "routing");
  }

  // Sleeps until `offset` after the next second boundary (stop_mutex held through
  // `lock`); false once the runtime is stopping.
  bool wait_past_next_second(std::unique_lock<std::mutex>& lock, std::chrono::milliseconds offset) {
    if (stopping) return false;
    const auto now = clock.now();
    const auto next = std::chrono::ceil<std::chrono::seconds>(now) + offset;
    stop_cv.wait_for(lock, next - now, [&] { return stopping; });
    return !stopping;
  }

  void run_collector() {
    std::unique_lock lock(stop_mutex);
    while (wait_past_next_second(lock, kCollectDelay)) {
      lock.unlock();
      const int64_t second = core::epoch_second(clock.now());
      collector->collect(second);
      if (fleet) {
        write_windows(second - 1);  // the fleet thread merges and evaluates
      } else {
        // Deployments are evaluated on the second that was just merged.
        controller->tick();
      }
      lock.lock();
    }
  }

  // --- A fleet ---

  // This gateway's counts of `second`, one window per series that had requests.
  void write_windows(int64_t second) {
    std::vector<metrics::MetricWindow> windows;
    const std::vector<metrics::SeriesName> names = registry.names();
    for (size_t id = 0; id < names.size(); ++id) {
      metrics::SecondStats stats = history.at(static_cast<metrics::SeriesId>(id), second);
      if (stats.requests == 0) continue;
      windows.push_back({names[id].service, names[id].version, second, name, std::move(stats)});
    }
    if (windows.empty()) return;
    note_store(store->put_metric_windows(windows), "writing metric windows");
  }

  // Every gateway's windows of the seconds since the last merge, added up per series.
  void merge_windows(int64_t now_second) {
    const int64_t from = std::max(merged_up_to, now_second - 5);
    if (from >= now_second) return;
    auto windows = store->metric_windows(from, now_second);
    note_store(windows, "reading metric windows");
    if (!windows) return;  // those seconds stay missing: alarms see no data, not health
    merged_up_to = now_second;
    std::map<std::tuple<std::string, std::string, int64_t>, metrics::SecondStats> merged;
    for (const metrics::MetricWindow& w : *windows) {
      metrics::SecondStats& into = merged[{w.service, w.version, w.second}];
      into.add(w.stats);
      into.latency.merge(w.stats.latency);
    }
    for (const auto& [key, stats] : merged) {
      auto series = registry.intern(std::get<0>(key), std::get<1>(key));
      if (series) fleet_history.add(*series, std::get<2>(key), stats);
    }
  }

  // Takes or confirms the leadership; on a change, takes over every running deployment
  // from the store, or lets go of them.
  void elect() {
    const bool now_leading = leader_lock->poll();
    if (now_leading && !leading) {
      if (auto resumed = controller->resume(); !resumed) {
        fmt::print(stderr, "warning: taking over as leader: {}; retrying\n",
                   resumed.error().message);
        leader_lock->release();
        return;
      }
      leading = true;
      fmt::print("controller: leading the fleet's deployments\n");
      std::fflush(stdout);
    } else if (!now_leading && leading) {
      leading = false;
      controller->stand_down();
      fmt::print(stderr, "warning: controller: lost the leadership; standing by\n");
    }
  }

  void run_fleet() {
    std::unique_lock lock(stop_mutex);
    while (wait_past_next_second(lock, kMergeDelay)) {
      lock.unlock();
      const int64_t second = core::epoch_second(clock.now());
      merge_windows(second);
      if (runs_controller) {
        elect();
        if (leading) {
          controller->tick();
          if (second - last_prune >= kPruneEverySeconds) {
            last_prune = second;
            note_store(store->prune_metric_windows(second - kWindowRetentionSeconds),
                       "pruning metric windows");
          }
        }
      }
      lock.lock();
    }
  }

  // Every service's routing as the database has it. Services this process's controller
  // drives are left alone: it publishes their routing itself, ahead of the database.
  void resync_routing() {
    std::set<std::string> driven;
    if (controller && leading) {
      for (const config::ServiceConfig& service : config->services) {
        if (controller->active_of(service.name)) driven.insert(service.name);
      }
    }
    auto states = store->list_services();
    note_store(states, "reading services");
    if (!states) return;
    auto active = store->active_deployments();
    note_store(active, "reading deployments");
    if (!active) return;
    {
      std::lock_guard lock(problem_mutex);
      stored_active.clear();
      for (const store::StoredDeployment& stored : *active) {
        stored_active[stored.deployment.spec.service] = stored.deployment;
      }
    }
    const auto from_store = controller::routing_from_store(*config, *states, *active);
    std::lock_guard lock(snapshot_mutex);
    std::map<std::string, gateway::ServiceRuntime> next;
    for (const auto& [service, runtime] : from_store) {
      if (!driven.contains(service)) next[service] = runtime;
    }
    for (const std::string& service : driven) {
      if (auto kept = routing.find(service); kept != routing.end()) next[service] = kept->second;
    }
    const auto before = routing;
    routing = std::move(next);
    auto built = build_next_snapshot();
    if (!built) {
      routing = before;
      fmt::print(stderr, "warning: routing from the store: {}\n", built.error().message);
      return;
    }
    if (auto published = publish_snapshot(*built, "routing"); !published) {
      fmt::print(stderr, "warning: {}\n", published.error().message);
    }
  }

  void mark_dirty(bool routing_changed, bool keys_changed, bool events_changed = false) {
    {
      std::lock_guard lock(stop_mutex);
      routing_dirty = routing_dirty || routing_changed;
      keys_dirty = keys_dirty || keys_changed;
      events_dirty = events_dirty || events_changed;
    }
    stop_cv.notify_all();
  }

  // A notification from the database: what changed, so what to re-read. A reconnection
  // may have missed some: everything.
  void on_change(const store::PgNotification& n) {
    if (n.reconnected) {
      mark_dirty(true, true, true);
    } else if (n.payload.starts_with("event ")) {
      mark_dirty(false, false, true);
    } else if (n.payload.starts_with("api_key ")) {
      mark_dirty(false, true);
    } else if (n.payload.starts_with("service ") || n.payload.starts_with("deployment ")) {
      mark_dirty(true, false);
    }
  }

  void run_sync() {
    std::unique_lock lock(stop_mutex);
    while (!stopping) {
      const bool woken = stop_cv.wait_for(lock, kResyncInterval, [&] {
        return stopping || routing_dirty || keys_dirty || events_dirty;
      });
      if (stopping) break;
      const bool routing_now = routing_dirty || !woken;
      const bool keys_now = keys_dirty;
      const bool events_now = events_dirty || !woken;
      routing_dirty = keys_dirty = events_dirty = false;
      lock.unlock();
      if (routing_now) resync_routing();
      if (events_now && api) api->publish_stored_events();
      if (keys_now) {
        if (auto refreshed = refresh_keys(); !refreshed) {
          fmt::print(stderr, "warning: API keys from the store: {}\n", refreshed.error().message);
        }
      }
      lock.lock();
    }
  }

  std::unique_ptr<admin::AdminApi> api;
};

Runtime::Runtime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Runtime::~Runtime() {
  stop();
}

core::Result<std::unique_ptr<Runtime>> Runtime::start(std::shared_ptr<const config::Config> config,
                                                      RuntimeOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->options = options;
  impl->fleet = config->store.kind == config::StoreKind::postgres;
  impl->runs_gateway = options.role != Role::controller;
  impl->runs_controller = options.role != Role::gateway;
  if (!impl->fleet && options.role != Role::all) {
    return core::fail(fmt::format(
        "--role {}: a fleet's processes share a PostgreSQL store (store: postgres://...); "
        "with {} run --role all",
        to_string(options.role), config::to_string(config->store)));
  }
  if (impl->fleet) impl->evaluated = &impl->fleet_history;
  auto store = open_store(config->store);
  if (!store) return core::Failure{store.error()};
  impl->store = std::move(*store);
  auto states = impl->store->list_services();
  if (!states) return core::fail("store: " + states.error().message);
  // A fleet's gateway starts with the routing the database has now, running deployments
  // included; a controller takes over those only once it leads.
  std::vector<store::StoredDeployment> active;
  if (impl->fleet && options.role == Role::gateway) {
    auto found = impl->store->active_deployments();
    if (!found) return core::fail("store: " + found.error().message);
    active = std::move(*found);
  }

  auto keys = impl->load_keys();
  if (!keys) return core::fail("store: " + keys.error().message);
  impl->keys = *keys;

  auto overrides = controller::routing_from_store(*config, *states, active);
  auto snapshot =
      gateway::build_snapshot(*config, overrides, impl->registry, 1, impl->snapshot_inputs());
  if (!snapshot) return core::Failure{snapshot.error()};
  impl->snapshot = *snapshot;
  impl->routing.insert(overrides.begin(), overrides.end());

  gateway::GatewayOptions gateway_options;
  gateway_options.listen = config->gateway.listen;
  gateway_options.workers = config->gateway.workers;
  gateway_options.header_timeout = config->gateway.header_timeout;
  gateway_options.request_timeout = config->gateway.request_timeout;
  gateway_options.idle_timeout = config->gateway.idle_timeout;
  gateway_options.connect_timeout = config->gateway.connect_timeout;
  gateway_options.max_header_bytes = config->gateway.max_header_bytes;
  gateway_options.max_body_bytes = config->gateway.max_body_bytes;
  gateway_options.max_series = impl->registry.max_series();
  if (impl->runs_gateway) {
    auto gateway = gateway::Gateway::start(gateway_options, impl->snapshot);
    if (!gateway) return core::Failure{gateway.error()};
    impl->gateway = std::move(*gateway);
  }
  impl->name = !impl->options.name.empty()
                   ? impl->options.name
                   : default_name(impl->gateway ? impl->gateway->port() : 0);

  Impl* raw = impl.get();
  impl->hooks = std::make_unique<controller::HookRunner>();
  controller::ControllerDeps deps;
  deps.config = config;
  deps.store = impl->store.get();
  deps.history = impl->evaluated;
  deps.registry = &impl->registry;
  deps.hooks = impl->hooks.get();
  deps.clock = &impl->clock;
  deps.gateway_url = fmt::format(
      "http://{}", core::format_host_port(
                       {config->gateway.listen.host,
                        impl->gateway ? impl->gateway->port() : config->gateway.listen.port}));
  deps.publish = [raw](const std::string& service, const gateway::ServiceRuntime& runtime) {
    return raw->publish_routing(service, runtime);
  };
  // Loading and diffing large documents takes seconds: on a thread of its own.
  deps.check_contract = [raw](const std::string& service, const std::string& base_spec,
                              const std::string& revision_spec, deploy::ContractPolicy policy) {
    return controller::check_contract_async(*raw->store, service, base_spec, revision_spec, policy,
                                            raw->clock.now());
  };
  if (impl->runs_controller) {
    impl->controller = std::make_unique<controller::Controller>(std::move(deps));
  }
  // Active deployments resume where the store says they were (after a crash too). In a
  // fleet only the leader drives them: the fleet thread resumes them once it leads.
  if (!impl->fleet) {
    if (auto resumed = impl->controller->resume(); !resumed) {
      impl->gateway->stop(std::chrono::milliseconds(0));
      return core::fail("resuming deployments: " + resumed.error().message);
    }
    impl->leading = true;
  }

  if (impl->gateway) {
    impl->collector =
        std::make_unique<metrics::MetricsCollector>(impl->history, impl->gateway->recorders());
    impl->collector_thread = std::thread([raw] { raw->run_collector(); });
    impl->flusher_thread = std::thread([raw] { raw->run_flusher(); });
  }

  admin::ServerOptions admin_options;
  admin_options.listen = config->admin.listen;
  admin_options.token = config->admin.token;
  admin_options.public_prefix = std::string(admin::kUiPrefix);
  admin::AdminDeps admin_deps;
  admin_deps.config = config;
  admin_deps.snapshot = [raw] { return raw->current_snapshot(); };
  if (impl->gateway) {
    admin_deps.gateway_stats = [raw] { return raw->gateway->stats(); };
    admin_deps.gateway_workers = impl->gateway->worker_count();
  }
  admin_deps.role = to_string(options.role);
  if (impl->fleet) {
    admin_deps.store_problem = [raw] { return raw->current_store_problem(); };
    admin_deps.series_history = &impl->fleet_history;
    admin_deps.events_from_store = true;
    admin_deps.stored_deployment =
        [raw](std::string_view service) -> std::optional<deploy::Deployment> {
      std::lock_guard lock(raw->problem_mutex);
      const auto found = raw->stored_active.find(std::string(service));
      if (found == raw->stored_active.end()) return std::nullopt;
      return found->second;
    };
    if (impl->controller) admin_deps.leading = [raw] { return raw->leading.load(); };
    // Deployment calls made of a gateway or a standby go on to the leader.
    impl->leader_lookup = std::make_unique<store::LeaderLock>(config->store.postgres_url, "lookup");
    admin_deps.leader = [raw] { return raw->leader_lookup->current_leader(); };
    admin_deps.forward_to_leader = true;
  }
  admin_deps.store = impl->store.get();
  admin_deps.registry = &impl->registry;
  admin_deps.history = &impl->history;
  admin_deps.clock = &impl->clock;
  admin_deps.controller = impl->controller.get();
  admin_deps.keys_changed = [raw] { return raw->refresh_keys(); };
  impl->api = std::make_unique<admin::AdminApi>(std::move(admin_deps));
  auto admin = admin::HttpServer::start(
      admin_options, [raw](const admin::Request& r) { return raw->api->handle(r); });
  if (!admin) {
    Runtime partial(std::move(impl));
    partial.stop();
    return core::Failure{admin.error()};
  }
  impl->admin = std::move(*admin);

  if (impl->fleet) {
    const std::string url = config->store.postgres_url;
    if (impl->controller) {
      impl->leader_lock = std::make_unique<store::LeaderLock>(
          url, fmt::format("http://{}", core::format_host_port(
                                            {config->admin.listen.host, impl->admin->port()})));
    }
    // Told of every change another process commits; the routing built above may already
    // be behind, so read it once more after listening.
    auto listener =
        store::PgListener::start(url, {std::string(kChangeChannel)},
                                 [raw](const store::PgNotification& n) { raw->on_change(n); });
    if (!listener) {
      Runtime partial(std::move(impl));
      partial.stop();
      return core::fail("listening for the fleet's changes: " + listener.error().message);
    }
    impl->listener = std::move(*listener);
    impl->mark_dirty(true, true);
    impl->merged_up_to = core::epoch_second(impl->clock.now());
    impl->sync_thread = std::thread([raw] { raw->run_sync(); });
    impl->fleet_thread = std::thread([raw] { raw->run_fleet(); });
  }
  return std::unique_ptr<Runtime>(new Runtime(std::move(impl)));
}

uint16_t Runtime::gateway_port() const {
  return impl_->gateway ? impl_->gateway->port() : 0;
}
uint16_t Runtime::admin_port() const {
  return impl_->admin->port();
}

controller::Controller& Runtime::controller() {
  return *impl_->controller;
}

const char* to_string(Role role) {
  switch (role) {
    case Role::gateway:
      return "gateway";
    case Role::controller:
      return "controller";
    case Role::all:
      break;
  }
  return "all";
}

void Runtime::stop() {
  if (!impl_) return;
  if (impl_->admin) impl_->admin->stop();
  if (impl_->gateway) impl_->gateway->stop(std::chrono::seconds(5));
  {
    std::lock_guard lock(impl_->stop_mutex);
    impl_->stopping = true;
  }
  impl_->stop_cv.notify_all();
  if (impl_->collector_thread.joinable()) impl_->collector_thread.join();
  if (impl_->flusher_thread.joinable()) impl_->flusher_thread.join();
  if (impl_->fleet_thread.joinable()) impl_->fleet_thread.join();
  if (impl_->sync_thread.joinable()) impl_->sync_thread.join();
  impl_->listener.reset();
  // A leader that stops lets go at once, so a standby takes over on its next poll.
  if (impl_->leader_lock) impl_->leader_lock->release();
  // What the workers counted since the last flush is not lost on a graceful stop.
  if (impl_->gateway && impl_->store) impl_->flush_usage();
  impl_.reset();
}

}  // namespace glidepath::server
