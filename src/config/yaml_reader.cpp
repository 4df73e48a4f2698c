#include "config/yaml_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "core/text.h"

namespace glidepath::config::detail {
namespace {

// For messages: long or odd values are cut so an error line stays one line.
std::string quoted(std::string_view text) {
  constexpr size_t kMax = 60;
  std::string out;
  out.reserve(std::min(text.size(), kMax) + 5);
  out += '\'';
  for (size_t i = 0; i < text.size() && i < kMax; ++i) {
    const char c = text[i];
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  if (text.size() > kMax) out += "...";
  out += '\'';
  return out;
}

std::optional<int64_t> parse_int64(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A did-you-mean, skipped for words far longer than any key or value we know (the edit
// distance costs their product, and no typo of a short word is that long).
std::optional<std::string> suggest(std::string_view word,
                                   const std::vector<std::string_view>& candidates) {
  if (word.size() > 40) return std::nullopt;
  return core::closest_match(word, candidates);
}

std::string join(std::initializer_list<std::string_view> names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

}  // namespace

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

std::optional<double> parse_number(std::string_view text) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

int line_of(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : 0;
}

std::string describe_node(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return quoted(node.Scalar());
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing (null)";
}

std::string child_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string out;
  out.reserve(parent.size() + 1 + key.size());
  out += parent;
  out += '.';
  out += key;
  return out;
}

std::string index_path(std::string_view parent, size_t index) {
  return fmt::format("{}[{}]", parent, index);
}

// ---------------------------------------------------------------------------------------
// Diagnostics

void Diagnostics::error(std::string path, int line, std::string message, bool always) {
  if (always) {
    errors_.push_back({std::move(path), std::move(message), line});
    return;
  }
  if (truncated_) return;
  if (errors_.size() >= kMaxErrors) {
    truncated_ = true;
    errors_.push_back({"", fmt::format("too many errors; stopped after {}", kMaxErrors), 0});
    return;
  }
  errors_.push_back({std::move(path), std::move(message), line});
}

void Diagnostics::warning(std::string path, int line, std::string message) {
  if (warnings_.size() < kMaxErrors)
    warnings_.push_back({std::move(path), std::move(message), line});
}

std::vector<ConfigError> Diagnostics::take_errors() {
  // Document order; errors without a line (cross-checks, missing sections) go last. The
  // "too many errors" note stays last since it has no line either.
  std::stable_sort(errors_.begin(), errors_.end(), [](const ConfigError& a, const ConfigError& b) {
    const int la = a.line == 0 ? std::numeric_limits<int>::max() : a.line;
    const int lb = b.line == 0 ? std::numeric_limits<int>::max() : b.line;
    return la < lb;
  });
  return std::move(errors_);
}

// ---------------------------------------------------------------------------------------
// Reader

void Reader::error(const std::string& path, const YAML::Node& at, std::string message) {
  diag_.error(path, line_of(at), std::move(message));
}

void Reader::error(const std::string& path, int line, std::string message) {
  diag_.error(path, line, std::move(message));
}

void Reader::warning(const std::string& path, const YAML::Node& at, std::string message) {
  diag_.warning(path, line_of(at), std::move(message));
}

bool Reader::visit(const YAML::Node& at) {
  if (exhausted_) return false;
  if (++visited_ > kMaxVisitedNodes) {
    exhausted_ = true;
    diag_.error("", line_of(at),
                fmt::format("the document expands to more than {} values (through aliases?); "
                            "stopped reading",
                            kMaxVisitedNodes),
                /*always=*/true);
    return false;
  }
  return true;
}

std::optional<std::string> Reader::string(const YAML::Node& node, const std::string& path,
                                          std::string_view what) {
  if (!visit(node)) return std::nullopt;
  if (!node.IsScalar()) {
    error(path, node, fmt::format("expected {}, got {}", what, describe_node(node)));
    return std::nullopt;
  }
  auto expanded = expand_env(node.Scalar(), env_);
  if (!expanded) {
    error(path, node, expanded.error().message);
    return std::nullopt;
  }
  return std::move(*expanded);
}

std::optional<std::string> Reader::non_empty_string(const YAML::Node& node,
                                                    const std::string& path) {
  auto text = string(node, path);
  if (text && trim(*text).empty()) {
    error(path, node, "must not be empty");
    return std::nullopt;
  }
  return text;
}

std::optional<int64_t> Reader::integer(const YAML::Node& node, const std::string& path, int64_t min,
                                       int64_t max) {
  auto text = string(node, path, "an integer");
  if (!text) return std::nullopt;
  const auto value = parse_int64(*text);
  if (!value) {
    error(path, node, fmt::format("expected an integer, got {}", quoted(*text)));
    return std::nullopt;
  }
  if (*value < min || *value > max) {
    if (max == std::numeric_limits<int64_t>::max()) {
      error(path, node, fmt::format("must be at least {}, got {}", min, *value));
    } else {
      error(path, node, fmt::format("must be between {} and {}, got {}", min, max, *value));
    }
    return std::nullopt;
  }
  return value;
}

std::optional<uint64_t> Reader::byte_size(const YAML::Node& node, const std::string& path,
                                          uint64_t min) {
  auto text = string(node, path, "a size in bytes");
  if (!text) return std::nullopt;
  std::string_view rest = trim(*text);
  uint64_t count = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), count);
  const bool has_number = ec == std::errc() && end != rest.data();
  if (has_number) rest.remove_prefix(static_cast<size_t>(end - rest.data()));
  rest = trim(rest);
  static constexpr std::pair<std::string_view, uint64_t> kUnits[] = {
      {"", 1},
      {"B", 1},
      {"KB", 1000},
      {"KiB", 1024},
      {"MB", 1000'000},
      {"MiB", 1024 * 1024},
      {"GB", 1000'000'000},
      {"GiB", 1024ULL * 1024 * 1024},
  };
  uint64_t multiplier = 0;
  for (const auto& [unit, factor] : kUnits) {
    if (rest == unit) multiplier = factor;
  }
  if (!has_number || multiplier == 0) {
    error(path, node,
          fmt::format("expected a size in bytes (16384, 16KiB, 10MiB), got {}", quoted(*text)));
    return std::nullopt;
  }
  if (count > std::numeric_limits<uint64_t>::max() / multiplier) {
    error(path, node, fmt::format("too large: {}", quoted(*text)));
    return std::nullopt;
  }
  const uint64_t bytes = count * multiplier;
  if (bytes < min) {
    error(path, node, fmt::format("must be at least {} bytes, got {}", min, bytes));
    return std::nullopt;
  }
  return bytes;
}

std::optional<bool> Reader::boolean(const YAML::Node& node, const std::string& path) {
  auto text = string(node, path, "true or false");
  if (!text) return std::nullopt;
  std::string lower(trim(*text));
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  if (lower == "true" || lower == "yes" || lower == "on") return true;
  if (lower == "false" || lower == "no" || lower == "off") return false;
  error(path, node, fmt::format("expected true or false, got {}", quoted(*text)));
  return std::nullopt;
}

std::optional<double> Reader::number(const YAML::Node& node, const std::string& path) {
  auto text = string(node, path, "a number");
  if (!text) return std::nullopt;
  const auto value = parse_number(*text);
  if (!value) {
    error(path, node, fmt::format("expected a number, got {}", quoted(*text)));
    return std::nullopt;
  }
  return value;
}

std::optional<int> Reader::percent(const YAML::Node& node, const std::string& path) {
  auto text = string(node, path, "a percentage (0..100)");
  if (!text) return std::nullopt;
  std::string_view digits = trim(*text);
  if (!digits.empty() && digits.back() == '%') digits = trim(digits.substr(0, digits.size() - 1));
  const auto value = parse_int64(digits);
  if (!value) {
    error(path, node,
          fmt::format("expected a whole percentage like 10 or 10%, got {}", quoted(*text)));
    return std::nullopt;
  }
  if (*value < 0 || *value > 100) {
    error(path, node, fmt::format("must be between 0 and 100 percent, got {}%", *value));
    return std::nullopt;
  }
  return static_cast<int>(*value);
}

std::optional<core::Duration> Reader::duration(const YAML::Node& node, const std::string& path) {
  auto text = string(node, path, "a duration (250ms, 30s, 5m)");
  if (!text) return std::nullopt;
  auto parsed = core::parse_duration(*text);
  if (!parsed) {
    error(path, node, parsed.error().message);
    return std::nullopt;
  }
  return *parsed;
}

std::optional<core::HostPort> Reader::host_port(const YAML::Node& node, const std::string& path,
                                                bool allow_port_zero) {
  auto text = string(node, path, "host:port");
  if (!text) return std::nullopt;
  auto parsed = core::parse_host_port(*text, allow_port_zero);
  if (!parsed) {
    error(path, node, parsed.error().message);
    return std::nullopt;
  }
  return std::move(*parsed);
}

std::optional<size_t> Reader::choice(const YAML::Node& node, const std::string& path,
                                     std::initializer_list<std::string_view> names) {
  auto text = string(node, path, fmt::format("one of {}", join(names)));
  if (!text) return std::nullopt;
  const std::string_view value = trim(*text);
  size_t index = 0;
  for (std::string_view name : names) {
    if (value == name) return index;
    ++index;
  }
  std::string message = fmt::format("must be one of {}; got {}", join(names), quoted(value));
  const std::vector<std::string_view> candidates(names);
  if (auto suggestion = suggest(value, candidates)) {
    message += fmt::format(" (did you mean '{}'?)", *suggestion);
  }
  error(path, node, std::move(message));
  return std::nullopt;
}

std::optional<std::vector<YAML::Node>> Reader::list(const YAML::Node& node,
                                                    const std::string& path) {
  if (!visit(node)) return std::nullopt;
  if (!node.IsSequence()) {
    error(path, node, fmt::format("expected a list, got {}", describe_node(node)));
    return std::nullopt;
  }
  std::vector<YAML::Node> items;
  for (const YAML::Node& item : node) {
    if (!visit(item)) return std::nullopt;
    items.push_back(item);
  }
  return items;
}

// ---------------------------------------------------------------------------------------
// MapView

MapView::MapView(Reader& reader, const YAML::Node& node, std::string path,
                 std::initializer_list<std::string_view> known) {
  read(reader, node, std::move(path), known, /*any_key=*/false);
}

MapView MapView::any_keys(Reader& reader, const YAML::Node& node, std::string path) {
  MapView view;
  view.read(reader, node, std::move(path), {}, /*any_key=*/true);
  return view;
}

void MapView::read(Reader& reader, const YAML::Node& node, std::string path,
                   std::initializer_list<std::string_view> known, bool any_key) {
  path_ = std::move(path);
  line_ = line_of(node);
  if (!reader.visit(node)) return;
  if (!node.IsMap()) {
    reader.error(path_, node, fmt::format("expected a mapping, got {}", describe_node(node)));
    return;
  }
  valid_ = true;
  collect(reader, node, /*merged=*/false, 0, known, any_key);
}

void MapView::collect(Reader& reader, const YAML::Node& node, bool merged, int merge_depth,
                      std::initializer_list<std::string_view> known, bool any_key) {
  // Explicit keys first, then `<<` merges, so that explicit keys win wherever the merge
  // key is written (YAML merge key type, yaml.org/type/merge.html).
  std::vector<YAML::Node> merges;
  std::unordered_set<std::string> seen;  // keys set by this or an outer mapping
  for (const Entry& e : entries_)
    seen.insert(e.key);
  std::unordered_set<std::string> explicit_keys;  // this mapping's own, for duplicates
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    if (!reader.visit(key)) return;
    if (!key.IsScalar()) {
      if (!merged) {
        reader.error(path_, key,
                     fmt::format("keys must be plain names, got {}", describe_node(key)));
      }
      continue;
    }
    const std::string& name = key.Scalar();
    if (name == "<<" && key.Tag() != "!") {  // a quoted "<<" is an ordinary key
      merges.push_back(value);
      continue;
    }
    if (!explicit_keys.insert(name).second) {
      if (!merged) reader.error(child_path(path_, name), key, "duplicate key");
      continue;
    }
    if (seen.count(name) != 0) continue;  // merged: an explicit key already set it
    const bool allowed = any_key || std::find(known.begin(), known.end(), name) != known.end();
    if (!allowed) {
      std::string message = "unknown key";
      if (auto suggestion = suggest(name, std::vector<std::string_view>(known))) {
        message += fmt::format("; did you mean '{}'?", *suggestion);
        suggested_.push_back(std::move(*suggestion));
      } else {
        message += fmt::format(" (expected one of {})", join(known));
      }
      reader.error(child_path(path_, name), key, std::move(message));
      continue;
    }
    entries_.push_back({name, value});
    seen.insert(name);
  }
  constexpr int kMaxMergeDepth = 8;
  for (const YAML::Node& source : merges) {
    if (merge_depth >= kMaxMergeDepth) {
      reader.error(child_path(path_, "<<"), source, "merge keys nested too deeply");
      return;
    }
    if (source.IsMap()) {
      collect(reader, source, /*merged=*/true, merge_depth + 1, known, any_key);
    } else if (source.IsSequence()) {
      for (const YAML::Node& item : source) {
        if (!reader.visit(item)) return;
        if (item.IsMap()) {
          collect(reader, item, /*merged=*/true, merge_depth + 1, known, any_key);
        } else {
          reader.error(child_path(path_, "<<"), item,
                       fmt::format("a merge key takes mappings, got {}", describe_node(item)));
        }
      }
    } else {
      reader.error(child_path(path_, "<<"), source,
                   fmt::format("a merge key takes a mapping or a list of mappings, got {}",
                               describe_node(source)));
    }
  }
}

std::optional<YAML::Node> MapView::get(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key == key) {
      if (e.value.IsNull()) return std::nullopt;
      return e.value;
    }
  }
  return std::nullopt;
}

bool MapView::misspelt(std::string_view key) const {
  return std::find(suggested_.begin(), suggested_.end(), key) != suggested_.end();
}

bool MapView::has(std::string_view key) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const Entry& e) { return e.key == key; });
}

}  // namespace glidepath::config::detail
