// What usage is recorded against (SPEC section 5): the operation, "METHOD /path/template".
// With the version's OpenAPI document, the template is the document's path key that
// matches the request ("GET /orders/{id}") — the same naming `glidepath diff` uses, so the
// contract gate can join a breaking change with the consumers who call it. Without one,
// or for a path the document does not describe, the literal path with id-like segments
// folded to "{id}".
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace glidepath::access {

// The method as recorded: the standard methods (RFC 9110 9.3 and PATCH) as they are,
// anything else "OTHER" — a client cannot grow the usage table with invented methods.
std::string_view canonical_method(std::string_view method);

// "/orders/123/items/5f0c..." → "/orders/{id}/items/{id}". The query is dropped. A segment
// is folded when it is: all decimal digits; a UUID (8-4-4-4-12 hex); 16 or more hex
// digits; or 20 or more characters of [A-Za-z0-9_-] with at least one digit and one
// letter, and either no run of more than 8 lower-case letters or a quarter of digits
// (ULIDs, base64url tokens — not "customer_subscriptions_v2"). Percent-encoded segments are
// compared as they are. Writes into `out` (cleared first, reused across requests).
void fold_path(std::string_view path, std::string& out);

// The path templates of one OpenAPI 3.x or Swagger 2.0 document, matched against request
// paths. Immutable once built; shared by every worker through the routing snapshot.
class OperationMatcher {
 public:
  // From the document's text (YAML or JSON). The base path requests carry before the
  // templates — Swagger's basePath, or the path of OpenAPI's first `servers` URL (absolute
  // or relative, server variables at their defaults) — is stripped before matching.
  // Keys of `paths` starting with "x-" are extensions, not paths. Errors (with the line):
  // not YAML/JSON, empty, more than one YAML document, nested too deep, larger than 32 MiB;
  // not a mapping; no `paths` mapping; a path key not starting with '/', or whose value is
  // not a path item (a mapping, or null); a template of more than 128 segments; a basePath
  // or `servers` of the wrong shape; a server variable in the URL without a default.
  // from_file's errors start with the file's path.
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
  // A segment trie over templates_: one level per path segment. At each node the literal
  // children are tried first (binary search), then the templated ones with literal parts
  // (most literal characters first), then the whole-segment template, backtracking on a
  // dead end, so the first complete match is the most literal one. Its depth is bounded
  // (from_text refuses longer templates), and so is match()'s recursion.
  struct TrieNode {
    std::vector<std::pair<std::string, uint32_t>> literals;  // by text, for binary search
    std::vector<uint32_t> partials;  // children with a prefix or suffix, most specific first
    uint32_t wildcard = 0;           // the "{x}" child; 0 = none (0 is the root)
    std::string prefix;              // for a partial child: its literal parts
    std::string suffix;
    int32_t terminal = -1;  // index in templates_ of the template ending here, or -1
  };
  // Building, in from_text: a template joins templates_ and the trie (the first of equal
  // templates, in document order, is the one match() returns).
  void add_template(Template entry);
  uint32_t child_for(uint32_t node, const Segment& segment);
  // The template matching `rest` (the path after the '/' that ends `node`'s segment).
  const std::string* match_below(uint32_t node, std::string_view rest) const;

  std::string base_path_;  // "" or "/v1" (no trailing '/')
  std::vector<Template> templates_;
  std::vector<TrieNode> trie_;  // [0] is the root; empty when there are no templates
};

// The operation of a request: canonical_method + " " + (the matcher's template, or the
// folded path when there is no matcher or no template matches). `scratch` is reused.
void operation_of(std::string_view method, std::string_view path, const OperationMatcher* matcher,
                  std::string& scratch, std::string& out);

}  // namespace glidepath::access
