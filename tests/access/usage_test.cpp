// Per-worker usage tables and their merge into store buckets (SPEC section 5).
#include "access/usage.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "core/clock.h"

namespace glidepath::access {
namespace {

constexpr int64_t kMinuteUs = 60'000'000;
// 2026-01-01T00:00:00Z, a minute boundary.
constexpr int64_t kT0 = 1'767'225'600LL * 1'000'000;

// ---- status classes ----------------------------------------------------------------------

TEST(StatusClass, FirstDigitClampedToOneThroughFive) {
  EXPECT_EQ(status_class(200), 2);
  EXPECT_EQ(status_class(204), 2);
  EXPECT_EQ(status_class(299), 2);
  EXPECT_EQ(status_class(301), 3);
  EXPECT_EQ(status_class(404), 4);
  EXPECT_EQ(status_class(429), 4);
  EXPECT_EQ(status_class(500), 5);
  EXPECT_EQ(status_class(599), 5);
  EXPECT_EQ(status_class(101), 1);
  // Out of range: still a class, never a sixth one.
  EXPECT_EQ(status_class(0), 1);
  EXPECT_EQ(status_class(-1), 1);
  EXPECT_EQ(status_class(600), 5);
  EXPECT_EQ(status_class(999), 5);
}

TEST(StatusClass, Names) {
  EXPECT_EQ(status_class_name(1), "1xx");
  EXPECT_EQ(status_class_name(2), "2xx");
  EXPECT_EQ(status_class_name(3), "3xx");
  EXPECT_EQ(status_class_name(4), "4xx");
  EXPECT_EQ(status_class_name(5), "5xx");
  EXPECT_EQ(status_class_name(status_class(503)), "5xx");
}

// ---- UsageTable --------------------------------------------------------------------------

TEST(UsageTable, InternsOperationsOnce) {
  UsageTable table;
  const uint32_t get = table.intern_operation("GET /orders/{id}");
  const uint32_t post = table.intern_operation("POST /orders");
  EXPECT_NE(get, post);
  EXPECT_EQ(table.intern_operation("GET /orders/{id}"), get);
  EXPECT_EQ(table.intern_operation(std::string("POST /orders")), post);
}

TEST(UsageTable, AggregatesOneBucketWithFirstAndLastSeen) {
  UsageTable table;
  EXPECT_TRUE(table.empty());
  const uint32_t op = table.intern_operation("GET /orders/{id}");
  // Requests finish out of order: first and last seen are the extremes, not the ends.
  table.record(7, 3, op, 200, kT0 + 5'000'000);
  table.record(7, 3, op, 204, kT0 + 1'000'000);
  table.record(7, 3, op, 201, kT0 + 9'000'000);
  table.record(7, 3, op, 200, kT0 + 2'000'000);
  EXPECT_FALSE(table.empty());

  const std::vector<UsageDelta> deltas = table.drain();
  ASSERT_EQ(deltas.size(), 1u);
  const UsageDelta& d = deltas[0];
  EXPECT_EQ(d.consumer_id, 7u);
  EXPECT_EQ(d.series, 3u);
  EXPECT_EQ(d.operation, "GET /orders/{id}");
  EXPECT_EQ(d.status_class, 2);
  EXPECT_EQ(d.minute, kT0 / 1'000'000);
  EXPECT_EQ(d.count, 4u);
  EXPECT_EQ(d.first_seen_us, kT0 + 1'000'000);
  EXPECT_EQ(d.last_seen_us, kT0 + 9'000'000);
}

TEST(UsageTable, KeepsEveryDimensionApart) {
  UsageTable table;
  const uint32_t get = table.intern_operation("GET /a");
  const uint32_t post = table.intern_operation("POST /a");
  table.record(1, 1, get, 200, kT0);
  table.record(2, 1, get, 200, kT0);              // another consumer
  table.record(1, 2, get, 200, kT0);              // another series
  table.record(1, 1, post, 200, kT0);             // another operation
  table.record(1, 1, get, 500, kT0);              // another status class
  table.record(1, 1, get, 200, kT0 + kMinuteUs);  // another minute
  table.record(1, 1, get, 299, kT0 + 1);          // the first bucket again
  const auto deltas = table.drain();
  ASSERT_EQ(deltas.size(), 6u);
  uint64_t total = 0;
  for (const auto& d : deltas)
    total += d.count;
  EXPECT_EQ(total, 7u);
}

TEST(UsageTable, MinuteBoundaries) {
  UsageTable table;
  const uint32_t op = table.intern_operation("GET /");
  table.record(1, 1, op, 200, kT0 - 1);              // 23:59:59.999999
  table.record(1, 1, op, 200, kT0);                  // 00:00:00.000000
  table.record(1, 1, op, 200, kT0 + kMinuteUs - 1);  // 00:00:59.999999
  table.record(1, 1, op, 200, kT0 + kMinuteUs);      // 00:01:00
  const auto deltas = table.drain();
  ASSERT_EQ(deltas.size(), 3u);
  const int64_t minute = kT0 / 1'000'000;
  // Drained in order of minute.
  EXPECT_EQ(deltas[0].minute, minute - 60);
  EXPECT_EQ(deltas[0].count, 1u);
  EXPECT_EQ(deltas[1].minute, minute);
  EXPECT_EQ(deltas[1].count, 2u);
  EXPECT_EQ(deltas[1].first_seen_us, kT0);
  EXPECT_EQ(deltas[1].last_seen_us, kT0 + kMinuteUs - 1);
  EXPECT_EQ(deltas[2].minute, minute + 60);
}

TEST(UsageTable, MinutesBeforeTheEpochFloor) {
  UsageTable table;
  const uint32_t op = table.intern_operation("GET /");
  table.record(1, 1, op, 200, -1);
  table.record(1, 1, op, 200, -kMinuteUs);
  table.record(1, 1, op, 200, -kMinuteUs - 1);
  const auto deltas = table.drain();
  ASSERT_EQ(deltas.size(), 2u);
  EXPECT_EQ(deltas[0].minute, -120);
  EXPECT_EQ(deltas[1].minute, -60);
  EXPECT_EQ(deltas[1].count, 2u);
}

TEST(UsageTable, DrainClearsButKeepsOperations) {
  UsageTable table;
  const uint32_t op = table.intern_operation("GET /a");
  table.record(1, 1, op, 200, kT0);
  EXPECT_EQ(table.drain().size(), 1u);
  EXPECT_TRUE(table.empty());
  EXPECT_TRUE(table.drain().empty());
  // The id is still good after a drain, and counting starts again from zero.
  EXPECT_EQ(table.intern_operation("GET /a"), op);
  table.record(1, 1, op, 200, kT0 + 1);
  const auto again = table.drain();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].count, 1u);
  EXPECT_EQ(again[0].first_seen_us, kT0 + 1);
  EXPECT_EQ(again[0].operation, "GET /a");
}

TEST(UsageTable, UnknownOperationIdsAreNotCounted) {
  UsageTable table;
  table.record(1, 1, 12345, 200, kT0);
  EXPECT_TRUE(table.empty());
}

TEST(UsageTable, DrainOrderIsDeterministic) {
  UsageTable table;
  const uint32_t b = table.intern_operation("GET /b");
  const uint32_t a = table.intern_operation("GET /a");
  table.record(2, 1, a, 200, kT0);
  table.record(1, 2, b, 404, kT0);
  table.record(1, 2, a, 200, kT0);
  table.record(1, 1, b, 200, kT0 + kMinuteUs);
  table.record(1, 1, a, 500, kT0);
  table.record(1, 1, a, 200, kT0);
  const auto deltas = table.drain();
  ASSERT_EQ(deltas.size(), 6u);
  std::vector<std::string> order;
  for (const auto& d : deltas) {
    order.push_back(std::to_string(d.minute - kT0 / 1'000'000) + " " +
                    std::to_string(d.consumer_id) + " " + std::to_string(d.series) + " " +
                    d.operation + " " + std::to_string(d.status_class));
  }
  EXPECT_EQ(order,
            (std::vector<std::string>{"0 1 1 GET /a 2", "0 1 1 GET /a 5", "0 1 2 GET /a 2",
                                      "0 1 2 GET /b 4", "0 2 1 GET /a 2", "60 1 1 GET /b 2"}));
}

TEST(UsageTable, OperationsPastTheCapOverflowPerMethod) {
  UsageTable table;
  for (size_t i = 0; i < UsageTable::kMaxOperations; ++i) {
    EXPECT_EQ(table.intern_operation("GET /p/" + std::to_string(i)), i);
  }
  const uint32_t known = table.intern_operation("GET /p/7");
  EXPECT_EQ(known, 7u);  // what was interned before the cap keeps its id

  const uint32_t get_other = table.intern_operation("GET /new/1");
  EXPECT_EQ(get_other, UsageTable::kMaxOperations);
  EXPECT_EQ(table.intern_operation("GET /new/2"), get_other);
  const uint32_t post_other = table.intern_operation("POST /new");
  EXPECT_NE(post_other, get_other);
  EXPECT_EQ(table.intern_operation("OPTIONS /x"), get_other + 2);
  // An invented method is OTHER, so the overflow names are bounded too.
  const uint32_t other = table.intern_operation("BREW /pot");
  EXPECT_EQ(table.intern_operation("MKCOL /x"), other);
  EXPECT_EQ(table.intern_operation("nospace"), other);

  table.record(1, 1, get_other, 200, kT0);
  table.record(1, 1, table.intern_operation("GET /new/3"), 200, kT0);
  table.record(1, 1, post_other, 201, kT0);
  table.record(1, 1, other, 200, kT0);
  table.record(1, 1, table.intern_operation("OPTIONS /y"), 200, kT0);
  table.record(1, 1, known, 200, kT0);
  std::map<std::string, uint64_t> counts;
  for (const auto& d : table.drain())
    counts[d.operation] += d.count;
  EXPECT_EQ(counts, (std::map<std::string, uint64_t>{{"GET (other)", 2},
                                                     {"POST (other)", 1},
                                                     {"OTHER (other)", 1},
                                                     {"OPTIONS (other)", 1},
                                                     {"GET /p/7", 1}}));
}

// ---- to_buckets --------------------------------------------------------------------------

std::string consumer_name(uint32_t id) {
  switch (id) {
    case 1:
      return "acme";
    case 2:
      return "globex";
    default:
      return "";
  }
}

std::optional<metrics::SeriesName> series_name(metrics::SeriesId id) {
  switch (id) {
    case 0:
      return metrics::SeriesName{"orders", "v1"};
    case 1:
      return metrics::SeriesName{"orders", "v2"};
    default:
      return std::nullopt;
  }
}

UsageDelta delta(uint32_t consumer, metrics::SeriesId series, std::string operation, uint8_t cls,
                 int64_t minute, uint64_t count, int64_t first, int64_t last) {
  return UsageDelta{consumer, series, std::move(operation), cls, minute, count, first, last};
}

TEST(ToBuckets, MergesWorkersAndNamesEverything) {
  const int64_t minute = kT0 / 1'000'000;
  // Two workers' tables: the same bucket under each, with their own ranges.
  UsageTable worker_a;
  UsageTable worker_b;
  worker_b.intern_operation("POST /orders");  // ids differ between workers
  const uint32_t op_a = worker_a.intern_operation("GET /orders/{id}");
  const uint32_t op_b = worker_b.intern_operation("GET /orders/{id}");
  ASSERT_NE(op_a, op_b);
  worker_a.record(1, 0, op_a, 200, kT0 + 3'000'000);
  worker_a.record(1, 0, op_a, 200, kT0 + 4'000'000);
  worker_b.record(1, 0, op_b, 201, kT0 + 1'000'000);
  worker_b.record(1, 0, op_b, 200, kT0 + 59'000'000);
  worker_b.record(2, 1, op_b, 503, kT0 + 2'000'000);

  std::vector<UsageDelta> deltas = worker_a.drain();
  for (auto& d : worker_b.drain())
    deltas.push_back(std::move(d));
  const auto buckets = to_buckets(deltas, consumer_name, series_name);
  ASSERT_EQ(buckets.size(), 2u);

  access::UsageBucket acme;
  acme.consumer = "acme";
  acme.service = "orders";
  acme.operation = "GET /orders/{id}";
  acme.version = "v1";
  acme.status_class = "2xx";
  acme.minute = minute;
  acme.count = 4;
  acme.first_seen = core::from_epoch_micros(kT0 + 1'000'000);
  acme.last_seen = core::from_epoch_micros(kT0 + 59'000'000);
  EXPECT_EQ(buckets[0], acme);

  EXPECT_EQ(buckets[1].consumer, "globex");
  EXPECT_EQ(buckets[1].version, "v2");
  EXPECT_EQ(buckets[1].status_class, "5xx");
  EXPECT_EQ(buckets[1].count, 1u);
  EXPECT_EQ(core::to_epoch_micros(buckets[1].first_seen), kT0 + 2'000'000);
  EXPECT_EQ(buckets[1].first_seen, buckets[1].last_seen);
}

TEST(ToBuckets, DropsUnknownConsumersAndSeries) {
  const std::vector<UsageDelta> deltas = {
      delta(1, 0, "GET /a", 2, 60, 1, 60'000'000, 60'000'000),
      delta(99, 0, "GET /a", 2, 60, 5, 60'000'000, 60'000'000),  // consumer unknown
      delta(1, 42, "GET /a", 2, 60, 7, 60'000'000, 60'000'000),  // series unknown
  };
  const auto buckets = to_buckets(deltas, consumer_name, series_name);
  ASSERT_EQ(buckets.size(), 1u);
  EXPECT_EQ(buckets[0].count, 1u);
}

TEST(ToBuckets, NamesEachIdOnce) {
  int consumer_calls = 0;
  int series_calls = 0;
  std::vector<UsageDelta> deltas;
  for (int i = 0; i < 10; ++i) {
    deltas.push_back(delta(1, 0, "GET /" + std::to_string(i), 2, 0, 1, 0, 0));
    deltas.push_back(delta(99, 42, "GET /", 2, 0, 1, 0, 0));
  }
  const auto buckets = to_buckets(
      deltas,
      [&](uint32_t id) {
        ++consumer_calls;
        return consumer_name(id);
      },
      [&](metrics::SeriesId id) {
        ++series_calls;
        return series_name(id);
      });
  EXPECT_EQ(buckets.size(), 10u);
  EXPECT_EQ(consumer_calls, 2);
  EXPECT_EQ(series_calls, 2);
}

TEST(ToBuckets, OrderedLikeTheStore) {
  // By minute, then consumer, service, operation, version, status class.
  const std::vector<UsageDelta> deltas = {
      delta(2, 0, "GET /a", 2, 120, 1, 0, 0), delta(1, 1, "GET /b", 2, 60, 1, 0, 0),
      delta(1, 0, "GET /b", 4, 60, 1, 0, 0),  delta(1, 0, "GET /b", 2, 60, 1, 0, 0),
      delta(1, 1, "GET /a", 2, 60, 1, 0, 0),  delta(2, 0, "GET /a", 2, 60, 1, 0, 0),
  };
  const auto buckets = to_buckets(deltas, consumer_name, series_name);
  std::vector<std::string> order;
  for (const auto& b : buckets) {
    order.push_back(std::to_string(b.minute) + " " + b.consumer + " " + b.operation + " " +
                    b.version + " " + b.status_class);
  }
  EXPECT_EQ(order,
            (std::vector<std::string>{"60 acme GET /a v2 2xx", "60 acme GET /b v1 2xx",
                                      "60 acme GET /b v1 4xx", "60 acme GET /b v2 2xx",
                                      "60 globex GET /a v1 2xx", "120 globex GET /a v1 2xx"}));
}

TEST(ToBuckets, NothingInNothingOut) {
  EXPECT_TRUE(to_buckets({}, consumer_name, series_name).empty());
}

}  // namespace
}  // namespace glidepath::access
