#include "tools/sample_backend/request_log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace glidepath::sample_backend {
namespace {

TEST(RequestLog, KeepsTheLastThousandRequestsAcrossWorkersInArrivalOrder) {
  RequestLog first;
  RequestLog second;
  std::uint64_t sequence = 0;
  for (int i = 0; i < 1500; ++i) {
    RequestLog& log = i % 3 == 0 ? second : first;
    log.record(sequence++, "GET", "/r/" + std::to_string(i));
  }
  const RequestLog* logs[] = {&first, &second};
  const std::string text = recent_requests_text(logs);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1000);
  EXPECT_EQ(text.substr(0, text.find('\n')), "GET /r/500");
  EXPECT_TRUE(text.ends_with("GET /r/1498\nGET /r/1499\n"));
}

TEST(RequestLog, CountsPerPrefixAndStatusClass) {
  RequestLog log;
  log.record(0, "GET", "/orders/1");
  log.record(1, "POST", "/orders");
  log.record(2, "GET", "/users?id=1");
  log.record(3, "GET", "/");
  log.count_status(200);
  log.count_status(204);
  log.count_status(503);
  log.count_status(101);
  log.count_status(999);  // counted in the total only
  const RequestLog* logs[] = {&log};
  const auto counts = nlohmann::json::parse(request_counts_json(logs));
  EXPECT_EQ(counts["total"], 4);
  EXPECT_EQ(counts["prefixes"]["/orders"], 2);
  EXPECT_EQ(counts["prefixes"]["/users"], 1);
  EXPECT_EQ(counts["prefixes"]["/"], 1);
  const StatusCounts status = merged_status_counts(logs);
  EXPECT_EQ(status.total, 5U);
  EXPECT_EQ(status.by_class[0], 1U);
  EXPECT_EQ(status.by_class[1], 2U);
  EXPECT_EQ(status.by_class[4], 1U);
}

TEST(RequestLog, StaysBoundedWhateverClientsSend) {
  RequestLog one;
  const std::string long_target = "/" + std::string(100'000, 'x');
  one.record(0, "GET", long_target);
  EXPECT_EQ(one.recent().front().line.size(), 4 + RequestLog::kMaxLineBytes);
  EXPECT_EQ(one.prefix_counts().begin()->first.size(), RequestLog::kMaxPrefixBytes);

  RequestLog log;
  for (size_t i = 0; i < RequestLog::kMaxPrefixes + 10; ++i) {
    log.record(i + 1, "GET", "/p" + std::to_string(i));
  }
  const auto prefixes = log.prefix_counts();
  EXPECT_EQ(prefixes.size(), RequestLog::kMaxPrefixes + 1);
  EXPECT_EQ(prefixes.at(std::string(RequestLog::kOtherPrefixes)), 10U);
}

}  // namespace
}  // namespace glidepath::sample_backend
