// Typos at the command line, through the real binary: an unknown command is named with
// the command it likely meant (exit 2), and `status` on a mistyped service suggests the
// nearest service the admin API lists.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "deployment_harness.h"
#include "support/process.h"

namespace glidepath::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

ProcessResult glidepath(std::vector<std::string> args) {
  args.insert(args.begin(), glidepath_binary());
  return run_process(args, 60s);
}

TEST(CliSuggestions, AMistypedCommandIsNamedWithTheNearestOne) {
  const ProcessResult r = glidepath({"deplyo", "orders", "--version", "v2"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("unknown command 'deplyo'; did you mean 'deploy'?"));
  EXPECT_THAT(r.err, Not(HasSubstr("A subcommand is required")));
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(glidepath({"stauts"}).err, HasSubstr("did you mean 'status'?"));
}

TEST(CliSuggestions, ACommandLikeNoOtherIsNamedWithoutAGuess) {
  const ProcessResult r = glidepath({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown command 'frobnicate'"));
  EXPECT_THAT(r.err, Not(HasSubstr("did you mean")));
}

TEST(CliSuggestions, KnownCommandsAndOptionsAreUntouched) {
  EXPECT_EQ(glidepath({"--version"}).exit_code, 0);
  EXPECT_EQ(glidepath({"deploy", "--help"}).exit_code, 0);
  const ProcessResult plan = glidepath({"plan", "AllAtOnce"});
  EXPECT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_THAT(plan.err, Not(HasSubstr("unknown command")));
  EXPECT_EQ(glidepath({}).exit_code, 2);
}

TEST(CliSuggestions, StatusOfAMistypedServiceSuggestsTheNearestService) {
  SampleBackend v1("v1");
  ServeProcess serve(one_service(v1.address()) +
                     one_service(v1.address(), "", "payments", "/payments"));
  const ProcessResult r = glidepath({"status", "order", "--admin", serve.admin_url()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("service 'order'"));
  EXPECT_THAT(r.err, HasSubstr("(HTTP 404); did you mean 'orders'?"));

  const ProcessResult far = glidepath({"status", "inventory", "--admin", serve.admin_url()});
  EXPECT_EQ(far.exit_code, 1) << far.out << far.err;
  EXPECT_THAT(far.err, HasSubstr("(HTTP 404)"));
  EXPECT_THAT(far.err, Not(HasSubstr("did you mean")));

  const ProcessResult right = glidepath({"status", "orders", "--admin", serve.admin_url()});
  EXPECT_EQ(right.exit_code, 0) << right.err;
}

}  // namespace
}  // namespace glidepath::testing
