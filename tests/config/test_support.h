// Helpers shared by the config tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "config/loader.h"

namespace glidepath::config::testing {

inline EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

inline const EnvLookup& empty_env() {
  static const EnvLookup env = env_of({});
  return env;
}

// Every error, one per line, for failure messages.
inline std::string describe(const LoadResult& result) {
  std::string out;
  for (const ConfigError& e : result.errors)
    out += format_error(e, "test.yaml") + "\n";
  for (const ConfigError& w : result.warnings)
    out += "warning: " + format_error(w, "test.yaml") + "\n";
  return out.empty() ? "(no errors)" : out;
}

// The 1-based line carrying the marker comment "# <-", 0 when there is none.
inline int marked_line(std::string_view yaml) {
  int line = 1;
  size_t start = 0;
  while (start <= yaml.size()) {
    const size_t end = std::min(yaml.find('\n', start), yaml.size());
    if (yaml.substr(start, end - start).find("# <-") != std::string_view::npos) return line;
    ++line;
    start = end + 1;
  }
  return 0;
}

inline std::string data_path(std::string_view name) {
#ifdef GLIDEPATH_CONFIG_TEST_DATA
  return std::string(GLIDEPATH_CONFIG_TEST_DATA) + "/" + std::string(name);
#else
  const char* root = std::getenv("GLIDEPATH_SOURCE_DIR");
  return std::string(root ? root : ".") + "/tests/config/data/" + std::string(name);
#endif
}

}  // namespace glidepath::config::testing
