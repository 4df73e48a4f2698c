#include "contract/impact.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "access/consumers.h"
#include "access/key_table.h"

namespace glidepath::contract {
namespace {

// "GET /orders/{id}" → "GET /orders/{}"; an operation without a space stays as it is
// (and meets nothing).
std::string operation_key(std::string_view operation) {
  const size_t space = operation.find(' ');
  if (space == std::string_view::npos) return std::string(operation);
  return fmt::format("{} {}", operation.substr(0, space), path_key(operation.substr(space + 1)));
}

struct Caller {
  uint64_t requests = 0;
  core::TimePoint last_seen{};
  std::set<std::string> versions;
};

}  // namespace

std::vector<std::string> ImpactReport::affected_consumers() const {
  std::set<std::string> names;
  for (const ImpactedChange& c : breaking) {
    for (const AffectedConsumer& consumer : c.consumers)
      names.insert(consumer.name);
  }
  return {names.begin(), names.end()};
}

ImpactReport assess_impact(const DiffReport& diff, std::string_view service, core::TimePoint since,
                           std::span<const access::UsageBucket> usage,
                           std::span<const access::ApiKeyRecord> keys) {
  // operation key → consumer → what it did there.
  std::map<std::string, std::map<std::string, Caller>> callers;
  const int64_t since_minute = core::epoch_second(since);
  for (const access::UsageBucket& bucket : usage) {
    if (bucket.service != service || bucket.minute < since_minute) continue;
    Caller& caller = callers[operation_key(bucket.operation)][bucket.consumer];
    caller.requests += bucket.count;
    caller.last_seen = std::max(caller.last_seen, bucket.last_seen);
    caller.versions.insert(bucket.version);
  }
  const auto by_consumer = access::keys_by_consumer(keys);

  ImpactReport report;
  report.service = std::string(service);
  report.since = since;
  for (const Change& change : diff.changes) {
    if (change.level == Level::warning) report.warnings.push_back(change);
    if (change.level != Level::breaking) continue;
    ImpactedChange impacted{change, {}};
    const auto found = callers.find(fmt::format("{} {}", change.method, path_key(change.path)));
    if (found != callers.end()) {
      for (const auto& [name, caller] : found->second) {
        AffectedConsumer consumer;
        consumer.name = name;
        const auto keyed = by_consumer.find(name);
        if (keyed != by_consumer.end()) consumer.contact = keyed->second.newest->contact;
        consumer.requests = caller.requests;
        consumer.last_seen = caller.last_seen;
        consumer.versions.assign(caller.versions.begin(), caller.versions.end());
        impacted.consumers.push_back(std::move(consumer));
      }
      std::stable_sort(impacted.consumers.begin(), impacted.consumers.end(),
                       [](const AffectedConsumer& a, const AffectedConsumer& b) {
                         return a.requests > b.requests;
                       });
    }
    report.breaking.push_back(std::move(impacted));
  }
  return report;
}

std::string new_major_version_advice(std::string_view service) {
  return fmt::format(
      "publish the change as a new major version of {} on its own route (for example a "
      "v2.api.example.com host or a /v2 path prefix) and move consumers over",
      service);
}

deploy::ContractObservation gate_verdict(const ImpactReport& impact,
                                         deploy::ContractPolicy policy) {
  deploy::ContractObservation verdict;
  if (impact.breaking.empty()) {
    verdict.summary = impact.warnings.empty() ? "no breaking changes"
                                              : fmt::format("no breaking changes, {} warning(s)",
                                                            impact.warnings.size());
    return verdict;
  }
  const std::vector<std::string> affected = impact.affected_consumers();
  std::string rules;
  for (size_t i = 0; i < impact.breaking.size() && i < 3; ++i) {
    const Change& c = impact.breaking[i].change;
    rules += fmt::format("{}{} {}", i == 0 ? "" : "; ", c.operation(), c.rule);
  }
  if (impact.breaking.size() > 3) rules += fmt::format("; and {} more", impact.breaking.size() - 3);
  std::string who = "no consumer called the affected operations";
  if (!affected.empty()) {
    std::string names;
    for (size_t i = 0; i < affected.size() && i < 5; ++i)
      names += fmt::format("{}{}", i == 0 ? "" : ", ", affected[i]);
    if (affected.size() > 5) names += fmt::format(" and {} more", affected.size() - 5);
    who = fmt::format("{} consumer(s) affected: {}", affected.size(), names);
  }
  verdict.summary =
      fmt::format("{} breaking change(s) ({}); {}", impact.breaking.size(), rules, who);
  const bool block = policy == deploy::ContractPolicy::block ||
                     (policy == deploy::ContractPolicy::block_if_used && !affected.empty());
  verdict.verdict = block ? deploy::ContractVerdict::blocked : deploy::ContractVerdict::warned;
  if (block) verdict.summary += "; " + new_major_version_advice(impact.service);
  return verdict;
}

}  // namespace glidepath::contract
