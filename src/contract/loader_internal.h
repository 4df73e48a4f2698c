// Internal to the contract loader: the Loader, the state of one load_document() call.
// Its member functions are spread over one file per concern:
//   loader.cpp        reading files, errors and budgets, scalars, the public functions
//   document.cpp      the document: version, info, security, paths, operations,
//                     parameters, content, responses
//   swagger2.cpp      Swagger 2.0 in the OpenAPI 3 model (body and form parameters,
//                     collectionFormat, basePath, consumes / produces)
//   refs.cpp          $ref resolution, other files, Cursor
//   schemas.cpp       schemas, phase 1: every schema node gets a slot, filled from a queue
//   schema_merge.cpp  schemas, phase 2: null alternatives, allOf merges, nullable
//   canonical.cpp     the canonical JSON text of enum / const / default values
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "contract/ascii.h"
#include "contract/loader.h"
#include "contract/model.h"
#include "contract/refs.h"
#include "core/result.h"
#include "yaml/untrusted.h"

namespace glidepath::contract::detail {

// Thrown inside the loader only; load_document() turns it into a core::Error.
struct LoadFailure {
  std::string message;
};

// Per-schema state of the loader, beside Document::schemas.
struct SchemaWork {
  enum class Stage : std::uint8_t { raw, finishing, final };
  Stage stage = Stage::raw;
  std::vector<SchemaRef> all_of;  // parts still to merge
  bool nullable = false;          // 3.0 nullable / x-nullable / a null alternative
};

// The whole file, or why not ("cannot read: ...", "larger than N bytes").
core::Result<std::string> read_whole_file(const std::filesystem::path& path, std::size_t max_bytes);

class Loader {
 public:
  explicit Loader(const LoadOptions& options) : options_(options) {}

  Document run(std::string_view text, const std::filesystem::path& path);

 private:
  // loader.cpp: errors and budgets.
  std::string where(const Cursor& cursor) const;
  [[noreturn]] void fail(const Cursor& cursor, std::string_view message) const;
  void tick(const Cursor& cursor);
  YAML::Node parse(std::string_view text, const std::string& name);

  // loader.cpp: scalars.
  std::string string_of(const Cursor& cursor) const;
  std::optional<std::string> string_field(const Cursor& cursor, std::string_view key) const;
  bool bool_of(const Cursor& cursor) const;
  bool bool_field(const Cursor& cursor, std::string_view key, bool fallback = false) const;
  double number_of(const Cursor& cursor) const;
  std::uint64_t count_of(const Cursor& cursor) const;

  // canonical.cpp
  std::string canonical_json(const Cursor& cursor);
  void append_json(const Cursor& cursor, const YAML::Node& node, int depth, std::string& out);

  // refs.cpp
  static bool is_ref(const YAML::Node& node) { return yaml::child(node, "$ref").has_value(); }
  Cursor follow(const Cursor& cursor);
  std::optional<YAML::Node> indexed_child(const Cursor& map, const std::string& key);
  Cursor resolve(Cursor cursor);
  std::size_t load_source(const Cursor& from, const std::string& file);

  // document.cpp
  void read_version(const Cursor& root);
  bool swagger() const { return document_.source == SourceKind::swagger2; }
  void read_info(const Cursor& root);
  std::optional<std::vector<std::string>> media_list(const Cursor& cursor, std::string_view key);
  static std::string media_key(std::string_view media);
  void read_security_schemes(const Cursor& root);
  std::vector<SecurityRequirement> read_security(const Cursor& cursor);
  void read_paths(const Cursor& paths);
  std::vector<Cursor> parameter_cursors(const Cursor& owner);
  static bool same_parameter(const std::string& in_a, const std::string& name_a,
                             const std::string& in_b, const std::string& name_b);
  void read_operation(const std::string& path, const std::string& key, const Cursor& cursor,
                      const std::vector<Cursor>& shared);
  std::optional<Parameter> read_parameter(const Cursor& cursor);
  Content read_content(const Cursor& owner);
  Response read_response(const Cursor& cursor, const std::vector<std::string>& produces);

  // swagger2.cpp
  void read_swagger_info(const Cursor& root);
  void read_swagger_parameter(const Cursor& cursor, Parameter& parameter);
  void read_swagger_body(const Cursor& parameter, const std::vector<std::string>& consumes,
                         Operation& operation);
  void read_swagger_form(const Cursor& operation_cursor, const std::vector<Cursor>& fields,
                         const std::vector<std::string>& consumes, Operation& operation);
  SchemaRef lifted_schema(const Cursor& cursor);

  // schemas.cpp
  SchemaRef allocate(const Cursor& cursor);
  std::string ref_name_of(const Cursor& target) const;
  static bool has_siblings(const YAML::Node& node);
  SchemaRef schema_at(const Cursor& cursor, const std::string& ref_name);
  SchemaRef schema_ref(const Cursor& cursor);
  void add_type(const Cursor& cursor, Schema& schema, std::string_view name);
  std::vector<SchemaRef> schema_list(const Cursor& cursor);
  std::optional<Bound> read_bound(const Cursor& cursor, std::string_view key,
                                  std::string_view exclusive_key, bool is_min);
  void fill_schema(SchemaRef ref, const Cursor& cursor);

  // schema_merge.cpp
  static void tighten_min(std::optional<Bound>& bound, const Bound& other);
  static void tighten_max(std::optional<Bound>& bound, const Bound& other);
  bool is_only_null(SchemaRef ref) const;
  void fold_null_alternative(std::uint32_t index);
  void finish_schema(std::uint32_t index, int depth);
  void note(std::uint32_t index, std::string text);
  SchemaRef merged_pair(SchemaRef a, SchemaRef b, int depth, std::uint32_t owner);
  void merge_into(std::uint32_t into_index, std::uint32_t from_index, int depth);

  const LoadOptions& options_;
  std::vector<Source> sources_;
  Document document_;
  std::vector<SchemaWork> work_;
  std::map<std::pair<std::size_t, std::string>, SchemaRef> schema_at_;
  std::map<std::pair<std::uint32_t, std::uint32_t>, SchemaRef> merged_;
  std::map<std::pair<std::size_t, std::string>, std::unordered_map<std::string, YAML::Node>>
      map_index_;
  std::deque<std::pair<SchemaRef, Cursor>> queue_;
  std::vector<SecurityRequirement> document_security_;
  std::optional<std::vector<std::string>> global_consumes_;
  std::optional<std::vector<std::string>> global_produces_;
  std::size_t elements_ = 0;
};

}  // namespace glidepath::contract::detail
