// What a consumer's key record may say (SPEC section 5): its consumer's name, its
// contact and its metadata. One set of rules that the admin API applies to POST /v1/keys
// and the CLI to `keys create` before it sends anything. Every mistake is an error whose
// message starts with the field's name ("contact: ..."); none quotes a secret back.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"
#include "core/units.h"

namespace glidepath::access {

// Limits on what a key record carries: enough for a team name, an on-call address and a
// few labels, small enough that the key list stays a small answer.
inline constexpr size_t kMaxContactLength = 256;
inline constexpr size_t kMaxMetadataEntries = 64;
inline constexpr size_t kMaxMetadataKeyLength = 64;
inline constexpr size_t kMaxMetadataValueLength = 1024;

// A consumer that a key may name: a valid name (core::is_valid_name) other than
// "anonymous", in any case, which reports use for requests without a key.
core::Result<void> check_consumer_name(std::string_view consumer);
// An e-mail address (local@domain.tld) or an http(s) URL with a host, at most
// kMaxContactLength bytes, without spaces or control characters.
core::Result<void> check_contact(std::string_view contact);
// One metadata entry: a key of 1..kMaxMetadataKeyLength and a value of at most
// kMaxMetadataValueLength bytes, neither with control characters.
core::Result<void> check_metadata_entry(std::string_view key, std::string_view value);

// The window of a usage report (`consumers --since`, GET /v1/consumers?since=): `since`
// is a duration back from now ("7d", "36h"; empty means kDefaultReportWindow), at most
// kMaxReportWindow. Returns the start of the minute that holds now - since, the first
// minute the report counts (buckets are per minute).
inline constexpr std::string_view kDefaultReportWindow = "7d";
inline constexpr core::Duration kMaxReportWindow = std::chrono::hours(24 * 400);
core::Result<core::TimePoint> report_window_start(std::string_view since, core::TimePoint now);

}  // namespace glidepath::access
