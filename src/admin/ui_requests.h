// GET /ui/… (SPEC section 7): the dashboard's embedded files as responses. The files are
// public — the page holds no data and asks for the admin token itself, which it then sends
// on its API calls — so HttpServer serves these paths without a token.
#pragma once

#include "admin/http_server.h"

namespace glidepath::admin {

// The path prefix served by ui_response; HttpServer exempts it from the token check.
inline constexpr std::string_view kUiPrefix = "/ui";

// GET/HEAD of /ui redirects to /ui/; a known file answers 200 with its ETag (or 304 when
// If-None-Match names it); anything else under /ui/ is 404; other methods 405.
Response ui_response(const Request& request);

}  // namespace glidepath::admin
