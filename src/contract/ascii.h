// Internal to the contract module: ASCII case folding, for what OpenAPI and HTTP compare
// case-insensitively (methods, media types, header names, schemes).
#pragma once

#include <string>
#include <string_view>

namespace glidepath::contract::detail {

inline std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

inline std::string ascii_upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

}  // namespace glidepath::contract::detail
