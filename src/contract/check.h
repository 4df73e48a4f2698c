// The contract check against a running system (SPEC section 6): load two documents, diff
// them, and join the breaking changes with the usage the store recorded. What
// `glidepath impact`, POST /v1/services/{s}/impact and a deployment's checking_contract
// gate run. Reads files and the store; the decisions are impact.h's, which are pure.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "contract/diff.h"
#include "contract/impact.h"
#include "contract/model.h"
#include "core/clock.h"
#include "core/result.h"
#include "store/store.h"

namespace glidepath::contract {

// How far back usage counts when nothing else is said (`--since`, the gate).
inline constexpr core::Duration kDefaultImpactWindow = std::chrono::hours(24 * 30);

// Diffs `base` against `revision` and joins the result with `service`'s usage since
// now - window (to the minute) and every key's contact.
core::Result<ImpactReport> assess_against_usage(store::Store& store, std::string_view service,
                                                const Document& base, const Document& revision,
                                                core::TimePoint now, core::Duration window);

// The deployment gate: the live version's document against the new version's, by path.
// A document that cannot be loaded blocks the deployment (warns under policy `warn`):
// an unchecked contract is not a passed one.
GateVerdict check_deployment(store::Store& store, std::string_view service,
                             const std::string& base_spec, const std::string& revision_spec,
                             deploy::ContractPolicy policy, core::TimePoint now,
                             core::Duration window = kDefaultImpactWindow);

}  // namespace glidepath::contract
