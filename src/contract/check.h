// The contract check against a running system (SPEC section 6): load two documents, diff
// them, and join the breaking changes with the usage recorded for the service. What
// `glidepath impact`, POST /v1/services/{s}/impact and a deployment's checking_contract
// gate run. Reads the documents' files; the usage and the keys come in as values (the
// caller reads them from the store), and the decisions are impact.h's, which are pure.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "access/records.h"
#include "contract/diff.h"
#include "contract/impact.h"
#include "contract/model.h"
#include "core/clock.h"
#include "core/result.h"
#include "deploy/reconcile.h"

namespace glidepath::contract {

// How far back usage counts when nothing else is said (`--since`, the gate).
inline constexpr core::Duration kDefaultImpactWindow = std::chrono::hours(24 * 30);

// The start of the usage window that ends at `now`: now - window, to the minute.
core::TimePoint usage_since(core::TimePoint now, core::Duration window = kDefaultImpactWindow);

// What the service's consumers did: its usage buckets since `since` and every key (for
// the consumers' contacts).
struct ConsumerUsage {
  core::TimePoint since{};
  std::vector<access::UsageBucket> usage;
  std::vector<access::ApiKeyRecord> keys;
};

// Diffs `base` against `revision` (changes dated by `now`) and joins the result with the
// service's usage.
ImpactReport assess_against_usage(std::string_view service, const Document& base,
                                  const Document& revision, const ConsumerUsage& usage,
                                  core::TimePoint now);

// A contract that could not be checked (a document or the usage could not be read): not
// a pass. Blocked, or warned under policy `warn`; the summary says why.
deploy::ContractObservation unchecked_verdict(deploy::ContractPolicy policy,
                                              const std::string& why);

// The deployment gate: the live version's document against the new version's, by path.
// A document that cannot be loaded blocks the deployment (warns under policy `warn`):
// an unchecked contract is not a passed one.
deploy::ContractObservation check_deployment(std::string_view service, const std::string& base_spec,
                                             const std::string& revision_spec,
                                             deploy::ContractPolicy policy,
                                             const ConsumerUsage& usage, core::TimePoint now);

}  // namespace glidepath::contract
