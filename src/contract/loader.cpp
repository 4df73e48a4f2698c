// Reading files, the Loader's errors, budgets and scalars, and the public functions of
// contract/loader.h. The rest of the Loader (contract/loader_internal.h) is one file per
// concern.
#include "contract/loader.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <exception>
#include <fstream>

#include "contract/canonical.h"
#include "contract/loader_internal.h"

namespace glidepath::contract {
namespace detail {
namespace {

using yaml::describe;

// Elements visited (operations, parameters, media types, enum values, properties...).
// YAML aliases let a small text name the same big node many times; this bounds the work.
constexpr std::size_t kMaxElements = 4'000'000;

}  // namespace

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

Document Loader::run(std::string_view text, const std::filesystem::path& path) {
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

// Errors and budgets.
std::string Loader::where(const Cursor& cursor) const {
  const Source& source = sources_.at(cursor.source);
  std::string text = fmt::format("{}#{}", source.name, cursor.pointer);
  const int line = yaml::line_of(cursor.node);
  if (line > 0) text += fmt::format(" (line {})", line);
  return text;
}

void Loader::fail(const Cursor& cursor, std::string_view message) const {
  throw LoadFailure{fmt::format("at {}: {}", where(cursor), message)};
}

void Loader::tick(const Cursor& cursor) {
  if (++elements_ > kMaxElements) {
    fail(cursor, fmt::format("the document expands to more than {} elements (YAML aliases?)",
                             kMaxElements));
  }
}

YAML::Node Loader::parse(std::string_view text, const std::string& name) {
  if (text.size() > options_.max_bytes) {
    throw LoadFailure{fmt::format("{}{}the document is larger than {} bytes", name,
                                  name.empty() ? "" : ": ", options_.max_bytes)};
  }
  auto node = yaml::parse_untrusted(text);
  if (!node) {
    throw LoadFailure{fmt::format("{}{}{}", name, name.empty() ? "" : ": ", node.error().message)};
  }
  return *node;
}

// Scalars.
std::string Loader::string_of(const Cursor& cursor) const {
  if (!cursor.node.IsScalar()) {
    fail(cursor, fmt::format("expected a string, got {}", describe(cursor.node)));
  }
  return cursor.node.Scalar();
}

std::optional<std::string> Loader::string_field(const Cursor& cursor, std::string_view key) const {
  auto value = cursor.field(key);
  if (!value || value->node.IsNull()) return std::nullopt;
  return string_of(*value);
}

bool Loader::bool_of(const Cursor& cursor) const {
  if (cursor.node.IsScalar()) {
    const std::string& text = cursor.node.Scalar();
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
  }
  fail(cursor, fmt::format("expected true or false, got {}", describe(cursor.node)));
}

bool Loader::bool_field(const Cursor& cursor, std::string_view key, bool fallback) const {
  auto value = cursor.field(key);
  if (!value || value->node.IsNull()) return fallback;
  return bool_of(*value);
}

double Loader::number_of(const Cursor& cursor) const {
  double value = 0;
  if (!cursor.node.IsScalar() || !parse_double(cursor.node.Scalar(), value)) {
    fail(cursor, fmt::format("expected a number, got {}", describe(cursor.node)));
  }
  return value;
}

std::uint64_t Loader::count_of(const Cursor& cursor) const {
  double value = -1;
  if (cursor.node.IsScalar() && parse_double(cursor.node.Scalar(), value) && value >= 0 &&
      value == std::floor(value) && value < 1.8e19) {
    return static_cast<std::uint64_t>(value);
  }
  fail(cursor, fmt::format("expected a non-negative integer, got {}", describe(cursor.node)));
}

}  // namespace detail

namespace {

core::Result<Document> load(std::string_view text, const std::filesystem::path& path,
                            const LoadOptions& options) {
  try {
    return detail::Loader(options).run(text, path);
  } catch (const detail::LoadFailure& failure) {
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
  core::Result<std::string> text = options.read_file
                                       ? options.read_file(normal)
                                       : detail::read_whole_file(normal, options.max_bytes);
  if (!text) return core::fail(fmt::format("{}: {}", normal.string(), text.error().message));
  return load(*text, normal, options);
}

}  // namespace glidepath::contract
