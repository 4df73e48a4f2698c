// The records of API keys and their usage (SPEC section 5), as the access module means
// them. The store keeps them (store/store.h includes this header, never the other way
// round); the gateway's key table is built from them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/clock.h"

namespace glidepath::access {

// An API key. The key itself is never stored, only its hash.
struct ApiKeyRecord {
  std::string id;
  std::string consumer;
  std::string contact;
  std::map<std::string, std::string> metadata;
  std::string key_hash;              // lowercase hex of SHA-256 of the key, computed by the caller
  std::string key_prefix;            // the key's first characters, for display
  std::optional<std::string> rate;   // "100/s"
  std::optional<std::string> quota;  // "100000/day"
  bool preview = false;              // may pin a version with X-Glidepath-Version
  core::TimePoint created_at{};
  std::optional<core::TimePoint> revoked_at;
  bool revoked() const { return revoked_at.has_value(); }
  friend bool operator==(const ApiKeyRecord&, const ApiKeyRecord&) = default;
};

// Requests of one consumer × service × operation × version × status class in one minute.
struct UsageBucket {
  std::string consumer;
  std::string service;
  std::string operation;  // "GET /orders/{id}"
  std::string version;
  std::string status_class;  // "2xx", "3xx", "4xx", "5xx"
  int64_t minute = 0;        // epoch seconds of the minute's start
  uint64_t count = 0;
  core::TimePoint first_seen{};
  core::TimePoint last_seen{};
  friend bool operator==(const UsageBucket&, const UsageBucket&) = default;
};

}  // namespace glidepath::access
