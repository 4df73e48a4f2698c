// The contract gate as a running controller asks it (SPEC section 6): the service's
// recorded usage and the keys are read from the store, then contract::check_deployment
// loads and diffs the documents. The reading is here so that the contract module stays
// free of the store: it takes usage and keys as values.
#pragma once

#include <future>
#include <string>
#include <string_view>

#include "contract/check.h"
#include "core/clock.h"
#include "core/result.h"
#include "deploy/deployment.h"
#include "deploy/reconcile.h"
#include "store/store.h"

namespace glidepath::controller {

// `service`'s usage buckets since `since`, and every key.
core::Result<contract::ConsumerUsage> read_consumer_usage(store::Store& store,
                                                          std::string_view service,
                                                          core::TimePoint since);

// The gate's verdict, computed on a thread of its own: loading and diffing large
// documents takes seconds, and the controller only polls the future. Usage that cannot be
// read leaves the contract unchecked, which is not a pass (blocked; warned under `warn`).
std::future<deploy::ContractObservation> check_contract_async(
    store::Store& store, std::string service, std::string base_spec, std::string revision_spec,
    deploy::ContractPolicy policy, core::TimePoint now);

}  // namespace glidepath::controller
