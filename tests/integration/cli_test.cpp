// The glidepath command as a user runs it: real binary, real files, exit codes and output.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "support/process.h"

namespace glidepath::testing {
namespace {

using ::testing::HasSubstr;

ProcessResult glidepath(std::vector<std::string> args) {
  args.insert(args.begin(), glidepath_binary());
  return run_process(args);
}

std::string example(const char* name) {
  return source_dir() + "/examples/" + name;
}

TEST(ValidateCommand, AcceptsTheCommentedExample) {
  ProcessResult r = glidepath({"validate", "-c", example("glidepath.yaml")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("OK"));
  EXPECT_THAT(r.out, HasSubstr("orders:"));
  EXPECT_THAT(r.out, HasSubstr("Canary10Percent5Minutes"));
  EXPECT_THAT(r.out, HasSubstr("users:"));
}

TEST(ValidateCommand, ReportsEveryMistakeWithItsPathAndLine) {
  const std::string file = example("broken.yaml");
  ProcessResult r = glidepath({"validate", "-c", file});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr(file + ":9: services[0].versions[0].upstreams[0]:"));
  EXPECT_THAT(r.out, HasSubstr("services[0].live:"));
  EXPECT_THAT(r.out, HasSubstr("services[0].traffic"));
  EXPECT_THAT(r.out, HasSubstr(file + ":15: services[0].deployment.strategy:"));
  EXPECT_THAT(r.out, HasSubstr("services[0].deployment.alarms[0].datapoints_to_alarm: must be <= "
                               "evaluation_periods (3)"));
  EXPECT_THAT(r.out, HasSubstr("5 errors"));
}

TEST(ValidateCommand, JsonOutputListsTheErrors) {
  ProcessResult r = glidepath({"validate", "-c", example("broken.yaml"), "--json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("\"ok\": false"));
  EXPECT_THAT(r.out, HasSubstr("\"path\": \"services[0].live\""));
}

TEST(ValidateCommand, AMissingFileIsAnErrorNotACrash) {
  ProcessResult r = glidepath({"validate", "-c", "/nonexistent/glidepath.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("/nonexistent/glidepath.yaml"));
}

TEST(PlanCommand, ShowsTheStepsOfAStrategy) {
  ProcessResult r = glidepath({"plan", "Linear25PercentEvery1Minute"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("weight 25%"));
  EXPECT_THAT(r.out, HasSubstr("at +3m"));
  EXPECT_THAT(r.out, HasSubstr("full traffic after 3m"));

  ProcessResult json = glidepath({"plan", "BlueGreen", "--bake", "30s", "--json"});
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_THAT(json.out, HasSubstr("\"keep_previous_warm\": \"10m\""));
  EXPECT_THAT(json.out, HasSubstr("\"pause\": \"30s\""));
}

TEST(PlanCommand, AnUnknownStrategyIsAUsageError) {
  ProcessResult r = glidepath({"plan", "Canary10Percent5Hours"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("valid strategies"));
}

TEST(Cli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(glidepath({}).exit_code, 2);
  EXPECT_EQ(glidepath({"no-such-command"}).exit_code, 2);
  EXPECT_EQ(glidepath({"validate"}).exit_code, 2);
  EXPECT_EQ(glidepath({"--version"}).exit_code, 0);
}

}  // namespace
}  // namespace glidepath::testing
