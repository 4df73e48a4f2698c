// Internal to the contract loader: YAML scalars read as JSON values (the YAML 1.2 core
// schema), and the canonical JSON text of enum / const / default values (canonical.cpp,
// with Loader::canonical_json).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string_view>

namespace glidepath::contract::detail {

// A plain scalar's value under the YAML 1.2 core schema; quoted scalars are strings.
enum class ScalarKind { null, boolean, number, string };
ScalarKind scalar_kind(const YAML::Node& node);

// A JSON number (no hex, inf or nan), finite; false otherwise.
bool parse_double(std::string_view text, double& value);
// Digits with an optional sign.
bool is_decimal_integer(std::string_view text);

}  // namespace glidepath::contract::detail
