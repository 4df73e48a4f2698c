#include "tools/sample_backend/routes.h"

#include <gtest/gtest.h>

namespace glidepath::sample_backend {
namespace {

struct ClassifyCase {
  const char* target;
  RouteKind kind;
  std::uint64_t number = 0;
  bool chunked = false;
  int error_status = 0;
};

class ClassifyTest : public ::testing::TestWithParam<ClassifyCase> {};

TEST_P(ClassifyTest, RecognisesHooksAndTheirArguments) {
  const ClassifyCase& c = GetParam();
  const Route route = classify(c.target);
  EXPECT_EQ(route.kind, c.kind) << c.target;
  EXPECT_EQ(route.number, c.number) << c.target;
  EXPECT_EQ(route.chunked, c.chunked) << c.target;
  EXPECT_EQ(route.error_status, c.error_status) << c.target;
  EXPECT_EQ(route.error.empty(), c.error_status == 0) << c.target;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ClassifyTest,
    ::testing::Values(ClassifyCase{"/", RouteKind::application},
                      ClassifyCase{"/orders/1?x=1", RouteKind::application},
                      ClassifyCase{"/_control", RouteKind::control},
                      ClassifyCase{"/_control?x", RouteKind::control},
                      ClassifyCase{"/orders/_control", RouteKind::application},
                      ClassifyCase{"/_test", RouteKind::application},
                      ClassifyCase{"/_testing/echo", RouteKind::application},
                      ClassifyCase{"/_test/echo", RouteKind::echo},
                      ClassifyCase{"/orders/_test/echo", RouteKind::echo},
                      ClassifyCase{"/_test/reset", RouteKind::reset},
                      ClassifyCase{"/_test/garbage", RouteKind::garbage},
                      ClassifyCase{"/_test/close", RouteKind::close},
                      ClassifyCase{"/_test/count", RouteKind::count},
                      ClassifyCase{"/_test/requests?all", RouteKind::requests},
                      ClassifyCase{"/_test/ws", RouteKind::websocket},
                      ClassifyCase{"/orders/_test/ws?x=1", RouteKind::websocket},
                      ClassifyCase{"/_test/status/503", RouteKind::status, 503},
                      ClassifyCase{"/_test/sleep/250", RouteKind::sleep, 250},
                      ClassifyCase{"/_test/bytes/1024", RouteKind::bytes, 1024},
                      ClassifyCase{"/_test/bytes/10?chunked=1", RouteKind::bytes, 10, true},
                      ClassifyCase{"/_test/bytes/10?a=b&chunked=1", RouteKind::bytes, 10, true},
                      ClassifyCase{"/_test/bytes/10?chunked=0", RouteKind::bytes, 10, false},
                      ClassifyCase{"/_test/status/199", RouteKind::bad_hook, 0, false, 400},
                      ClassifyCase{"/_test/status/600", RouteKind::bad_hook, 0, false, 400},
                      ClassifyCase{"/_test/status/", RouteKind::bad_hook, 0, false, 400},
                      ClassifyCase{"/_test/status", RouteKind::bad_hook, 0, false, 400},
                      ClassifyCase{"/_test/sleep/-1", RouteKind::bad_hook, 0, false, 400},
                      ClassifyCase{"/_test/sleep/600001", RouteKind::bad_hook, 0, false, 400},
                      ClassifyCase{"/_test/bytes/1k", RouteKind::bad_hook, 0, false, 400},
                      ClassifyCase{"/_test/bytes/99999999999999999999999", RouteKind::bad_hook, 0,
                                   false, 400},
                      ClassifyCase{"/_test/echo/more", RouteKind::bad_hook, 0, false, 404},
                      ClassifyCase{"/_test/ws/more", RouteKind::bad_hook, 0, false, 404},
                      ClassifyCase{"/_test/", RouteKind::bad_hook, 0, false, 404},
                      ClassifyCase{"/_test/unknown", RouteKind::bad_hook, 0, false, 404}));

TEST(PathPrefix, IsTheFirstSegment) {
  EXPECT_EQ(path_prefix("/orders/1"), "/orders");
  EXPECT_EQ(path_prefix("/orders"), "/orders");
  EXPECT_EQ(path_prefix("/orders?x=/y"), "/orders");
  EXPECT_EQ(path_prefix("/"), "/");
  EXPECT_EQ(path_prefix("//double"), "/");
  EXPECT_EQ(path_prefix("*"), "*");
  EXPECT_EQ(path_prefix("http://host/a"), "http://host/a");
  EXPECT_EQ(path_of("/a/b?c=d?e"), "/a/b");
}

TEST(VersionName, FollowsTheConfigRule) {
  EXPECT_TRUE(is_valid_version_name("v1"));
  EXPECT_TRUE(is_valid_version_name("2024.05-rc_1"));
  EXPECT_FALSE(is_valid_version_name(""));
  EXPECT_FALSE(is_valid_version_name("-v1"));
  EXPECT_FALSE(is_valid_version_name("v 1"));
  EXPECT_FALSE(is_valid_version_name("v1\r\nX-Evil: 1"));
  EXPECT_FALSE(is_valid_version_name(std::string(65, 'a')));
  EXPECT_TRUE(is_valid_version_name(std::string(64, 'a')));
}

TEST(ControlUpdate, ReadsEitherSetting) {
  auto both = parse_control_update(R"({"error_rate":0.25,"latency_ms":200})");
  ASSERT_TRUE(both) << both.error().message;
  EXPECT_TRUE(both->has_error_rate);
  EXPECT_DOUBLE_EQ(both->error_rate, 0.25);
  EXPECT_TRUE(both->has_latency);
  EXPECT_EQ(both->latency_ms, 200U);

  auto rate_only = parse_control_update(R"({"error_rate":1})");
  ASSERT_TRUE(rate_only);
  EXPECT_TRUE(rate_only->has_error_rate);
  EXPECT_FALSE(rate_only->has_latency);

  auto nothing = parse_control_update("{}");
  ASSERT_TRUE(nothing);
  EXPECT_FALSE(nothing->has_error_rate);
  EXPECT_FALSE(nothing->has_latency);
}

TEST(ControlUpdate, RefusesWhatItCannotApply) {
  for (const char* bad :
       {"", "null", "[]", "{", R"({"error_rate":"0.5"})", R"({"error_rate":-0.01})",
        R"({"error_rate":1.01})", R"({"latency_ms":-1})", R"({"latency_ms":1.5})",
        R"({"latency_ms":3600001})", R"({"latency":5})"}) {
    auto update = parse_control_update(bad);
    EXPECT_FALSE(update) << bad;
  }
}

}  // namespace
}  // namespace glidepath::sample_backend
