#include "contract/model.h"

#include <algorithm>
#include <array>
#include <utility>

namespace glidepath::contract {
namespace {

constexpr std::array<std::pair<Type, std::string_view>, 7> kTypeNames = {{
    {Type::null, "null"},
    {Type::boolean, "boolean"},
    {Type::integer, "integer"},
    {Type::number, "number"},
    {Type::string, "string"},
    {Type::array, "array"},
    {Type::object, "object"},
}};

// The schema of `property` in `object`, or null when it has none.
const Schema* property_schema(const Document& document, const Schema& object,
                              const std::string& property) {
  const auto found = object.properties.find(property);
  if (found == object.properties.end() || !found->second.valid()) return nullptr;
  if (found->second.index >= document.schemas.size()) return nullptr;
  return &document.schemas[found->second.index];
}

}  // namespace

std::string_view to_string(SourceKind kind) {
  switch (kind) {
    case SourceKind::swagger2:
      return "swagger 2.0";
    case SourceKind::openapi30:
      return "openapi 3.0";
    case SourceKind::openapi31:
      return "openapi 3.1";
  }
  return "unknown";
}

std::string TypeSet::to_string() const {
  std::string text;
  for (const auto& [type, name] : kTypeNames) {
    if (!has(type)) continue;
    if (!text.empty()) text += '|';
    text += name;
  }
  return text;
}

std::optional<Type> type_from_name(std::string_view name) {
  for (const auto& [type, type_name] : kTypeNames) {
    if (type_name == name) return type;
  }
  return std::nullopt;
}

bool required_in_request(const Document& document, const Schema& object,
                         const std::string& property) {
  if (object.required.count(property) == 0) return false;
  const Schema* schema = property_schema(document, object, property);
  return schema == nullptr || !schema->read_only;
}

bool required_in_response(const Document& document, const Schema& object,
                          const std::string& property) {
  if (object.required.count(property) == 0) return false;
  const Schema* schema = property_schema(document, object, property);
  return schema == nullptr || !schema->write_only;
}

std::string path_key(std::string_view path) {
  std::string key;
  key.reserve(path.size());
  size_t i = 0;
  while (i < path.size()) {
    const char c = path[i];
    if (c == '{') {
      const size_t close = path.find('}', i);
      if (close != std::string_view::npos) {
        key += "{}";
        i = close + 1;
        continue;
      }
    }
    key += c;
    ++i;
  }
  return key;
}

const Operation* Document::find(std::string_view method, std::string_view path) const {
  const std::string wanted = std::string(method) + " " + path_key(path);
  const auto found = std::lower_bound(
      operations.begin(), operations.end(), wanted,
      [](const Operation& operation, const std::string& key) { return operation.key() < key; });
  if (found == operations.end() || found->key() != wanted) return nullptr;
  return &*found;
}

}  // namespace glidepath::contract
