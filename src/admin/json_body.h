// Reading the JSON bodies of admin calls, with the errors every endpoint gives alike:
// "field: message" (answered 400), a did-you-mean for unknown fields.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

namespace glidepath::admin {

// "path: message".
core::Failure field_error(std::string_view path, std::string_view message);

// The body as a JSON object. A blank body (or `null`) is an empty object when
// `allow_empty`, else a mistake; anything but an object is a mistake; invalid JSON says
// where.
core::Result<nlohmann::json> parse_json_body(std::string_view body, bool allow_empty);

// Every key of `object` must be one of `known`; the first that is not is an error named
// prefix + key (cut to 64 characters: a field name is the caller's text, perhaps a pasted
// secret), with the closest known name or the list of them.
core::Result<void> check_known_fields(const nlohmann::json& object, std::string_view prefix,
                                      std::span<const std::string_view> known);

}  // namespace glidepath::admin
