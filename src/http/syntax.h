// Small pieces of HTTP syntax shared by the parser and the serializer (internal to
// src/http; not part of the module's interface).
#pragma once

#include <string_view>

#include "http/message.h"

namespace glidepath::http::syntax {

inline bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

// Field values lose leading and trailing whitespace (RFC 9110 5.5).
inline std::string_view trim_ows(std::string_view value) {
  while (!value.empty() && is_ows(value.front()))
    value.remove_prefix(1);
  while (!value.empty() && is_ows(value.back()))
    value.remove_suffix(1);
  return value;
}

// Calls `visit` for each element of a comma-separated list (RFC 9110 5.6.1), trimmed,
// skipping empty elements. Stops early, returning false, when `visit` returns false.
template <typename Visit>
bool for_each_list_element(std::string_view list, Visit&& visit) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view element = trim_ows(list.substr(0, comma));
    if (!element.empty() && !visit(element)) return false;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return true;
}

inline bool starts_with_ci(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

// The authority of an absolute-form target ("http://host:port/p?q", RFC 9112 3.2.2);
// false when the target is not one the gateway accepts: another scheme, no authority, or
// userinfo (RFC 9110 4.2.4: a recipient should treat it as an error).
inline bool absolute_form_authority(std::string_view target, std::string_view& authority) {
  size_t scheme_end = 0;
  if (starts_with_ci(target, "http://")) {
    scheme_end = 7;
  } else if (starts_with_ci(target, "https://")) {
    scheme_end = 8;
  } else {
    return false;
  }
  const std::string_view rest = target.substr(scheme_end);
  authority = rest.substr(0, rest.find_first_of("/?"));
  return !authority.empty() && authority.find('@') == std::string_view::npos;
}

// A Host value or an authority ("uri-host [ ":" port ]", RFC 9110 7.2) checked, and its
// host without the port; false when it is not valid. Empty is valid.
bool host_of_authority(std::string_view authority, std::string_view& host);

}  // namespace glidepath::http::syntax
