// Internal to the config module: typed reads out of a yaml-cpp node tree that report
// every problem with its path and line instead of throwing. The loader describes the
// schema with these; nothing outside src/config includes this header (it pulls in
// yaml-cpp).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "config/loader.h"
#include "core/clock.h"
#include "core/units.h"

namespace glidepath::config::detail {

// 1-based line of a node, 0 when yaml-cpp does not know it.
int line_of(const YAML::Node& node);
// "a mapping", "a list", "null", "'text'": what was found, for "expected X, got Y".
std::string describe_node(const YAML::Node& node);

std::string_view trim(std::string_view text);  // spaces and tabs
// A finite decimal number, the whole text ("0.05", "-1e3"); nullopt otherwise.
std::optional<double> parse_number(std::string_view text);

std::string child_path(std::string_view parent, std::string_view key);
std::string index_path(std::string_view parent, size_t index);

// Where errors and warnings collect; stops at kMaxErrors with one final note.
class Diagnostics {
 public:
  // `always` records the error even past the cap (the budget note must not be lost).
  void error(std::string path, int line, std::string message, bool always = false);
  void warning(std::string path, int line, std::string message);
  bool has_errors() const { return !errors_.empty(); }
  std::vector<ConfigError> take_errors();
  std::vector<ConfigError> take_warnings() { return std::move(warnings_); }

 private:
  std::vector<ConfigError> errors_;
  std::vector<ConfigError> warnings_;
  bool truncated_ = false;
};

// One document's reading context: the environment for ${VAR}, the diagnostics, and a
// budget of visited nodes. Aliases let a small document name the same subtree many times
// (`[*a, *a, *a]` nested), so walking it could take exponential time; past the budget
// the reader reports once and every further read comes back empty.
class Reader {
 public:
  static constexpr size_t kMaxVisitedNodes = 100'000;

  Reader(const EnvLookup& env, Diagnostics& diagnostics) : env_(env), diag_(diagnostics) {}

  void error(const std::string& path, const YAML::Node& at, std::string message);
  void error(const std::string& path, int line, std::string message);
  void warning(const std::string& path, const YAML::Node& at, std::string message);
  // Counts one visited node; false once the budget is spent (reported once).
  bool visit(const YAML::Node& at);
  bool exhausted() const { return exhausted_; }

  // A scalar, with ${VAR} expanded. `what` names the expected kind in the type error.
  std::optional<std::string> string(const YAML::Node& node, const std::string& path,
                                    std::string_view what = "a string");
  // Like string(), and also an error when the value is empty.
  std::optional<std::string> non_empty_string(const YAML::Node& node, const std::string& path);
  std::optional<int64_t> integer(const YAML::Node& node, const std::string& path, int64_t min,
                                 int64_t max);
  // A byte count: 16384, or with a unit: 16KiB, 10MiB, 1GB (KB = 1000, KiB = 1024).
  std::optional<uint64_t> byte_size(const YAML::Node& node, const std::string& path, uint64_t min);
  std::optional<bool> boolean(const YAML::Node& node, const std::string& path);
  std::optional<double> number(const YAML::Node& node, const std::string& path);
  // A whole percentage 0..100, written 10 or "10%".
  std::optional<int> percent(const YAML::Node& node, const std::string& path);
  std::optional<core::Duration> duration(const YAML::Node& node, const std::string& path);
  // `allow_port_zero` for listening addresses: port 0 picks a free port.
  std::optional<core::HostPort> host_port(const YAML::Node& node, const std::string& path,
                                          bool allow_port_zero = false);
  // One of `names`; the error lists them and suggests the closest.
  std::optional<size_t> choice(const YAML::Node& node, const std::string& path,
                               std::initializer_list<std::string_view> names);
  // The elements of a list (a type error otherwise).
  std::optional<std::vector<YAML::Node>> list(const YAML::Node& node, const std::string& path);

 private:
  const EnvLookup& env_;
  Diagnostics& diag_;
  size_t visited_ = 0;
  bool exhausted_ = false;
};

// A mapping with a fixed set of keys. Construction reports a non-mapping, every unknown
// key (with a did-you-mean over `known`), duplicate keys and non-scalar keys. YAML merge
// keys (`<<: *defaults`) are honoured: explicit keys override merged ones.
class MapView {
 public:
  MapView(Reader& reader, const YAML::Node& node, std::string path,
          std::initializer_list<std::string_view> known);
  // A mapping whose keys are data (the `traffic` split: version → percent): any key goes.
  static MapView any_keys(Reader& reader, const YAML::Node& node, std::string path);

  bool valid() const { return valid_; }  // it was a mapping
  // The value of `key` when present and not null (null means "use the default").
  std::optional<YAML::Node> get(std::string_view key) const;
  // Whether `key` was written at all, even as null.
  bool has(std::string_view key) const;
  // Whether an unknown key was reported with `key` as its did-you-mean: then "key is
  // required" would only repeat that error.
  bool misspelt(std::string_view key) const;
  std::string path(std::string_view key) const { return child_path(path_, key); }
  const std::string& path() const { return path_; }
  int line() const { return line_; }
  struct Entry {
    std::string key;
    YAML::Node value;  // may be null
  };
  // In the order written (merged keys last).
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  MapView() = default;
  void read(Reader& reader, const YAML::Node& node, std::string path,
            std::initializer_list<std::string_view> known, bool any_key);
  void collect(Reader& reader, const YAML::Node& node, bool merged, int merge_depth,
               std::initializer_list<std::string_view> known, bool any_key);

  std::string path_;
  int line_ = 0;
  bool valid_ = false;
  std::vector<Entry> entries_;
  std::vector<std::string> suggested_;  // did-you-means given for unknown keys
};

}  // namespace glidepath::config::detail
