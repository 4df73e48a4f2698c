// Whom a contract change would hit (SPEC section 6): the diff's breaking changes joined
// with recorded usage (SPEC section 5). Used by `glidepath impact` and by a deployment's
// checking_contract gate. Pure: the caller reads the store and passes the window's usage.
//
// A change and a usage bucket meet on the operation: the same method and the same path
// key ("GET /orders/{}"), so a consumer recorded against the live version's template
// `/orders/{id}` is found for a change the revision spells `/orders/{orderId}`. Usage of
// a version without a spec was recorded by literal path with ids folded to `{id}`, which
// meets a template of the same shape too.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "access/records.h"
#include "contract/diff.h"
#include "core/clock.h"
#include "deploy/deployment.h"
#include "deploy/reconcile.h"

namespace glidepath::contract {

struct AffectedConsumer {
  std::string name;     // "anonymous" for requests without a key
  std::string contact;  // from the consumer's newest key; empty for anonymous
  uint64_t requests = 0;
  core::TimePoint last_seen{};
  std::vector<std::string> versions;  // the versions it called the operation on, sorted
  friend bool operator==(const AffectedConsumer&, const AffectedConsumer&) = default;
};

struct ImpactedChange {
  Change change;
  // Who called the change's operation within the window, most requests first.
  std::vector<AffectedConsumer> consumers;
};

struct ImpactReport {
  std::string service;
  core::TimePoint since{};
  std::vector<ImpactedChange> breaking;  // every breaking change, used or not
  std::vector<Change> warnings;
  // Distinct consumers hit by at least one breaking change, sorted.
  std::vector<std::string> affected_consumers() const;
  bool used() const { return !affected_consumers().empty(); }
};

// `usage`: the service's buckets since `since` (other services' and older buckets are
// ignored); `keys`: every key, for contacts.
ImpactReport assess_impact(const DiffReport& diff, std::string_view service, core::TimePoint since,
                           std::span<const access::UsageBucket> usage,
                           std::span<const access::ApiKeyRecord> keys);

// The deployment gate (SPEC section 6): block stops on any breaking change; block_if_used
// only when someone called an affected operation (an unused one is a warning); warn never
// stops. The summary names the changes and consumers and suggests a new major version on
// its own route. The verdict is the deployment engine's own type: what reconcile reads.
deploy::ContractObservation gate_verdict(const ImpactReport& impact, deploy::ContractPolicy policy);

// "publish the change as a new major version on its own route (for example
// v2.<host> or /v2<prefix>) and move consumers over" — the advice every report gives.
std::string new_major_version_advice(std::string_view service);

}  // namespace glidepath::contract
