// How POST /v1/services/{s}/impact (and so `glidepath impact --json`) shows an
// ImpactReport: a stable JSON schema, documented in docs/contract.md.
#pragma once

#include <string>

#include "contract/impact.h"

namespace glidepath::contract {

struct ImpactContext {
  std::string live_version;  // the version whose document was the base
  std::string base_name;     // the documents, as reports name them
  std::string revision_name;
  deploy::ContractPolicy policy = deploy::ContractPolicy::block_if_used;  // the service's
};

// {"service", "live_version", "base", "revision", "since", "summary": {"breaking",
//  "warning", "affected_consumers"}, "gate": {"policy", "verdict", "summary"},
//  "breaking": [{...change, "consumers": [{name, contact, requests, last_seen,
//  versions}]}], "warnings": [...changes], "advice"}.
std::string render_impact_json(const ImpactReport& impact, const ImpactContext& context);

}  // namespace glidepath::contract
