// $ref resolution: JSON pointers into this document or another file, percent-decoded,
// followed hop by hop with a bound; remote refs are refused, not fetched.
#include "contract/refs.h"

#include <fmt/format.h>

#include <string>

#include "contract/canonical.h"
#include "contract/loader_internal.h"

namespace glidepath::contract::detail {
namespace {

using yaml::child;

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

}  // namespace

Cursor Cursor::at(std::string_view key, const YAML::Node& value) const {
  return deeper(pointer + "/" + escape_token(key), value);
}
Cursor Cursor::at(std::size_t index, const YAML::Node& value) const {
  return deeper(fmt::format("{}/{}", pointer, index), value);
}

// Real nesting is bounded by the YAML pre-pass; a deeper pointer can only come from an
// alias that contains itself (yaml-cpp registers an anchor before its content).
Cursor Cursor::deeper(std::string child_pointer, const YAML::Node& value) const {
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
std::optional<Cursor> Cursor::field(std::string_view key) const {
  auto value = child(node, key);
  if (!value) return std::nullopt;
  return at(key, *value);
}

// The cursor a $ref at `cursor` points to (one hop).
Cursor Loader::follow(const Cursor& cursor) {
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
      if (fragment[i] == '~' && i + 1 < end && (fragment[i + 1] == '0' || fragment[i + 1] == '1')) {
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
std::optional<YAML::Node> Loader::indexed_child(const Cursor& map, const std::string& key) {
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
Cursor Loader::resolve(Cursor cursor) {
  int hops = 0;
  while (is_ref(cursor.node)) {
    if (++hops > options_.max_ref_depth) {
      fail(cursor,
           fmt::format("more than {} $ref hops in a row (a $ref cycle?)", options_.max_ref_depth));
    }
    cursor = follow(cursor);
  }
  return cursor;
}

std::size_t Loader::load_source(const Cursor& from, const std::string& file) {
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

}  // namespace glidepath::contract::detail
