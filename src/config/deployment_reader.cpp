// A service's `deployment` section: strategy or steps, blue/green options, alarms, hooks,
// contract policy (SPEC sections 2 and 3). The deploy module owns what is valid
// (plan_from_strategy, plan_from_steps, validate_alarm_rule, validate_hook_spec); this file
// turns YAML into its types and puts each of its complaints at the right path and line.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <set>
#include <string_view>
#include <unordered_set>

#include "config/readers.h"
#include "deploy/alarm.h"
#include "deploy/deployment.h"
#include "deploy/hooks.h"
#include "deploy/strategy.h"

namespace glidepath::config::detail {
namespace {

constexpr std::string_view kDefaultStrategy = "Canary10Percent5Minutes";

int line_or(const std::optional<YAML::Node>& node, int fallback) {
  if (!node) return fallback;
  const int line = line_of(*node);
  return line != 0 ? line : fallback;
}

// ---------------------------------------------------------------------------------------
// Steps: [{weight: 5}, {pause: 30s}, {pause: {}}, {weight: 100}] (SPEC section 3).

std::optional<deploy::Plan> read_steps(Reader& reader, const YAML::Node& node,
                                       const std::string& path) {
  auto items = reader.list(node, path);
  if (!items) return std::nullopt;
  if (items->empty()) {
    reader.error(path, node, "must list at least one step, e.g. [{weight: 10}, {pause: 5m}]");
    return std::nullopt;
  }
  std::vector<deploy::Step> steps;
  bool complete = true;
  std::optional<int> last_weight;
  for (size_t i = 0; i < items->size(); ++i) {
    const std::string step_path = index_path(path, i);
    MapView step(reader, (*items)[i], step_path, {"weight", "pause"});
    if (!step.valid()) {
      complete = false;
      continue;
    }
    const bool has_weight = step.has("weight");
    const bool has_pause = step.has("pause");
    if (has_weight == has_pause) {
      if (!has_weight && (step.misspelt("weight") || step.misspelt("pause"))) {
        complete = false;
        continue;
      }
      reader.error(step_path, step.line(),
                   has_weight ? "a step is either {weight: N} or {pause: D}, not both"
                              : "a step needs weight or pause: {weight: 10}, {pause: 30s} or "
                                "{pause: {}} (wait for promote)");
      complete = false;
      continue;
    }
    if (has_weight) {
      const auto weight_node = step.get("weight");
      if (!weight_node) {
        reader.error(step.path("weight"), step.line(), "expected a percentage, got nothing");
        complete = false;
        continue;
      }
      const auto weight = reader.percent(*weight_node, step.path("weight"));
      if (!weight) {
        complete = false;
        continue;
      }
      if (last_weight && *weight < *last_weight) {
        reader.error(step.path("weight"), *weight_node,
                     fmt::format("weights never go down: {}% after {}% (a rollback is an abort)",
                                 *weight, *last_weight));
        complete = false;
      }
      last_weight = *weight;
      steps.emplace_back(deploy::WeightStep{*weight});
      continue;
    }
    // pause: 30s | {} | {duration: 30s} | null (the last three wait for promote).
    deploy::PauseStep pause;
    if (const auto pause_node = step.get("pause")) {
      std::optional<YAML::Node> duration_node;
      std::string duration_path = step.path("pause");
      if (pause_node->IsMap()) {
        MapView pause_map(reader, *pause_node, step.path("pause"), {"duration"});
        duration_node = pause_map.get("duration");
        duration_path = pause_map.path("duration");
      } else {
        duration_node = pause_node;
      }
      if (duration_node) {
        const auto duration = reader.duration(*duration_node, duration_path);
        if (!duration) {
          complete = false;
          continue;
        }
        if (duration->count() <= 0) {
          reader.error(duration_path, *duration_node,
                       "must be positive; write {pause: {}} to wait for promote");
          complete = false;
          continue;
        }
        pause.duration = *duration;
      }
    }
    steps.emplace_back(pause);
  }
  if (!complete) return std::nullopt;
  auto plan = deploy::plan_from_steps(std::move(steps));
  if (!plan) {
    // plan_from_steps names its field relative to the deployment ("steps[3].weight: ...").
    const std::string& message = plan.error().message;
    const size_t colon = message.find(": ");
    if (message.rfind("steps", 0) == 0 && colon != std::string::npos && message.find(' ') > colon) {
      const std::string field = message.substr(5, colon - 5);  // "" or "[3].weight"
      reader.error(path + field, node, message.substr(colon + 2));
    } else {
      reader.error(path, node, message);
    }
    return std::nullopt;
  }
  return std::move(*plan);
}

// ---------------------------------------------------------------------------------------
// Alarms (SPEC section 2, `alarms`).

// The threshold's unit follows the metric: error_rate is a ratio (0.05, or "5%"), latency
// is a duration ("250ms"; a bare number is seconds), the others plain numbers.
std::optional<double> read_threshold(Reader& reader, const YAML::Node& node,
                                     const std::string& path, deploy::Metric metric) {
  auto text = reader.string(node, path, "a number");
  if (!text) return std::nullopt;
  std::string_view value = trim(*text);
  if (deploy::is_latency(metric)) {
    if (auto seconds = parse_number(value)) return seconds;
    const bool negative = !value.empty() && value.front() == '-';
    if (negative) value.remove_prefix(1);
    auto duration = core::parse_duration(value);
    if (!duration) {
      reader.error(path, node,
                   fmt::format("{} is a latency: expected a duration like 250ms (or a number of "
                               "seconds), got '{}'",
                               deploy::to_string(metric), *text));
      return std::nullopt;
    }
    const double seconds = static_cast<double>(duration->count()) / 1e6;
    return negative ? -seconds : seconds;
  }
  if (!value.empty() && value.back() == '%') {
    if (metric != deploy::Metric::error_rate) {
      reader.error(path, node,
                   fmt::format("a percentage applies to error_rate only; {} takes a number",
                               deploy::to_string(metric)));
      return std::nullopt;
    }
    if (auto percent = parse_number(value.substr(0, value.size() - 1))) return *percent / 100.0;
    reader.error(path, node,
                 fmt::format("expected a ratio (0.05) or a percentage (5%), got '{}'", *text));
    return std::nullopt;
  }
  if (auto number = parse_number(value)) return number;
  reader.error(path, node,
               metric == deploy::Metric::error_rate
                   ? fmt::format("expected a ratio (0.05) or a percentage (5%), got '{}'", *text)
                   : fmt::format("expected a number, got '{}'", *text));
  return std::nullopt;
}

std::optional<deploy::Comparison> read_comparison(Reader& reader, const YAML::Node& node,
                                                  const std::string& path) {
  auto text = reader.string(node, path, "one of >, >=, <, <=");
  if (!text) return std::nullopt;
  const std::string_view value = trim(*text);
  if (auto comparison = deploy::comparison_from_string(value)) return comparison;
  // CloudWatch's names, for people bringing alarms over.
  static constexpr std::pair<std::string_view, deploy::Comparison> kAliases[] = {
      {"GreaterThanThreshold", deploy::Comparison::greater},
      {"GreaterThanOrEqualToThreshold", deploy::Comparison::greater_or_equal},
      {"LessThanThreshold", deploy::Comparison::less},
      {"LessThanOrEqualToThreshold", deploy::Comparison::less_or_equal},
  };
  for (const auto& [alias, comparison] : kAliases) {
    if (value == alias) return comparison;
  }
  std::string message = fmt::format("must be one of >, >=, <, <=; got '{}'", *text);
  // An unquoted `>` starts a folded block scalar in YAML and reads as empty.
  if (value.empty()) message += " (quote it: comparison: \">\")";
  reader.error(path, node, std::move(message));
  return std::nullopt;
}

std::optional<deploy::AlarmRule> read_alarm(Reader& reader, const YAML::Node& node,
                                            const std::string& path) {
  MapView view(reader, node, path,
               {"name", "metric", "version", "comparison", "threshold", "relative_to_stable",
                "period", "evaluation_periods", "datapoints_to_alarm", "min_requests"});
  if (!view.valid()) return std::nullopt;
  deploy::AlarmRule rule;
  std::set<std::string, std::less<>> failed;  // fields already reported
  auto fail_field = [&](std::string_view field) { failed.emplace(field); };

  if (const auto n = view.get("name")) {
    if (auto name = reader.non_empty_string(*n, view.path("name"))) {
      rule.name = std::string(trim(*name));
    } else {
      fail_field("name");
    }
  } else {
    if (!view.misspelt("name")) reader.error(view.path("name"), view.line(), "is required");
    fail_field("name");
  }
  if (const auto n = view.get("metric")) {
    const auto index = reader.choice(
        *n, view.path("metric"),
        {"error_rate", "status_5xx", "request_rate", "latency_p50", "latency_p90", "latency_p99"});
    if (index) {
      static constexpr deploy::Metric kMetrics[] = {
          deploy::Metric::error_rate,  deploy::Metric::status_5xx,  deploy::Metric::request_rate,
          deploy::Metric::latency_p50, deploy::Metric::latency_p90, deploy::Metric::latency_p99};
      rule.metric = kMetrics[*index];
    } else {
      fail_field("metric");
    }
  }
  if (const auto n = view.get("version")) {
    const auto index = reader.choice(*n, view.path("version"), {"canary", "stable"});
    if (index) {
      rule.version = *index == 0 ? deploy::AlarmTarget::canary : deploy::AlarmTarget::stable;
    } else {
      fail_field("version");
    }
  }
  if (const auto n = view.get("comparison")) {
    if (auto comparison = read_comparison(reader, *n, view.path("comparison"))) {
      rule.comparison = *comparison;
    } else {
      fail_field("comparison");
    }
  }
  if (const auto n = view.get("relative_to_stable")) {
    if (auto relative = reader.boolean(*n, view.path("relative_to_stable"))) {
      rule.relative_to_stable = *relative;
    } else {
      fail_field("relative_to_stable");
    }
  }
  if (const auto n = view.get("threshold")) {
    if (failed.count("metric") != 0) {
      fail_field("threshold");  // its unit depends on the metric
    } else if (auto threshold = read_threshold(reader, *n, view.path("threshold"), rule.metric)) {
      rule.threshold = *threshold;
    } else {
      fail_field("threshold");
    }
  } else if (rule.metric != deploy::Metric::error_rate && failed.count("metric") == 0 &&
             !view.misspelt("threshold")) {
    // The default 0.05 is an error ratio; it means nothing for latency or counts.
    reader.error(view.path("threshold"), view.line(),
                 fmt::format("is required for metric {}", deploy::to_string(rule.metric)));
    fail_field("threshold");
  }
  if (const auto n = view.get("period")) {
    if (auto period = reader.duration(*n, view.path("period"))) {
      rule.period = *period;
    } else {
      fail_field("period");
    }
  }
  constexpr int64_t kIntMin = std::numeric_limits<int>::min();
  constexpr int64_t kIntMax = std::numeric_limits<int>::max();
  if (const auto n = view.get("evaluation_periods")) {
    if (auto value = reader.integer(*n, view.path("evaluation_periods"), kIntMin, kIntMax)) {
      rule.evaluation_periods = static_cast<int>(*value);
    } else {
      fail_field("evaluation_periods");
    }
  }
  if (const auto n = view.get("datapoints_to_alarm")) {
    if (auto value = reader.integer(*n, view.path("datapoints_to_alarm"), kIntMin, kIntMax)) {
      rule.datapoints_to_alarm = static_cast<int>(*value);
    } else {
      fail_field("datapoints_to_alarm");
    }
  }
  if (const auto n = view.get("min_requests")) {
    if (auto value =
            reader.integer(*n, view.path("min_requests"), 0, std::numeric_limits<int64_t>::max())) {
      rule.min_requests = static_cast<uint64_t>(*value);
    } else {
      fail_field("min_requests");
    }
  }

  const bool reported_before = !failed.empty();
  for (const deploy::FieldError& problem : deploy::validate_alarm_rule(rule)) {
    // A field that did not parse keeps its default; its own error already says why, and
    // a comparison involving it (M > N with N unread) would only confuse.
    if (failed.count(problem.field) != 0) continue;
    if (problem.field == "datapoints_to_alarm" &&
        (failed.count("evaluation_periods") != 0 || view.misspelt("evaluation_periods"))) {
      continue;
    }
    if (problem.field == "evaluation_periods" && failed.count("period") != 0) continue;
    reader.error(view.path(problem.field), line_or(view.get(problem.field), view.line()),
                 problem.message);
  }
  if (reported_before) return std::nullopt;
  return rule;
}

// ---------------------------------------------------------------------------------------
// Hooks (SPEC section 2, `hooks`).

std::optional<deploy::HookSpec> read_hook(Reader& reader, const YAML::Node& node,
                                          const std::string& path, const LoadContext& context) {
  MapView view(reader, node, path,
               {"http", "command", "timeout", "ca_file", "client_cert", "client_key"});
  if (!view.valid()) return std::nullopt;
  deploy::HookSpec hook;
  std::set<std::string, std::less<>> failed;
  if (const auto n = view.get("http")) {
    if (auto url = reader.non_empty_string(*n, view.path("http"))) {
      hook.http = std::string(trim(*url));
    } else {
      failed.emplace("http");
    }
  }
  if (const auto n = view.get("command")) {
    if (n->IsScalar()) {
      // A lone program name is a one-element argv; anything with spaces would have to be
      // split like a shell does, which we refuse to guess at.
      if (auto program = reader.non_empty_string(*n, view.path("command"))) {
        if (program->find_first_of(" \t") != std::string::npos) {
          std::vector<std::string> words;
          std::string_view rest = *program;
          while (!(rest = trim(rest)).empty()) {
            const size_t end = std::min(rest.find_first_of(" \t"), rest.size());
            words.push_back(fmt::format("\"{}\"", rest.substr(0, end)));
            rest.remove_prefix(end);
          }
          reader.error(view.path("command"), *n,
                       fmt::format("write the program and its arguments as a list, e.g. [{}] "
                                   "(no shell is involved)",
                                   fmt::join(words, ", ")));
          failed.emplace("command");
        } else {
          hook.command.push_back(*program);
        }
      } else {
        failed.emplace("command");
      }
    } else if (auto items = reader.list(*n, view.path("command"))) {
      if (items->empty()) {
        reader.error(view.path("command"), *n, "must name a program to run");
        failed.emplace("command");
      }
      for (size_t i = 0; i < items->size(); ++i) {
        auto arg = reader.string((*items)[i], index_path(view.path("command"), i));
        if (arg) {
          hook.command.push_back(std::move(*arg));
        } else {
          failed.emplace("command");
        }
      }
    } else {
      failed.emplace("command");
    }
  }
  if (const auto n = view.get("timeout")) {
    if (auto timeout = reader.duration(*n, view.path("timeout"))) {
      hook.timeout = *timeout;
    } else {
      failed.emplace("timeout");
    }
  }
  for (auto [key, slot] :
       {std::pair{"ca_file", &hook.ca_file}, std::pair{"client_cert", &hook.client_cert},
        std::pair{"client_key", &hook.client_key}}) {
    if (const auto n = view.get(key)) {
      if (auto file = read_existing_file(reader, *n, view.path(key), context)) {
        *slot = std::move(*file);
      } else {
        failed.emplace(key);
      }
    }
  }
  const bool reported_before = !failed.empty();
  for (const std::string& problem : deploy::validate_hook_spec(hook)) {
    // "field: message", where field is one of ours or "http or command".
    const size_t colon = problem.find(": ");
    const std::string field = colon == std::string::npos ? "" : problem.substr(0, colon);
    if (field == "http" || field == "command" || field == "timeout" || field == "ca_file" ||
        field == "client_cert" || field == "client_key") {
      if (failed.count(field) != 0) continue;
      // A client_cert that did not read (no such file) has said so already.
      if (field == "client_key" && failed.count("client_cert") != 0) continue;
      reader.error(view.path(field), line_or(view.get(field), view.line()),
                   problem.substr(colon + 2));
    } else {
      if (failed.count("http") != 0 || failed.count("command") != 0) continue;
      if (view.misspelt("http") || view.misspelt("command")) continue;
      reader.error(path, view.line(), problem);
    }
  }
  if (reported_before) return std::nullopt;
  return hook;
}

deploy::Hooks read_hooks(Reader& reader, const YAML::Node& node, const std::string& path,
                         const LoadContext& context) {
  MapView view(reader, node, path, {"pre_traffic", "post_traffic", "on_event"});
  deploy::Hooks hooks;
  if (const auto n = view.get("pre_traffic")) {
    hooks.pre_traffic = read_hook(reader, *n, view.path("pre_traffic"), context);
  }
  if (const auto n = view.get("post_traffic")) {
    hooks.post_traffic = read_hook(reader, *n, view.path("post_traffic"), context);
  }
  if (const auto n = view.get("on_event")) {
    hooks.on_event = read_hook(reader, *n, view.path("on_event"), context);
  }
  return hooks;
}

}  // namespace

DeploymentDefaults read_deployment_defaults(Reader& reader, const std::optional<YAML::Node>& node,
                                            const std::string& path, int service_line,
                                            const LoadContext& context) {
  DeploymentDefaults out;
  const YAML::Node section = node ? *node : YAML::Node(YAML::NodeType::Map);
  MapView view(reader, section, path,
               {"strategy", "steps", "bake", "keep_previous_warm", "evaluation_interval", "alarms",
                "hooks", "contract"});
  const int line = view.line() != 0 ? view.line() : service_line;

  if (const auto n = view.get("bake")) {
    if (auto bake = reader.duration(*n, view.path("bake"))) out.blue_green.bake = *bake;
  }
  if (const auto n = view.get("keep_previous_warm")) {
    if (auto warm = reader.duration(*n, view.path("keep_previous_warm"))) {
      out.blue_green.keep_previous_warm = *warm;
    }
  }
  if (const auto n = view.get("evaluation_interval")) {
    if (auto interval = reader.duration(*n, view.path("evaluation_interval"))) {
      // SPEC section 3: alarms are evaluated at least every second.
      if (interval->count() <= 0) {
        reader.error(view.path("evaluation_interval"), *n, "must be positive");
      } else if (*interval > std::chrono::seconds(1)) {
        reader.error(view.path("evaluation_interval"), *n,
                     "must be at most 1s (alarms are evaluated at least every second)");
      } else {
        out.evaluation_interval = *interval;
      }
    }
  }

  // Both are read even when both are given, so that a mistake in either is reported too.
  const auto strategy_node = view.get("strategy");
  const auto steps_node = view.get("steps");
  std::optional<deploy::Plan> custom;
  if (steps_node) custom = read_steps(reader, *steps_node, view.path("steps"));
  std::optional<deploy::Plan> named;
  if (strategy_node || !steps_node) {
    std::optional<std::string> name;
    if (strategy_node) {
      name = reader.non_empty_string(*strategy_node, view.path("strategy"));
    } else {
      name = std::string(kDefaultStrategy);
    }
    if (name) {
      auto plan = deploy::plan_from_strategy(trim(*name), out.blue_green);
      if (plan) {
        named = std::move(*plan);
      } else {
        reader.error(view.path("strategy"), line_or(strategy_node, line), plan.error().message);
      }
    }
  }
  if (strategy_node && steps_node) {
    reader.error(view.path("steps"), *steps_node,
                 "give either strategy or steps, not both (steps make a custom strategy)");
  } else if (custom) {
    out.plan = std::move(*custom);
  } else if (named) {
    out.plan = std::move(*named);
  }

  if (const auto n = view.get("alarms")) {
    if (auto items = reader.list(*n, view.path("alarms"))) {
      std::unordered_set<std::string> names;
      for (size_t i = 0; i < items->size(); ++i) {
        const std::string alarm_path = index_path(view.path("alarms"), i);
        auto rule = read_alarm(reader, (*items)[i], alarm_path);
        if (!rule) continue;
        if (!names.insert(rule->name).second) {
          reader.error(child_path(alarm_path, "name"), (*items)[i],
                       fmt::format("duplicate alarm name '{}'", rule->name));
          continue;
        }
        out.alarms.push_back(std::move(*rule));
      }
    }
  }
  // SPEC section 2: a service without alarms gets the default one (an empty list too:
  // deploying with no automatic rollback at all is not something to get by accident).
  if (out.alarms.empty()) out.alarms.push_back(deploy::default_alarm());

  if (const auto n = view.get("hooks"))
    out.hooks = read_hooks(reader, *n, view.path("hooks"), context);

  if (const auto n = view.get("contract")) {
    MapView contract(reader, *n, view.path("contract"), {"on_breaking"});
    if (const auto policy = contract.get("on_breaking")) {
      const auto index =
          reader.choice(*policy, contract.path("on_breaking"), {"block", "block_if_used", "warn"});
      if (index) {
        static constexpr deploy::ContractPolicy kPolicies[] = {
            deploy::ContractPolicy::block, deploy::ContractPolicy::block_if_used,
            deploy::ContractPolicy::warn};
        out.on_breaking = kPolicies[*index];
      }
    }
  }
  return out;
}

}  // namespace glidepath::config::detail
