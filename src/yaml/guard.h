// The one guard in front of yaml-cpp, for every YAML text that may be hostile: the config
// file (src/config/loader.cpp) and OpenAPI documents (yaml/untrusted.h). Each caller gives
// its own limits.
//
// yaml-cpp's parser recurses once per nesting level, and some malformed input makes it
// produce documents without end (fuzz_config found ",- services\n-'mname[*'m"). So a first
// pass through the event parser builds nothing: it stops past a nesting depth and past
// more events than the text could hold (an event needs at least a byte or two of text),
// and finds a second, non-empty document. Only then does YAML::Load build the tree.
// Aliases are one event each and yaml-cpp shares the anchored node rather than copying it,
// so a "billion laughs" document costs no more than its text.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace glidepath::yaml {

struct GuardLimits {
  // Collections inside collections, at most: "nested more than N levels deep" past it.
  int max_depth = 0;
  // The event budget: this many parse events per byte of text, plus 64.
  std::size_t events_per_byte = 4;
  // Also refuse, before any parsing, when a scan of the text estimates more than
  // max_depth levels. The scan over-estimates (two levels per indentation), so this is
  // stricter than the parse; the config file asks for it.
  bool estimate_from_text = false;
};

struct GuardError {
  int line = 0;  // 1-based; 0 when unknown
  std::string message;
};

struct Guarded {
  YAML::Node root;                  // the first document; null when the text holds none
  std::optional<GuardError> error;  // when set, root is not
};

// Reads the one document in `text` within `limits`. Trailing empty documents ("---",
// "...") are allowed, a second document with content is an error. Throws nothing of
// yaml-cpp's; std::exception (bad_alloc) passes through.
Guarded load_guarded(std::string_view text, const GuardLimits& limits);

}  // namespace glidepath::yaml
