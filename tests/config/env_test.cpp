#include <gtest/gtest.h>

#include "config/loader.h"
#include "test_support.h"

namespace glidepath::config {
namespace {

using testing::env_of;

struct ExpandCase {
  std::string input;
  std::string expected;
};

class ExpandEnvTest : public ::testing::TestWithParam<ExpandCase> {};

TEST_P(ExpandEnvTest, Expands) {
  const auto env =
      env_of({{"TOKEN", "s3cret"}, {"EMPTY", ""}, {"PORT", "9001"}, {"DOLLAR", "${TOKEN}"}});
  const auto result = expand_env(GetParam().input, env);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(*result, GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ExpandEnvTest,
    ::testing::Values(ExpandCase{"plain text", "plain text"}, ExpandCase{"", ""},
                      ExpandCase{"${TOKEN}", "s3cret"},
                      ExpandCase{"Bearer ${TOKEN}!", "Bearer s3cret!"},
                      ExpandCase{"127.0.0.1:${PORT}", "127.0.0.1:9001"},
                      ExpandCase{"${TOKEN}${PORT}", "s3cret9001"},
                      // Unset without a default expands to nothing.
                      ExpandCase{"${MISSING}", ""}, ExpandCase{"a${MISSING}b", "ab"},
                      ExpandCase{"${MISSING:-fallback}", "fallback"},
                      ExpandCase{"${MISSING:-}", ""},
                      ExpandCase{"${MISSING:-with spaces: and colons}", "with spaces: and colons"},
                      ExpandCase{"${TOKEN:-unused}", "s3cret"},
                      // As in the shell, :- also covers a variable set to "".
                      ExpandCase{"${EMPTY:-fallback}", "fallback"}, ExpandCase{"${EMPTY}", ""},
                      // A value is not expanded again.
                      ExpandCase{"${DOLLAR}", "${TOKEN}"},
                      // Literal dollars.
                      ExpandCase{"$$5 and $5", "$$5 and $5"}, ExpandCase{"cost: $", "cost: $"},
                      ExpandCase{"$TOKEN", "$TOKEN"}, ExpandCase{"$${TOKEN}", "${TOKEN}"},
                      ExpandCase{"{TOKEN}", "{TOKEN}"}));

struct MalformedCase {
  std::string input;
  std::string message_part;
};

class ExpandEnvErrorTest : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(ExpandEnvErrorTest, Fails) {
  const auto result = expand_env(GetParam().input, env_of({{"A", "x"}}));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find(GetParam().message_part), std::string::npos)
      << result.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ExpandEnvErrorTest,
    ::testing::Values(MalformedCase{"${A", "unterminated '${'"},
                      MalformedCase{"prefix ${", "unterminated '${'"},
                      MalformedCase{"${}", "invalid variable reference '${}'"},
                      MalformedCase{"${1A}", "invalid variable reference '${1A}'"},
                      MalformedCase{"${A B}", "invalid variable reference"},
                      MalformedCase{"${A-default}", "invalid variable reference '${A-default}'"},
                      MalformedCase{"${A:=x}", "invalid variable reference"},
                      MalformedCase{"${A:-${B}}", "nested '${'"}));

TEST(ExpandEnv, NullLookupMeansNothingIsSet) {
  const auto result = expand_env("[${A:-d}${B}]", EnvLookup{});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, "[d]");
}

TEST(ExpandEnv, ProcessEnvReadsTheEnvironment) {
  ASSERT_EQ(setenv("GLIDEPATH_CONFIG_TEST_VAR", "from-env", 1), 0);
  const auto result = expand_env("${GLIDEPATH_CONFIG_TEST_VAR}", process_env());
  unsetenv("GLIDEPATH_CONFIG_TEST_VAR");
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, "from-env");
  EXPECT_FALSE(process_env()("GLIDEPATH_CONFIG_TEST_VAR").has_value());
}

}  // namespace
}  // namespace glidepath::config
