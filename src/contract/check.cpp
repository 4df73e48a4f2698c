#include "contract/check.h"

#include <fmt/format.h>

#include "contract/loader.h"

namespace glidepath::contract {

core::TimePoint usage_since(core::TimePoint now, core::Duration window) {
  return std::chrono::floor<std::chrono::minutes>(now - window);
}

ImpactReport assess_against_usage(std::string_view service, const Document& base,
                                  const Document& revision, const ConsumerUsage& usage,
                                  core::TimePoint now) {
  DiffOptions options;
  options.now = now;
  const DiffReport report = diff(base, revision, options);
  return assess_impact(report, service, usage.since, usage.usage, usage.keys);
}

deploy::ContractObservation unchecked_verdict(deploy::ContractPolicy policy,
                                              const std::string& why) {
  deploy::ContractObservation verdict;
  verdict.verdict = policy == deploy::ContractPolicy::warn ? deploy::ContractVerdict::warned
                                                           : deploy::ContractVerdict::blocked;
  verdict.summary = "the contract could not be checked: " + why;
  return verdict;
}

deploy::ContractObservation check_deployment(std::string_view service, const std::string& base_spec,
                                             const std::string& revision_spec,
                                             deploy::ContractPolicy policy,
                                             const ConsumerUsage& usage, core::TimePoint now) {
  const auto unchecked = [&](const std::string& why) { return unchecked_verdict(policy, why); };
  auto base = load_document_file(base_spec);
  if (!base) return unchecked(fmt::format("live version's spec: {}", base.error().message));
  auto revision = load_document_file(revision_spec);
  if (!revision) return unchecked(fmt::format("new version's spec: {}", revision.error().message));
  return gate_verdict(assess_against_usage(service, *base, *revision, usage, now), policy);
}

}  // namespace glidepath::contract
