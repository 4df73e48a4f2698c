// Reading untrusted YAML (or JSON) text safely with yaml-cpp: OpenAPI documents for the
// contract loader and for operation names.
//
// The text goes through yaml/guard.h (nesting, runaway documents, a second document) with
// the limits below.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace glidepath::yaml {

// Deep enough for generated specs with inline schemas (about two levels per schema level);
// yaml-cpp itself stops at 500.
inline constexpr int kMaxNestingDepth = 256;

// The single document in `text`, or an error with its line ("line 3: ..."). Never throws.
core::Result<YAML::Node> parse_untrusted(std::string_view text);

// The 1-based line of a node, or 0 when yaml-cpp does not know it.
int line_of(const YAML::Node& node);
// "line 3: message", or the message alone for line 0.
std::string at_line(int line, std::string_view message);

// Reading a tree that may hold anything, without exceptions:
// the value of `key` in a mapping (the first, should the key repeat), looking only at
// scalar keys and converting nothing; nullopt when `map` is not a mapping or lacks it.
std::optional<YAML::Node> child(const YAML::Node& map, std::string_view key);
// What a node is, for "expected X, got Y": "a mapping", "a list", "null", "'text'" (cut
// at 40 characters).
std::string describe(const YAML::Node& node);

}  // namespace glidepath::yaml
