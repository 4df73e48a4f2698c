// The deployment commands as a user runs them (SPEC section 1): `glidepath deploy`,
// `status`, `promote|abort|pause|resume` against a running `glidepath serve`, with the
// exit codes scripts rely on: 0 ok, 1 the operation failed, 2 usage or input error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "deployment_harness.h"
#include "support/process.h"

namespace glidepath::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

ProcessResult glidepath(std::vector<std::string> args, const std::vector<std::string>& env = {},
                        std::chrono::milliseconds timeout = 60s) {
  args.insert(args.begin(), glidepath_binary());
  return run_process(args, timeout, env);
}

std::string steps_json(const std::string& pause) {
  return R"([{"weight":20},{"pause":)" + pause + R"(},{"weight":100}])";
}

TEST(DeploymentCli, DeployWaitFollowsToSuccessAndExitsZero) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  ServeProcess serve(one_service(v1.address()));
  const ProcessResult r =
      glidepath({"deploy", "orders", "--version", "v2", "--upstream", v2.address(), "--steps",
                 steps_json(R"("1s")"), "--wait", "--admin", serve.admin_url()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("succeeded: v2 is live on orders"));
  // Not a terminal: one plain timestamped line per event, no colour, no redraws.
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex(R"(\n\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z  weight   0% → 20%)")))
      << r.out;
  EXPECT_THAT(r.out, Not(HasSubstr("\x1b[")));
  EXPECT_EQ(r.err, "");
}

TEST(DeploymentCli, DeployWaitExitsOneWhenTheDeploymentRollsBack) {
  SampleBackend v1("v1");
  SampleBackend v2("v2", {"--error-rate", "1.0"});
  ServeProcess serve(one_service(v1.address()));
  SteadyLoad load(serve.port());
  const ProcessResult r = glidepath({"deploy", "orders", "--version", "v2", "--upstream",
                                     v2.address(), "--steps", steps_json(R"("60s")"), "--wait"},
                                    {"GLIDEPATH_ADMIN=" + serve.admin_url()});
  load.stop();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("rolled back"));
  EXPECT_THAT(r.out, HasSubstr("canary-errors"));
}

TEST(DeploymentCli, DeployWaitJsonPrintsTheFinalObject) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  ServeProcess serve(one_service(v1.address()));
  const ProcessResult r =
      glidepath({"deploy", "orders", "--version", "v2", "--upstream", v2.address(), "--strategy",
                 "AllAtOnce", "--wait", "--json", "--admin", serve.admin_url()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const Json d = Json::parse(r.out);
  EXPECT_EQ(d["state"], "succeeded");
  EXPECT_EQ(d["strategy"], "AllAtOnce");
}

TEST(DeploymentCli, ManualControlAndStatus) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  ServeProcess serve(one_service(v1.address()));
  const std::vector<std::string> env = {"GLIDEPATH_ADMIN=" + serve.admin_url()};

  ProcessResult r = glidepath({"deploy", "orders", "--version", "v2", "--upstream", v2.address(),
                               "--steps", steps_json("{}"), "--json"},
                              env);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string id = Json::parse(r.out)["id"];
  wait_for(
      serve, id, [](const Json& d) { return d["canary_weight"] == 20; }, 10s, "20%");

  r = glidepath({"status"}, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("SERVICE"));
  EXPECT_THAT(r.out, HasSubstr("v1 ████████░░ 80% | v2 20%"));
  EXPECT_THAT(r.out, HasSubstr(id + " shifting step 2/3"));

  r = glidepath({"status", "orders"}, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("orders  live v1"));
  EXPECT_THAT(r.out, HasSubstr("waiting for promote"));

  r = glidepath({"status", id, "--json"}, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["canary_weight"], 20);

  r = glidepath({"pause", id}, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(id + ": v1 → v2, paused, 20% on v2"));
  r = glidepath({"pause", id}, env);  // already paused: refused
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("error: "));
  r = glidepath({"resume", id}, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("shifting"));

  // status --watch of a deployment ends with it; promote from the side.
  std::thread promoter([&] {
    wait_for(
        serve, id, [](const Json& d) { return d["state"] == "shifting"; }, 5s, "shifting");
    const ProcessResult p = glidepath({"promote", id, "--full"}, env);
    EXPECT_EQ(p.exit_code, 0) << p.err;
  });
  r = glidepath({"status", id, "--watch"}, env, 30s);
  promoter.join();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("succeeded"));

  r = glidepath({"abort", id, "--reason", "too late"}, env);
  EXPECT_EQ(r.exit_code, 1);  // it has ended
  EXPECT_THAT(r.err, HasSubstr("(HTTP 4"));
}

TEST(DeploymentCli, AbortRollsBackAndSaysWhy) {
  SampleBackend v1("v1");
  SampleBackend v2("v2");
  ServeProcess serve(one_service(v1.address()));
  const std::vector<std::string> env = {"GLIDEPATH_ADMIN=" + serve.admin_url()};
  ProcessResult r = glidepath({"deploy", "orders", "--version", "v2", "--upstream", v2.address(),
                               "--steps", steps_json("{}"), "--json"},
                              env);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string id = Json::parse(r.out)["id"];
  wait_for(
      serve, id, [](const Json& d) { return d["canary_weight"] == 20; }, 10s, "20%");
  r = glidepath({"abort", id, "--reason", "bad build"}, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const Json done = wait_until_finished(serve, id, 10s);
  EXPECT_EQ(done["state"], "rolled_back");
  EXPECT_THAT(done.value("reason", ""), HasSubstr("bad build"));
}

TEST(DeploymentCli, TheTokenComesFromTheFlagOrTheEnvironment) {
  SampleBackend v1("v1");
  ServeProcess serve(one_service(v1.address()), "t0ken");
  ProcessResult r = glidepath({"status", "--admin", serve.admin_url()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("HTTP 401"));
  r = glidepath({"status", "--admin", serve.admin_url(), "--token", "t0ken"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = glidepath({"status"}, {"GLIDEPATH_ADMIN=" + serve.admin_url(), "GLIDEPATH_TOKEN=t0ken"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("orders"));
}

TEST(DeploymentCli, RefusalsExitOneAndMistakesExitTwo) {
  SampleBackend v1("v1");
  ServeProcess serve(one_service(v1.address()));
  const std::string admin = serve.admin_url();
  // The admin API refuses a well-formed command: 1, with its message.
  ProcessResult r = glidepath(
      {"deploy", "nope", "--version", "v2", "--upstream", "127.0.0.1:9", "--admin", admin});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("not found: service 'nope' (HTTP 404)"));
  r = glidepath({"status", "dep_nope", "--admin", admin});
  EXPECT_EQ(r.exit_code, 1);
  r = glidepath({"promote", "dep_nope", "--admin", admin});
  EXPECT_EQ(r.exit_code, 1);

  // Usage and input errors: 2, before anything is sent.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"deploy", "orders", "--upstream", "127.0.0.1:9"},                // no --version
           {"deploy", "orders", "--version", "v2", "--upstream", "nohost"},  // bad address
           {"deploy", "orders", "--version", "v2", "--strategy", "Fast"},    // bad strategy
           {"deploy", "orders", "--version", "v2", "--steps", "[{"},         // bad JSON
           {"deploy", "orders", "--version", "v2", "--steps", R"([{"weight":50},{"weight":10}])"},
           {"deploy", "orders", "--version", "v2", "--strategy", "AllAtOnce", "--steps", "[]"},
           {"deploy", "orders", "--version", "v2", "--spec", "/nonexistent/openapi.yaml"},
           {"status", "--admin", "ftp://127.0.0.1:1"},
           {"promote"},
           {"abort", "dep_x", "--full"},
       }) {
    std::vector<std::string> full = args;
    if (std::find(full.begin(), full.end(), "--admin") == full.end()) {
      full.push_back("--admin");
      full.push_back(admin);
    }
    r = glidepath(full);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args) << "\n" << r.out << r.err;
  }
}

TEST(DeploymentCli, AnUnreachableAdminApiIsAFailureWithAClearMessage) {
  // A port nobody listens on: bind one, learn it, close it.
  std::string url;
  {
    HookEndpoint closed(200);
    url = closed.url("");
  }
  const ProcessResult r = glidepath({"status", "--admin", url}, {}, 20s);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("cannot reach the admin API at " + url));
  EXPECT_THAT(r.err, HasSubstr("GLIDEPATH_ADMIN"));
}

}  // namespace
}  // namespace glidepath::testing
