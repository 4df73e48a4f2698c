// The dashboard's embedded files as the admin listener serves them (SPEC section 7,
// GET /ui/): every file the page loads is embedded, each answers with its type and a
// strong ETag, a revalidation that matches answers 304, and everything else under /ui/
// is a clear 404 or 405.
#include "admin/ui_requests.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

#include "ui/assets.h"

namespace glidepath::admin {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

Request get(std::string path, std::string if_none_match = "") {
  Request r;
  r.method = "GET";
  r.target = path;
  r.path = std::move(path);
  r.if_none_match = std::move(if_none_match);
  return r;
}

std::string header(const Response& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "";
}

TEST(UiAssets, ThePageComesFirstAndEveryFileHasATypeAndItsOwnTag) {
  const auto& assets = ui::assets();
  ASSERT_GE(assets.size(), 5u);
  EXPECT_EQ(assets.front().path, "/ui/");
  std::set<std::string_view> tags;
  for (const ui::Asset& asset : assets) {
    SCOPED_TRACE(std::string(asset.path));
    EXPECT_FALSE(asset.body.empty());
    EXPECT_TRUE(tags.insert(asset.etag).second) << "two files share an ETag";
    EXPECT_THAT(std::string(asset.etag), StartsWith("\""));
    EXPECT_EQ(asset.etag.size(), 22u);  // 20 hex digits, quoted
    const std::string path(asset.path);
    const std::string type(asset.content_type);
    const char* expected = path.ends_with(".js")    ? "text/javascript; charset=utf-8"
                           : path.ends_with(".css") ? "text/css; charset=utf-8"
                                                    : "text/html; charset=utf-8";
    EXPECT_EQ(type, expected);
  }
}

TEST(UiAssets, EveryFileThePageLoadsIsEmbedded) {
  const ui::Asset* page = ui::find_asset("/ui/");
  ASSERT_NE(page, nullptr);
  const std::string html(page->body);
  const std::regex reference(R"re((?:src|href)="([^"#][^"]*)")re");
  int found = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), reference);
       it != std::sregex_iterator(); ++it) {
    const std::string target = "/ui/" + (*it)[1].str();
    EXPECT_NE(ui::find_asset(target), nullptr) << target << " is referenced but not embedded";
    ++found;
  }
  EXPECT_EQ(found, 4);  // uPlot's script and style, the app's script and style
  // Nothing is fetched from elsewhere (works offline, no CDN).
  EXPECT_THAT(html, ::testing::Not(HasSubstr("http://")));
  EXPECT_THAT(html, ::testing::Not(HasSubstr("https://")));
}

TEST(UiAssets, IndexHtmlIsThePage) {
  EXPECT_EQ(ui::find_asset("/ui/index.html"), ui::find_asset("/ui/"));
  EXPECT_EQ(ui::find_asset("/ui/missing.js"), nullptr);
  EXPECT_EQ(ui::find_asset("/ui"), nullptr);
  EXPECT_EQ(ui::find_asset(""), nullptr);
}

TEST(UiAssets, TheWholeDashboardStaysLight) {
  size_t total = 0;
  for (const ui::Asset& asset : ui::assets())
    total += asset.body.size();
  EXPECT_LT(total, 250u * 1024u) << "issue 7 asks for well under 500 KB";
}

TEST(EtagMatches, FollowsRfc9110) {
  EXPECT_TRUE(ui::etag_matches("\"abc\"", "\"abc\""));
  EXPECT_TRUE(ui::etag_matches("W/\"abc\"", "\"abc\""));  // weak comparison
  EXPECT_TRUE(ui::etag_matches("\"x\", \"abc\"", "\"abc\""));
  EXPECT_TRUE(ui::etag_matches(" * ", "\"abc\""));
  EXPECT_FALSE(ui::etag_matches("\"abd\"", "\"abc\""));
  EXPECT_FALSE(ui::etag_matches("abc", "\"abc\""));
  EXPECT_FALSE(ui::etag_matches("", "\"abc\""));
  EXPECT_FALSE(ui::etag_matches(",,", "\"abc\""));
}

TEST(UiResponse, ThePageIsHtmlWithATagAndAStrictPolicy) {
  const Response r = ui_response(get("/ui/"));
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.content_type, StartsWith("text/html"));
  EXPECT_THAT(r.body, HasSubstr("<title>Glidepath</title>"));
  EXPECT_EQ(header(r, "ETag"), std::string(ui::find_asset("/ui/")->etag));
  EXPECT_EQ(header(r, "Cache-Control"), "no-cache");
  EXPECT_THAT(header(r, "Content-Security-Policy"), HasSubstr("default-src 'self'"));
  EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff");
}

TEST(UiResponse, ARevalidationThatMatchesIsNotModified) {
  const std::string etag(ui::find_asset("/ui/app.js")->etag);
  const Response same = ui_response(get("/ui/app.js", etag));
  EXPECT_EQ(same.status, 304);
  EXPECT_TRUE(same.body.empty());
  EXPECT_EQ(header(same, "ETag"), etag);
  const Response changed = ui_response(get("/ui/app.js", "\"older\""));
  EXPECT_EQ(changed.status, 200);
  EXPECT_FALSE(changed.body.empty());
}

TEST(UiResponse, TheBarePrefixRedirectsToThePage) {
  const Response r = ui_response(get("/ui"));
  EXPECT_EQ(r.status, 308);
  EXPECT_EQ(header(r, "Location"), "/ui/");
}

TEST(UiResponse, UnknownFilesAndOtherMethodsAreRefusedClearly) {
  const Response missing = ui_response(get("/ui/../etc/passwd"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_THAT(missing.body, HasSubstr("no such dashboard file"));
  Request post = get("/ui/");
  post.method = "POST";
  const Response refused = ui_response(post);
  EXPECT_EQ(refused.status, 405);
  EXPECT_EQ(header(refused, "Allow"), "GET");
  Request head = get("/ui/app.css");
  head.method = "HEAD";
  EXPECT_EQ(ui_response(head).status, 200);
}

}  // namespace
}  // namespace glidepath::admin
