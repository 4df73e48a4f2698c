#include "core/text.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace glidepath::core {
namespace {

TEST(EditDistance, CountsInsertionsDeletionsAndSubstitutions) {
  const struct {
    std::string_view a;
    std::string_view b;
    size_t expected;
  } cases[] = {
      {"", "", 0},
      {"a", "", 1},
      {"", "abc", 3},
      {"abc", "abc", 0},
      {"abc", "abd", 1},   // substitute
      {"abc", "abxc", 1},  // insert
      {"abc", "ac", 1},    // delete
      {"abc", "acb", 2},   // a transposition is two edits in Levenshtein
      {"Abc", "abc", 1},   // case-sensitive
      {"kitten", "sitting", 3},
      {"flaw", "lawn", 2},
      {"canary", "canry", 1},
      {"latency_p99", "latency_p90", 1},
      {"abcdef", "uvwxyz", 6},
      {"intention", "execution", 5},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.a) + " / " + std::string(c.b));
    EXPECT_EQ(edit_distance(c.a, c.b), c.expected);
    EXPECT_EQ(edit_distance(c.b, c.a), c.expected);  // symmetric
  }
}

TEST(ClosestMatch, SuggestsALikelyTypo) {
  const std::string_view keys[] = {"name",
                                   "versions",
                                   "live",
                                   "traffic",
                                   "match",
                                   "api_keys",
                                   "stickiness",
                                   "preview",
                                   "deployment",
                                   "evaluation_periods",
                                   "datapoints_to_alarm"};
  const struct {
    std::string_view word;
    std::optional<std::string> expected;
  } cases[] = {
      {"versoins", "versions"},  // 2 edits, limit 8/3 = 2
      {"lve", "live"},           // limit is at least 1
      {"live", "live"},          // an exact match is its own suggestion
      {"trafic", "traffic"},
      {"stikiness", "stickiness"},
      {"evaluation_period", "evaluation_periods"},
      {"datapoint_to_alarms", "datapoints_to_alarm"},  // 2 edits, within the cap of 3
      {"strategy", std::nullopt},                      // unrelated
      {"upstreams", std::nullopt},
      {"x", std::nullopt},
      {"", std::nullopt},
      {"verzzzns", std::nullopt},      // 3 edits where only 2 are allowed
      {"eval_periods", std::nullopt},  // 6 edits: beyond the cap of 3 for long words
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string("word: '") + std::string(c.word) + "'");
    EXPECT_EQ(closest_match(c.word, keys), c.expected);
  }
}

TEST(ClosestMatch, PrefersTheNearestAndTheFirstOnATie) {
  const std::string_view candidates[] = {"canary", "canary2", "linear"};
  EXPECT_EQ(closest_match("canarx", candidates), "canary");  // 1 edit beats 2
  const std::string_view tied[] = {"abcd", "abce"};
  EXPECT_EQ(closest_match("abcf", tied), "abcd");
  EXPECT_EQ(closest_match("anything", std::span<const std::string_view>{}), std::nullopt);
}

TEST(NearestName, SuggestsTheCommandOrServiceATypoWasMeantFor) {
  const std::vector<std::string> commands = {"validate", "plan",  "serve", "deploy", "status",
                                             "promote",  "abort", "pause", "resume", "keys"};
  EXPECT_EQ(nearest_name(commands, "deplyo"), "deploy");  // a transposition: two edits
  EXPECT_EQ(nearest_name(commands, "stauts"), "status");
  EXPECT_EQ(nearest_name(commands, "promot"), "promote");
  const std::vector<std::string> services = {"payments", "orders", "users"};
  EXPECT_EQ(nearest_name(services, "order"), "orders");
  EXPECT_EQ(nearest_name(services, "user"), "users");
}

TEST(NearestName, SaysNothingWhenNothingIsClose) {
  const std::vector<std::string> services = {"payments", "orders", "users"};
  EXPECT_EQ(nearest_name(services, "inventory"), std::nullopt);
  EXPECT_EQ(nearest_name(services, "x"), std::nullopt);
  EXPECT_EQ(nearest_name({}, "orders"), std::nullopt);
  // The name itself is no suggestion (a list read just after it was added, say).
  const std::vector<std::string> one = {"orders"};
  EXPECT_EQ(nearest_name(one, "orders"), std::nullopt);
  const std::vector<std::string> two = {"orders", "orders2"};
  EXPECT_EQ(nearest_name(two, "orders"), "orders2");
}

}  // namespace
}  // namespace glidepath::core
