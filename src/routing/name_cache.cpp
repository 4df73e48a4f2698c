#include "routing/name_cache.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>

#include "http/client.h"

namespace glidepath::routing {

bool NameCache::is_address(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

core::Result<std::vector<std::string>> NameCache::system_lookup(const std::string& host,
                                                                std::chrono::milliseconds timeout) {
  auto found = http::resolve(host, 0, timeout);
  if (!found) return core::Failure{found.error()};
  std::vector<std::string> addresses;
  for (const addrinfo* a = found->get(); a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (getnameinfo(a->ai_addr, a->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST) !=
        0) {
      continue;
    }
    if (std::find(addresses.begin(), addresses.end(), text) == addresses.end()) {
      addresses.emplace_back(text);
    }
  }
  if (addresses.empty()) return core::fail(fmt::format("cannot resolve {}: no address", host));
  return addresses;
}

NameCache::NameCache(Lookup lookup, std::chrono::milliseconds timeout)
    : lookup_(std::move(lookup)), timeout_(timeout) {}

core::Result<void> NameCache::learn(std::span<const core::HostPort> upstreams) {
  std::vector<std::string> unknown;
  {
    std::lock_guard lock(mutex_);
    for (const core::HostPort& upstream : upstreams) {
      if (is_address(upstream.host) || names_.contains(upstream.host)) continue;
      if (std::find(unknown.begin(), unknown.end(), upstream.host) == unknown.end()) {
        unknown.push_back(upstream.host);
      }
    }
  }
  std::string errors;
  for (const std::string& host : unknown) {
    auto addresses = lookup_(host, timeout_);
    if (!addresses || addresses->empty()) {
      if (!errors.empty()) errors += "; ";
      errors += addresses ? fmt::format("cannot resolve {}: no address", host)
                          : addresses.error().message;
      continue;
    }
    std::lock_guard lock(mutex_);
    names_[host] = std::move(*addresses);
  }
  if (!errors.empty()) return core::fail(errors);
  return {};
}

std::vector<core::HostPort> NameCache::addresses(const core::HostPort& upstream) const {
  std::lock_guard lock(mutex_);
  const auto found = names_.find(upstream.host);
  if (found == names_.end()) return {upstream};
  std::vector<core::HostPort> out;
  out.reserve(found->second.size());
  for (const std::string& address : found->second)
    out.push_back({address, upstream.port});
  return out;
}

bool NameCache::refresh() {
  std::vector<std::string> hosts;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [host, addresses] : names_)
      hosts.push_back(host);
  }
  bool changed = false;
  for (const std::string& host : hosts) {
    auto addresses = lookup_(host, timeout_);
    if (!addresses || addresses->empty()) continue;  // keep the last ones
    std::lock_guard lock(mutex_);
    std::vector<std::string>& known = names_[host];
    if (known != *addresses) {
      known = std::move(*addresses);
      changed = true;
    }
  }
  return changed;
}

}  // namespace glidepath::routing
