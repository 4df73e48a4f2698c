// YAML scalars read as JSON values, and the canonical JSON text of a value (sorted keys,
// canonical numbers): how enum, const and default values are compared.
#include "contract/canonical.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <string>

#include "contract/loader_internal.h"

namespace glidepath::contract::detail {
namespace {

using yaml::describe;

// Canonical JSON text of one enum / const / default value.
constexpr std::size_t kMaxValueBytes = 64 * 1024;
constexpr int kMaxValueDepth = 64;

bool is_quoted(const YAML::Node& node) {
  return node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str";
}

// JSON numbers compare by value: 1, 1.0 and 1e0 are the same number.
std::string canonical_number(std::string_view text) {
  if (is_decimal_integer(text)) {
    bool negative = text[0] == '-';
    if (text[0] == '-' || text[0] == '+') text.remove_prefix(1);
    while (text.size() > 1 && text[0] == '0')
      text.remove_prefix(1);
    if (text == "0") negative = false;
    return (negative ? "-" : "") + std::string(text);
  }
  double value = 0;
  parse_double(text, value);
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
    return fmt::format("{}", static_cast<long long>(value));
  }
  return fmt::format("{}", value);
}

void append_json_string(std::string_view text, std::string& out) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace

bool parse_double(std::string_view text, double& value) {
  if (text.empty() || text.size() > 400) return false;
  const std::string copy(text);
  char* end = nullptr;
  errno = 0;
  value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || errno == ERANGE || !std::isfinite(value)) {
    return false;
  }
  // strtod also reads hex floats, "inf" and "nan": JSON numbers only.
  return copy.find_first_of("xXnN") == std::string::npos;
}

bool is_decimal_integer(std::string_view text) {
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) text.remove_prefix(1);
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

ScalarKind scalar_kind(const YAML::Node& node) {
  if (node.IsNull()) return ScalarKind::null;
  if (is_quoted(node)) return ScalarKind::string;
  const std::string& text = node.Scalar();
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return ScalarKind::null;
  }
  if (text == "true" || text == "True" || text == "TRUE" || text == "false" || text == "False" ||
      text == "FALSE") {
    return ScalarKind::boolean;
  }
  double ignored = 0;
  if (parse_double(text, ignored)) return ScalarKind::number;
  return ScalarKind::string;
}

// Canonical JSON text (sorted keys, canonical numbers) of an enum / const / default value.
std::string Loader::canonical_json(const Cursor& cursor) {
  std::string out;
  append_json(cursor, cursor.node, 0, out);
  return out;
}

void Loader::append_json(const Cursor& cursor, const YAML::Node& node, int depth,
                         std::string& out) {
  tick(cursor);
  if (depth > kMaxValueDepth || out.size() > kMaxValueBytes) {
    fail(cursor, "the value is too large or too deeply nested");
  }
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      out += "null";
      return;
    case YAML::NodeType::Scalar:
      switch (scalar_kind(node)) {
        case ScalarKind::null:
          out += "null";
          return;
        case ScalarKind::boolean:
          out += node.Scalar()[0] == 't' || node.Scalar()[0] == 'T' ? "true" : "false";
          return;
        case ScalarKind::number:
          out += canonical_number(node.Scalar());
          return;
        case ScalarKind::string:
          append_json_string(node.Scalar(), out);
          return;
      }
      return;
    case YAML::NodeType::Sequence: {
      out += '[';
      bool first = true;
      for (const auto& item : node) {
        if (!first) out += ',';
        first = false;
        append_json(cursor, item, depth + 1, out);
      }
      out += ']';
      return;
    }
    case YAML::NodeType::Map: {
      std::map<std::string, YAML::Node> sorted;
      for (const auto& entry : node) {
        tick(cursor);
        sorted.emplace(entry.first.IsScalar() ? entry.first.Scalar() : describe(entry.first),
                       entry.second);
      }
      out += '{';
      bool first = true;
      for (const auto& [key, value] : sorted) {
        if (!first) out += ',';
        first = false;
        append_json_string(key, out);
        out += ':';
        append_json(cursor, value, depth + 1, out);
      }
      out += '}';
      return;
    }
  }
}

}  // namespace glidepath::contract::detail
