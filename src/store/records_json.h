// JSON text for the store's record fields that are lists or maps (service versions, a
// traffic split, API key metadata): every backend keeps them in TEXT columns the same way.
// Decoding checks the shape and returns an error for anything else, never throws.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/store.h"

namespace glidepath::store {

core::Result<std::string> versions_to_json_text(
    const std::vector<deploy::DeployedVersion>& versions);
core::Result<std::vector<deploy::DeployedVersion>> versions_from_json_text(std::string_view text);

core::Result<std::string> traffic_to_json_text(const std::map<std::string, int>& traffic);
core::Result<std::map<std::string, int>> traffic_from_json_text(std::string_view text);

core::Result<std::string> metadata_to_json_text(const std::map<std::string, std::string>& metadata);
core::Result<std::map<std::string, std::string>> metadata_from_json_text(std::string_view text);

}  // namespace glidepath::store
