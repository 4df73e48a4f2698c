// The owner's validation hooks (SPEC section 2, `hooks`) as plain values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"

namespace glidepath::deploy {

enum class HookKind { pre_traffic, post_traffic, on_event };

struct HookSpec {
  // Exactly one of the two is set: an HTTP endpoint to POST to, or an argv to run.
  std::string http;
  std::vector<std::string> command;
  core::Duration timeout = std::chrono::seconds(60);
  // For an https:// endpoint signed by a private CA: a PEM file of the CAs to trust
  // instead of the system's, and a client certificate (with its key, when that is not in
  // the same file) to present. Paths; empty when unused.
  std::string ca_file{};
  std::string client_cert{};
  std::string client_key{};
  bool empty() const { return http.empty() && command.empty(); }
  friend bool operator==(const HookSpec&, const HookSpec&) = default;
};

struct Hooks {
  std::optional<HookSpec> pre_traffic;
  std::optional<HookSpec> post_traffic;
  std::optional<HookSpec> on_event;  // notification only: never blocks a deployment
  friend bool operator==(const Hooks&, const Hooks&) = default;
};

const char* to_string(HookKind k);

// Exactly one of http and command; http is an http:// or https:// URL; a positive timeout;
// ca_file, client_cert and client_key only with an https:// URL, client_key only with
// client_cert.
// Returns the problems as "field: message" lines (empty when valid).
std::vector<std::string> validate_hook_spec(const HookSpec& hook);
std::optional<HookKind> hook_kind_from_string(std::string_view s);

}  // namespace glidepath::deploy
