// What deployments change about a service (SPEC section 3): the live version a finished
// deployment left, and the versions deployments brought that the config file does not
// list. The config file holds everything else. The deployment engine owns these records;
// the store keeps them and the routing intents (routing_intent.h) are derived from them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"

namespace glidepath::deploy {

// A version that a deployment introduced (the config file lists the others).
struct DeployedVersion {
  std::string name;
  std::vector<std::string> upstreams;  // host:port
  std::string spec_path;               // its OpenAPI document, if any
  friend bool operator==(const DeployedVersion&, const DeployedVersion&) = default;
};

// What deployments changed about a service; the config file holds the rest.
struct ServiceState {
  std::string name;
  std::string live_version;
  std::vector<DeployedVersion> versions;
  // A fixed split (version → percent) that replaces the config file's `traffic`.
  std::optional<std::map<std::string, int>> traffic;
  core::TimePoint updated_at{};

  const DeployedVersion* find_version(std::string_view version) const {
    for (const DeployedVersion& v : versions) {
      if (v.name == version) return &v;
    }
    return nullptr;
  }
  friend bool operator==(const ServiceState&, const ServiceState&) = default;
};

}  // namespace glidepath::deploy
