// glidepath.yaml → Config (STYLE.md habit 4): parse into typed structs, validate the whole
// document, and report every problem with its path and line, the way Argo Rollouts'
// validation does. The loader never throws and never crashes, whatever the input.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/result.h"

namespace glidepath::config {

// Reads an environment variable: nullopt when it is not set. Tests inject their own.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
// The process environment (getenv).
EnvLookup process_env();

struct ConfigError {
  std::string path;     // "services[0].deployment.alarms[1].datapoints_to_alarm"; "" = document
  std::string message;  // "must be <= evaluation_periods (3)"
  int line = 0;         // 1-based line in the YAML text; 0 when unknown
  friend bool operator==(const ConfigError&, const ConfigError&) = default;
};

struct LoadResult {
  // Set exactly when `errors` is empty.
  std::shared_ptr<const Config> config;
  // Every problem found, in document order (by line; problems without a line last).
  std::vector<ConfigError> errors;
  // Legal but probably unintended settings (an admin API open to the network without a
  // token); they do not stop loading.
  std::vector<ConfigError> warnings;
  bool ok() const { return config != nullptr; }
};

// Inputs larger than this are refused whole: a config is a few kilobytes.
inline constexpr size_t kMaxConfigBytes = 4 * 1024 * 1024;
// Documents nested deeper than this are refused before the YAML parser (which recurses
// per level) sees them; a real config nests about eight levels.
inline constexpr int kMaxNestingDepth = 64;
// Stop collecting after this many errors (one more entry says so).
inline constexpr size_t kMaxErrors = 500;

// Parses and validates a whole config document. `env` resolves ${VAR} in scalar values.
LoadResult load_config(std::string_view yaml_text, const EnvLookup& env = process_env());

// Reads `path` and loads it as load_config does; then resolves each version's relative
// `spec` path against the file's directory and reports spec files that do not exist.
LoadResult load_config_file(const std::string& path, const EnvLookup& env = process_env());

// Expands ${VAR} and ${VAR:-default} in one scalar (an unset VAR without a default
// expands to ""; ${VAR:-x} also uses x when VAR is set but empty, as the shell does);
// `$${` is a literal `${`. A `${` without its `}`, or a bad variable name, is an error.
core::Result<std::string> expand_env(std::string_view text, const EnvLookup& env);

// "glidepath.yaml:23: services[0].deployment.alarms[1].datapoints_to_alarm: must be <=
// evaluation_periods (3)". Without a line: "glidepath.yaml: path: message"; without a
// path: "glidepath.yaml:3: message".
std::string format_error(const ConfigError& error, std::string_view file);

}  // namespace glidepath::config
