#include "admin/consumer_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "access/consumers.h"
#include "core/units.h"

namespace glidepath::admin {

namespace {

using nlohmann::json;

json time_or_null(const std::optional<core::TimePoint>& t) {
  return t ? json(core::format_rfc3339(*t)) : json(nullptr);
}

// A key's contact is never empty, so empty means the consumer has no key.
json contact_or_null(const std::string& contact) {
  return contact.empty() ? json(nullptr) : json(contact);
}

void add_totals(json& j, const UsageTotals& totals) {
  j["requests"] = totals.requests;
  j["errors"] = totals.errors;
  j["by_class"] = totals.by_class;
  j["first_seen"] = time_or_null(totals.first_seen);
  j["last_seen"] = time_or_null(totals.last_seen);
}

}  // namespace

void UsageTotals::add(const access::UsageBucket& bucket) {
  requests += bucket.count;
  if (bucket.status_class == "4xx" || bucket.status_class == "5xx") errors += bucket.count;
  by_class[bucket.status_class] += bucket.count;
  if (bucket.count == 0) return;  // a bucket that counted nothing saw no request
  if (!first_seen || bucket.first_seen < *first_seen) first_seen = bucket.first_seen;
  if (!last_seen || bucket.last_seen > *last_seen) last_seen = bucket.last_seen;
}

std::vector<ConsumerSummary> summarize_consumers(std::span<const access::ApiKeyRecord> keys,
                                                 std::span<const access::UsageBucket> usage,
                                                 bool include_idle) {
  struct Distinct {
    std::set<std::string> services;
    std::set<std::string> operations;
    std::set<std::string> versions;
  };
  std::map<std::string, std::pair<ConsumerSummary, Distinct>, std::less<>> rows;
  for (const access::UsageBucket& bucket : usage) {
    auto& [summary, distinct] = rows[bucket.consumer];
    summary.totals.add(bucket);
    distinct.services.insert(bucket.service);
    distinct.operations.insert(bucket.operation);
    distinct.versions.insert(bucket.version);
  }
  const auto facts = access::keys_by_consumer(keys);
  if (include_idle) {
    for (const auto& [name, fact] : facts)
      rows.try_emplace(name);
  }
  std::vector<ConsumerSummary> summaries;
  summaries.reserve(rows.size());
  for (auto& [name, row] : rows) {
    auto& [summary, distinct] = row;
    summary.name = name;
    if (const auto it = facts.find(name); it != facts.end()) {
      summary.active_keys = it->second.active;
      summary.contact = it->second.newest->contact;
      summary.metadata = it->second.newest->metadata;
    }
    summary.services.assign(distinct.services.begin(), distinct.services.end());
    summary.operations.assign(distinct.operations.begin(), distinct.operations.end());
    summary.versions.assign(distinct.versions.begin(), distinct.versions.end());
    summaries.push_back(std::move(summary));
  }
  return summaries;  // the map kept them by name
}

std::optional<ConsumerUsage> consumer_usage(std::string_view consumer,
                                            std::span<const access::ApiKeyRecord> keys,
                                            std::span<const access::UsageBucket> usage,
                                            size_t max_minutes) {
  ConsumerUsage result;
  result.consumer = std::string(consumer);
  const auto facts = access::keys_by_consumer(keys);
  const auto fact = facts.find(consumer);
  if (fact != facts.end()) {
    result.active_keys = fact->second.active;
    result.contact = fact->second.newest->contact;
    result.metadata = fact->second.newest->metadata;
  }

  using OperationKey = std::tuple<std::string, std::string, std::string>;
  std::map<OperationKey, UsageTotals> operations;
  for (const access::UsageBucket& bucket : usage) {
    if (bucket.consumer != consumer) continue;
    operations[OperationKey{bucket.service, bucket.operation, bucket.version}].add(bucket);
    result.minutes.push_back(bucket);
  }
  if (fact == facts.end() && result.minutes.empty()) return std::nullopt;

  for (auto& [key, totals] : operations) {
    result.operations.push_back(
        OperationUsage{std::get<0>(key), std::get<1>(key), std::get<2>(key), std::move(totals)});
  }
  std::stable_sort(result.minutes.begin(), result.minutes.end(),
                   [](const access::UsageBucket& a, const access::UsageBucket& b) {
                     return std::tie(a.minute, a.service, a.operation, a.version, a.status_class) <
                            std::tie(b.minute, b.service, b.operation, b.version, b.status_class);
                   });
  if (result.minutes.size() > max_minutes) {
    // The newest minutes are what someone looking at usage wants first.
    result.minutes.erase(result.minutes.begin(),
                         result.minutes.end() - static_cast<std::ptrdiff_t>(max_minutes));
    result.minutes_truncated = true;
  }
  return result;
}

json consumers_json(const std::vector<ConsumerSummary>& consumers, core::TimePoint since,
                    const std::optional<std::string>& service) {
  json list = json::array();
  for (const ConsumerSummary& c : consumers) {
    json row{{"name", c.name},         {"contact", contact_or_null(c.contact)},
             {"metadata", c.metadata}, {"keys", c.active_keys},
             {"services", c.services}, {"operations", c.operations},
             {"versions", c.versions}};
    add_totals(row, c.totals);
    list.push_back(std::move(row));
  }
  json body{{"since", core::format_rfc3339(since)}};
  if (service) body["service"] = *service;
  body["consumers"] = std::move(list);
  return body;
}

json consumer_usage_json(const ConsumerUsage& usage, core::TimePoint since,
                         const std::optional<std::string>& service) {
  json operations = json::array();
  for (const OperationUsage& op : usage.operations) {
    json row{{"service", op.service}, {"operation", op.operation}, {"version", op.version}};
    add_totals(row, op.totals);
    operations.push_back(std::move(row));
  }
  json minutes = json::array();
  for (const access::UsageBucket& b : usage.minutes) {
    minutes.push_back(
        {{"minute", core::format_rfc3339(core::TimePoint(std::chrono::seconds(b.minute)))},
         {"service", b.service},
         {"operation", b.operation},
         {"version", b.version},
         {"status_class", b.status_class},
         {"count", b.count}});
  }
  json body{{"consumer", usage.consumer},
            {"contact", contact_or_null(usage.contact)},
            {"metadata", usage.metadata},
            {"keys", usage.active_keys},
            {"since", core::format_rfc3339(since)}};
  if (service) body["service"] = *service;
  body["operations"] = std::move(operations);
  body["minutes"] = std::move(minutes);
  body["minutes_truncated"] = usage.minutes_truncated;
  return body;
}

}  // namespace glidepath::admin
