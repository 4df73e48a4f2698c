// Internal to the diff (contract/diff.h): the rule catalogue, checked at compile time, and
// the Differ, the state of one diff() call. Its member functions are spread by rule family:
//   diff.cpp             the walk over operations, reporting, the public functions
//   diff_operations.cpp  operations added, removed, deprecated; security
//   diff_parameters.cpp  parameters
//   diff_bodies.cpp      request bodies and responses (media types, statuses, headers)
//   diff_schemas.cpp     the schema walk: properties, items, oneOf/anyOf alternatives
//   diff_values.cpp      what one schema admits: type, format, null, enum, limits
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "contract/ascii.h"
#include "contract/diff.h"
#include "contract/model.h"

namespace glidepath::contract::detail {

// The catalogue, from rules.inc (its only includer).
inline constexpr std::array kRules = {
#define RULE(id, level, summary) RuleInfo{id, Level::level, summary},
#include "contract/rules.inc"
#undef RULE
};

// A rule id checked against the catalogue at compile time, with its default level: a typo
// in an id is a build error, not a silently undocumented rule.
struct Rule {
  std::string_view id;
  Level level;
};
consteval Rule rule(std::string_view id) {
  for (const RuleInfo& info : kRules) {
    if (info.id == id) return Rule{info.id, info.level};
  }
  throw "unknown rule id: add it to contract/rules.inc";
}

enum class Direction { request, response };

// Shared by the rule families (defined in diff.cpp).
std::string join(const std::vector<std::string>& items, std::string_view separator);
// Whether a client that sends a value of every type in `inner` is accepted by `outer`
// (JSON Schema: every integer is a number).
bool covers(TypeSet outer, TypeSet inner);
TypeSet without_null(TypeSet types);

class Differ {
 public:
  Differ(const Document& base, const Document& revision, const DiffOptions& options)
      : base_(base), revision_(revision), options_(options) {}

  DiffReport run();

 private:
  // The place a schema walk starts from: its direction, whether parameter rule ids apply,
  // and the location every change under it shares (the property path is filled in).
  struct Walk {
    Direction direction = Direction::request;
    bool parameter = false;
    Location location;
  };

  // diff.cpp: reporting.
  void add(Rule rule_id, Level level, Location location, std::string message);
  void add(Rule rule_id, Location location, std::string message);
  Location at_property(const std::string& path) const;
  std::string subject(const std::string& path) const;

  // diff_operations.cpp
  void enter(const Operation& operation);
  static Location section(std::string name);
  void operation_removed(const Operation& operation);
  void operation_added(const Operation& operation);
  void compare_operation(const Operation& base, const Operation& revision);
  void compare_security(const Operation& base, const Operation& revision);

  // diff_parameters.cpp
  static Location parameter_location(const Parameter& parameter);
  void compare_parameters(const Operation& base, const Operation& revision);
  void compare_parameter(const Parameter& base, const Parameter& revision);
  void compare_described(SchemaRef base_schema, const Content& base_content,
                         SchemaRef revision_schema, const Content& revision_content);
  static SchemaRef single_schema(SchemaRef schema, const Content& content);

  // diff_bodies.cpp
  static const std::pair<const std::string, SchemaRef>* matching_media(const Content& content,
                                                                       const std::string& media,
                                                                       bool ranges);
  void compare_request_body(const Operation& base, const Operation& revision);
  void compare_responses(const Operation& base, const Operation& revision);
  void compare_response(const Location& location, const Response& base, const Response& revision);

  // diff_schemas.cpp
  bool same(SchemaRef b, SchemaRef r);
  static std::uint64_t pair_key(SchemaRef b, SchemaRef r);
  bool equivalent_pair(SchemaRef b, SchemaRef r);
  bool alternatives_alike(SchemaRef b, SchemaRef r, std::set<std::uint64_t>& seen);
  static const std::string& ref_name(const Document& document, SchemaRef ref);
  bool request() const { return walk_.direction == Direction::request; }
  void compare_schema(SchemaRef b, SchemaRef r, const std::string& path);
  TypeSet effective_types(const Document& document, const Schema& schema, int depth) const;
  TypeSet effective_types(const Document& document, const Schema& schema, int depth,
                          int& budget) const;
  static bool has_own_shape(const Schema& schema);
  void compare_fields(const Schema& b, const Schema& r, const std::string& path);
  const Schema* property_schema(const Document& document, const Schema& object,
                                const std::string& name) const;
  void compare_properties(const Schema& b, const Schema& r, const std::string& path);
  void compare_request_property(const Schema& b, const Schema& r, const std::string& name,
                                const std::string& child, bool in_base, bool in_revision,
                                const Schema* before, const Schema* after);
  void compare_response_property(const Schema& b, const Schema& r, const std::string& name,
                                 const std::string& child, bool in_base, bool in_revision,
                                 const Schema* before, const Schema* after);
  static SchemaRef property_ref(const Schema& object, const std::string& name);
  std::string alternative_name(const Document& document, SchemaRef ref, std::size_t index) const;
  void compare_alternatives(const std::vector<SchemaRef>& before,
                            const std::vector<SchemaRef>& after, std::string_view keyword,
                            const std::string& path);

  // diff_values.cpp
  bool compare_types(const Schema& b, const Schema& r, const std::string& path);
  void compare_format(const Schema& b, const Schema& r, const std::string& path);
  void compare_nullable(const Schema& b, const Schema& r, const std::string& path);
  void compare_enum(const Schema& b, const Schema& r, const std::string& path);
  void compare_constraints(const Schema& b, const Schema& r, const std::string& path);

  const Document& base_;
  const Document& revision_;
  const DiffOptions& options_;
  std::vector<Change> changes_;
  std::string method_;
  std::string path_;
  Walk walk_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> stack_;
  std::size_t visits_ = 0;
  std::unordered_map<std::uint64_t, bool> equivalent_;
  std::unordered_map<std::uint64_t, bool> same_;
};

}  // namespace glidepath::contract::detail
