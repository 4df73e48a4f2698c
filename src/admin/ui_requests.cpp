#include "admin/ui_requests.h"

#include <fmt/format.h>

#include "ui/assets.h"

namespace glidepath::admin {

Response ui_response(const Request& request) {
  if (request.method != "GET" && request.method != "HEAD") {
    Response r = Response::error(
        405, fmt::format("{} is not allowed on {}; use GET", request.method, request.path));
    r.headers.emplace_back("Allow", "GET");
    return r;
  }
  if (request.path == kUiPrefix) {
    Response r;
    r.status = 308;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "the dashboard is at /ui/\n";
    r.headers.emplace_back("Location", "/ui/");
    return r;
  }
  const ui::Asset* asset = ui::find_asset(request.path);
  if (asset == nullptr) {
    return Response::error(404, fmt::format("no such dashboard file: {}", request.path));
  }
  Response r;
  // no-cache: keep it, but ask (If-None-Match) before using it, so an upgraded binary's
  // page is never mixed with an old script.
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("ETag", std::string(asset->etag));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  if (asset->content_type.starts_with("text/html")) {
    // Everything the page loads or calls is on this listener; nothing may frame it.
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                           "base-uri 'none'; frame-ancestors 'none'");
    r.headers.emplace_back("X-Frame-Options", "DENY");
  }
  r.content_type = std::string(asset->content_type);
  if (!request.if_none_match.empty() && ui::etag_matches(request.if_none_match, asset->etag)) {
    r.status = 304;
    return r;
  }
  r.status = 200;
  r.body = std::string(asset->body);
  return r;
}

}  // namespace glidepath::admin
