#include "admin/json_body.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/text.h"

namespace glidepath::admin {

using nlohmann::json;

core::Failure field_error(std::string_view path, std::string_view message) {
  return core::fail(fmt::format("{}: {}", path, message));
}

core::Result<json> parse_json_body(std::string_view body, bool allow_empty) {
  const bool blank = std::all_of(body.begin(), body.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  });
  if (blank) {
    if (allow_empty) return json::object();
    return field_error("body", "a JSON object is required");
  }
  try {
    json j = json::parse(body.begin(), body.end());
    if (j.is_null() && allow_empty) return json::object();
    if (!j.is_object()) return field_error("body", "must be a JSON object");
    return j;
  } catch (const json::parse_error& e) {
    // e.what() reads "[json.exception.parse_error.101] parse error at line 1, column 5:
    // ..."; keep the part after the id.
    std::string_view what = e.what();
    if (const size_t close = what.find("] "); close != std::string_view::npos) {
      what.remove_prefix(close + 2);
    }
    return field_error("body", fmt::format("not valid JSON: {}", what));
  }
}

core::Result<void> check_known_fields(const json& object, std::string_view prefix,
                                      std::span<const std::string_view> known) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string message = "unknown field";
    if (auto suggestion = core::closest_match(key, known)) {
      message += fmt::format(" (did you mean '{}'?)", *suggestion);
    } else {
      std::string list;
      for (std::string_view k : known)
        list += list.empty() ? std::string(k) : fmt::format(", {}", k);
      message += fmt::format(" (expected {})", list);
    }
    const std::string name = key.size() > 64 ? key.substr(0, 64) + "..." : key;
    return field_error(fmt::format("{}{}", prefix, name), message);
  }
  return {};
}

}  // namespace glidepath::admin
