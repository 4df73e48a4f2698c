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

// Exactly one of http and command; http is an http:// or https:// URL; a positive timeout.
// Returns the problems as "field: message" lines (empty when valid).
std::vector<std::string> validate_hook_spec(const HookSpec& hook);
std::optional<HookKind> hook_kind_from_string(std::string_view s);

}  // namespace glidepath::deploy
