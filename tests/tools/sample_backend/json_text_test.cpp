#include "tools/sample_backend/json_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace glidepath::sample_backend {
namespace {

std::string json_string(std::string_view text, bool lowercase = false) {
  std::string out;
  append_json_string(out, text, lowercase);
  return out;
}

TEST(JsonString, EscapesWhatJsonNeeds) {
  EXPECT_EQ(json_string("plain"), "\"plain\"");
  EXPECT_EQ(json_string("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json_string(std::string_view("\n\t\0", 3)), R"("\u000a\u0009\u0000")");
  EXPECT_EQ(json_string("\x7f\xff"), R"("\u007f\u00ff")");
  EXPECT_EQ(json_string("X-Forwarded-For", true), "\"x-forwarded-for\"");
}

TEST(JsonString, AlwaysParsesBackWhateverTheBytes) {
  std::string all;
  for (int c = 0; c < 256; ++c)
    all += static_cast<char>(c);
  const auto parsed = nlohmann::json::parse(json_string(all));
  ASSERT_TRUE(parsed.is_string());
  EXPECT_EQ(parsed.get<std::string>().substr(0, 128), all.substr(0, 128));
}

TEST(RequestJson, DescribesTheRequestAsSeen) {
  const HeaderField headers[] = {{"Host", "api.example.com"},    {"X-Request-Id", "abc"},
                                 {"X-Forwarded-For", "1.2.3.4"}, {"Accept", "a"},
                                 {"x-forwarded-for", "5.6.7.8"}, {"ACCEPT", "b"}};
  std::string out;
  append_request_json(out, "v3", {"PUT", "/a/b?c=1", 12, headers});
  const auto json = nlohmann::json::parse(out);
  EXPECT_EQ(json["version"], "v3");
  EXPECT_EQ(json["method"], "PUT");
  EXPECT_EQ(json["path"], "/a/b");
  EXPECT_EQ(json["target"], "/a/b?c=1");
  EXPECT_EQ(json["request_id"], "abc");
  EXPECT_EQ(json["x_forwarded_for"], "1.2.3.4, 5.6.7.8");
  EXPECT_TRUE(json["x_forwarded_proto"].is_null());
  EXPECT_EQ(json["host"], "api.example.com");
  EXPECT_EQ(json["body_bytes"], 12);
  EXPECT_EQ(json["headers"].size(), 4U);
  EXPECT_EQ(json["headers"]["accept"], "a, b");
  EXPECT_EQ(json["headers"]["x-forwarded-for"], "1.2.3.4, 5.6.7.8");
  EXPECT_FALSE(json.contains("error"));

  out.clear();
  append_request_json(out, "v3", {"GET", "/", 0, {}}, "injected failure");
  const auto failed = nlohmann::json::parse(out);
  EXPECT_EQ(failed["error"], "injected failure");
  EXPECT_TRUE(failed["host"].is_null());
  EXPECT_TRUE(failed["headers"].empty());
}

}  // namespace
}  // namespace glidepath::sample_backend
