// Diff rules for request bodies and responses: required or not, media types, statuses
// (a specific one now covered by a range), response headers; their schemas go to the
// schema walk.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "contract/diff_context.h"

namespace glidepath::contract::detail {
namespace {

bool is_success_status(const std::string& status) {
  return !status.empty() && status[0] == '2';
}

// "200" as opposed to "2XX" (OpenAPI 3.1 4.8.16.2) or "default".
bool is_specific_status(const std::string& status) {
  return status.size() == 3 &&
         std::all_of(status.begin(), status.end(), [](char c) { return c >= '0' && c <= '9'; });
}
bool is_status_range(const std::string& status) {
  return status.size() == 3 && status[0] >= '1' && status[0] <= '5' && status.substr(1) == "XX";
}
bool has_status_in(const Operation& operation, char status_class) {
  return std::any_of(operation.responses.begin(), operation.responses.end(),
                     [&](const auto& entry) {
                       return is_specific_status(entry.first) && entry.first[0] == status_class;
                     });
}

}  // namespace

// The revision's entry for a media type the base had: the same type, the same type with
// other parameters ("application/json; charset=utf-8"), or, where `ranges` (a request:
// the server accepts what the range covers), a range that covers it ("application/*",
// "*/*"). Null when there is none.
const std::pair<const std::string, SchemaRef>* Differ::matching_media(const Content& content,
                                                                      const std::string& media,
                                                                      bool ranges) {
  if (const auto found = content.find(media); found != content.end()) return &*found;
  const auto bare = [](const std::string& text) {
    std::string type = text.substr(0, text.find(';'));
    while (!type.empty() && type.back() == ' ')
      type.pop_back();
    return type;
  };
  const std::string type = bare(media);
  for (const auto& entry : content) {
    if (bare(entry.first) == type) return &entry;
  }
  if (!ranges) return nullptr;
  const std::string range = type.substr(0, type.find('/')) + "/*";
  if (const auto found = content.find(range); found != content.end()) return &*found;
  if (const auto found = content.find("*/*"); found != content.end()) return &*found;
  return nullptr;
}

void Differ::compare_request_body(const Operation& base, const Operation& revision) {
  const Location location = section("request");
  if (!base.request_body && !revision.request_body) return;
  if (!base.request_body) {
    if (revision.request_body->required) {
      add(rule("request-body-added-required"), location,
          "A required request body was added: clients that send none are refused.");
    } else {
      add(rule("request-body-added-optional"), location, "An optional request body was added.");
    }
    return;
  }
  if (!revision.request_body) {
    add(rule("request-body-removed"), location,
        "The request body was removed: clients still sending one may be refused.");
    return;
  }
  const RequestBody& before = *base.request_body;
  const RequestBody& after = *revision.request_body;
  if (!before.required && after.required) {
    add(rule("request-body-became-required"), location,
        "The request body became required: clients that send none are refused.");
  } else if (before.required && !after.required) {
    add(rule("request-body-became-optional"), location, "The request body became optional.");
  }
  for (const auto& [media, schema] : before.content) {
    Location media_location = location;
    media_location.media_type = media;
    const auto* target = matching_media(after.content, media, true);
    if (target == nullptr) {
      add(rule("request-media-type-removed"), media_location,
          fmt::format("The request body no longer accepts {}: clients sending it are refused.",
                      media));
      continue;
    }
    walk_ = Walk{Direction::request, false, media_location};
    compare_schema(schema, target->second, "");
  }
  for (const auto& [media, schema] : after.content) {
    if (matching_media(before.content, media, false) != nullptr) continue;
    Location media_location = location;
    media_location.media_type = media;
    add(rule("request-media-type-added"), media_location,
        fmt::format("The request body also accepts {}.", media));
  }
}

void Differ::compare_responses(const Operation& base, const Operation& revision) {
  for (const auto& [status, response] : base.responses) {
    Location location = section("response");
    location.status = status;
    auto found = revision.responses.find(status);
    if (found == revision.responses.end() && is_specific_status(status)) {
      // "200" now described by "2XX": the same responses, compared as such.
      found = revision.responses.find(status.substr(0, 1) + "XX");
    }
    if (found == revision.responses.end()) {
      if (is_status_range(status) && has_status_in(revision, status[0])) {
        add(rule("response-status-removed"), Level::info, location,
            fmt::format("The response range {} was replaced by specific statuses.", status));
      } else if (is_success_status(status)) {
        add(rule("response-status-removed"), location,
            fmt::format("The success response {} was removed: clients expecting it get "
                        "another status.",
                        status));
      } else {
        add(rule("response-status-removed"), Level::info, location,
            fmt::format("The response {} was removed.", status));
      }
      continue;
    }
    compare_response(location, response, found->second);
  }
  for (const auto& [status, response] : revision.responses) {
    if (base.responses.count(status) != 0) continue;
    // A range that now stands for statuses the base listed one by one.
    if (is_status_range(status) && has_status_in(base, status[0])) continue;
    Location location = section("response");
    location.status = status;
    add(rule("response-status-added"), location, fmt::format("A response {} was added.", status));
  }
}

void Differ::compare_response(const Location& location, const Response& base,
                              const Response& revision) {
  for (const auto& [media, schema] : base.content) {
    Location media_location = location;
    media_location.media_type = media;
    const auto* found = matching_media(revision.content, media, false);
    if (found == nullptr) {
      add(rule("response-media-type-removed"), media_location,
          fmt::format("The response {} no longer has {}: clients asking for it get another "
                      "media type or an error.",
                      location.status, media));
      continue;
    }
    walk_ = Walk{Direction::response, false, media_location};
    compare_schema(schema, found->second, "");
  }
  for (const auto& [media, schema] : revision.content) {
    if (matching_media(base.content, media, false) != nullptr) continue;
    Location media_location = location;
    media_location.media_type = media;
    add(rule("response-media-type-added"), media_location,
        fmt::format("The response {} also has {}.", location.status, media));
  }
  for (const auto& [name, header] : base.headers) {
    Location header_location = location;
    header_location.header = name;
    const auto found = revision.headers.find(name);
    if (found == revision.headers.end()) {
      if (header.required) {
        add(rule("response-header-removed"), header_location,
            fmt::format("The required response header '{}' was removed: clients reading it "
                        "find nothing.",
                        name));
      } else {
        add(rule("response-header-removed"), Level::warning, header_location,
            fmt::format("The optional response header '{}' was removed: clients reading it "
                        "find nothing.",
                        name));
      }
      continue;
    }
    if (header.required && !found->second.required) {
      add(rule("response-header-became-optional"), header_location,
          fmt::format("The response header '{}' is no longer required: clients may not find "
                      "it.",
                      name));
    }
    walk_ = Walk{Direction::response, false, header_location};
    compare_described(header.schema, header.content, found->second.schema, found->second.content);
  }
  for (const auto& [name, header] : revision.headers) {
    if (base.headers.count(name) != 0) continue;
    Location header_location = location;
    header_location.header = name;
    add(rule("response-header-added"), header_location,
        fmt::format("The response {} has a new header '{}'.", location.status, name));
  }
}

}  // namespace glidepath::contract::detail
