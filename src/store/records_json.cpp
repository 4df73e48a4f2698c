#include "store/records_json.h"

#include <fmt/format.h>

#include <cstdint>
#include <exception>
#include <nlohmann/json.hpp>

namespace glidepath::store {

using deploy::DeployedVersion;
namespace {

using nlohmann::json;

// dump() throws on invalid UTF-8; a store error says so instead.
core::Result<std::string> dump(const json& value, std::string_view what) {
  try {
    return value.dump();
  } catch (const std::exception& e) {
    return core::fail(fmt::format("{} cannot be written as JSON: {}", what, e.what()));
  }
}

core::Result<json> parse(std::string_view text, std::string_view what) {
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return core::fail(fmt::format("{}: stored JSON is unreadable", what));
  return value;
}

core::Failure wrong_shape(std::string_view what, std::string_view expected) {
  return core::fail(fmt::format("{}: stored JSON is not {}", what, expected));
}

}  // namespace

core::Result<std::string> versions_to_json_text(const std::vector<DeployedVersion>& versions) {
  json list = json::array();
  for (const DeployedVersion& v : versions) {
    list.push_back({{"name", v.name}, {"upstreams", v.upstreams}, {"spec_path", v.spec_path}});
  }
  return dump(list, "service versions");
}

core::Result<std::vector<DeployedVersion>> versions_from_json_text(std::string_view text) {
  constexpr std::string_view what = "service versions";
  auto parsed = parse(text, what);
  if (!parsed) return core::Failure{parsed.error()};
  const json& list = *parsed;
  constexpr std::string_view shape = R"(a list of {"name","upstreams","spec_path"})";
  if (!list.is_array()) return wrong_shape(what, shape);
  std::vector<DeployedVersion> versions;
  for (const json& item : list) {
    if (!item.is_object()) return wrong_shape(what, shape);
    auto name = item.find("name");
    auto upstreams = item.find("upstreams");
    auto spec_path = item.find("spec_path");
    if (name == item.end() || !name->is_string() || upstreams == item.end() ||
        !upstreams->is_array() || spec_path == item.end() || !spec_path->is_string()) {
      return wrong_shape(what, shape);
    }
    DeployedVersion version;
    version.name = name->get<std::string>();
    version.spec_path = spec_path->get<std::string>();
    for (const json& upstream : *upstreams) {
      if (!upstream.is_string()) return wrong_shape(what, shape);
      version.upstreams.push_back(upstream.get<std::string>());
    }
    versions.push_back(std::move(version));
  }
  return versions;
}

core::Result<std::string> traffic_to_json_text(const std::map<std::string, int>& traffic) {
  return dump(json(traffic), "traffic split");
}

core::Result<std::map<std::string, int>> traffic_from_json_text(std::string_view text) {
  constexpr std::string_view what = "traffic split";
  auto parsed = parse(text, what);
  if (!parsed) return core::Failure{parsed.error()};
  constexpr std::string_view shape = "an object of version → percent 0..100";
  if (!parsed->is_object()) return wrong_shape(what, shape);
  std::map<std::string, int> traffic;
  for (const auto& [version, percent] : parsed->items()) {
    if (!percent.is_number_integer()) return wrong_shape(what, shape);
    const auto value = percent.get<int64_t>();
    if (value < 0 || value > 100) return wrong_shape(what, shape);
    traffic.emplace(version, static_cast<int>(value));
  }
  return traffic;
}

core::Result<std::string> metadata_to_json_text(
    const std::map<std::string, std::string>& metadata) {
  return dump(json(metadata), "API key metadata");
}

core::Result<std::map<std::string, std::string>> metadata_from_json_text(std::string_view text) {
  constexpr std::string_view what = "API key metadata";
  auto parsed = parse(text, what);
  if (!parsed) return core::Failure{parsed.error()};
  constexpr std::string_view shape = "an object of string → string";
  if (!parsed->is_object()) return wrong_shape(what, shape);
  std::map<std::string, std::string> metadata;
  for (const auto& [key, value] : parsed->items()) {
    if (!value.is_string()) return wrong_shape(what, shape);
    metadata.emplace(key, value.get<std::string>());
  }
  return metadata;
}

}  // namespace glidepath::store
