// The YAML guard: nesting and event limits as each caller sets them, one document only,
// and no input (hostile or garbage) that escapes as an exception.
#include "yaml/guard.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace glidepath::yaml {
namespace {

constexpr const char* kNoProgress =
    "YAML syntax error: the parser makes no progress here (malformed document)";

GuardLimits depth(int max_depth) {
  return GuardLimits{.max_depth = max_depth};
}

std::string flow_lists(int levels) {
  return std::string(static_cast<size_t>(levels), '[') +
         std::string(static_cast<size_t>(levels), ']');
}

// `levels` mappings inside each other, one a line: "a:\n  a:\n    a: x\n".
std::string block_maps(int levels) {
  std::string text;
  for (int i = 0; i < levels; ++i) {
    text += std::string(static_cast<size_t>(2 * i), ' ') + "a:";
    text += i + 1 == levels ? " x\n" : "\n";
  }
  return text;
}

std::string error_of(const Guarded& guarded) {
  return guarded.error ? guarded.error->message : std::string();
}

TEST(YamlGuard, ADocumentAtTheNestingLimitLoads) {
  const Guarded flow = load_guarded(flow_lists(10), depth(10));
  ASSERT_FALSE(flow.error) << error_of(flow);
  EXPECT_TRUE(flow.root.IsSequence());
  const Guarded block = load_guarded(block_maps(10), depth(10));
  ASSERT_FALSE(block.error) << error_of(block);
  EXPECT_TRUE(block.root.IsMap());
}

TEST(YamlGuard, OneLevelDeeperIsRefusedWithTheLimitAndTheLine) {
  const Guarded flow = load_guarded(flow_lists(11), depth(10));
  ASSERT_TRUE(flow.error);
  EXPECT_EQ(flow.error->message, "nested more than 10 levels deep");
  EXPECT_EQ(flow.error->line, 1);
  const Guarded block = load_guarded(block_maps(11), depth(10));
  ASSERT_TRUE(block.error);
  EXPECT_EQ(block.error->message, "nested more than 10 levels deep");
  EXPECT_EQ(block.error->line, 11);
  // Far past yaml-cpp's own guard (500 levels), the limit still speaks.
  const Guarded deep = load_guarded(flow_lists(100'000), depth(256));
  ASSERT_TRUE(deep.error);
  EXPECT_EQ(deep.error->message, "nested more than 256 levels deep");
}

TEST(YamlGuard, TheTextEstimateRefusesBeforeParsingAndOverEstimates) {
  const GuardLimits limits{.max_depth = 10, .estimate_from_text = true};
  // A top-level line counts two levels before its first bracket.
  EXPECT_FALSE(load_guarded(flow_lists(8), limits).error);
  const Guarded flow = load_guarded(flow_lists(9), limits);
  ASSERT_TRUE(flow.error);
  EXPECT_EQ(flow.error->message, "nested more than 10 levels deep");
  EXPECT_EQ(flow.error->line, 1);
  // Two levels per indentation: five mappings are estimated at ten.
  EXPECT_FALSE(load_guarded(block_maps(5), limits).error);
  const Guarded block = load_guarded(block_maps(6), limits);
  ASSERT_TRUE(block.error);
  EXPECT_EQ(block.error->message, "nested more than 10 levels deep");
  EXPECT_EQ(block.error->line, 6);
  // Brackets in quotes, comments and block scalars are text, not nesting.
  const std::string many(50, '[');
  const Guarded text = load_guarded(
      "a: '" + many + "'\nb: \"" + many + "\"  # " + many + "\nc: |\n  " + many + "\n", limits);
  ASSERT_FALSE(text.error) << error_of(text);
  EXPECT_EQ(text.root["a"].Scalar(), many);
}

TEST(YamlGuard, TheEventBudgetIsEnforced) {
  std::string list = "[";
  for (int i = 0; i < 100; ++i)
    list += "1,";
  list += "1]";
  // About a hundred events in some two hundred bytes: within four per byte, not within
  // the fixed allowance alone.
  EXPECT_FALSE(load_guarded(list, depth(10)).error);
  const Guarded tight = load_guarded(list, GuardLimits{.max_depth = 10, .events_per_byte = 0});
  ASSERT_TRUE(tight.error);
  EXPECT_EQ(tight.error->message, kNoProgress);
  EXPECT_EQ(tight.error->line, 1);
}

// yaml-cpp 0.7 parses this into an endless stream of empty documents (found by fuzz_config).
TEST(YamlGuard, AnEndlessDocumentStreamIsCutShort) {
  const Guarded guarded = load_guarded(",- services\n-'mname[*'m", depth(64));
  ASSERT_TRUE(guarded.error);
  EXPECT_EQ(guarded.error->message, kNoProgress);
}

// Each level names the previous one ten times: 10^9 leaves if aliases were expanded. They
// are one event each, so even a budget of one event per byte holds, and the tree shares
// the anchored nodes.
TEST(YamlGuard, AliasesCannotBlowTheBudget) {
  std::string bomb = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int level = 1; level <= 9; ++level) {
    const std::string previous = "*l" + std::to_string(level - 1);
    bomb += "l" + std::to_string(level) + ": &l" + std::to_string(level) + " [";
    for (int i = 0; i < 10; ++i)
      bomb += (i == 0 ? "" : ", ") + previous;
    bomb += "]\n";
  }
  const Guarded guarded = load_guarded(bomb, GuardLimits{.max_depth = 8, .events_per_byte = 1});
  ASSERT_FALSE(guarded.error) << error_of(guarded);
  ASSERT_EQ(guarded.root["l9"].size(), 10u);
  EXPECT_TRUE(guarded.root["l9"][0].is(guarded.root["l8"]));
}

TEST(YamlGuard, OnlyOneDocumentButTrailingEmptyOnesAreFine) {
  const Guarded two = load_guarded("a: 1\n---\nb: 2\n", depth(10));
  ASSERT_TRUE(two.error);
  EXPECT_EQ(two.error->message, "only one YAML document is allowed (a second one starts here)");
  EXPECT_EQ(two.error->line, 3);
  const Guarded trailing = load_guarded("---\na: 1\n...\n---\n...\n", depth(10));
  ASSERT_FALSE(trailing.error) << error_of(trailing);
  EXPECT_EQ(trailing.root["a"].Scalar(), "1");
  const Guarded empty = load_guarded("", depth(10));
  ASSERT_FALSE(empty.error);
  EXPECT_TRUE(!empty.root.IsDefined() || empty.root.IsNull());
}

TEST(YamlGuard, MalformedInputIsAnErrorWithItsLine) {
  for (const std::string text :
       {"a: [1, 2\n", "a: b: c\n", "{a: 1\n", "a:\n  b: 1\n c: 2\n", "a: *nowhere\n"}) {
    Guarded guarded;
    ASSERT_NO_THROW(guarded = load_guarded(text, depth(64))) << text;
    ASSERT_TRUE(guarded.error) << text;
    EXPECT_EQ(guarded.error->message.rfind("YAML syntax error", 0), 0u) << guarded.error->message;
    EXPECT_GT(guarded.error->line, 0) << text;
  }
}

TEST(YamlGuard, GarbageNeverEscapesAsAnException) {
  std::mt19937 random(20261207);
  std::string alphabet = "[]{}:-?,&*!|>'\"#%@` \t\n\r\\ax01.~=<";
  alphabet += '\0';
  alphabet += '\xff';
  for (int round = 0; round < 2000; ++round) {
    std::string text(random() % 80, ' ');
    for (char& c : text)
      c = alphabet[random() % alphabet.size()];
    for (const GuardLimits& limits :
         {depth(4), GuardLimits{.max_depth = 8, .estimate_from_text = true}}) {
      EXPECT_NO_THROW(static_cast<void>(load_guarded(text, limits))) << text;
    }
  }
}

}  // namespace
}  // namespace glidepath::yaml
