// Who calls what (SPEC sections 1 and 5): the answers of GET /v1/consumers and
// GET /v1/consumers/{name}/usage, built from the stored API keys and usage buckets. Pure:
// the admin API reads the store and the clock, these only count — so they are tested
// with hand-made records.
//
// Counts and first/last seen cover the buckets passed in, i.e. the report's window: the
// first_seen of a report is the first request inside `since`, not the consumer's first
// request ever.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "access/consumer_rules.h"
#include "core/clock.h"
#include "core/result.h"
#include "store/store.h"

namespace glidepath::admin {

// The report's window: access::report_window_start (access/consumer_rules.h).
using access::kDefaultReportWindow;
using access::kMaxReportWindow;
using access::report_window_start;

// Requests of some buckets added up.
struct UsageTotals {
  uint64_t requests = 0;
  uint64_t errors = 0;  // 4xx and 5xx
  // "2xx", "3xx", "4xx" and "5xx" always (zero when none), other classes when seen.
  std::map<std::string, uint64_t> by_class{{"2xx", 0}, {"3xx", 0}, {"4xx", 0}, {"5xx", 0}};
  std::optional<core::TimePoint> first_seen;
  std::optional<core::TimePoint> last_seen;
  void add(const access::UsageBucket& bucket);
};

// One row of GET /v1/consumers.
struct ConsumerSummary {
  std::string name;
  // From the consumer's newest active key (its newest revoked one when all are revoked);
  // empty for a consumer without keys ("anonymous", or keys deleted from the store), which
  // the JSON shows as null.
  std::string contact;
  std::map<std::string, std::string> metadata;
  size_t active_keys = 0;
  std::vector<std::string> services;    // distinct, sorted
  std::vector<std::string> operations;  // distinct, sorted ("GET /orders/{id}")
  std::vector<std::string> versions;    // distinct, sorted
  UsageTotals totals;
};

// Every consumer with usage among `usage`, and — when `include_idle` — every consumer
// that has keys but no usage (all counts zero, no first/last seen). Sorted by name.
std::vector<ConsumerSummary> summarize_consumers(std::span<const access::ApiKeyRecord> keys,
                                                 std::span<const access::UsageBucket> usage,
                                                 bool include_idle);

// One operation row of GET /v1/consumers/{name}/usage.
struct OperationUsage {
  std::string service;
  std::string operation;
  std::string version;
  UsageTotals totals;
};

struct ConsumerUsage {
  std::string consumer;
  std::string contact;  // as in ConsumerSummary
  std::map<std::string, std::string> metadata;
  size_t active_keys = 0;
  std::vector<OperationUsage> operations;  // by service, operation, version
  // The consumer's buckets by minute (then service, operation, version, status class): the
  // newest `max_minutes` of them when there are more, with minutes_truncated set.
  std::vector<access::UsageBucket> minutes;
  bool minutes_truncated = false;
};

// `consumer`'s usage among `usage` (other consumers' buckets are ignored); nullopt when
// the consumer has neither keys nor usage.
std::optional<ConsumerUsage> consumer_usage(std::string_view consumer,
                                            std::span<const access::ApiKeyRecord> keys,
                                            std::span<const access::UsageBucket> usage,
                                            size_t max_minutes);

// {"since", ["service"], "consumers": [{name, contact, metadata, keys, services,
//  operations, versions, requests, errors, by_class, first_seen, last_seen}]}; times in
// RFC 3339, first/last seen null when there was no request.
nlohmann::json consumers_json(const std::vector<ConsumerSummary>& consumers, core::TimePoint since,
                              const std::optional<std::string>& service);

// {"consumer", "contact", "metadata", "keys", "since", ["service"], "operations": [{service,
//  operation, version, requests, errors, by_class, first_seen, last_seen}], "minutes":
//  [{minute, service, operation, version, status_class, count}], "minutes_truncated"}.
nlohmann::json consumer_usage_json(const ConsumerUsage& usage, core::TimePoint since,
                                   const std::optional<std::string>& service);

}  // namespace glidepath::admin
