// The config loader must turn any bytes into a Config or a list of errors: never crash,
// never hang, never throw (STYLE.md habit 5).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace glidepath::config;
  // No variable is set, so ${VAR} expands to its default or to nothing.
  static const EnvLookup empty_env = [](std::string_view) { return std::optional<std::string>(); };
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const LoadResult result = load_config(text, empty_env);
  // The promise of LoadResult: a config exactly when there are no errors.
  if (result.ok() != result.errors.empty()) std::abort();
  if (result.ok() && result.config->services.empty()) std::abort();
  for (const ConfigError& error : result.errors) {
    if (error.message.empty() || error.line < 0) std::abort();
    (void)format_error(error, "fuzz.yaml");
  }
  return 0;
}
