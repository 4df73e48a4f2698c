// The admin API's API-key calls (SPEC sections 5 and 7): the body of POST /v1/keys parsed
// and checked, and the JSON of a key record. Pure functions of their inputs. Every mistake
// is an error whose message starts with the field's name ("contact: ..."), answered with
// 400; unknown fields are mistakes too, with a did-you-mean when one is close.
//
// The key itself appears in exactly one place: created_key_json, the 201 answer of
// POST /v1/keys. key_json (lists, revocations) carries neither the key nor its hash, and no
// error message here ever quotes a key.
#pragma once

#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "access/consumer_rules.h"
#include "access/records.h"
#include "core/clock.h"
#include "core/result.h"
#include "core/units.h"

namespace glidepath::admin {

// POST /v1/keys: {"consumer", "contact", ["metadata", "rate", "quota", "preview"]}.
struct KeyRequest {
  std::string consumer;
  std::string contact;
  std::map<std::string, std::string> metadata;
  std::optional<core::Rate> rate;
  std::optional<core::Quota> quota;
  bool preview = false;
};
core::Result<KeyRequest> parse_key_request(std::string_view body);

// The record to store for a new key: its hash and display prefix, never the key; rate and
// quota in their canonical spelling (core::format_rate, core::format_quota).
access::ApiKeyRecord new_key_record(const KeyRequest& request, std::string id, std::string_view key,
                                    core::TimePoint now);

// {"id", "consumer", "contact", "metadata", "prefix", "rate", "quota", "preview",
//  "created_at", "state": "active"|"revoked", ["revoked_at"]}: no key, no hash.
nlohmann::json key_json(const access::ApiKeyRecord& record);
// The 201 answer of POST /v1/keys: {"id", "key", "consumer", "contact", "metadata",
// "prefix", "rate", "quota", "preview", "created_at"} — the only time the key is shown.
nlohmann::json created_key_json(const access::ApiKeyRecord& record, std::string_view key);

}  // namespace glidepath::admin
