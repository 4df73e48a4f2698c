#include "contract/check.h"

#include <fmt/format.h>

#include "contract/loader.h"

namespace glidepath::contract {

core::Result<ImpactReport> assess_against_usage(store::Store& store, std::string_view service,
                                                const Document& base, const Document& revision,
                                                core::TimePoint now, core::Duration window) {
  DiffOptions options;
  options.now = now;
  const DiffReport report = diff(base, revision, options);
  const core::TimePoint since = std::chrono::floor<std::chrono::minutes>(now - window);
  store::UsageFilter filter;
  filter.service = std::string(service);
  filter.since_minute = core::epoch_second(since);
  auto usage = store.query_usage(filter);
  if (!usage) return core::fail("reading usage: " + usage.error().message);
  auto keys = store.list_api_keys();
  if (!keys) return core::fail("reading API keys: " + keys.error().message);
  return assess_impact(report, service, since, *usage, *keys);
}

GateVerdict check_deployment(store::Store& store, std::string_view service,
                             const std::string& base_spec, const std::string& revision_spec,
                             deploy::ContractPolicy policy, core::TimePoint now,
                             core::Duration window) {
  const auto unchecked = [&](const std::string& why) {
    GateVerdict verdict;
    verdict.kind = policy == deploy::ContractPolicy::warn ? GateVerdict::Kind::warned
                                                          : GateVerdict::Kind::blocked;
    verdict.summary = "the contract could not be checked: " + why;
    return verdict;
  };
  auto base = load_document_file(base_spec);
  if (!base) return unchecked(fmt::format("live version's spec: {}", base.error().message));
  auto revision = load_document_file(revision_spec);
  if (!revision) return unchecked(fmt::format("new version's spec: {}", revision.error().message));
  auto impact = assess_against_usage(store, service, *base, *revision, now, window);
  if (!impact) return unchecked(impact.error().message);
  return gate_verdict(*impact, policy);
}

}  // namespace glidepath::contract
