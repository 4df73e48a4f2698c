// JSON form of a deployment: the admin API's deployment object (SPEC section 7) and the
// form the store persists. Reading back what was written gives an equal Deployment.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "core/result.h"
#include "deploy/deployment.h"

namespace glidepath::deploy {

nlohmann::json to_json(const Deployment& deployment);
core::Result<Deployment> deployment_from_json(const nlohmann::json& json);

nlohmann::json to_json(const Step& step);  // {"weight": 10} | {"pause": "30s"} | {"pause": {}}
core::Result<Step> step_from_json(const nlohmann::json& json);
nlohmann::json to_json(const AlarmRule& rule);
core::Result<AlarmRule> alarm_rule_from_json(const nlohmann::json& json);
nlohmann::json to_json(const HookSpec& hook);
core::Result<HookSpec> hook_spec_from_json(const nlohmann::json& json);

std::string to_json_text(const Deployment& deployment);
core::Result<Deployment> deployment_from_json_text(std::string_view text);

}  // namespace glidepath::deploy
