#include "admin/key_requests.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <span>

#include "access/consumer_rules.h"
#include "access/key_material.h"
#include "access/key_table.h"
#include "admin/json_body.h"
#include "core/text.h"

namespace glidepath::admin {

namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 6> kKeyFields = {"consumer", "contact", "metadata",
                                                        "rate",     "quota",   "preview"};

core::Result<std::map<std::string, std::string>> read_metadata(const json& value) {
  if (!value.is_object()) {
    return field_error("metadata", R"(must be an object of strings, like {"team": "billing"})");
  }
  if (value.size() > access::kMaxMetadataEntries) {
    return field_error("metadata", fmt::format("at most {} entries", access::kMaxMetadataEntries));
  }
  std::map<std::string, std::string> metadata;
  for (const auto& [key, entry] : value.items()) {
    // The key is checked first: a bad one would make a bad path for the value's error.
    std::string text = entry.is_string() ? entry.get<std::string>() : std::string();
    if (auto checked = access::check_metadata_entry(key, text); !checked) {
      return core::Failure{checked.error()};
    }
    if (!entry.is_string()) {
      return field_error(fmt::format("metadata.{}", key), "must be a string");
    }
    metadata.emplace(key, std::move(text));
  }
  return metadata;
}

core::Result<std::string> read_string(const json& j, std::string_view key, bool required) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return field_error(key, "is required");
    return std::string();
  }
  if (!it->is_string()) return field_error(key, "must be a string");
  return it->get<std::string>();
}

std::string rfc3339(core::TimePoint t) {
  return core::format_rfc3339_micros(t);
}

json optional_text(const std::optional<std::string>& text) {
  return text ? json(*text) : json(nullptr);
}

}  // namespace

core::Result<KeyRequest> parse_key_request(std::string_view body) {
  auto parsed = parse_json_body(body, false);
  if (!parsed) return core::Failure{parsed.error()};
  const json& j = *parsed;
  if (auto fields = check_known_fields(j, "", kKeyFields); !fields) {
    return core::Failure{fields.error()};
  }

  KeyRequest request;
  auto consumer = read_string(j, "consumer", true);
  if (!consumer) return core::Failure{consumer.error()};
  if (auto checked = access::check_consumer_name(*consumer); !checked) {
    return core::Failure{checked.error()};
  }
  request.consumer = std::move(*consumer);

  auto contact = read_string(j, "contact", true);
  if (!contact) return core::Failure{contact.error()};
  if (auto checked = access::check_contact(*contact); !checked)
    return core::Failure{checked.error()};
  request.contact = std::move(*contact);

  if (const auto it = j.find("metadata"); it != j.end() && !it->is_null()) {
    auto metadata = read_metadata(*it);
    if (!metadata) return core::Failure{metadata.error()};
    request.metadata = std::move(*metadata);
  }
  if (const auto it = j.find("rate"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) return field_error("rate", R"(must be a string like "100/s")");
    auto rate = core::parse_rate(it->get<std::string>());
    if (!rate) return field_error("rate", rate.error().message);
    request.rate = *rate;
  }
  if (const auto it = j.find("quota"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) return field_error("quota", R"(must be a string like "100000/day")");
    auto quota = core::parse_quota(it->get<std::string>());
    if (!quota) return field_error("quota", quota.error().message);
    request.quota = *quota;
  }
  if (const auto it = j.find("preview"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean()) return field_error("preview", "must be true or false");
    request.preview = it->get<bool>();
  }
  return request;
}

access::ApiKeyRecord new_key_record(const KeyRequest& request, std::string id, std::string_view key,
                                    core::TimePoint now) {
  access::ApiKeyRecord record;
  record.id = std::move(id);
  record.consumer = request.consumer;
  record.contact = request.contact;
  record.metadata = request.metadata;
  record.key_hash = access::key_hash_hex(key);
  record.key_prefix = access::display_prefix(key);
  if (request.rate) record.rate = core::format_rate(*request.rate);
  if (request.quota) record.quota = core::format_quota(*request.quota);
  record.preview = request.preview;
  record.created_at = now;
  return record;
}

json key_json(const access::ApiKeyRecord& record) {
  json j{{"id", record.id},
         {"consumer", record.consumer},
         {"contact", record.contact},
         {"metadata", record.metadata},
         {"prefix", record.key_prefix},
         {"rate", optional_text(record.rate)},
         {"quota", optional_text(record.quota)},
         {"preview", record.preview},
         {"created_at", rfc3339(record.created_at)},
         {"state", record.revoked() ? "revoked" : "active"}};
  if (record.revoked_at) j["revoked_at"] = rfc3339(*record.revoked_at);
  return j;
}

json created_key_json(const access::ApiKeyRecord& record, std::string_view key) {
  return json{{"id", record.id},
              {"key", key},
              {"consumer", record.consumer},
              {"contact", record.contact},
              {"metadata", record.metadata},
              {"prefix", record.key_prefix},
              {"rate", optional_text(record.rate)},
              {"quota", optional_text(record.quota)},
              {"preview", record.preview},
              {"created_at", rfc3339(record.created_at)}};
}

}  // namespace glidepath::admin
