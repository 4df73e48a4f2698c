#include "http/message.h"

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

std::string_view RequestHead::find(std::string_view name) const {
  return find_header(headers, name);
}

std::string_view ResponseHead::find(std::string_view name) const {
  return find_header(headers, name);
}

}  // namespace glidepath::http
