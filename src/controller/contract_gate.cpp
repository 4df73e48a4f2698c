#include "controller/contract_gate.h"

#include <utility>

namespace glidepath::controller {

core::Result<contract::ConsumerUsage> read_consumer_usage(store::Store& store,
                                                          std::string_view service,
                                                          core::TimePoint since) {
  contract::ConsumerUsage out;
  out.since = since;
  store::UsageFilter filter;
  filter.service = std::string(service);
  filter.since_minute = core::epoch_second(since);
  auto usage = store.query_usage(filter);
  if (!usage) return core::fail("reading usage: " + usage.error().message);
  out.usage = std::move(*usage);
  auto keys = store.list_api_keys();
  if (!keys) return core::fail("reading API keys: " + keys.error().message);
  out.keys = std::move(*keys);
  return out;
}

std::future<deploy::ContractObservation> check_contract_async(
    store::Store& store, std::string service, std::string base_spec, std::string revision_spec,
    deploy::ContractPolicy policy, core::TimePoint now) {
  return std::async(
      std::launch::async, [&store, service = std::move(service), base_spec = std::move(base_spec),
                           revision_spec = std::move(revision_spec), policy, now] {
        auto usage = read_consumer_usage(store, service, contract::usage_since(now));
        if (!usage) return contract::unchecked_verdict(policy, usage.error().message);
        return contract::check_deployment(service, base_spec, revision_spec, policy, *usage, now);
      });
}

}  // namespace glidepath::controller
