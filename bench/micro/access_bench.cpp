// What API keys and usage recording add to one request (issue 5's budget: under 5% of a
// request's CPU): the pieces the gateway runs on the request path, alone and together,
// with the same inputs as `bench/proxy`'s glidepath+keys target (one key with a rate and
// a quota, 1,000 other keys in the table, an operation matched against a spec).
//
//   build/bench/micro/access_bench
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>
#include <vector>

#include "access/key_material.h"
#include "access/key_table.h"
#include "access/operations.h"
#include "access/request_access.h"
#include "access/usage.h"
#include "core/clock.h"

namespace glidepath::access {
namespace {

constexpr std::string_view kSpec = R"(openapi: 3.0.3
info: {title: orders, version: "1"}
paths:
  /orders: {get: {responses: {"200": {description: ok}}}}
  /orders/{id}: {get: {responses: {"200": {description: ok}}}}
  /orders/{id}/items: {get: {responses: {"200": {description: ok}}}}
  /orders/{id}/items/{item}: {get: {responses: {"200": {description: ok}}}}
  /customers/{id}: {get: {responses: {"200": {description: ok}}}}
)";

struct Fixture {
  std::string key = generate_key();
  KeyRegistry registry;
  std::shared_ptr<const KeyTable> table;
  http::RequestHead head;
  std::shared_ptr<const OperationMatcher> matcher;

  Fixture() {
    std::vector<access::ApiKeyRecord> records;
    for (int i = 0; i < 1001; ++i) {
      const std::string k = i == 0 ? key : generate_key();
      access::ApiKeyRecord r;
      r.id = "key_" + std::to_string(i);
      r.consumer = "consumer-" + std::to_string(i);
      r.key_hash = key_hash_hex(k);
      r.key_prefix = display_prefix(k);
      if (i == 0) {
        r.rate = "1000000/s";  // never refuses in the loop: the admitted path is measured
        r.quota = "1000000000/day";
      }
      records.push_back(std::move(r));
    }
    auto built = registry.build(
        records, [](std::string_view, int64_t) -> core::Result<uint64_t> { return 0; },
        core::SystemClock().now());
    if (!built) throw std::runtime_error(built.error().message);
    table = *built;
    head.method = "GET";
    head.target = "/orders/12345";
    head.host = "api.example.com";
    head.headers = {
        {"Host", "api.example.com"}, {"User-Agent", "wrk"}, {"Accept", "*/*"}, {"X-Api-Key", key}};
    auto parsed = OperationMatcher::from_text(kSpec);
    if (!parsed) throw std::runtime_error(parsed.error().message);
    matcher = *parsed;
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

int64_t steady_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void BM_KeyDigest(benchmark::State& state) {
  const std::string key = fixture().key;
  for (auto _ : state)
    benchmark::DoNotOptimize(key_digest(key));
}
BENCHMARK(BM_KeyDigest);

void BM_Identify(benchmark::State& state) {
  Fixture& f = fixture();
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        identify(config::ApiKeyMode::required, config::ApiKeySource::header, *f.table, f.head));
  }
}
BENCHMARK(BM_Identify);

void BM_AdmitRateAndQuota(benchmark::State& state) {
  Fixture& f = fixture();
  const KeyEntry* key =
      identify(config::ApiKeyMode::required, config::ApiKeySource::header, *f.table, f.head).key;
  const int64_t now_s = core::epoch_second(core::SystemClock().now());
  int64_t now_us = steady_us();
  for (auto _ : state)
    benchmark::DoNotOptimize(admit(*key, now_us += 2, now_s));
}
BENCHMARK(BM_AdmitRateAndQuota);

void BM_OperationFromSpec(benchmark::State& state) {
  Fixture& f = fixture();
  std::string scratch;
  std::string out;
  UsageTable usage;
  for (auto _ : state) {
    operation_of("GET", "/orders/12345/items/7", f.matcher.get(), scratch, out);
    benchmark::DoNotOptimize(usage.intern_operation(out));
  }
}
BENCHMARK(BM_OperationFromSpec);

void BM_OperationFolded(benchmark::State& state) {
  std::string scratch;
  std::string out;
  UsageTable usage;
  for (auto _ : state) {
    operation_of("GET", "/orders/12345/items/7?expand=1", nullptr, scratch, out);
    benchmark::DoNotOptimize(usage.intern_operation(out));
  }
}
BENCHMARK(BM_OperationFolded);

void BM_UsageRecord(benchmark::State& state) {
  UsageTable usage;
  const uint32_t op = usage.intern_operation("GET /orders/{id}");
  int64_t now = core::to_epoch_micros(core::SystemClock().now());
  for (auto _ : state) {
    usage.record(1, 3, op, 200, now += 50);
    if (state.iterations() % 1'000'000 == 0) benchmark::DoNotOptimize(usage.drain());
  }
}
BENCHMARK(BM_UsageRecord);

// Everything the gateway adds per request with api_keys: required and a spec: identify,
// admit, name the operation, record the usage (plus the wall-clock read the quota and
// the usage minute need).
void BM_WholeRequestPath(benchmark::State& state) {
  Fixture& f = fixture();
  std::string scratch;
  std::string out;
  UsageTable usage;
  int64_t now_us = steady_us();
  for (auto _ : state) {
    const Identity id =
        identify(config::ApiKeyMode::required, config::ApiKeySource::header, *f.table, f.head);
    const int64_t wall_us = core::to_epoch_micros(core::SystemClock().now());
    benchmark::DoNotOptimize(admit(*id.key, now_us += 2, wall_us / 1'000'000));
    operation_of(f.head.method, f.head.target, f.matcher.get(), scratch, out);
    const uint32_t op = usage.intern_operation(out);
    usage.record(id.key->consumer_id, 3, op, 200, wall_us);
  }
}
BENCHMARK(BM_WholeRequestPath);

}  // namespace
}  // namespace glidepath::access

BENCHMARK_MAIN();
