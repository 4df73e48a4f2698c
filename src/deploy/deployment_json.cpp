#include "deploy/deployment_json.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/units.h"

namespace glidepath::deploy {

using nlohmann::json;

namespace {

json time_json(core::TimePoint t) {
  return core::format_rfc3339_micros(t);
}
json optional_time_json(const std::optional<core::TimePoint>& t) {
  return t ? time_json(*t) : json(nullptr);
}

// Reading is strict about types and lenient about absent optional fields, and reports the
// field that was wrong; nlohmann's exceptions never leave this file.
class Reader {
 public:
  explicit Reader(const json& object, std::string path = "") : j_(object), path_(std::move(path)) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  const json* find(const char* key) {
    if (!j_.is_object()) {
      fail(path_.empty() ? "document" : path_, "must be an object");
      return nullptr;
    }
    const auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }

  void string(const char* key, std::string& out, bool required = false) {
    const json* v = find(key);
    if (!v || v->is_null()) {
      if (required) fail(key, "is required");
      return;
    }
    if (!v->is_string()) return fail(key, "must be a string");
    out = v->get<std::string>();
  }
  void boolean(const char* key, bool& out) {
    const json* v = find(key);
    if (!v || v->is_null()) return;
    if (!v->is_boolean()) return fail(key, "must be true or false");
    out = v->get<bool>();
  }
  template <typename Int>
  void integer(const char* key, Int& out, int64_t min, int64_t max) {
    const json* v = find(key);
    if (!v || v->is_null()) return;
    if (!v->is_number_integer()) return fail(key, "must be an integer");
    const auto value = v->get<int64_t>();
    if (value < min || value > max) return fail(key, fmt::format("must be {}-{}", min, max));
    out = static_cast<Int>(value);
  }
  void number(const char* key, double& out) {
    const json* v = find(key);
    if (!v || v->is_null()) return;
    if (!v->is_number()) return fail(key, "must be a number");
    out = v->get<double>();
  }
  void duration(const char* key, core::Duration& out) {
    std::string text;
    string(key, text);
    if (text.empty()) return;
    auto parsed = core::parse_duration(text);
    if (!parsed) return fail(key, parsed.error().message);
    out = *parsed;
  }
  void time(const char* key, core::TimePoint& out) {
    std::optional<core::TimePoint> t;
    optional_time(key, t);
    if (t) out = *t;
  }
  void optional_time(const char* key, std::optional<core::TimePoint>& out) {
    std::string text;
    string(key, text);
    if (text.empty()) return;
    auto parsed = core::parse_rfc3339(text);
    if (!parsed) return fail(key, parsed.error().message);
    out = *parsed;
  }
  template <typename Enum, typename Parse>
  void enumeration(const char* key, Enum& out, Parse parse) {
    std::string text;
    string(key, text);
    if (text.empty()) return;
    const auto value = parse(text);
    if (!value) return fail(key, fmt::format("unknown value '{}'", text));
    out = *value;
  }
  void strings(const char* key, std::vector<std::string>& out) {
    const json* v = find(key);
    if (!v || v->is_null()) return;
    if (!v->is_array()) return fail(key, "must be a list of strings");
    out.clear();
    for (const json& item : *v) {
      if (!item.is_string()) return fail(key, "must be a list of strings");
      out.push_back(item.get<std::string>());
    }
  }
  // A nested value read by `read(json) -> Result<T>`.
  template <typename T, typename Read>
  void object(const char* key, T& out, Read read) {
    const json* v = find(key);
    if (!v || v->is_null()) return;
    auto parsed = read(*v);
    if (!parsed) return fail(key, parsed.error().message);
    out = std::move(*parsed);
  }
  template <typename T, typename Read>
  void list(const char* key, std::vector<T>& out, Read read) {
    const json* v = find(key);
    if (!v || v->is_null()) return;
    if (!v->is_array()) return fail(key, "must be a list");
    out.clear();
    for (size_t i = 0; i < v->size(); ++i) {
      auto parsed = read((*v)[i]);
      if (!parsed) return fail(fmt::format("{}[{}]", key, i), parsed.error().message);
      out.push_back(std::move(*parsed));
    }
  }

  void fail(std::string_view key, std::string_view message) {
    if (!error_.empty()) return;
    error_ = path_.empty() ? fmt::format("{}: {}", key, message)
                           : fmt::format("{}.{}: {}", path_, key, message);
  }

 private:
  const json& j_;
  std::string path_;
  std::string error_;
};

template <typename T>
core::Result<T> done(const Reader& r, T value) {
  if (!r.ok()) return core::fail(r.error());
  return value;
}

json to_json(const AlarmResult& a) {
  return json{{"name", a.name},
              {"state", to_string(a.state)},
              {"value", a.value ? json(*a.value) : json(nullptr)},
              {"breaching_periods", a.breaching_periods}};
}

core::Result<AlarmResult> alarm_result_from_json(const json& j) {
  Reader r(j);
  AlarmResult a;
  r.string("name", a.name, true);
  r.enumeration("state", a.state, alarm_state_from_string);
  if (const json* v = r.find("value"); v && v->is_number()) a.value = v->get<double>();
  r.integer("breaching_periods", a.breaching_periods, 0, 1'000'000);
  return done(r, std::move(a));
}

json to_json(const DeploymentEvent& e) {
  return json{{"time", time_json(e.time)}, {"type", e.type}, {"message", e.message}};
}

core::Result<DeploymentEvent> event_from_json(const json& j) {
  Reader r(j);
  DeploymentEvent e;
  r.time("time", e.time);
  r.string("type", e.type, true);
  r.string("message", e.message);
  return done(r, std::move(e));
}

json to_json(const HookRun& h) {
  return json{
      {"status", to_string(h.status)},
      {"started_at", h.status == HookStatus::not_started ? json(nullptr) : time_json(h.started_at)},
      {"finished_at", h.status == HookStatus::succeeded || h.status == HookStatus::failed
                          ? time_json(h.finished_at)
                          : json(nullptr)},
      {"attempts", h.attempts},
      {"message", h.message}};
}

core::Result<HookRun> hook_run_from_json(const json& j) {
  Reader r(j);
  HookRun h;
  r.enumeration("status", h.status, hook_status_from_string);
  r.time("started_at", h.started_at);
  r.time("finished_at", h.finished_at);
  r.integer("attempts", h.attempts, 0, 1'000'000);
  r.string("message", h.message);
  return done(r, std::move(h));
}

json to_json(const Hooks& hooks) {
  json j = json::object();
  if (hooks.pre_traffic) j["pre_traffic"] = to_json(*hooks.pre_traffic);
  if (hooks.post_traffic) j["post_traffic"] = to_json(*hooks.post_traffic);
  if (hooks.on_event) j["on_event"] = to_json(*hooks.on_event);
  return j;
}

core::Result<Hooks> hooks_from_json(const json& j) {
  Reader r(j);
  Hooks hooks;
  auto read_hook = [](const json& v) { return hook_spec_from_json(v); };
  for (auto [key, slot] :
       {std::pair{"pre_traffic", &hooks.pre_traffic},
        std::pair{"post_traffic", &hooks.post_traffic}, std::pair{"on_event", &hooks.on_event}}) {
    const json* v = r.find(key);
    if (!v || v->is_null()) continue;
    auto hook = read_hook(*v);
    if (!hook) {
      r.fail(key, hook.error().message);
      break;
    }
    *slot = std::move(*hook);
  }
  return done(r, std::move(hooks));
}

json to_json(const Plan& plan) {
  json steps = json::array();
  for (const Step& step : plan.steps)
    steps.push_back(to_json(step));
  return json{{"strategy", plan.strategy},
              {"kind", to_string(plan.kind)},
              {"steps", std::move(steps)},
              {"keep_previous_warm", core::format_duration(plan.keep_previous_warm)}};
}

std::optional<StrategyKind> strategy_kind_from_string(std::string_view s) {
  for (StrategyKind k : {StrategyKind::all_at_once, StrategyKind::canary, StrategyKind::linear,
                         StrategyKind::blue_green, StrategyKind::custom}) {
    if (s == to_string(k)) return k;
  }
  return std::nullopt;
}

core::Result<Plan> plan_from_json(const json& j) {
  Reader r(j);
  Plan plan;
  r.string("strategy", plan.strategy, true);
  r.enumeration("kind", plan.kind, strategy_kind_from_string);
  r.list("steps", plan.steps, [](const json& v) { return step_from_json(v); });
  r.duration("keep_previous_warm", plan.keep_previous_warm);
  if (r.ok() && plan.steps.empty()) r.fail("steps", "must not be empty");
  return done(r, std::move(plan));
}

json to_json(const DeploymentSpec& s) {
  json alarms = json::array();
  for (const AlarmRule& rule : s.alarms)
    alarms.push_back(to_json(rule));
  return json{{"upstreams", s.upstreams},
              {"api_spec", s.api_spec},
              {"plan", to_json(s.plan)},
              {"alarms", std::move(alarms)},
              {"hooks", to_json(s.hooks)},
              {"on_breaking", to_string(s.on_breaking)},
              {"check_contract", s.check_contract},
              {"allow_breaking", s.allow_breaking},
              {"evaluation_interval", core::format_duration(s.evaluation_interval)},
              {"preview_token", s.preview_token}};
}

// The spec's fields are spread between the top level (service, versions, strategy) and
// "spec" (everything else), so the admin API's object reads naturally.
void read_spec(Reader& top, const json& j, DeploymentSpec& s) {
  top.string("service", s.service, true);
  top.string("from_version", s.from_version, true);
  top.string("to_version", s.to_version, true);
  Reader r(j, "spec");
  r.strings("upstreams", s.upstreams);
  r.string("api_spec", s.api_spec);
  r.object("plan", s.plan, [](const json& v) { return plan_from_json(v); });
  r.list("alarms", s.alarms, [](const json& v) { return alarm_rule_from_json(v); });
  r.object("hooks", s.hooks, [](const json& v) { return hooks_from_json(v); });
  r.enumeration("on_breaking", s.on_breaking, contract_policy_from_string);
  r.boolean("check_contract", s.check_contract);
  r.boolean("allow_breaking", s.allow_breaking);
  r.duration("evaluation_interval", s.evaluation_interval);
  r.string("preview_token", s.preview_token);
  if (!r.ok()) top.fail("spec", r.error());
}

}  // namespace

json to_json(const Step& step) {
  if (const auto* weight = std::get_if<WeightStep>(&step)) return json{{"weight", weight->weight}};
  const auto& pause = std::get<PauseStep>(step);
  return json{
      {"pause", pause.duration ? json(core::format_duration(*pause.duration)) : json::object()}};
}

core::Result<Step> step_from_json(const json& j) {
  if (!j.is_object() || j.size() != 1) {
    return core::fail(R"(a step is {"weight": N}, {"pause": "30s"} or {"pause": {}})");
  }
  if (const auto it = j.find("weight"); it != j.end()) {
    if (!it->is_number_integer()) return core::fail("weight: must be an integer 0-100");
    const auto weight = it->get<int64_t>();
    if (weight < 0 || weight > 100) return core::fail("weight: must be 0-100");
    return Step{WeightStep{static_cast<int>(weight)}};
  }
  if (const auto it = j.find("pause"); it != j.end()) {
    if (it->is_null() || (it->is_object() && it->empty())) return Step{PauseStep{}};
    if (!it->is_string()) {
      return core::fail(R"(pause: a duration like "30s", or {} to wait for promote)");
    }
    auto d = core::parse_duration(it->get<std::string>());
    if (!d) return core::fail(fmt::format("pause: {}", d.error().message));
    return Step{PauseStep{*d}};
  }
  return core::fail(R"(a step is {"weight": N}, {"pause": "30s"} or {"pause": {}})");
}

json to_json(const AlarmRule& rule) {
  return json{{"name", rule.name},
              {"metric", to_string(rule.metric)},
              {"version", to_string(rule.version)},
              {"comparison", to_string(rule.comparison)},
              {"threshold", rule.threshold},
              {"relative_to_stable", rule.relative_to_stable},
              {"period", core::format_duration(rule.period)},
              {"evaluation_periods", rule.evaluation_periods},
              {"datapoints_to_alarm", rule.datapoints_to_alarm},
              {"min_requests", rule.min_requests}};
}

core::Result<AlarmRule> alarm_rule_from_json(const json& j) {
  Reader r(j);
  AlarmRule rule = default_alarm();
  r.string("name", rule.name, true);
  r.enumeration("metric", rule.metric, metric_from_string);
  r.enumeration("version", rule.version, alarm_target_from_string);
  r.enumeration("comparison", rule.comparison, comparison_from_string);
  // Latency thresholds may be written as durations ("250ms"), as in the config file.
  if (const json* v = r.find("threshold"); v && v->is_string() && is_latency(rule.metric)) {
    auto d = core::parse_duration(v->get<std::string>());
    if (!d) {
      r.fail("threshold", d.error().message);
    } else {
      rule.threshold = static_cast<double>(d->count()) / 1e6;
    }
  } else {
    r.number("threshold", rule.threshold);
  }
  r.boolean("relative_to_stable", rule.relative_to_stable);
  r.duration("period", rule.period);
  r.integer("evaluation_periods", rule.evaluation_periods, 1, 100'000);
  r.integer("datapoints_to_alarm", rule.datapoints_to_alarm, 1, 100'000);
  r.integer("min_requests", rule.min_requests, 0, INT64_MAX);
  if (r.ok()) {
    for (const FieldError& e : validate_alarm_rule(rule)) {
      r.fail(e.field, e.message);
    }
  }
  return done(r, std::move(rule));
}

json to_json(const HookSpec& hook) {
  json j{{"timeout", core::format_duration(hook.timeout)}};
  if (!hook.http.empty()) j["http"] = hook.http;
  if (!hook.command.empty()) j["command"] = hook.command;
  if (!hook.ca_file.empty()) j["ca_file"] = hook.ca_file;
  if (!hook.client_cert.empty()) j["client_cert"] = hook.client_cert;
  if (!hook.client_key.empty()) j["client_key"] = hook.client_key;
  return j;
}

core::Result<HookSpec> hook_spec_from_json(const json& j) {
  Reader r(j);
  HookSpec hook;
  r.string("http", hook.http);
  r.strings("command", hook.command);
  r.duration("timeout", hook.timeout);
  r.string("ca_file", hook.ca_file);
  r.string("client_cert", hook.client_cert);
  r.string("client_key", hook.client_key);
  if (r.ok()) {
    const auto errors = validate_hook_spec(hook);
    if (!errors.empty()) return core::fail(errors.front());
  }
  return done(r, std::move(hook));
}

json to_json(const Deployment& d) {
  json alarms = json::array();
  for (const AlarmResult& a : d.alarms)
    alarms.push_back(to_json(a));
  json events = json::array();
  for (const DeploymentEvent& e : d.events)
    events.push_back(to_json(e));
  return json{
      {"id", d.id},
      {"service", d.spec.service},
      {"from_version", d.spec.from_version},
      {"to_version", d.spec.to_version},
      {"strategy", d.spec.plan.strategy},
      {"state", to_string(d.state)},
      {"canary_weight", d.canary_weight},
      {"step", d.step},
      {"total_steps", d.spec.plan.steps.size()},
      {"step_started_at", time_json(d.step_started_at)},
      {"paused_from", to_string(d.paused_from)},
      {"paused_at", optional_time_json(d.paused_at)},
      {"warm_until", optional_time_json(d.warm_until)},
      {"started_at", time_json(d.started_at)},
      {"updated_at", time_json(d.updated_at)},
      {"finished_at", optional_time_json(d.finished_at)},
      {"alarms", std::move(alarms)},
      {"events", std::move(events)},
      {"reason", d.reason.empty() ? json(nullptr) : json(d.reason)},
      {"hooks",
       json{{"pre_traffic", to_json(d.pre_traffic)}, {"post_traffic", to_json(d.post_traffic)}}},
      {"spec", to_json(d.spec)},
  };
}

core::Result<Deployment> deployment_from_json(const json& j) {
  Reader r(j);
  Deployment d;
  r.string("id", d.id, true);
  if (const json* spec = r.find("spec"); spec && spec->is_object()) {
    read_spec(r, *spec, d.spec);
  } else {
    r.fail("spec", "is required");
  }
  r.enumeration("state", d.state, deployment_state_from_string);
  r.enumeration("paused_from", d.paused_from, deployment_state_from_string);
  r.integer("canary_weight", d.canary_weight, 0, 100);
  r.integer("step", d.step, 0, 1'000'000);
  r.time("step_started_at", d.step_started_at);
  r.optional_time("paused_at", d.paused_at);
  r.optional_time("warm_until", d.warm_until);
  r.time("started_at", d.started_at);
  r.time("updated_at", d.updated_at);
  r.optional_time("finished_at", d.finished_at);
  r.list("alarms", d.alarms, [](const json& v) { return alarm_result_from_json(v); });
  r.list("events", d.events, [](const json& v) { return event_from_json(v); });
  r.string("reason", d.reason);
  if (const json* hooks = r.find("hooks"); hooks && hooks->is_object()) {
    Reader h(*hooks, "hooks");
    h.object("pre_traffic", d.pre_traffic, [](const json& v) { return hook_run_from_json(v); });
    h.object("post_traffic", d.post_traffic, [](const json& v) { return hook_run_from_json(v); });
    if (!h.ok()) r.fail("hooks", h.error());
  }
  return done(r, std::move(d));
}

std::string to_json_text(const Deployment& deployment) {
  return to_json(deployment).dump();
}

core::Result<Deployment> deployment_from_json_text(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return core::fail("deployment: not valid JSON");
  return deployment_from_json(j);
}

}  // namespace glidepath::deploy
