// What usage is recorded against (SPEC section 5): the operation, "METHOD /path/template".
// With the version's OpenAPI document, the template is the document's path key that
// matches the request ("GET /orders/{id}") — the same naming `glidepath diff` uses, so the
// contract gate can join a breaking change with the consumers who call it. Without one,
// or for a path the document does not describe, the literal path with id-like segments
// folded to "{id}".
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace glidepath::access {

// The method as recorded: the standard methods (RFC 9110 9.3 and PATCH) as they are,
// anything else "OTHER" — a client cannot grow the usage table with invented methods.
std::string_view canonical_method(std::string_view method);

// "/orders/123/items/5f0c..." → "/orders/{id}/items/{id}". The query is dropped. A segment
// is folded when it is: all decimal digits; a UUID (8-4-4-4-12 hex); 16 or more hex
// digits; or 20 or more characters of [A-Za-z0-9_-] with at least one digit and one
// letter (ULIDs, base64url tokens). Percent-encoded segments are compared as they are.
// Writes into `out` (cleared first, reused across requests).
void fold_path(std::string_view path, std::string& out);

// The path templates of one OpenAPI 3.x or Swagger 2.0 document, matched against request
// paths. Immutable once built; shared by every worker through the routing snapshot.
class OperationMatcher {
 public:
  // From the document's text (YAML or JSON). The base path requests carry before the
  // templates — Swagger's basePath, or the path of OpenAPI's first `servers` URL (absolute
  // or relative, server variables at their defaults) — is stripped before matching.
  // Errors: not YAML/JSON, no `paths` object, a path key not starting with '/'.
  static core::Result<std::shared_ptr<const OperationMatcher>> from_text(std::string_view text);
  static core::Result<std::shared_ptr<const OperationMatcher>> from_file(const std::string& path);

  // The document's path key for a request path (the query, if any, is ignored), or null.
  // Literal segments win over templated ones at the same position, as OpenAPI requires
  // ("/orders/mine" over "/orders/{id}"); a template segment matches exactly one non-empty
  // segment; segments with a template inside ("/files/{name}.json") match by their literal
  // parts. Percent-encoded request segments match as they are.
  const std::string* match(std::string_view path) const;

  std::string_view base_path() const { return base_path_; }
  size_t size() const { return templates_.size(); }

  struct Segment {
    std::string literal;  // the segment text when it has no '{'
    std::string prefix;   // for a templated segment: the literal text before '{'...
    std::string suffix;   // ...and after the last '}'
    bool templated = false;
  };
  struct Template {
    std::string text;  // the document's key, "/orders/{id}"
    std::vector<Segment> segments;
  };

 private:
  std::string base_path_;  // "" or "/v1" (no trailing '/')
  std::vector<Template> templates_;
};

// The operation of a request: canonical_method + " " + (the matcher's template, or the
// folded path when there is no matcher or no template matches). `scratch` is reused.
void operation_of(std::string_view method, std::string_view path, const OperationMatcher* matcher,
                  std::string& scratch, std::string& out);

}  // namespace glidepath::access
