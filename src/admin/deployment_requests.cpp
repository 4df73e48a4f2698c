#include "admin/deployment_requests.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <span>

#include "admin/json_body.h"
#include "core/text.h"
#include "core/units.h"
#include "deploy/deployment_json.h"
#include "deploy/strategy.h"

namespace glidepath::admin {

namespace {

using nlohmann::json;

constexpr size_t kMaxUpstreams = 256;
using core::is_valid_name;
using core::kMaxNameLength;

// A failure from a deploy::*_from_json reader, whose message is "field: message" for the
// value at `path`: "alarms[0]" + "threshold: must be a number" → "alarms[0].threshold: ...".
// Messages that name no field of their own get "path: message".
core::Failure nested_error(std::string_view path, const std::string& message,
                           std::span<const std::string_view> fields) {
  for (std::string_view field : fields) {
    if (message.size() > field.size() + 1 && message.compare(0, field.size(), field) == 0 &&
        (message[field.size()] == ':' || message[field.size()] == '[' ||
         message[field.size()] == ' ')) {
      return core::fail(fmt::format("{}.{}", path, message));
    }
  }
  return field_error(path, message);
}

constexpr std::array<std::string_view, 9> kRequestFields = {
    "version", "upstreams",      "strategy",         "steps", "alarms", "hooks",
    "spec",    "allow_breaking", "replace_upstreams"};
constexpr std::array<std::string_view, 10> kAlarmFields = {"name",
                                                           "metric",
                                                           "version",
                                                           "comparison",
                                                           "threshold",
                                                           "relative_to_stable",
                                                           "period",
                                                           "evaluation_periods",
                                                           "datapoints_to_alarm",
                                                           "min_requests"};
constexpr std::array<std::string_view, 6> kHookFields = {"http",    "command",     "timeout",
                                                         "ca_file", "client_cert", "client_key"};
constexpr std::array<std::string_view, 3> kHookKinds = {"pre_traffic", "post_traffic", "on_event"};

core::Result<std::vector<std::string>> read_upstreams(const json& value) {
  if (!value.is_array()) {
    return field_error("upstreams", R"(must be a list of "host:port" strings)");
  }
  if (value.empty()) return field_error("upstreams", "must not be empty");
  if (value.size() > kMaxUpstreams) {
    return field_error("upstreams", fmt::format("at most {} upstreams", kMaxUpstreams));
  }
  std::vector<std::string> upstreams;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string path = fmt::format("upstreams[{}]", i);
    if (!value[i].is_string()) return field_error(path, R"(must be a "host:port" string)");
    const auto text = value[i].get<std::string>();
    auto hp = core::parse_host_port(text);
    if (!hp) return field_error(path, hp.error().message);
    std::string normalised = core::format_host_port(*hp);
    if (std::find(upstreams.begin(), upstreams.end(), normalised) != upstreams.end()) {
      return field_error(path, fmt::format("'{}' is listed twice", text));
    }
    upstreams.push_back(std::move(normalised));
  }
  return upstreams;
}

core::Result<std::vector<deploy::Step>> read_steps(const json& value) {
  if (!value.is_array()) {
    return field_error("steps", R"(must be a list of steps like {"weight": 10}, {"pause": "30s"})");
  }
  if (value.empty()) return field_error("steps", "must not be empty");
  std::vector<deploy::Step> steps;
  for (size_t i = 0; i < value.size(); ++i) {
    auto step = deploy::step_from_json(value[i]);
    if (!step) return field_error(fmt::format("steps[{}]", i), step.error().message);
    steps.push_back(*step);
  }
  // The plan's own rules (weights never decrease, pauses positive, ...), so the mistake
  // is reported here with its path rather than later by the controller.
  if (auto plan = deploy::plan_from_steps(steps); !plan) {
    return field_error("steps", plan.error().message);
  }
  return steps;
}

core::Result<std::vector<deploy::AlarmRule>> read_alarms(const json& value) {
  if (!value.is_array()) return field_error("alarms", "must be a list of alarm rules");
  std::vector<deploy::AlarmRule> alarms;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string path = fmt::format("alarms[{}]", i);
    if (!value[i].is_object()) return field_error(path, "must be an object");
    if (auto keys = check_known_fields(value[i], path + ".", kAlarmFields); !keys) {
      return core::Failure{keys.error()};
    }
    auto rule = deploy::alarm_rule_from_json(value[i]);
    if (!rule) return nested_error(path, rule.error().message, kAlarmFields);
    for (size_t j = 0; j < alarms.size(); ++j) {
      if (alarms[j].name == rule->name) {
        return field_error(path + ".name",
                           fmt::format("'{}' is already the name of alarms[{}]", rule->name, j));
      }
    }
    alarms.push_back(std::move(*rule));
  }
  return alarms;
}

core::Result<deploy::Hooks> read_hooks(const json& value) {
  if (!value.is_object()) {
    return field_error("hooks", "must be an object with pre_traffic, post_traffic, on_event");
  }
  if (auto keys = check_known_fields(value, "hooks.", kHookKinds); !keys) {
    return core::Failure{keys.error()};
  }
  deploy::Hooks hooks;
  for (auto [key, slot] :
       {std::pair{"pre_traffic", &hooks.pre_traffic},
        std::pair{"post_traffic", &hooks.post_traffic}, std::pair{"on_event", &hooks.on_event}}) {
    const auto it = value.find(key);
    if (it == value.end() || it->is_null()) continue;
    const std::string path = fmt::format("hooks.{}", key);
    if (!it->is_object()) {
      return field_error(path, R"(must be an object: {"http": URL} or {"command": [...]})");
    }
    if (auto keys = check_known_fields(*it, path + ".", kHookFields); !keys) {
      return core::Failure{keys.error()};
    }
    auto hook = deploy::hook_spec_from_json(*it);
    if (!hook) {
      // validate_hook_spec says "http or command: ..." when neither or both are given.
      constexpr std::array<std::string_view, 7> kMessageFields = {
          "http or command", "http", "command", "timeout", "ca_file", "client_cert", "client_key"};
      return nested_error(path, hook.error().message, kMessageFields);
    }
    *slot = std::move(*hook);
  }
  return hooks;
}

core::Result<bool> read_bool(const json& object, std::string_view key, std::string_view path) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return false;
  if (!it->is_boolean()) return field_error(path, "must be true or false");
  return it->get<bool>();
}

}  // namespace

core::Result<controller::DeploymentRequest> parse_deployment_request(std::string_view service,
                                                                     std::string_view body) {
  auto parsed = parse_json_body(body, false);
  if (!parsed) return core::Failure{parsed.error()};
  const json& j = *parsed;
  if (auto keys = check_known_fields(j, "", kRequestFields); !keys)
    return core::Failure{keys.error()};

  controller::DeploymentRequest request;
  request.service = std::string(service);

  const auto version = j.find("version");
  if (version == j.end() || version->is_null()) return field_error("version", "is required");
  if (!version->is_string()) return field_error("version", "must be a string");
  request.version = version->get<std::string>();
  if (!is_valid_name(request.version)) {
    return field_error("version",
                       fmt::format("invalid version name '{}': use up to {} letters, digits, '.', "
                                   "'_' or '-', starting with a letter or digit",
                                   request.version.substr(0, kMaxNameLength), kMaxNameLength));
  }

  if (const auto it = j.find("upstreams"); it != j.end() && !it->is_null()) {
    auto upstreams = read_upstreams(*it);
    if (!upstreams) return core::Failure{upstreams.error()};
    request.upstreams = std::move(*upstreams);
  }

  const auto strategy = j.find("strategy");
  const auto steps = j.find("steps");
  const bool has_strategy = strategy != j.end() && !strategy->is_null();
  const bool has_steps = steps != j.end() && !steps->is_null();
  if (has_strategy && has_steps) {
    return field_error("steps", "give either strategy or steps, not both");
  }
  if (has_strategy) {
    if (!strategy->is_string()) return field_error("strategy", "must be a string");
    std::string name = strategy->get<std::string>();
    if (auto plan = deploy::plan_from_strategy(name); !plan) {
      return field_error("strategy", plan.error().message);
    }
    request.strategy = std::move(name);
  }
  if (has_steps) {
    auto list = read_steps(*steps);
    if (!list) return core::Failure{list.error()};
    request.steps = std::move(*list);
  }

  if (const auto it = j.find("alarms"); it != j.end() && !it->is_null()) {
    auto alarms = read_alarms(*it);
    if (!alarms) return core::Failure{alarms.error()};
    request.alarms = std::move(*alarms);
  }
  if (const auto it = j.find("hooks"); it != j.end() && !it->is_null()) {
    auto hooks = read_hooks(*it);
    if (!hooks) return core::Failure{hooks.error()};
    request.hooks = std::move(*hooks);
  }
  if (const auto it = j.find("spec"); it != j.end() && !it->is_null()) {
    if (!it->is_string())
      return field_error("spec", "must be a string (the OpenAPI document's path)");
    request.spec = it->get<std::string>();
  }
  auto allow_breaking = read_bool(j, "allow_breaking", "allow_breaking");
  if (!allow_breaking) return core::Failure{allow_breaking.error()};
  request.allow_breaking = *allow_breaking;
  auto replace_upstreams = read_bool(j, "replace_upstreams", "replace_upstreams");
  if (!replace_upstreams) return core::Failure{replace_upstreams.error()};
  request.replace_upstreams = *replace_upstreams;
  return request;
}

core::Result<deploy::Command> parse_command(std::string_view command, std::string_view body) {
  auto parsed = parse_json_body(body, true);
  if (!parsed) return core::Failure{parsed.error()};
  const json& j = *parsed;
  if (command == "promote") {
    constexpr std::array<std::string_view, 1> kFields = {"full"};
    if (auto keys = check_known_fields(j, "", kFields); !keys) return core::Failure{keys.error()};
    auto full = read_bool(j, "full", "full");
    if (!full) return core::Failure{full.error()};
    return deploy::Command{deploy::Promote{*full}};
  }
  if (command == "abort") {
    constexpr std::array<std::string_view, 1> kFields = {"reason"};
    if (auto keys = check_known_fields(j, "", kFields); !keys) return core::Failure{keys.error()};
    std::string reason = "aborted via admin API";
    if (const auto it = j.find("reason"); it != j.end() && !it->is_null()) {
      if (!it->is_string()) return field_error("reason", "must be a string");
      const auto text = it->get<std::string>();
      if (text.size() > 1000) return field_error("reason", "at most 1000 characters");
      if (!text.empty()) reason += ": " + text;
    }
    return deploy::Command{deploy::Abort{std::move(reason)}};
  }
  if (command == "pause" || command == "resume") {
    constexpr std::array<std::string_view, 0> kFields = {};
    if (auto keys = check_known_fields(j, "", kFields); !keys) return core::Failure{keys.error()};
    if (command == "pause") return deploy::Command{deploy::Pause{}};
    return deploy::Command{deploy::Resume{}};
  }
  return core::fail(
      fmt::format("command: unknown command '{}' (expected promote, abort, pause or "
                  "resume)",
                  command));
}

core::Result<HookResult> parse_hook_result(std::string_view hook, std::string_view body) {
  HookResult result;
  if (hook == "pre_traffic") {
    result.kind = deploy::HookKind::pre_traffic;
  } else if (hook == "post_traffic") {
    result.kind = deploy::HookKind::post_traffic;
  } else if (hook == "on_event") {
    return field_error("hook", "on_event is a notification: it has no result to report");
  } else {
    return field_error("hook", fmt::format("unknown hook '{}' (expected pre_traffic or "
                                           "post_traffic)",
                                           hook));
  }
  auto parsed = parse_json_body(body, false);
  if (!parsed) return core::Failure{parsed.error()};
  const json& j = *parsed;
  constexpr std::array<std::string_view, 2> kFields = {"status", "message"};
  if (auto keys = check_known_fields(j, "", kFields); !keys) return core::Failure{keys.error()};
  const auto status = j.find("status");
  if (status == j.end() || status->is_null()) return field_error("status", "is required");
  if (!status->is_string()) return field_error("status", R"(must be "succeeded" or "failed")");
  const auto text = status->get<std::string>();
  if (text == "succeeded") {
    result.succeeded = true;
  } else if (text == "failed") {
    result.succeeded = false;
  } else {
    return field_error("status", fmt::format(R"(must be "succeeded" or "failed", got "{}")", text));
  }
  if (const auto it = j.find("message"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) return field_error("message", "must be a string");
    result.message = it->get<std::string>();
    if (result.message.size() > 4000) return field_error("message", "at most 4000 characters");
  }
  return result;
}

int status_for_error(const core::Error& error) {
  const std::string_view message = error.message;
  if (message.starts_with("invalid: ")) return 400;
  if (message.starts_with(store::kNotFoundPrefix)) return 404;
  if (message.starts_with(store::kConflictPrefix)) return 409;
  return 500;
}

}  // namespace glidepath::admin
