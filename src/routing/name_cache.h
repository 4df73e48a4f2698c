// Upstream names and their addresses, kept off the rollback path (SPEC section 4).
//
// A name is resolved when a version is accepted — the config at start, a deployment
// request, a fleet gateway reading a new version from the database — with a bounded wait,
// and refreshed in the background every refresh interval (a TTL-like period; the system
// resolver does not tell us the records' TTLs). Building a snapshot only reads what is
// here: a publish, a rollback's included, never waits on a resolver.
//
// Every address a name returns becomes an upstream of its own, so the gateway's round
// robin spreads over them and an address that refuses is skipped like any IP upstream. A
// failed refresh keeps the last addresses: a resolver that is away must not take an
// upstream out of service.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/units.h"

namespace glidepath::routing {

class NameCache {
 public:
  // One name's addresses (numeric, as the resolver returned them, duplicates removed), or
  // why there are none. May block up to `timeout`, no longer.
  using Lookup = std::function<core::Result<std::vector<std::string>>(
      const std::string& host, std::chrono::milliseconds timeout)>;

  // The system's resolver (getaddrinfo on a helper thread, bounded by the timeout).
  static core::Result<std::vector<std::string>> system_lookup(const std::string& host,
                                                              std::chrono::milliseconds timeout);

  explicit NameCache(Lookup lookup = system_lookup,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

  // Resolves every name among `upstreams` that has no addresses yet (addresses need
  // none). Blocks up to the timeout per name. Errors name each host that failed; the
  // names that resolved are kept either way.
  core::Result<void> learn(std::span<const core::HostPort> upstreams);

  // Memory only: the addresses `upstream` stands for, each with its port — itself when
  // it is an address, or a name that has never resolved (connecting to it then fails and
  // answers 502 until a refresh finds it).
  std::vector<core::HostPort> addresses(const core::HostPort& upstream) const;

  // Looks every known name up again; a name that fails keeps its last addresses. True
  // when any name's addresses changed, so the caller republishes.
  bool refresh();

  // Whether `host` is an IP address (nothing to resolve).
  static bool is_address(const std::string& host);

 private:
  Lookup lookup_;
  std::chrono::milliseconds timeout_;
  mutable std::mutex mutex_;  // never held while a lookup runs
  std::map<std::string, std::vector<std::string>, std::less<>> names_;  // host → addresses
};

}  // namespace glidepath::routing
