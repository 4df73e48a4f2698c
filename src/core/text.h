// Small text helpers for messages people read: did-you-mean suggestions.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace glidepath::core {

// Service and version names travel in URLs (/v1/services/{s}), the X-Glidepath-Version
// header and Prometheus labels, so the config file and the admin API keep them to one
// safe alphabet: 1-64 of [A-Za-z0-9._-], starting with a letter or digit.
inline constexpr size_t kMaxNameLength = 64;
bool is_valid_name(std::string_view name);

// Levenshtein distance (insert, delete, substitute), case-sensitive.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, if it is close enough to be a likely typo: within a
// third of the word's length (at least 1, at most 3 edits).
std::optional<std::string> closest_match(std::string_view word,
                                         std::span<const std::string_view> candidates);

// The name among `candidates` that `typed` is most likely a typo of, for "did you mean":
// closest_match's rule (the fewest edits, within a third of the typed length; the first
// of equals), never `typed` itself, and nullopt when nothing is that close.
std::optional<std::string> nearest_name(std::span<const std::string> candidates,
                                        std::string_view typed);

}  // namespace glidepath::core
