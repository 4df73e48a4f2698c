#include "routing/publisher.h"

#include <fmt/format.h>

#include <cstdio>
#include <utility>
#include <vector>

#include "core/units.h"

namespace glidepath::routing {

gateway::ServiceRuntime to_service_runtime(const config::ServiceConfig& service,
                                           const deploy::RoutingIntent& intent) {
  gateway::ServiceRuntime runtime;
  for (const deploy::DeployedVersion& v : intent.versions) {
    if (service.find_version(v.name) != nullptr) continue;
    config::VersionConfig added;
    added.name = v.name;
    for (const std::string& upstream : v.upstreams) {
      if (auto hp = core::parse_host_port(upstream)) added.upstreams.push_back(*hp);
    }
    added.spec = v.spec_path;
    runtime.added_versions.push_back(std::move(added));
  }
  const auto known = [&](const std::string& version) {
    if (service.find_version(version) != nullptr) return true;
    for (const config::VersionConfig& v : runtime.added_versions) {
      if (v.name == version) return true;
    }
    return false;
  };
  if (!intent.live.empty() && known(intent.live)) runtime.live = intent.live;
  runtime.canary = intent.canary;
  runtime.canary_weight = intent.canary_weight;
  runtime.preview_token = intent.preview_token;
  return runtime;
}

RoutingPublisher::RoutingPublisher(Options options) : options_(std::move(options)) {
  if (!options_.specs) {
    options_.specs =
        [](const std::string& path) -> std::shared_ptr<const access::OperationMatcher> {
      auto matcher = access::OperationMatcher::from_file(path);
      if (!matcher) {
        fmt::print(stderr, "warning: spec {}: {}; usage is recorded by literal path\n", path,
                   matcher.error().message);
        return nullptr;
      }
      return *matcher;
    };
  }
}

core::Result<std::unique_ptr<RoutingPublisher>> RoutingPublisher::create(
    Options options, std::map<std::string, deploy::RoutingIntent> intents,
    std::shared_ptr<const access::KeyTable> keys) {
  std::unique_ptr<RoutingPublisher> publisher(new RoutingPublisher(std::move(options)));
  for (auto& [service, intent] : intents) {
    if (publisher->options_.config->find_service(service) != nullptr) {
      publisher->intents_[service] = std::move(intent);
    }
  }
  publisher->keys_ = std::move(keys);
  std::lock_guard lock(publisher->mutex_);
  auto built = publisher->build();
  if (!built) return core::Failure{built.error()};
  publisher->generation_ = (*built)->generation;
  publisher->snapshot_ = std::move(*built);
  return publisher;
}

void RoutingPublisher::attach(Sink sink) {
  std::lock_guard lock(mutex_);
  sink_ = std::move(sink);
}

void RoutingPublisher::preload_spec(const std::string& path) {
  {
    std::lock_guard lock(mutex_);
    if (path.empty() || specs_.count(path) != 0) return;
  }
  auto loaded = options_.specs(path);  // outside the lock: seconds for a large document
  std::lock_guard lock(mutex_);
  specs_.emplace(path, std::move(loaded));
}

std::shared_ptr<const access::OperationMatcher> RoutingPublisher::matcher(const std::string& path) {
  if (const auto found = specs_.find(path); found != specs_.end()) return found->second;
  return specs_[path] = options_.specs(path);
}

core::Result<std::shared_ptr<const gateway::Snapshot>> RoutingPublisher::build() {
  std::vector<std::pair<std::string, gateway::ServiceRuntime>> runtime;
  runtime.reserve(intents_.size());
  for (const auto& [service, intent] : intents_) {
    if (const config::ServiceConfig* s = options_.config->find_service(service)) {
      runtime.emplace_back(service, to_service_runtime(*s, intent));
    }
  }
  gateway::SnapshotInputs inputs;
  inputs.keys = keys_;
  inputs.operations = [this](const std::string& path) { return matcher(path); };
  inputs.refusals = [this](const std::string& service) {
    auto& counters = refusals_[service];
    if (counters == nullptr) counters = std::make_shared<gateway::RefusalCounters>();
    return counters;
  };
  if (options_.names != nullptr) {
    inputs.addresses = [names = options_.names](const core::HostPort& upstream) {
      return names->addresses(upstream);
    };
  }
  return gateway::build_snapshot(*options_.config, runtime, *options_.registry, generation_ + 1,
                                 inputs);
}

core::Result<void> RoutingPublisher::publish(std::shared_ptr<const gateway::Snapshot> built) {
  generation_ = built->generation;
  snapshot_ = built;
  if (sink_ && !sink_(std::move(built))) {
    return core::fail("the gateway workers did not adopt the new routing in time");
  }
  return {};
}

core::Result<void> RoutingPublisher::set_intent(const std::string& service,
                                                deploy::RoutingIntent intent) {
  if (options_.config->find_service(service) == nullptr) {
    return core::fail(fmt::format("no service '{}' in the config", service));
  }
  std::lock_guard lock(mutex_);
  std::optional<deploy::RoutingIntent> before;
  if (const auto found = intents_.find(service); found != intents_.end()) before = found->second;
  intents_[service] = std::move(intent);
  auto built = build();
  if (!built) {
    if (before) {
      intents_[service] = std::move(*before);
    } else {
      intents_.erase(service);
    }
    return core::Failure{built.error()};
  }
  return publish(std::move(*built));
}

core::Result<void> RoutingPublisher::replace_intents(
    std::map<std::string, deploy::RoutingIntent> intents, const std::set<std::string>& keep) {
  std::lock_guard lock(mutex_);
  std::map<std::string, deploy::RoutingIntent> next;
  for (auto& [service, intent] : intents) {
    if (!keep.contains(service) && options_.config->find_service(service) != nullptr) {
      next[service] = std::move(intent);
    }
  }
  for (const std::string& service : keep) {
    if (const auto kept = intents_.find(service); kept != intents_.end()) {
      next[service] = kept->second;
    }
  }
  std::swap(intents_, next);
  auto built = build();
  if (!built) {
    std::swap(intents_, next);
    return core::Failure{built.error()};
  }
  return publish(std::move(*built));
}

core::Result<void> RoutingPublisher::set_keys(std::shared_ptr<const access::KeyTable> keys) {
  std::lock_guard lock(mutex_);
  std::swap(keys_, keys);
  auto built = build();
  if (!built) {
    std::swap(keys_, keys);
    return core::Failure{built.error()};
  }
  return publish(std::move(*built));
}

core::Result<void> RoutingPublisher::republish() {
  std::lock_guard lock(mutex_);
  auto built = build();
  if (!built) return core::Failure{built.error()};
  return publish(std::move(*built));
}

std::shared_ptr<const gateway::Snapshot> RoutingPublisher::snapshot() const {
  std::lock_guard lock(mutex_);
  return snapshot_;
}

std::optional<deploy::RoutingIntent> RoutingPublisher::intent(const std::string& service) const {
  std::lock_guard lock(mutex_);
  const auto found = intents_.find(service);
  if (found == intents_.end()) return std::nullopt;
  return found->second;
}

}  // namespace glidepath::routing
