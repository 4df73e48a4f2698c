#include "contract/loader.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <fstream>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "yaml/untrusted.h"

namespace glidepath::contract {
namespace {

using yaml::child;
using yaml::describe;

// Lower-case methods as OpenAPI writes them (3.1 4.8.9.1), in the order they are read.
constexpr std::array<std::string_view, 8> kMethods = {"get",     "put",  "post",  "delete",
                                                      "options", "head", "patch", "trace"};

// Elements visited (operations, parameters, media types, enum values, properties...).
// YAML aliases let a small text name the same big node many times; this bounds the work.
constexpr std::size_t kMaxElements = 4'000'000;
// allOf inside allOf, and merges of merged properties, deeper than this stop merging (with
// a note): real documents nest a handful of levels.
constexpr int kMaxMergeDepth = 64;
// Canonical JSON text of one enum / const / default value.
constexpr std::size_t kMaxValueBytes = 64 * 1024;
constexpr int kMaxValueDepth = 64;

// Thrown inside the loader only; load_document() turns it into a core::Error.
struct LoadFailure {
  std::string message;
};

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string ascii_upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

// RFC 6901 3: '~' -> "~0", '/' -> "~1".
std::string escape_token(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (const char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A $ref is a URI reference (OpenAPI 3.1 4.8.23): its fragment and path may be
// percent-encoded (RFC 3986 2.1). Malformed escapes are kept as written.
std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

// A plain scalar's value under the YAML 1.2 core schema; quoted scalars are strings.
enum class ScalarKind { null, boolean, number, string };

bool is_quoted(const YAML::Node& node) {
  return node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str";
}

bool parse_double(std::string_view text, double& value) {
  if (text.empty() || text.size() > 400) return false;
  const std::string copy(text);
  char* end = nullptr;
  errno = 0;
  value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || errno == ERANGE || !std::isfinite(value)) {
    return false;
  }
  // strtod also reads hex floats, "inf" and "nan": JSON numbers only.
  return copy.find_first_of("xXnN") == std::string::npos;
}

bool is_decimal_integer(std::string_view text) {
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) text.remove_prefix(1);
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

ScalarKind scalar_kind(const YAML::Node& node) {
  if (node.IsNull()) return ScalarKind::null;
  if (is_quoted(node)) return ScalarKind::string;
  const std::string& text = node.Scalar();
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return ScalarKind::null;
  }
  if (text == "true" || text == "True" || text == "TRUE" || text == "false" || text == "False" ||
      text == "FALSE") {
    return ScalarKind::boolean;
  }
  double ignored = 0;
  if (parse_double(text, ignored)) return ScalarKind::number;
  return ScalarKind::string;
}

// JSON numbers compare by value: 1, 1.0 and 1e0 are the same number.
std::string canonical_number(std::string_view text) {
  if (is_decimal_integer(text)) {
    bool negative = text[0] == '-';
    if (text[0] == '-' || text[0] == '+') text.remove_prefix(1);
    while (text.size() > 1 && text[0] == '0')
      text.remove_prefix(1);
    if (text == "0") negative = false;
    return (negative ? "-" : "") + std::string(text);
  }
  double value = 0;
  parse_double(text, value);
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
    return fmt::format("{}", static_cast<long long>(value));
  }
  return fmt::format("{}", value);
}

void append_json_string(std::string_view text, std::string& out) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

struct Cursor {
  std::size_t source = 0;  // index into Loader::sources_
  std::string pointer;     // JSON pointer within that source ("" is the root)
  YAML::Node node;
  int depth = 0;  // tokens in pointer

  Cursor(std::size_t source_index, std::string json_pointer, const YAML::Node& value)
      : source(source_index), pointer(std::move(json_pointer)), node(value) {}
  Cursor(const Cursor&) = default;
  // YAML::Node's assignment writes through to the tree it refers to; a Cursor must only
  // ever rebind, so assignment resets the node instead.
  Cursor& operator=(const Cursor& other) {
    if (this == &other) return *this;
    source = other.source;
    pointer = other.pointer;
    node.reset(other.node);
    depth = other.depth;
    return *this;
  }

  Cursor at(std::string_view key, const YAML::Node& value) const {
    return deeper(pointer + "/" + escape_token(key), value);
  }
  Cursor at(std::size_t index, const YAML::Node& value) const {
    return deeper(fmt::format("{}/{}", pointer, index), value);
  }

  // Real nesting is bounded by the YAML pre-pass; a deeper pointer can only come from an
  // alias that contains itself (yaml-cpp registers an anchor before its content).
  Cursor deeper(std::string child_pointer, const YAML::Node& value) const {
    Cursor next(source, std::move(child_pointer), value);
    next.depth = depth + 1;
    if (next.depth > yaml::kMaxNestingDepth) {
      throw LoadFailure{
          fmt::format("at #{}...: nested more than {} levels (a YAML alias that "
                      "contains itself?)",
                      pointer.substr(0, 200), yaml::kMaxNestingDepth)};
    }
    return next;
  }
  std::optional<Cursor> field(std::string_view key) const {
    auto value = child(node, key);
    if (!value) return std::nullopt;
    return at(key, *value);
  }
};

struct Source {
  std::string name;                // as shown in messages: "" for the main text
  std::filesystem::path path;      // empty for the main text
  std::filesystem::path base_dir;  // what its relative refs resolve against
  YAML::Node root;
};

// Per-schema state of the loader, beside Document::schemas.
struct SchemaWork {
  enum class Stage : std::uint8_t { raw, finishing, final };
  Stage stage = Stage::raw;
  std::vector<SchemaRef> all_of;  // parts still to merge
  bool nullable = false;          // 3.0 nullable / x-nullable / a null alternative
};

core::Result<std::string> read_whole_file(const std::filesystem::path& path,
                                          std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::fail(fmt::format("cannot read: {}", std::strerror(errno)));
  std::string text;
  std::array<char, 64 * 1024> chunk{};
  while (text.size() <= max_bytes && in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return core::fail(fmt::format("cannot read: {}", std::strerror(errno)));
  if (text.size() > max_bytes) {
    return core::fail(fmt::format("larger than {} bytes", max_bytes));
  }
  return text;
}

class Loader {
 public:
  explicit Loader(const LoadOptions& options) : options_(options) {}

  Document run(std::string_view text, const std::filesystem::path& path) {
    sources_.push_back(Source{path.empty() ? std::string() : path.string(), path, options_.base_dir,
                              parse(text, path.string())});
    const Cursor root{0, "", sources_[0].root};
    if (!root.node.IsMap())
      fail(root, fmt::format("expected a mapping, got {}", describe(root.node)));
    read_version(root);
    read_info(root);
    read_security_schemes(root);
    if (auto security = root.field("security")) document_security_ = read_security(*security);
    if (auto paths = root.field("paths")) read_paths(*paths);

    // Schemas are filled breadth-first from a queue, not by recursion: a chain of
    // thousands of $refs costs queue entries, not stack frames.
    while (!queue_.empty()) {
      const auto [ref, cursor] = std::move(queue_.front());
      queue_.pop_front();
      fill_schema(ref, cursor);
    }
    for (std::uint32_t i = 0; i < document_.schemas.size(); ++i)
      finish_schema(i, 0);

    std::sort(document_.operations.begin(), document_.operations.end(),
              [](const Operation& a, const Operation& b) { return a.key() < b.key(); });
    return std::move(document_);
  }

 private:
  // ---------------------------------------------------------------------------------------
  // Errors and budgets.

  std::string where(const Cursor& cursor) const {
    const Source& source = sources_.at(cursor.source);
    std::string text = fmt::format("{}#{}", source.name, cursor.pointer);
    const int line = yaml::line_of(cursor.node);
    if (line > 0) text += fmt::format(" (line {})", line);
    return text;
  }

  [[noreturn]] void fail(const Cursor& cursor, std::string_view message) const {
    throw LoadFailure{fmt::format("at {}: {}", where(cursor), message)};
  }

  void tick(const Cursor& cursor) {
    if (++elements_ > kMaxElements) {
      fail(cursor, fmt::format("the document expands to more than {} elements (YAML aliases?)",
                               kMaxElements));
    }
  }

  YAML::Node parse(std::string_view text, const std::string& name) {
    if (text.size() > options_.max_bytes) {
      throw LoadFailure{fmt::format("{}{}the document is larger than {} bytes", name,
                                    name.empty() ? "" : ": ", options_.max_bytes)};
    }
    auto node = yaml::parse_untrusted(text);
    if (!node) {
      throw LoadFailure{
          fmt::format("{}{}{}", name, name.empty() ? "" : ": ", node.error().message)};
    }
    return *node;
  }

  // ---------------------------------------------------------------------------------------
  // Scalars.

  std::string string_of(const Cursor& cursor) const {
    if (!cursor.node.IsScalar()) {
      fail(cursor, fmt::format("expected a string, got {}", describe(cursor.node)));
    }
    return cursor.node.Scalar();
  }

  std::optional<std::string> string_field(const Cursor& cursor, std::string_view key) const {
    auto value = cursor.field(key);
    if (!value || value->node.IsNull()) return std::nullopt;
    return string_of(*value);
  }

  bool bool_of(const Cursor& cursor) const {
    if (cursor.node.IsScalar()) {
      const std::string& text = cursor.node.Scalar();
      if (text == "true" || text == "True" || text == "TRUE") return true;
      if (text == "false" || text == "False" || text == "FALSE") return false;
    }
    fail(cursor, fmt::format("expected true or false, got {}", describe(cursor.node)));
  }

  bool bool_field(const Cursor& cursor, std::string_view key, bool fallback = false) const {
    auto value = cursor.field(key);
    if (!value || value->node.IsNull()) return fallback;
    return bool_of(*value);
  }

  double number_of(const Cursor& cursor) const {
    double value = 0;
    if (!cursor.node.IsScalar() || !parse_double(cursor.node.Scalar(), value)) {
      fail(cursor, fmt::format("expected a number, got {}", describe(cursor.node)));
    }
    return value;
  }

  std::uint64_t count_of(const Cursor& cursor) const {
    double value = -1;
    if (cursor.node.IsScalar() && parse_double(cursor.node.Scalar(), value) && value >= 0 &&
        value == std::floor(value) && value < 1.8e19) {
      return static_cast<std::uint64_t>(value);
    }
    fail(cursor, fmt::format("expected a non-negative integer, got {}", describe(cursor.node)));
  }

  // Canonical JSON text (sorted keys, canonical numbers) of an enum / const / default value.
  std::string canonical_json(const Cursor& cursor) {
    std::string out;
    append_json(cursor, cursor.node, 0, out);
    return out;
  }

  void append_json(const Cursor& cursor, const YAML::Node& node, int depth, std::string& out) {
    tick(cursor);
    if (depth > kMaxValueDepth || out.size() > kMaxValueBytes) {
      fail(cursor, "the value is too large or too deeply nested");
    }
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        out += "null";
        return;
      case YAML::NodeType::Scalar:
        switch (scalar_kind(node)) {
          case ScalarKind::null:
            out += "null";
            return;
          case ScalarKind::boolean:
            out += node.Scalar()[0] == 't' || node.Scalar()[0] == 'T' ? "true" : "false";
            return;
          case ScalarKind::number:
            out += canonical_number(node.Scalar());
            return;
          case ScalarKind::string:
            append_json_string(node.Scalar(), out);
            return;
        }
        return;
      case YAML::NodeType::Sequence: {
        out += '[';
        bool first = true;
        for (const auto& item : node) {
          if (!first) out += ',';
          first = false;
          append_json(cursor, item, depth + 1, out);
        }
        out += ']';
        return;
      }
      case YAML::NodeType::Map: {
        std::map<std::string, YAML::Node> sorted;
        for (const auto& entry : node) {
          tick(cursor);
          sorted.emplace(entry.first.IsScalar() ? entry.first.Scalar() : describe(entry.first),
                         entry.second);
        }
        out += '{';
        bool first = true;
        for (const auto& [key, value] : sorted) {
          if (!first) out += ',';
          first = false;
          append_json_string(key, out);
          out += ':';
          append_json(cursor, value, depth + 1, out);
        }
        out += '}';
        return;
      }
    }
  }

  // ---------------------------------------------------------------------------------------
  // $ref resolution.

  static bool is_ref(const YAML::Node& node) { return child(node, "$ref").has_value(); }

  // The cursor a $ref at `cursor` points to (one hop).
  Cursor follow(const Cursor& cursor) {
    const Cursor ref_cursor = *cursor.field("$ref");
    const std::string ref = string_of(ref_cursor);
    const size_t hash = ref.find('#');
    const std::string file = percent_decode(ref.substr(0, hash));
    const std::string fragment =
        hash == std::string::npos ? std::string() : percent_decode(ref.substr(hash + 1));

    std::size_t source = cursor.source;
    if (!file.empty()) {
      const size_t colon = file.find(':');
      const size_t slash = file.find('/');
      if (file.rfind("//", 0) == 0 || (colon != std::string::npos && colon > 1 &&
                                       (slash == std::string::npos || colon < slash))) {
        const std::string scheme =
            ascii_lower(file.substr(0, colon == std::string::npos ? 0 : colon));
        if (scheme == "http" || scheme == "https" || file.rfind("//", 0) == 0) {
          fail(ref_cursor, fmt::format("remote $ref not supported: '{}'", ref));
        }
        fail(ref_cursor,
             fmt::format("unsupported $ref '{}' (only local files and '#/' pointers)", ref));
      }
      source = load_source(ref_cursor, file);
    }
    if (!fragment.empty() && fragment[0] != '/') {
      fail(ref_cursor, fmt::format("$ref '{}': the fragment is not a JSON pointer", ref));
    }
    Cursor target{source, "", sources_[source].root};
    size_t start = 1;
    while (start <= fragment.size() && !fragment.empty()) {
      size_t end = fragment.find('/', start);
      if (end == std::string::npos) end = fragment.size();
      std::string token;
      for (size_t i = start; i < end; ++i) {
        if (fragment[i] == '~' && i + 1 < end &&
            (fragment[i + 1] == '0' || fragment[i + 1] == '1')) {
          token += fragment[i + 1] == '0' ? '~' : '/';
          ++i;
        } else {
          token += fragment[i];
        }
      }
      std::optional<YAML::Node> next;
      if (target.node.IsMap()) {
        next = indexed_child(target, token);
      } else if (target.node.IsSequence() && is_decimal_integer(token) && token[0] != '-' &&
                 token[0] != '+' && token.size() < 10) {
        const std::size_t index = std::stoul(token);
        if (index < target.node.size()) next = target.node[index];
      }
      if (!next) {
        fail(ref_cursor, fmt::format("$ref '{}' points to nothing (no '{}' in {}#{})", ref, token,
                                     sources_[source].name, target.pointer));
      }
      target = target.at(token, *next);
      start = end + 1;
    }
    return target;
  }

  // child(), with big mappings (components/schemas of a large API) indexed once, so that
  // resolving every $ref is not quadratic.
  std::optional<YAML::Node> indexed_child(const Cursor& map, const std::string& key) {
    if (map.node.size() < 32) return child(map.node, key);
    auto [index, added] = map_index_.try_emplace({map.source, map.pointer});
    if (added) {
      for (const auto& entry : map.node) {
        tick(map);
        if (entry.first.IsScalar()) index->second.try_emplace(entry.first.Scalar(), entry.second);
      }
    }
    const auto found = index->second.find(key);
    if (found == index->second.end()) return std::nullopt;
    return found->second;
  }

  // Follows $refs until a node that is not one.
  Cursor resolve(Cursor cursor) {
    int hops = 0;
    while (is_ref(cursor.node)) {
      if (++hops > options_.max_ref_depth) {
        fail(cursor, fmt::format("more than {} $ref hops in a row (a $ref cycle?)",
                                 options_.max_ref_depth));
      }
      cursor = follow(cursor);
    }
    return cursor;
  }

  std::size_t load_source(const Cursor& from, const std::string& file) {
    const std::filesystem::path& base = sources_.at(from.source).base_dir;
    if (base.empty()) {
      fail(from, fmt::format("$ref to the file '{}' but the document has no directory (load it "
                             "from a file, or set LoadOptions::base_dir)",
                             file));
    }
    const std::filesystem::path path = (base / file).lexically_normal();
    for (std::size_t i = 0; i < sources_.size(); ++i) {
      if (!sources_[i].path.empty() && sources_[i].path.lexically_normal() == path) return i;
    }
    if (sources_.size() >= options_.max_files) {
      fail(from, fmt::format("more than {} files are referenced", options_.max_files));
    }
    core::Result<std::string> text =
        options_.read_file ? options_.read_file(path) : read_whole_file(path, options_.max_bytes);
    if (!text) fail(from, fmt::format("$ref to '{}': {}", path.string(), text.error().message));
    YAML::Node root = parse(*text, path.string());
    sources_.push_back(Source{path.string(), path, path.parent_path(), root});
    return sources_.size() - 1;
  }

  // ---------------------------------------------------------------------------------------
  // Document level.

  void read_version(const Cursor& root) {
    if (auto openapi = string_field(root, "openapi")) {
      if (openapi->rfind("3.0", 0) == 0) {
        document_.source = SourceKind::openapi30;
        return;
      }
      if (openapi->size() >= 3 && openapi->rfind("3.", 0) == 0 && (*openapi)[2] >= '1' &&
          (*openapi)[2] <= '9') {
        document_.source = SourceKind::openapi31;
        return;
      }
      fail(*root.field("openapi"),
           fmt::format("unsupported OpenAPI version '{}' (3.0 and 3.1 are)", *openapi));
    }
    if (auto swagger = string_field(root, "swagger")) {
      if (*swagger == "2.0" || *swagger == "2") {
        document_.source = SourceKind::swagger2;
        return;
      }
      fail(*root.field("swagger"),
           fmt::format("unsupported Swagger version '{}' (2.0 is)", *swagger));
    }
    fail(root, "not an OpenAPI document: neither 'openapi: 3.x' nor 'swagger: \"2.0\"' is given");
  }

  bool swagger() const { return document_.source == SourceKind::swagger2; }

  void read_info(const Cursor& root) {
    if (auto info = root.field("info"); info && info->node.IsMap()) {
      document_.title = string_field(*info, "title").value_or("");
      document_.version = string_field(*info, "version").value_or("");
    }
    if (swagger()) {
      document_.base_path = string_field(root, "basePath").value_or("");
      global_consumes_ = media_list(root, "consumes");
      global_produces_ = media_list(root, "produces");
      return;
    }
    auto servers = root.field("servers");
    if (!servers || !servers->node.IsSequence() || servers->node.size() == 0) return;
    const Cursor first = servers->at(std::size_t{0}, servers->node[0]);
    if (!first.node.IsMap()) return;
    const std::string url = string_field(first, "url").value_or("");
    size_t path_start = 0;
    if (const size_t scheme = url.find("://"); scheme != std::string::npos) {
      path_start = url.find('/', scheme + 3);
    } else if (!url.empty() && url[0] != '/') {
      path_start = url.find('/');
    }
    if (path_start != std::string::npos) document_.base_path = url.substr(path_start);
    while (document_.base_path.size() > 1 && document_.base_path.back() == '/')
      document_.base_path.pop_back();
  }

  std::optional<std::vector<std::string>> media_list(const Cursor& cursor, std::string_view key) {
    auto list = cursor.field(key);
    if (!list || list->node.IsNull()) return std::nullopt;
    if (!list->node.IsSequence()) {
      fail(*list, fmt::format("expected a list of media types, got {}", describe(list->node)));
    }
    std::vector<std::string> types;
    std::size_t index = 0;
    for (const auto& item : list->node) {
      types.push_back(media_key(string_of(list->at(index++, item))));
    }
    return types;
  }

  // "Application/JSON; charset=utf-8" -> "application/json; charset=utf-8": type and
  // subtype are case-insensitive (RFC 9110 8.3.1), parameters may not be.
  static std::string media_key(std::string_view media) {
    const size_t semicolon = media.find(';');
    std::string_view type = media.substr(0, semicolon);
    while (!type.empty() && type.back() == ' ')
      type.remove_suffix(1);
    while (!type.empty() && type.front() == ' ')
      type.remove_prefix(1);
    std::string key = ascii_lower(type);
    if (semicolon != std::string_view::npos) key += std::string(media.substr(semicolon));
    return key;
  }

  void read_security_schemes(const Cursor& root) {
    std::optional<Cursor> schemes;
    if (swagger()) {
      schemes = root.field("securityDefinitions");
    } else if (auto components = root.field("components"); components && components->node.IsMap()) {
      schemes = components->field("securitySchemes");
    }
    if (!schemes || !schemes->node.IsMap()) return;
    for (const auto& entry : schemes->node) {
      if (!entry.first.IsScalar()) continue;
      const Cursor scheme = resolve(schemes->at(entry.first.Scalar(), entry.second));
      tick(scheme);
      if (!scheme.node.IsMap()) continue;
      SecurityScheme model;
      model.type = string_field(scheme, "type").value_or("");
      model.scheme = ascii_lower(string_field(scheme, "scheme").value_or(""));
      model.in = string_field(scheme, "in").value_or("");
      model.name = string_field(scheme, "name").value_or("");
      if (swagger() && model.type == "basic") {
        model.type = "http";
        model.scheme = "basic";
      }
      document_.security_schemes[entry.first.Scalar()] = model;
    }
  }

  std::vector<SecurityRequirement> read_security(const Cursor& cursor) {
    std::vector<SecurityRequirement> requirements;
    if (cursor.node.IsNull()) return requirements;
    if (!cursor.node.IsSequence()) {
      fail(cursor,
           fmt::format("expected a list of security requirements, got {}", describe(cursor.node)));
    }
    std::size_t index = 0;
    for (const auto& item : cursor.node) {
      const Cursor alternative = cursor.at(index++, item);
      tick(alternative);
      SecurityRequirement requirement;
      if (!alternative.node.IsNull() && !alternative.node.IsMap()) {
        fail(alternative, fmt::format("expected a mapping of scheme names to scopes, got {}",
                                      describe(alternative.node)));
      }
      if (alternative.node.IsMap()) {
        for (const auto& entry : alternative.node) {
          const std::string scheme = string_of(alternative.at("", entry.first));
          const Cursor scopes = alternative.at(scheme, entry.second);
          std::set<std::string>& names = requirement[scheme];
          if (scopes.node.IsNull()) continue;
          if (!scopes.node.IsSequence()) {
            fail(scopes, fmt::format("expected a list of scopes, got {}", describe(scopes.node)));
          }
          std::size_t scope_index = 0;
          for (const auto& scope : scopes.node) {
            tick(scopes);
            names.insert(string_of(scopes.at(scope_index++, scope)));
          }
        }
      }
      requirements.push_back(std::move(requirement));
    }
    return requirements;
  }

  // ---------------------------------------------------------------------------------------
  // Paths and operations.

  void read_paths(const Cursor& paths) {
    if (paths.node.IsNull()) return;
    if (!paths.node.IsMap()) {
      fail(paths, fmt::format("expected a mapping of paths, got {}", describe(paths.node)));
    }
    std::map<std::string, std::string> path_of_key;  // "/a/{}" -> "/a/{id}"
    for (const auto& entry : paths.node) {
      const std::string path = string_of(paths.at("", entry.first));
      if (path.rfind("x-", 0) == 0) continue;
      const Cursor item_cursor = paths.at(path, entry.second);
      if (path.empty() || path[0] != '/') fail(item_cursor, "a path must start with '/'");
      const std::string key = path_key(path);
      if (auto [it, added] = path_of_key.emplace(key, path); !added) {
        fail(item_cursor, fmt::format("'{}' and '{}' are the same path template (only the "
                                      "parameter names differ)",
                                      it->second, path));
      }
      tick(item_cursor);
      const Cursor item = resolve(item_cursor);
      if (item.node.IsNull()) continue;
      if (!item.node.IsMap()) {
        fail(item, fmt::format("expected a path item (a mapping), got {}", describe(item.node)));
      }
      const std::vector<Cursor> shared = parameter_cursors(item);
      for (const std::string_view method : kMethods) {
        if (auto operation = item.field(method)) {
          read_operation(path, key, *operation, shared);
        }
      }
    }
  }

  std::vector<Cursor> parameter_cursors(const Cursor& owner) {
    std::vector<Cursor> cursors;
    auto list = owner.field("parameters");
    if (!list || list->node.IsNull()) return cursors;
    if (!list->node.IsSequence()) {
      fail(*list, fmt::format("expected a list of parameters, got {}", describe(list->node)));
    }
    std::size_t index = 0;
    for (const auto& item : list->node) {
      const Cursor parameter = resolve(list->at(index++, item));
      tick(parameter);
      if (!parameter.node.IsMap()) {
        fail(parameter,
             fmt::format("expected a parameter (a mapping), got {}", describe(parameter.node)));
      }
      cursors.push_back(parameter);
    }
    return cursors;
  }

  static bool same_parameter(const std::string& in_a, const std::string& name_a,
                             const std::string& in_b, const std::string& name_b) {
    if (in_a != in_b) return false;
    // Header names are case-insensitive (RFC 9110 5.1).
    return in_a == "header" ? ascii_lower(name_a) == ascii_lower(name_b) : name_a == name_b;
  }

  void read_operation(const std::string& path, const std::string& key, const Cursor& cursor,
                      const std::vector<Cursor>& shared) {
    tick(cursor);
    if (!cursor.node.IsMap()) {
      fail(cursor, fmt::format("expected an operation (a mapping), got {}", describe(cursor.node)));
    }
    Operation operation;
    operation.method = ascii_upper(cursor.pointer.substr(cursor.pointer.rfind('/') + 1));
    operation.path = path;
    operation.path_key = key;
    operation.operation_id = string_field(cursor, "operationId").value_or("");
    operation.deprecated = bool_field(cursor, "deprecated");
    operation.sunset = string_field(cursor, "x-sunset");

    // Path-level parameters, then the operation's, which replace one with the same name
    // and place (OpenAPI 3.1 4.8.9.1 "parameters").
    std::vector<std::pair<std::pair<std::string, std::string>, Cursor>> merged;
    for (const bool own : {false, true}) {
      for (const Cursor& parameter : own ? parameter_cursors(cursor) : shared) {
        const std::string in = string_field(parameter, "in").value_or("");
        const std::string name = string_field(parameter, "name").value_or("");
        auto existing = std::find_if(merged.begin(), merged.end(), [&](const auto& entry) {
          return same_parameter(entry.first.first, entry.first.second, in, name);
        });
        if (existing != merged.end()) {
          existing->second = parameter;
        } else {
          merged.push_back({{in, name}, parameter});
        }
      }
    }

    const std::vector<std::string> consumes =
        media_list(cursor, "consumes")
            .value_or(global_consumes_.value_or(std::vector<std::string>{}));
    std::vector<Cursor> form_fields;
    for (const auto& [in_name, parameter] : merged) {
      const std::string& in = in_name.first;
      if (swagger() && in == "body") {
        read_swagger_body(parameter, consumes, operation);
      } else if (swagger() && in == "formData") {
        form_fields.push_back(parameter);
      } else if (auto model = read_parameter(parameter)) {
        operation.parameters.push_back(std::move(*model));
      }
    }
    if (!form_fields.empty()) read_swagger_form(cursor, form_fields, consumes, operation);
    std::sort(operation.parameters.begin(), operation.parameters.end(),
              [](const Parameter& a, const Parameter& b) {
                return std::tie(a.in, a.name) < std::tie(b.in, b.name);
              });

    if (auto body = cursor.field("requestBody"); body && !swagger()) {
      const Cursor resolved = resolve(*body);
      if (!resolved.node.IsMap()) {
        fail(resolved,
             fmt::format("expected a request body (a mapping), got {}", describe(resolved.node)));
      }
      RequestBody request;
      request.required = bool_field(resolved, "required");
      request.content = read_content(resolved);
      operation.request_body = std::move(request);
    }

    if (auto responses = cursor.field("responses"); responses && !responses->node.IsNull()) {
      if (!responses->node.IsMap()) {
        fail(*responses,
             fmt::format("expected a mapping of responses, got {}", describe(responses->node)));
      }
      const std::vector<std::string> produces =
          media_list(cursor, "produces")
              .value_or(global_produces_.value_or(std::vector<std::string>{}));
      for (const auto& entry : responses->node) {
        const std::string status = string_of(responses->at("", entry.first));
        if (status.rfind("x-", 0) == 0) continue;
        const Cursor response = resolve(responses->at(status, entry.second));
        // "2xx" is "2XX" (OpenAPI 3.1 4.8.16.2); "default" stays as it is.
        const std::string status_key =
            ascii_lower(status) == "default" ? "default" : ascii_upper(status);
        operation.responses[status_key] = read_response(response, produces);
      }
    }

    if (auto security = cursor.field("security")) {
      operation.security = read_security(*security);
    } else {
      operation.security = document_security_;
    }
    document_.operations.push_back(std::move(operation));
  }

  std::optional<Parameter> read_parameter(const Cursor& cursor) {
    Parameter parameter;
    auto name = string_field(cursor, "name");
    auto in = string_field(cursor, "in");
    if (!name) fail(cursor, "a parameter needs a 'name'");
    if (!in) fail(cursor, "a parameter needs an 'in'");
    parameter.name = *name;
    parameter.in = *in;
    if (parameter.in != "path" && parameter.in != "query" && parameter.in != "header" &&
        parameter.in != "cookie") {
      fail(cursor, fmt::format("unknown parameter location 'in: {}'", parameter.in));
    }
    // OpenAPI 3.x 4.8.12.1: these header parameters "SHALL be ignored".
    if (!swagger() && parameter.in == "header") {
      const std::string lower = ascii_lower(parameter.name);
      if (lower == "accept" || lower == "content-type" || lower == "authorization") {
        return std::nullopt;
      }
    }
    // A path parameter is always required (OpenAPI 3.1 4.8.12.2 "required").
    parameter.required = parameter.in == "path" || bool_field(cursor, "required");
    parameter.deprecated = bool_field(cursor, "deprecated");
    if (swagger()) {
      parameter.schema = lifted_schema(cursor);
      if (auto format = string_field(cursor, "collectionFormat")) {
        if (*format == "csv") {
          parameter.style = parameter.in == "query" ? "form" : "simple";
          parameter.explode = false;
        } else if (*format == "ssv") {
          parameter.style = "spaceDelimited";
        } else if (*format == "pipes") {
          parameter.style = "pipeDelimited";
        } else if (*format == "multi") {
          parameter.style = "form";
          parameter.explode = true;
        }
      }
      return parameter;
    }
    if (auto schema = cursor.field("schema")) parameter.schema = schema_ref(*schema);
    if (cursor.field("content")) parameter.content = read_content(cursor);
    parameter.style = string_field(cursor, "style");
    if (auto explode = cursor.field("explode"); explode && !explode->node.IsNull()) {
      parameter.explode = bool_of(*explode);
    }
    return parameter;
  }

  // The content map of a request body, response, parameter or header (3.x).
  Content read_content(const Cursor& owner) {
    Content content;
    auto map = owner.field("content");
    if (!map || map->node.IsNull()) return content;
    if (!map->node.IsMap()) {
      fail(*map, fmt::format("expected a mapping of media types, got {}", describe(map->node)));
    }
    for (const auto& entry : map->node) {
      const std::string media = string_of(map->at("", entry.first));
      const Cursor media_cursor = map->at(media, entry.second);
      tick(media_cursor);
      SchemaRef schema;
      if (media_cursor.node.IsMap()) {
        if (auto schema_cursor = media_cursor.field("schema")) schema = schema_ref(*schema_cursor);
      } else if (!media_cursor.node.IsNull()) {
        fail(media_cursor, fmt::format("expected a media type object (a mapping), got {}",
                                       describe(media_cursor.node)));
      }
      content[media_key(media)] = schema;
    }
    return content;
  }

  Response read_response(const Cursor& cursor, const std::vector<std::string>& produces) {
    tick(cursor);
    Response response;
    if (cursor.node.IsNull()) return response;
    if (!cursor.node.IsMap()) {
      fail(cursor, fmt::format("expected a response (a mapping), got {}", describe(cursor.node)));
    }
    if (swagger()) {
      if (auto schema = cursor.field("schema"); schema && !schema->node.IsNull()) {
        const SchemaRef ref = schema_ref(*schema);
        if (produces.empty()) response.content["application/json"] = ref;
        for (const std::string& media : produces)
          response.content[media] = ref;
      }
    } else {
      response.content = read_content(cursor);
    }
    auto headers = cursor.field("headers");
    if (!headers || headers->node.IsNull()) return response;
    if (!headers->node.IsMap()) {
      fail(*headers, fmt::format("expected a mapping of headers, got {}", describe(headers->node)));
    }
    for (const auto& entry : headers->node) {
      const std::string name = string_of(headers->at("", entry.first));
      const Cursor header_cursor = resolve(headers->at(name, entry.second));
      tick(header_cursor);
      if (!header_cursor.node.IsMap()) {
        fail(header_cursor,
             fmt::format("expected a header (a mapping), got {}", describe(header_cursor.node)));
      }
      Header header;
      header.deprecated = bool_field(header_cursor, "deprecated");
      if (swagger()) {
        header.schema = lifted_schema(header_cursor);
      } else {
        header.required = bool_field(header_cursor, "required");
        if (auto schema = header_cursor.field("schema")) header.schema = schema_ref(*schema);
        header.content = read_content(header_cursor);
      }
      response.headers[ascii_lower(name)] = std::move(header);
    }
    return response;
  }

  // Swagger 2.0 `in: body`: the request body, one schema for every `consumes` type.
  void read_swagger_body(const Cursor& parameter, const std::vector<std::string>& consumes,
                         Operation& operation) {
    auto schema = parameter.field("schema");
    if (!schema) fail(parameter, "a body parameter needs a 'schema'");
    RequestBody body;
    body.required = bool_field(parameter, "required");
    const SchemaRef ref = schema_ref(*schema);
    if (consumes.empty()) body.content["application/json"] = ref;
    for (const std::string& media : consumes)
      body.content[media] = ref;
    operation.request_body = std::move(body);
  }

  // Swagger 2.0 `in: formData`: one object schema with a property per field, as a
  // urlencoded or multipart body (multipart when asked for, or when a field is a file).
  void read_swagger_form(const Cursor& operation_cursor, const std::vector<Cursor>& fields,
                         const std::vector<std::string>& consumes, Operation& operation) {
    const SchemaRef form = allocate(operation_cursor);
    document_.schemas[form.index].types = TypeSet::of(Type::object);
    bool has_file = false;
    bool required = false;
    for (const Cursor& field : fields) {
      const std::string name = string_field(field, "name").value_or("");
      if (string_field(field, "type").value_or("") == "file") has_file = true;
      const SchemaRef property = lifted_schema(field);
      document_.schemas[form.index].properties[name] = property;
      if (bool_field(field, "required")) {
        document_.schemas[form.index].required.insert(name);
        required = true;
      }
    }
    const auto wants = [&](std::string_view media) {
      return std::any_of(consumes.begin(), consumes.end(),
                         [&](const std::string& m) { return m.rfind(media, 0) == 0; });
    };
    std::string media = "application/x-www-form-urlencoded";
    if (wants("multipart/form-data") || (has_file && !wants("application/x-www-form-urlencoded"))) {
      media = "multipart/form-data";
    }
    RequestBody body;
    body.required = required;
    body.content[media] = form;
    operation.request_body = std::move(body);
  }

  // ---------------------------------------------------------------------------------------
  // Schemas, phase 1: every schema node gets a slot, filled from a queue.

  SchemaRef allocate(const Cursor& cursor) {
    tick(cursor);
    if (document_.schemas.size() >= options_.max_schemas) {
      fail(cursor, fmt::format("more than {} schemas (YAML aliases?)", options_.max_schemas));
    }
    document_.schemas.emplace_back();
    work_.emplace_back();
    return SchemaRef{static_cast<std::uint32_t>(document_.schemas.size() - 1)};
  }

  // A name for the target of a $ref: "Order" for components/schemas/Order or
  // definitions/Order, else the last token of the pointer, or the file's stem.
  std::string ref_name_of(const Cursor& target) const {
    for (const std::string_view prefix : {"/components/schemas/", "/definitions/", "/$defs/"}) {
      const size_t at = target.pointer.rfind(prefix);
      if (at != std::string::npos && at + prefix.size() < target.pointer.size() &&
          target.pointer.find('/', at + prefix.size()) == std::string::npos) {
        return target.pointer.substr(at + prefix.size());
      }
    }
    if (target.pointer.empty()) {
      return std::filesystem::path(sources_.at(target.source).name).stem().string();
    }
    return target.pointer.substr(target.pointer.rfind('/') + 1);
  }

  // Only annotations beside a $ref: 3.1 merges other keywords with the target.
  static bool has_siblings(const YAML::Node& node) {
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) return true;
      const std::string& key = entry.first.Scalar();
      if (key != "$ref" && key != "description" && key != "summary" && key != "title" &&
          key != "example" && key != "examples" && key != "$comment" && key.rfind("x-", 0) != 0) {
        return true;
      }
    }
    return false;
  }

  SchemaRef schema_at(const Cursor& cursor, const std::string& ref_name) {
    const auto key = std::make_pair(cursor.source, cursor.pointer);
    if (auto found = schema_at_.find(key); found != schema_at_.end()) {
      Schema& schema = document_.schemas[found->second.index];
      if (schema.ref_name.empty()) schema.ref_name = ref_name;
      return found->second;
    }
    const SchemaRef ref = allocate(cursor);
    document_.schemas[ref.index].ref_name = ref_name;
    schema_at_.emplace(key, ref);
    queue_.emplace_back(ref, cursor);
    return ref;
  }

  // The schema at `cursor` (a schema or a $ref to one).
  SchemaRef schema_ref(const Cursor& cursor) {
    if (is_ref(cursor.node) &&
        (document_.source != SourceKind::openapi31 || !has_siblings(cursor.node))) {
      // OpenAPI 3.0 4.7.24 (Reference Object): other properties SHALL be ignored.
      const Cursor target = resolve(cursor);
      return schema_at(target, ref_name_of(target));
    }
    return schema_at(cursor, "");
  }

  // A Swagger 2.0 parameter, items or header object, whose schema keywords sit on the
  // object itself (type, format, items, enum, maximum...).
  SchemaRef lifted_schema(const Cursor& cursor) { return schema_at(cursor, ""); }

  void add_type(const Cursor& cursor, Schema& schema, std::string_view name) {
    if (name == "file" && swagger()) {
      // Swagger 2.0 `type: file` is an upload: binary text.
      schema.types.add(Type::string);
      if (schema.format.empty()) schema.format = "binary";
      return;
    }
    const auto type = type_from_name(name);
    if (!type) fail(cursor, fmt::format("unknown type '{}'", name));
    schema.types.add(*type);
  }

  std::vector<SchemaRef> schema_list(const Cursor& cursor) {
    if (!cursor.node.IsSequence()) {
      fail(cursor, fmt::format("expected a list of schemas, got {}", describe(cursor.node)));
    }
    std::vector<SchemaRef> refs;
    std::size_t index = 0;
    for (const auto& item : cursor.node)
      refs.push_back(schema_ref(cursor.at(index++, item)));
    return refs;
  }

  static void tighten_min(std::optional<Bound>& bound, const Bound& other) {
    if (!bound || other.value > bound->value || (other.value == bound->value && other.exclusive)) {
      bound = other;
    }
  }
  static void tighten_max(std::optional<Bound>& bound, const Bound& other) {
    if (!bound || other.value < bound->value || (other.value == bound->value && other.exclusive)) {
      bound = other;
    }
  }

  // Reads one bound keyword pair: 3.0's `minimum` + boolean `exclusiveMinimum`, or 3.1's
  // numeric `exclusiveMinimum`; both may appear, and the tighter wins.
  std::optional<Bound> read_bound(const Cursor& cursor, std::string_view key,
                                  std::string_view exclusive_key, bool is_min) {
    std::optional<Bound> bound;
    if (auto value = cursor.field(key); value && !value->node.IsNull()) {
      bound = Bound{number_of(*value), false, value->node.Scalar()};
    }
    if (auto exclusive = cursor.field(exclusive_key); exclusive && !exclusive->node.IsNull()) {
      const ScalarKind kind =
          exclusive->node.IsScalar() ? scalar_kind(exclusive->node) : ScalarKind::string;
      if (kind == ScalarKind::boolean) {
        if (bool_of(*exclusive) && bound) bound->exclusive = true;
      } else {
        const Bound other{number_of(*exclusive), true, exclusive->node.Scalar()};
        if (is_min) {
          tighten_min(bound, other);
        } else {
          tighten_max(bound, other);
        }
      }
    }
    return bound;
  }

  void fill_schema(SchemaRef ref, const Cursor& cursor) {
    const YAML::Node& node = cursor.node;
    if (node.IsNull()) return;  // `schema:` with nothing: any value
    if (node.IsScalar() && scalar_kind(node) == ScalarKind::boolean) {
      // JSON Schema boolean schemas (3.1): true accepts anything, false nothing.
      if (!bool_of(cursor)) {
        const SchemaRef nothing = allocate(cursor);
        document_.schemas[ref.index].not_schema = nothing;
      }
      return;
    }
    if (!node.IsMap()) {
      fail(cursor, fmt::format("expected a schema (a mapping), got {}", describe(node)));
    }
    // Subschemas are allocated (which may grow document_.schemas) before the schema is
    // written, so build it aside and move it in at the end.
    Schema schema;
    SchemaWork work;
    if (is_ref(node)) {
      // Only 3.1 $refs with siblings get here: the target is one more allOf part.
      const Cursor target = resolve(cursor);
      work.all_of.push_back(schema_at(target, ref_name_of(target)));
    }
    if (auto type = cursor.field("type"); type && !type->node.IsNull()) {
      if (type->node.IsSequence()) {
        std::size_t index = 0;
        for (const auto& item : type->node) {
          const Cursor name = type->at(index++, item);
          add_type(name, schema, string_of(name));
        }
      } else {
        add_type(*type, schema, string_of(*type));
      }
    }
    work.nullable = bool_field(cursor, "nullable") || bool_field(cursor, "x-nullable");
    if (auto format = string_field(cursor, "format")) {
      if (schema.format.empty() || !format->empty()) schema.format = *format;
    }
    if (auto values = cursor.field("enum"); values && !values->node.IsNull()) {
      if (!values->node.IsSequence()) {
        fail(*values, fmt::format("expected a list of values, got {}", describe(values->node)));
      }
      std::vector<std::string> texts;
      std::size_t index = 0;
      for (const auto& item : values->node)
        texts.push_back(canonical_json(values->at(index++, item)));
      schema.enum_values = std::move(texts);
    }
    if (auto value = cursor.field("const")) schema.const_value = canonical_json(*value);
    if (auto value = cursor.field("default")) schema.default_value = canonical_json(*value);
    schema.minimum = read_bound(cursor, "minimum", "exclusiveMinimum", true);
    schema.maximum = read_bound(cursor, "maximum", "exclusiveMaximum", false);
    if (auto value = cursor.field("multipleOf"); value && !value->node.IsNull()) {
      const double multiple = number_of(*value);
      if (multiple <= 0) fail(*value, "multipleOf must be greater than 0");
      schema.multiple_of = multiple;
    }
    const auto count = [&](std::string_view key) -> std::optional<std::uint64_t> {
      auto value = cursor.field(key);
      if (!value || value->node.IsNull()) return std::nullopt;
      return count_of(*value);
    };
    schema.min_length = count("minLength");
    schema.max_length = count("maxLength");
    schema.min_items = count("minItems");
    schema.max_items = count("maxItems");
    schema.min_properties = count("minProperties");
    schema.max_properties = count("maxProperties");
    schema.pattern = string_field(cursor, "pattern");
    schema.unique_items = bool_field(cursor, "uniqueItems");
    schema.read_only = bool_field(cursor, "readOnly");
    schema.write_only = bool_field(cursor, "writeOnly");
    schema.deprecated = bool_field(cursor, "deprecated");

    if (auto properties = cursor.field("properties"); properties && !properties->node.IsNull()) {
      if (!properties->node.IsMap()) {
        fail(*properties,
             fmt::format("expected a mapping of properties, got {}", describe(properties->node)));
      }
      for (const auto& entry : properties->node) {
        const std::string name = string_of(properties->at("", entry.first));
        schema.properties[name] = schema_ref(properties->at(name, entry.second));
      }
    }
    // `required: true` on a property is a common 2.0-ism in 3.x documents; it means nothing
    // in a schema, so only a list is read.
    if (auto required = cursor.field("required"); required && required->node.IsSequence()) {
      std::size_t index = 0;
      for (const auto& item : required->node) {
        const Cursor name = required->at(index++, item);
        tick(name);
        schema.required.insert(string_of(name));
      }
    }
    if (auto additional = cursor.field("additionalProperties");
        additional && !additional->node.IsNull()) {
      if (additional->node.IsScalar()) {
        schema.additional =
            bool_of(*additional) ? AdditionalProperties::allowed : AdditionalProperties::denied;
      } else {
        schema.additional = AdditionalProperties::schema;
        schema.additional_schema = schema_ref(*additional);
      }
    }
    if (auto items = cursor.field("items"); items && !items->node.IsNull()) {
      // A list is draft 4's tuple form, which OpenAPI does not allow; it is not compared.
      if (!items->node.IsSequence()) schema.items = schema_ref(*items);
    }
    if (auto discriminator = cursor.field("discriminator");
        discriminator && !discriminator->node.IsNull()) {
      schema.discriminator = discriminator->node.IsScalar()
                                 ? discriminator->node.Scalar()  // Swagger 2.0: the name
                                 : string_field(*discriminator, "propertyName").value_or("");
    }
    if (auto list = cursor.field("oneOf"); list && !list->node.IsNull()) {
      schema.one_of = schema_list(*list);
    }
    if (auto list = cursor.field("anyOf"); list && !list->node.IsNull()) {
      schema.any_of = schema_list(*list);
    }
    if (auto list = cursor.field("allOf"); list && !list->node.IsNull()) {
      for (const SchemaRef part : schema_list(*list))
        work.all_of.push_back(part);
    }
    if (auto negated = cursor.field("not"); negated && !negated->node.IsNull()) {
      schema.not_schema = schema_ref(*negated);
    }

    Schema& slot = document_.schemas[ref.index];
    schema.ref_name = std::move(slot.ref_name);
    slot = std::move(schema);
    work_[ref.index].all_of = std::move(work.all_of);
    work_[ref.index].nullable = work.nullable;
  }

  // ---------------------------------------------------------------------------------------
  // Schemas, phase 2: null alternatives, allOf merges, nullable.

  // `{type: "null"}` and nothing else: what 3.1 writes as the null side of `anyOf`.
  bool is_only_null(SchemaRef ref) const {
    const Schema& schema = document_.schemas[ref.index];
    const SchemaWork& work = work_[ref.index];
    return schema.types == TypeSet::of(Type::null) && !schema.enum_values && !schema.const_value &&
           schema.properties.empty() && schema.one_of.empty() && schema.any_of.empty() &&
           !schema.not_schema.valid() && !schema.items.valid() && work.all_of.empty();
  }

  // anyOf/oneOf [X, {type: null}] is X or null: the same as X with `nullable: true`.
  void fold_null_alternative(std::uint32_t index) {
    for (const bool one_of : {true, false}) {
      Schema& schema = document_.schemas[index];
      std::vector<SchemaRef>& alternatives = one_of ? schema.one_of : schema.any_of;
      if (alternatives.size() != 2) continue;
      const bool first_null = is_only_null(alternatives[0]);
      const bool second_null = is_only_null(alternatives[1]);
      if (first_null == second_null) continue;
      work_[index].all_of.push_back(alternatives[first_null ? 1 : 0]);
      work_[index].nullable = true;
      alternatives.clear();
    }
  }

  void finish_schema(std::uint32_t index, int depth) {
    if (work_[index].stage != SchemaWork::Stage::raw) return;
    work_[index].stage = SchemaWork::Stage::finishing;
    fold_null_alternative(index);
    const std::vector<SchemaRef> parts = work_[index].all_of;
    for (const SchemaRef part : parts) {
      if (part.index == index || work_[part.index].stage == SchemaWork::Stage::finishing) {
        note(index, "an allOf part refers back to the schema itself; it was not merged");
        continue;
      }
      if (depth >= kMaxMergeDepth) {
        note(index, fmt::format("allOf nested more than {} levels; the rest was not merged",
                                kMaxMergeDepth));
        break;
      }
      finish_schema(part.index, depth + 1);
      merge_into(index, part.index, depth + 1);
    }
    Schema& schema = document_.schemas[index];
    schema.all_of.insert(schema.all_of.end(), parts.begin(), parts.end());
    if (work_[index].nullable && !schema.types.empty()) schema.types.add(Type::null);
    work_[index].all_of.clear();
    work_[index].stage = SchemaWork::Stage::final;
  }

  void note(std::uint32_t index, std::string text) {
    auto& notes = document_.schemas[index].merge_notes;
    if (std::find(notes.begin(), notes.end(), text) == notes.end())
      notes.push_back(std::move(text));
  }

  // A schema that is both `a` and `b` (for a property both allOf parts describe).
  SchemaRef merged_pair(SchemaRef a, SchemaRef b, int depth, std::uint32_t owner) {
    if (a == b || !a.valid()) return b.valid() ? b : a;
    if (!b.valid()) return a;
    if (auto found = merged_.find({a.index, b.index}); found != merged_.end()) return found->second;
    if (depth >= kMaxMergeDepth || work_[a.index].stage == SchemaWork::Stage::finishing ||
        work_[b.index].stage == SchemaWork::Stage::finishing) {
      note(owner,
           "a property described by two allOf parts was too deep or recursive to merge; "
           "the first description is used");
      return a;
    }
    finish_schema(a.index, depth + 1);
    finish_schema(b.index, depth + 1);
    const SchemaRef merged =
        allocate(Cursor{0, "", sources_[0].root});  // a merge has no place in the text
    Schema copy = document_.schemas[a.index];
    copy.ref_name.clear();
    copy.all_of = {a, b};
    document_.schemas[merged.index] = std::move(copy);
    work_[merged.index].stage = SchemaWork::Stage::final;
    merged_.emplace(std::make_pair(a.index, b.index), merged);
    merge_into(merged.index, b.index, depth + 1);
    return merged;
  }

  template <typename T, typename Pick>
  static void intersect(std::optional<T>& into, const std::optional<T>& from, Pick pick) {
    if (!from) return;
    into = into ? pick(*into, *from) : *from;
  }

  // Narrows schema `into` by the constraints of schema `from` (both allOf parts).
  void merge_into(std::uint32_t into_index, std::uint32_t from_index, int depth) {
    const Schema from = document_.schemas[from_index];  // a copy: merges may grow the arena
    Schema into = document_.schemas[into_index];
    std::vector<std::string> notes;

    if (into.types.empty()) {
      into.types = from.types;
    } else if (!from.types.empty()) {
      TypeSet common;
      for (const Type type : {Type::null, Type::boolean, Type::integer, Type::number, Type::string,
                              Type::array, Type::object}) {
        if (into.types.has(type) && from.types.has(type)) common.add(type);
      }
      // Every integer is a number: integer and number have integer in common.
      if ((into.types.has(Type::integer) && from.types.has(Type::number)) ||
          (into.types.has(Type::number) && from.types.has(Type::integer))) {
        common.add(Type::integer);
      }
      if (common.empty()) {
        notes.push_back(fmt::format("allOf: types {} and {} have nothing in common; kept {}",
                                    into.types.to_string(), from.types.to_string(),
                                    into.types.to_string()));
      } else {
        into.types = common;
      }
    }
    if (into.format.empty()) {
      into.format = from.format;
    } else if (!from.format.empty() && from.format != into.format) {
      notes.push_back(fmt::format("allOf: formats '{}' and '{}' differ; kept '{}'", into.format,
                                  from.format, into.format));
    }
    if (from.enum_values) {
      if (!into.enum_values) {
        into.enum_values = from.enum_values;
      } else {
        std::vector<std::string> common;
        for (const std::string& value : *into.enum_values) {
          if (std::find(from.enum_values->begin(), from.enum_values->end(), value) !=
              from.enum_values->end()) {
            common.push_back(value);
          }
        }
        if (common.empty()) notes.push_back("allOf: the enums have no value in common");
        into.enum_values = std::move(common);
      }
    }
    if (from.const_value && into.const_value && *from.const_value != *into.const_value) {
      notes.push_back("allOf: two different const values; kept the first");
    } else if (!into.const_value) {
      into.const_value = from.const_value;
    }
    if (!into.default_value) into.default_value = from.default_value;
    if (from.minimum) tighten_min(into.minimum, *from.minimum);
    if (from.maximum) tighten_max(into.maximum, *from.maximum);
    if (from.multiple_of && into.multiple_of && *from.multiple_of != *into.multiple_of) {
      const double big = std::max(*from.multiple_of, *into.multiple_of);
      const double small = std::min(*from.multiple_of, *into.multiple_of);
      if (std::fmod(big, small) == 0) {
        into.multiple_of = big;
      } else {
        notes.push_back("allOf: two multipleOf values that do not divide; kept the first");
      }
    } else if (!into.multiple_of) {
      into.multiple_of = from.multiple_of;
    }
    const auto larger = [](std::uint64_t x, std::uint64_t y) { return std::max(x, y); };
    const auto smaller = [](std::uint64_t x, std::uint64_t y) { return std::min(x, y); };
    intersect(into.min_length, from.min_length, larger);
    intersect(into.max_length, from.max_length, smaller);
    intersect(into.min_items, from.min_items, larger);
    intersect(into.max_items, from.max_items, smaller);
    intersect(into.min_properties, from.min_properties, larger);
    intersect(into.max_properties, from.max_properties, smaller);
    if (from.pattern && into.pattern && *from.pattern != *into.pattern) {
      notes.push_back("allOf: two different patterns; kept the first");
    } else if (!into.pattern) {
      into.pattern = from.pattern;
    }
    into.unique_items = into.unique_items || from.unique_items;
    into.read_only = into.read_only || from.read_only;
    into.write_only = into.write_only || from.write_only;
    into.deprecated = into.deprecated || from.deprecated;
    if (into.discriminator.empty()) into.discriminator = from.discriminator;
    into.required.insert(from.required.begin(), from.required.end());

    for (const auto& [name, ref] : from.properties) {
      auto [existing, added] = into.properties.emplace(name, ref);
      if (!added && existing->second != ref) {
        const SchemaRef mine = existing->second;
        existing->second = merged_pair(mine, ref, depth, into_index);
      }
    }
    // additionalProperties: false wins; two schemas are both applied.
    if (from.additional == AdditionalProperties::denied) {
      into.additional = AdditionalProperties::denied;
      into.additional_schema = SchemaRef{};
    } else if (from.additional == AdditionalProperties::schema) {
      if (into.additional == AdditionalProperties::schema) {
        into.additional_schema =
            merged_pair(into.additional_schema, from.additional_schema, depth, into_index);
      } else if (into.additional != AdditionalProperties::denied) {
        into.additional = AdditionalProperties::schema;
        into.additional_schema = from.additional_schema;
      }
    } else if (from.additional == AdditionalProperties::allowed &&
               into.additional == AdditionalProperties::absent) {
      into.additional = AdditionalProperties::allowed;
    }
    if (into.items.valid() && from.items.valid()) {
      into.items = merged_pair(into.items, from.items, depth, into_index);
    } else if (!into.items.valid()) {
      into.items = from.items;
    }
    const auto keep_alternatives = [&](std::vector<SchemaRef>& mine,
                                       const std::vector<SchemaRef>& theirs,
                                       std::string_view what) {
      if (theirs.empty() || mine == theirs) return;
      if (mine.empty()) {
        mine = theirs;
      } else {
        notes.push_back(fmt::format("allOf: two parts have {}; only the first is compared", what));
      }
    };
    keep_alternatives(into.one_of, from.one_of, "oneOf");
    keep_alternatives(into.any_of, from.any_of, "anyOf");
    if (into.not_schema.valid() && from.not_schema.valid() && into.not_schema != from.not_schema) {
      notes.push_back("allOf: two parts have `not`; only the first is compared");
    } else if (!into.not_schema.valid()) {
      into.not_schema = from.not_schema;
    }
    for (const std::string& text : from.merge_notes)
      notes.push_back(text);

    // merged_pair may have grown the arena: write back by index.
    into.merge_notes = std::move(document_.schemas[into_index].merge_notes);
    document_.schemas[into_index] = std::move(into);
    for (std::string& text : notes)
      note(into_index, std::move(text));
  }

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

core::Result<Document> load(std::string_view text, const std::filesystem::path& path,
                            const LoadOptions& options) {
  try {
    return Loader(options).run(text, path);
  } catch (const LoadFailure& failure) {
    return core::fail(failure.message);
  } catch (const YAML::Exception& e) {
    return core::fail(fmt::format("cannot read the document: {}", e.what()));
  } catch (const std::exception& e) {
    return core::fail(fmt::format("cannot read the document: {}", e.what()));
  }
}

}  // namespace

core::Result<Document> load_document(std::string_view text, const LoadOptions& options) {
  return load(text, {}, options);
}

core::Result<Document> load_document_file(const std::filesystem::path& path, LoadOptions options) {
  const std::filesystem::path normal = path.lexically_normal();
  if (options.base_dir.empty()) options.base_dir = normal.parent_path();
  if (options.base_dir.empty()) options.base_dir = ".";
  core::Result<std::string> text =
      options.read_file ? options.read_file(normal) : read_whole_file(normal, options.max_bytes);
  if (!text) return core::fail(fmt::format("{}: {}", normal.string(), text.error().message));
  return load(*text, normal, options);
}

}  // namespace glidepath::contract
