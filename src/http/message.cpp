#include "http/message.h"

#include <algorithm>

namespace glidepath::http {

namespace {

constexpr char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

std::string_view find_header(const std::vector<Header>& headers, std::string_view name) {
  for (const Header& header : headers) {
    if (iequals(header.name, name)) return header.value;
  }
  return {};
}

}  // namespace

// Field names are case-insensitive (RFC 9110 5.1); only ASCII letters fold.
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

std::string_view bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  const auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  if (authorization.size() <= kScheme.size() ||
      !iequals(authorization.substr(0, kScheme.size()), kScheme) ||
      !is_space(authorization[kScheme.size()])) {
    return {};
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && is_space(token.front()))
    token.remove_prefix(1);
  return token;  // a header value is already trimmed at its end
}

bool same_secret(std::string_view given, std::string_view expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  const size_t n = std::max(given.size(), expected.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char a = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    const unsigned char b = i < expected.size() ? static_cast<unsigned char>(expected[i]) : 0;
    diff |= static_cast<unsigned char>(a ^ b);
  }
  return diff == 0;
}

std::string_view RequestHead::find(std::string_view name) const {
  return find_header(headers, name);
}

std::string_view ResponseHead::find(std::string_view name) const {
  return find_header(headers, name);
}

}  // namespace glidepath::http
