// The dashboard (SPEC section 7, GET /ui/): its files, embedded in the binary at build time
// (cmake/embed_assets.cmake), so the admin listener serves it with no web server and no
// network. The page itself is web/src/; uPlot comes from web/node_modules (npm ci, run by
// scripts/install-deps.sh).
//
// Pure lookups over constant data: the admin API turns them into responses
// (admin/ui_requests.h), with ETags so a browser revalidates instead of refetching.
#pragma once

#include <string_view>
#include <vector>

namespace glidepath::ui {

struct Asset {
  std::string_view path;          // "/ui/app.js"; the page itself is "/ui/"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view etag;          // a quoted strong ETag: "\"3f2a…\""
  std::string_view body;
};

// Every embedded file, the page first.
const std::vector<Asset>& assets();

// The asset served at `path` ("/ui/" and "/ui/index.html" are the page), or null.
const Asset* find_asset(std::string_view path);

// Whether an If-None-Match header value names `etag` ("*", one tag, or a list; weak
// tags compare by their opaque part, RFC 9110 13.1.2).
bool etag_matches(std::string_view if_none_match, std::string_view etag);

}  // namespace glidepath::ui
