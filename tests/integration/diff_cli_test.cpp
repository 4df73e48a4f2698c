// `glidepath diff` as a CI job runs it (SPEC sections 1 and 6): the real binary on two
// documents in a temporary directory; exit 0 / 1 (--fail-on) / 2 (usage or input error)
// and the three formats.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/process.h"

namespace glidepath::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr const char* kBase = R"(openapi: 3.0.3
info: {title: Orders, version: "1.0"}
paths:
  /orders/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "200": {description: the order}
  /orders:
    delete:
      responses:
        "204": {description: gone}
)";

// DELETE /orders removed (breaking), GET /health added (info).
constexpr const char* kBreaking = R"(openapi: 3.0.3
info: {title: Orders, version: "2.0"}
paths:
  /orders/{orderId}:
    get:
      parameters:
        - {name: orderId, in: path, required: true, schema: {type: string}}
      responses:
        "200": {description: the order}
  /health:
    get:
      responses:
        "200": {description: ok}
)";

// Only an addition: GET /health.
constexpr const char* kAdditive = R"(openapi: 3.0.3
info: {title: Orders, version: "1.1"}
paths:
  /orders/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "200": {description: the order}
  /orders:
    delete:
      responses:
        "204": {description: gone}
  /health:
    get:
      responses:
        "200": {description: ok}
)";

class DiffCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("glidepath-diff-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    base_ = write("base.yaml", kBase);
    breaking_ = write("breaking.yaml", kBreaking);
    additive_ = write("additive.yaml", kAdditive);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const std::filesystem::path path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  static ProcessResult glidepath(std::vector<std::string> args) {
    args.insert(args.begin(), "diff");
    args.insert(args.begin(), glidepath_binary());
    return run_process(args);
  }

  std::filesystem::path dir_;
  std::string base_;
  std::string breaking_;
  std::string additive_;
};

TEST_F(DiffCli, TextReportExitsZeroWithoutFailOn) {
  const ProcessResult r = glidepath({base_, breaking_});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, StartsWith(base_ + " → " + breaking_ + "\n"));
  EXPECT_THAT(r.out, HasSubstr("DELETE /orders\n"));
  EXPECT_THAT(r.out, HasSubstr("breaking  operation-removed"));
  // Info is counted, not listed, unless asked for; no colour when not on a terminal.
  EXPECT_THAT(r.out, Not(HasSubstr("GET /health")));
  EXPECT_THAT(r.out, HasSubstr("1 info (info not listed"));
  EXPECT_THAT(r.out, Not(HasSubstr("\x1b[")));
  const ProcessResult all = glidepath({base_, breaking_, "--all"});
  EXPECT_EQ(all.exit_code, 0);
  EXPECT_THAT(all.out, HasSubstr("GET /health\n"));
  EXPECT_THAT(all.out, HasSubstr("operation-added"));
}

TEST_F(DiffCli, FailOnSetsTheExitCode) {
  EXPECT_EQ(glidepath({base_, breaking_, "--fail-on", "breaking"}).exit_code, 1);
  EXPECT_EQ(glidepath({base_, breaking_, "--fail-on", "warning"}).exit_code, 1);
  EXPECT_EQ(glidepath({base_, additive_, "--fail-on", "breaking"}).exit_code, 0);
  EXPECT_EQ(glidepath({base_, additive_, "--fail-on", "warning"}).exit_code, 0);
  EXPECT_EQ(glidepath({base_, base_, "--fail-on", "breaking"}).exit_code, 0);
  // The reverse direction: an added operation removed again.
  EXPECT_EQ(glidepath({additive_, base_, "--fail-on", "breaking"}).exit_code, 1);
}

TEST_F(DiffCli, JsonReport) {
  const ProcessResult r = glidepath({base_, breaking_, "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json report = json::parse(r.out);
  EXPECT_EQ(report["base"], base_);
  EXPECT_EQ(report["revision"], breaking_);
  EXPECT_EQ(report["summary"]["breaking"], 1);
  EXPECT_EQ(report["summary"]["info"], 1);
  bool removed = false;
  for (const json& change : report["changes"]) {
    if (change["rule"] == "operation-removed") {
      removed = true;
      EXPECT_EQ(change["operation"], "DELETE /orders");
      EXPECT_EQ(change["method"], "DELETE");
      EXPECT_EQ(change["path"], "/orders");
      EXPECT_EQ(change["level"], "breaking");
    }
  }
  EXPECT_TRUE(removed) << r.out;
  EXPECT_EQ(glidepath({base_, breaking_, "--json"}).out, r.out);
}

TEST_F(DiffCli, MarkdownReport) {
  const ProcessResult r = glidepath({base_, breaking_, "--format", "markdown"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("## API contract: :x: 1 breaking change\n"));
  EXPECT_THAT(r.out, HasSubstr("| `DELETE /orders` | `operation-removed` |"));
  EXPECT_THAT(r.out, HasSubstr("<summary>1 info change</summary>"));
}

TEST_F(DiffCli, RenamedPathParameterIsNoChange) {
  std::string text = kBase;
  text.replace(text.find("{id}"), 4, "{orderId}");
  text.replace(text.find("name: id,"), 9, "name: orderId,");
  const std::string renamed = write("renamed.yaml", text);
  const ProcessResult r = glidepath({base_, renamed, "--json", "--fail-on", "warning"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(json::parse(r.out)["changes"], json::array());
}

TEST_F(DiffCli, InputErrorsExitTwoAndSayWhere) {
  const ProcessResult missing = glidepath({base_, (dir_ / "nope.yaml").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("nope.yaml"));
  EXPECT_TRUE(missing.out.empty()) << missing.out;

  const std::string broken = write(
      "broken.yaml", "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get: 3\n");
  const ProcessResult bad = glidepath({broken, base_, "--fail-on", "breaking"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("broken.yaml"));
  EXPECT_THAT(bad.err, HasSubstr("line 5"));

  // Both broken: both reported.
  const ProcessResult both = glidepath({broken, (dir_ / "nope.yaml").string()});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_THAT(both.err, HasSubstr("broken.yaml"));
  EXPECT_THAT(both.err, HasSubstr("nope.yaml"));
}

TEST_F(DiffCli, UsageErrorsExitTwo) {
  EXPECT_EQ(glidepath({}).exit_code, 2);
  EXPECT_EQ(glidepath({base_}).exit_code, 2);
  EXPECT_EQ(glidepath({base_, breaking_, "--format", "html"}).exit_code, 2);
  EXPECT_EQ(glidepath({base_, breaking_, "--fail-on", "info"}).exit_code, 2);
  EXPECT_EQ(glidepath({base_, breaking_, "--fail-on", "everything"}).exit_code, 2);
  EXPECT_EQ(glidepath({base_, breaking_, "--json", "--format", "markdown"}).exit_code, 2);
  EXPECT_EQ(glidepath({base_, breaking_, "extra"}).exit_code, 2);
}

TEST_F(DiffCli, ListRulesPrintsTheCatalogue) {
  const ProcessResult r = glidepath({"--list-rules"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("| Rule | Level | Meaning |\n"));
  EXPECT_THAT(r.out, HasSubstr("| `operation-removed` | breaking |"));
}

}  // namespace
}  // namespace glidepath::testing
