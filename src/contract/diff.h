// The breaking-change diff (SPEC section 6): two loaded documents (contract/loader.h) in,
// a list of changes out. Pure: no I/O, the time (for x-sunset) comes in the options.
//
// Direction is the heart of it. What a client may SEND is narrowed by a change to a
// request (a new required field, a tighter maximum, an enum value removed): breaking.
// What a client may RECEIVE is widened by a change to a response (a new enum value, a
// property that may now be missing or null, integer → number): breaking or a warning.
// The reverse of each is safe. So every schema rule is applied with a direction, and the
// same structural change can be breaking in a request and harmless in a response.
//
// Operations are matched by method and path key (parameter names erased: renaming a path
// parameter is no change); parameters by (in, name), header names case-insensitively;
// media types exactly; responses by status text ("200", "2XX", "default"); properties by
// name; array items as "[]"; oneOf/anyOf alternatives as sets (an alternative matched by
// structural equivalence, contract/compare.h, and by its $ref name: two alternatives of the
// same shape under different names are two alternatives). A success status ("200") now
// covered by a range ("2XX") is compared with the range, not reported removed. Recursive
// schemas are followed until a (base, revision) pair repeats on the path being walked.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "contract/model.h"
#include "core/clock.h"

namespace glidepath::contract {

enum class Level { info, warning, breaking };
std::string_view to_string(Level level);  // "info", "warning", "breaking"

// Where in the operation a change is. Empty fields do not apply.
struct Location {
  // "operation", "parameter", "request", "response", "security".
  std::string section;
  std::string parameter;     // its name, for section == "parameter"
  std::string parameter_in;  // "path", "query", "header", "cookie"
  std::string status;        // the response status, for section == "response"
  std::string header;        // a response header's name (lower-case)
  std::string media_type;    // "application/json"
  // A property path inside the body or parameter schema: "items[].price.currency"; "" is
  // the schema's root. Array items are "[]"; oneOf/anyOf alternatives "<oneOf>" /
  // "<anyOf>" ("pet<oneOf>.name"); an additionalProperties schema "<additionalProperties>".
  std::string property;

  // "request body application/json: items[].price.currency",
  // "query parameter 'limit'", "response 200 header 'x-rate-limit'", ...
  std::string to_string() const;
  friend bool operator==(const Location&, const Location&) = default;
};

struct Change {
  Level level = Level::info;
  std::string rule;    // a stable id from rules() ("request-property-added-required")
  std::string method;  // "GET"
  std::string path;    // as the revision writes it (the base's when the operation is gone)
  Location location;
  std::string message;  // one sentence a person can act on

  std::string operation() const { return method + " " + path; }  // "GET /orders/{id}"
  friend bool operator==(const Change&, const Change&) = default;
};

struct DiffOptions {
  // x-sunset dates are compared with this: an operation removed after its sunset is a
  // warning, before it breaking.
  core::TimePoint now{};
};

struct DiffReport {
  // Ordered by operation (path, then method, as strings), then location (section in the
  // order operation, security, parameter, request, response; then parameter place and
  // name, status, header, media type, property path), then rule, then message: stable
  // output. The same change at the same location appears once; a schema reached from
  // several places reports at each.
  std::vector<Change> changes;

  size_t count(Level level) const;
  bool has(Level level) const { return count(level) > 0; }
  // The highest level present; info when there are no changes.
  Level max_level() const;
};

DiffReport diff(const Document& base, const Document& revision, const DiffOptions& options = {});

// Every rule the diff applies, for documentation and for JSON consumers: the id, the
// level it is reported at (a few rules report at a lower level in documented cases, e.g.
// a deprecated operation's removal), and what it means.
struct RuleInfo {
  std::string_view id;
  Level level;
  std::string_view summary;
};
std::span<const RuleInfo> rules();

}  // namespace glidepath::contract
