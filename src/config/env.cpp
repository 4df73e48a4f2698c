// ${VAR} expansion in config values (SPEC section 2).
#include <fmt/format.h>

#include <cstdlib>

#include "config/loader.h"

namespace glidepath::config {
namespace {

bool is_name_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}

bool is_variable_name(std::string_view name) {
  if (name.empty() || !is_name_start(name.front())) return false;
  for (char c : name) {
    if (!is_name_char(c)) return false;
  }
  return true;
}

}  // namespace

EnvLookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const std::string key(name);
    const char* value = std::getenv(key.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

core::Result<std::string> expand_env(std::string_view text, const EnvLookup& env) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c != '$') {
      out += c;
      ++i;
      continue;
    }
    // `$${` keeps a literal `${` (as docker compose writes it).
    if (text.substr(i, 3) == "$${") {
      out += "${";
      i += 3;
      continue;
    }
    if (text.substr(i, 2) != "${") {
      out += c;
      ++i;
      continue;
    }
    const size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return core::fail(fmt::format(
          "unterminated '${{' at offset {}: write ${{VAR}} or ${{VAR:-default}} ($${{ for a "
          "literal '${{')",
          i));
    }
    const std::string_view inner = text.substr(i + 2, close - i - 2);
    const size_t dash = inner.find(":-");
    const std::string_view name = inner.substr(0, dash);
    if (!is_variable_name(name)) {
      return core::fail(fmt::format(
          "invalid variable reference '${{{}}}': expected ${{NAME}} or ${{NAME:-default}} with "
          "NAME made of letters, digits and '_'",
          inner.size() > 40 ? std::string(inner.substr(0, 40)) + "..." : std::string(inner)));
    }
    std::optional<std::string_view> fallback;
    if (dash != std::string_view::npos) {
      fallback = inner.substr(dash + 2);
      if (fallback->find("${") != std::string_view::npos) {
        return core::fail(fmt::format("nested '${{' in the default of ${{{}}} is not supported",
                                      std::string(name)));
      }
    }
    const std::optional<std::string> value = env ? env(name) : std::nullopt;
    if (value && !(fallback && value->empty())) {
      out += *value;
    } else if (fallback) {
      out += *fallback;
    }
    i = close + 1;
  }
  return out;
}

}  // namespace glidepath::config
