#include "tools/sample_backend/json_text.h"

#include <charconv>

#include "tools/sample_backend/routes.h"

namespace glidepath::sample_backend {

namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Every value of the field `name`, joined with ", "; nothing when absent.
void append_field_value(std::string& out, std::span<const HeaderField> headers,
                        std::string_view name, bool& found) {
  for (const auto& field : headers) {
    if (!iequals(field.name, name)) continue;
    if (found) out += ", ";
    found = true;
    out += field.value;
  }
}

void append_optional_field(std::string& out, std::string_view key,
                           std::span<const HeaderField> headers, std::string_view name,
                           std::string& scratch) {
  out += ",\"";
  out += key;
  out += "\":";
  scratch.clear();
  bool found = false;
  append_field_value(scratch, headers, name, found);
  if (found) {
    append_json_string(out, scratch);
  } else {
    out += "null";
  }
}

}  // namespace

void append_json_string(std::string& out, std::string_view text, bool lowercase) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t plain_from = 0;
  auto flush = [&](size_t to) {
    if (lowercase) {
      for (size_t i = plain_from; i < to; ++i)
        out += lower(text[i]);
    } else {
      out.append(text.data() + plain_from, to - plain_from);
    }
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') continue;
    flush(i);
    plain_from = i + 1;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  flush(text.size());
  out += '"';
}

void append_request_json(std::string& out, std::string_view version, const RequestSummary& request,
                         std::string_view error) {
  std::string scratch;
  out += "{\"version\":";
  append_json_string(out, version);
  out += ",\"method\":";
  append_json_string(out, request.method);
  out += ",\"path\":";
  append_json_string(out, path_of(request.target));
  out += ",\"target\":";
  append_json_string(out, request.target);
  append_optional_field(out, "request_id", request.headers, "x-request-id", scratch);
  append_optional_field(out, "x_forwarded_for", request.headers, "x-forwarded-for", scratch);
  append_optional_field(out, "x_forwarded_proto", request.headers, "x-forwarded-proto", scratch);
  append_optional_field(out, "host", request.headers, "host", scratch);
  out += ",\"body_bytes\":";
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, request.body_bytes).ptr;
  out.append(digits, end);
  out += ",\"headers\":{";
  bool first = true;
  for (size_t i = 0; i < request.headers.size(); ++i) {
    const HeaderField& field = request.headers[i];
    bool seen_before = false;
    for (size_t j = 0; j < i && !seen_before; ++j) {
      seen_before = iequals(request.headers[j].name, field.name);
    }
    if (seen_before) continue;  // joined into its first appearance
    if (!first) out += ',';
    first = false;
    append_json_string(out, field.name, /*lowercase=*/true);
    out += ':';
    scratch.clear();
    bool found = false;
    append_field_value(scratch, request.headers.subspan(i), field.name, found);
    append_json_string(out, scratch);
  }
  out += '}';
  if (!error.empty()) {
    out += ",\"error\":";
    append_json_string(out, error);
  }
  out += '}';
}

}  // namespace glidepath::sample_backend
