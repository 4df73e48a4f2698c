// One change as the JSON report writes it (docs/contract.md), for the reports that embed
// changes: the diff's and the impact's.
#pragma once

#include <nlohmann/json.hpp>

#include "contract/diff.h"

namespace glidepath::contract {

nlohmann::ordered_json change_json(const Change& change);

}  // namespace glidepath::contract
