#include "cli/live_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "cli/text_output.h"
#include "core/units.h"

namespace glidepath::cli {

namespace {

using nlohmann::json;

// Lenient readers: the view shows what it can of an object from any server version.
std::string text(const json& j, const char* key, std::string fallback = "") {
  if (!j.is_object()) return fallback;
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}
int64_t integer(const json& j, const char* key, int64_t fallback = 0) {
  if (!j.is_object()) return fallback;
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int64_t>() : fallback;
}
double number(const json& j, const char* key, double fallback = 0) {
  if (!j.is_object()) return fallback;
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}
const json& member(const json& j, const char* key) {
  static const json kNull;
  if (!j.is_object()) return kNull;
  const auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}
std::optional<core::TimePoint> time_of(const json& j, const char* key) {
  const std::string t = text(j, key);
  if (t.empty()) return std::nullopt;
  auto parsed = core::parse_rfc3339(t);
  if (!parsed) return std::nullopt;
  return *parsed;
}

// "10:00:01" from "2026-11-26T10:00:01.123Z" (UTC, as the admin API writes times).
std::string clock_time(const std::string& rfc3339) {
  return rfc3339.size() >= 19 ? rfc3339.substr(11, 8) : rfc3339;
}

const char* state_colour(const std::string& state) {
  if (state == "succeeded") return kGreen;
  if (state == "rolled_back" || state == "rolling_back" || state == "failed") return kRed;
  if (state == "paused") return kYellow;
  return kCyan;
}

std::string describe_step(const json& step) {
  if (!step.is_object()) return "";
  if (const auto it = step.find("weight"); it != step.end() && it->is_number()) {
    return fmt::format("weight {}%", it->get<int64_t>());
  }
  if (const auto it = step.find("pause"); it != step.end()) {
    if (it->is_string()) return fmt::format("pause {}", it->get<std::string>());
    return "pause until promoted";
  }
  return "";
}

// The pause duration of a step, if it is a timed pause.
std::optional<core::Duration> pause_of(const json& step) {
  if (!step.is_object()) return std::nullopt;
  const auto it = step.find("pause");
  if (it == step.end() || !it->is_string()) return std::nullopt;
  auto d = core::parse_duration(it->get<std::string>());
  if (!d) return std::nullopt;
  return *d;
}

std::string threshold_text(const json& rule) {
  const std::string metric = text(rule, "metric");
  const std::string comparison = text(rule, "comparison", ">");
  return fmt::format("{} {} {}", metric, comparison,
                     format_metric_value(metric, member(rule, "threshold")));
}

const json* alarm_rule(const json& deployment, const std::string& name) {
  const json& rules = member(member(deployment, "spec"), "alarms");
  if (!rules.is_array()) return nullptr;
  for (const json& rule : rules) {
    if (text(rule, "name") == name) return &rule;
  }
  return nullptr;
}

// The state line's detail: the step and what it waits for.
std::string progress_text(const json& d, core::TimePoint now) {
  const std::string state = text(d, "state");
  const json& steps = member(member(member(d, "spec"), "plan"), "steps");
  const int64_t total =
      steps.is_array() ? static_cast<int64_t>(steps.size()) : integer(d, "total_steps", 0);
  const int64_t step = integer(d, "step", 0);
  std::string out;
  auto step_part = [&] {
    if (total <= 0) return std::string();
    const int64_t shown = std::min(step + 1, total);
    std::string s = fmt::format("step {}/{}", shown, total);
    if (steps.is_array() && step < total) {
      s += fmt::format(" ({})", describe_step(steps[static_cast<size_t>(step)]));
    }
    return s;
  };
  const json current =
      steps.is_array() && step < total ? steps[static_cast<size_t>(step)] : json(nullptr);
  auto remaining_until = [&](core::TimePoint from) -> std::string {
    const auto pause = pause_of(current);
    const auto started = time_of(d, "step_started_at");
    if (!pause || !started) return "";
    const core::Duration left = *started + *pause - from;
    return format_remaining(std::max(left, core::Duration(0)));
  };

  if (state == "shifting") {
    out = step_part();
    if (current.is_object() && current.contains("pause")) {
      const std::string left = remaining_until(now);
      out += left.empty() ? " · waiting for promote" : fmt::format(" · next step in {}", left);
    }
  } else if (state == "paused") {
    out = step_part();
    const auto paused_at = time_of(d, "paused_at");
    const std::string left = paused_at ? remaining_until(*paused_at) : "";
    out += " · paused, resume to continue";
    if (!left.empty()) out += fmt::format(" ({} left in this step)", left);
  } else if (state == "pre_traffic" || state == "post_traffic") {
    const json& hook = member(member(d, "hooks"), state.c_str());
    out = fmt::format("{} hook {}", state == "pre_traffic" ? "pre-traffic" : "post-traffic",
                      text(hook, "status", "running"));
  } else if (state == "keeping_warm") {
    const auto until = time_of(d, "warm_until");
    out = until ? fmt::format("previous version kept warm for {}",
                              format_remaining(std::max(*until - now, core::Duration(0))))
                : "previous version kept warm";
  } else if (state == "succeeded" || state == "rolled_back" || state == "failed") {
    const auto started = time_of(d, "started_at");
    const auto finished = time_of(d, "finished_at");
    if (started && finished) {
      out = fmt::format("finished after {}", format_remaining(*finished - *started));
    }
  } else if (state == "checking_contract") {
    out = "comparing the versions' API contracts";
  }
  return out;
}

std::string pad(const std::string& s, size_t width) {
  const size_t columns = display_columns(s);
  return columns >= width ? s : s + std::string(width - columns, ' ');
}

// An alarm's state (painted) and its value. insufficient_data has two cases that must not
// read alike: no datapoint at all ("no data", and no number), or some datapoints but too
// few periods to decide (the newest period's value, labelled as the last one seen).
std::string alarm_state_text(const std::string& state, const std::string& metric, const json& value,
                             const char* colour, bool color) {
  if (state == "insufficient_data") {
    if (!value.is_number()) return paint("no data", colour, color);
    return paint("not enough data", colour, color) +
           fmt::format(", last {}", format_metric_value(metric, value));
  }
  return paint(state, colour, color) + " " + format_metric_value(metric, value);
}

int bar_cells_for(int width) {
  if (width <= 0) return 20;  // no width limit
  return std::clamp(width - 40, 5, 20);
}

}  // namespace

std::string format_metric_value(const std::string& metric, const json& value) {
  if (!value.is_number()) {
    // Latency thresholds may come as durations ("250ms").
    if (value.is_string()) return value.get<std::string>();
    return "-";
  }
  const double v = value.get<double>();
  if (metric == "error_rate") {
    const double percent = v * 100;
    return percent == std::floor(percent) ? fmt::format("{:.0f}%", percent)
                                          : fmt::format("{:.1f}%", percent);
  }
  if (metric.rfind("latency_", 0) == 0) {
    if (v < 1.0) return fmt::format("{:.0f}ms", v * 1000);
    return fmt::format("{:.2f}s", v);
  }
  if (metric == "request_rate") {
    return v == std::floor(v) ? fmt::format("{:.0f}/s", v) : fmt::format("{:.1f}/s", v);
  }
  return v == std::floor(v) ? fmt::format("{:.0f}", v) : fmt::format("{:.2f}", v);
}

std::string format_remaining(core::Duration d) {
  const int64_t total =
      std::chrono::duration_cast<std::chrono::seconds>(d + std::chrono::microseconds(999'999))
          .count();
  if (total < 60) return fmt::format("{}s", total);
  if (total < 3600) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
}

std::string fit_to_width(const std::string& line, int width) {
  if (width <= 0) return line;
  std::string out;
  int columns = 0;
  bool escaped = false;
  for (size_t i = 0; i < line.size();) {
    const unsigned char c = static_cast<unsigned char>(line[i]);
    if (c == 0x1b && i + 1 < line.size() && line[i + 1] == '[') {
      // A CSI sequence: parameters, then one final byte in 0x40..0x7E.
      size_t end = i + 2;
      while (end < line.size() && !(line[end] >= 0x40 && line[end] <= 0x7E))
        ++end;
      end = std::min(end + 1, line.size());
      out.append(line, i, end - i);
      escaped = true;
      i = end;
      continue;
    }
    size_t len = 1;
    if (c >= 0xF0) {
      len = 4;
    } else if (c >= 0xE0) {
      len = 3;
    } else if (c >= 0xC0) {
      len = 2;
    }
    if (columns + 1 > width) break;
    out.append(line, i, std::min(len, line.size() - i));
    ++columns;
    i += len;
  }
  if (escaped && out.size() < line.size()) out += kReset;
  return out;
}

std::string render_split(const std::string& from, const std::string& to, int canary_weight,
                         int bar_cells, bool color) {
  canary_weight = std::clamp(canary_weight, 0, 100);
  const int stable = 100 - canary_weight;
  const int filled = static_cast<int>(std::lround(stable * bar_cells / 100.0));
  std::string stable_cells;
  std::string canary_cells;
  for (int i = 0; i < bar_cells; ++i)
    (i < filled ? stable_cells : canary_cells) += i < filled ? "█" : "░";
  return fmt::format("{} {}{} {}% | {} {}%", paint(from, kBold, color),
                     paint(stable_cells, kGreen, color), paint(canary_cells, kYellow, color),
                     stable, paint(to, kBold, color), canary_weight);
}

std::vector<std::string> render_deployment(const json& d, core::TimePoint now,
                                           const ViewOptions& options) {
  const bool color = options.color;
  std::vector<std::string> lines;
  const std::string state = text(d, "state", "unknown");
  const std::string from = text(d, "from_version", "?");
  const std::string to = text(d, "to_version", "?");

  std::string started = clock_time(text(d, "started_at"));
  lines.push_back(fmt::format("{}  {}  {} → {}  {}{}", paint(text(d, "id"), kBold, color),
                              text(d, "service"), from, to, text(d, "strategy"),
                              started.empty() ? "" : fmt::format("  started {}", started)));
  lines.push_back(fmt::format("  traffic  {}",
                              render_split(from, to, static_cast<int>(integer(d, "canary_weight")),
                                           bar_cells_for(options.width), color)));
  const std::string progress = progress_text(d, now);
  lines.push_back(fmt::format("  state    {}{}", paint(state, state_colour(state), color),
                              progress.empty() ? "" : " · " + progress));

  const json& alarms = member(d, "alarms");
  if (alarms.is_array() && !alarms.empty()) {
    bool first = true;
    for (const json& alarm : alarms) {
      const std::string name = text(alarm, "name");
      const std::string alarm_state = text(alarm, "state", "insufficient_data");
      const json* rule = alarm_rule(d, name);
      const std::string metric = rule ? text(*rule, "metric") : "";
      const char* colour = alarm_state == "alarm" ? kRed : alarm_state == "ok" ? kGreen : kDim;
      std::string line =
          fmt::format("  {:<7}  {} {}", first ? "alarms" : "", name,
                      alarm_state_text(alarm_state, metric, member(alarm, "value"), colour, color));
      if (rule) line += fmt::format(" ({})", threshold_text(*rule));
      lines.push_back(std::move(line));
      first = false;
    }
  } else {
    const json& rules = member(member(d, "spec"), "alarms");
    if (rules.is_array() && !rules.empty()) {
      bool first = true;
      for (const json& rule : rules) {
        lines.push_back(fmt::format("  {:<7}  {} {} ({})", first ? "alarms" : "",
                                    text(rule, "name"), paint("no data", kDim, color),
                                    threshold_text(rule)));
        first = false;
      }
    } else {
      lines.push_back("  alarms   none");
    }
  }

  const std::string reason = text(d, "reason");
  if (!reason.empty()) lines.push_back(fmt::format("  reason   {}", paint(reason, kRed, color)));

  const json& events = member(d, "events");
  if (events.is_array() && !events.empty() && options.max_events > 0) {
    lines.push_back("  events");
    const size_t from_index =
        events.size() > options.max_events ? events.size() - options.max_events : 0;
    for (size_t i = from_index; i < events.size(); ++i) {
      const json& e = events[i];
      lines.push_back(fmt::format("    {}  {} {}", clock_time(text(e, "time")),
                                  paint(pad(text(e, "type"), 8), kDim, color), text(e, "message")));
    }
  }
  for (std::string& line : lines)
    line = fit_to_width(line, options.width);
  return lines;
}

std::vector<std::string> render_service(const json& service, core::TimePoint now,
                                        const ViewOptions& options) {
  const bool color = options.color;
  std::vector<std::string> lines;
  const json& hosts = member(service, "hosts");
  std::string host_text;
  if (hosts.is_array()) {
    for (const json& h : hosts) {
      if (!h.is_string()) continue;
      host_text += host_text.empty() ? h.get<std::string>() : ", " + h.get<std::string>();
    }
  }
  lines.push_back(fmt::format("{}  live {}  hosts {}  prefix {}",
                              paint(text(service, "name"), kBold, color), text(service, "live"),
                              host_text.empty() ? "any" : host_text,
                              text(service, "path_prefix", "/")));
  const json& versions = member(service, "versions");
  size_t name_width = 0;
  if (versions.is_array()) {
    for (const json& v : versions)
      name_width = std::max(name_width, text(v, "name").size());
    for (const json& v : versions) {
      std::string upstreams;
      const json& list = member(v, "upstreams");
      if (list.is_array()) {
        for (const json& u : list) {
          if (u.is_string()) {
            upstreams += upstreams.empty() ? u.get<std::string>() : ", " + u.get<std::string>();
          }
        }
      }
      const double weight = number(v, "weight");
      lines.push_back(fmt::format("  {} {:>6}  {}", pad(text(v, "name"), name_width),
                                  weight == std::floor(weight) ? fmt::format("{:.0f}%", weight)
                                                               : fmt::format("{:.2f}%", weight),
                                  upstreams));
    }
  }
  const json& deployment = member(service, "deployment");
  if (deployment.is_object()) {
    lines.emplace_back("");
    for (std::string& line : render_deployment(deployment, now, options))
      lines.push_back(std::move(line));
  } else {
    lines.emplace_back("  no deployment running");
  }
  for (std::string& line : lines)
    line = fit_to_width(line, options.width);
  return lines;
}

std::vector<std::string> render_services(const json& services, const ViewOptions& options) {
  const bool color = options.color;
  const json& list = services.is_object() ? member(services, "services") : services;
  std::vector<std::string> lines;
  if (!list.is_array() || list.empty()) {
    lines.emplace_back("no services");
    return lines;
  }
  size_t name_width = 7;  // "SERVICE"
  size_t live_width = 4;  // "LIVE"
  std::vector<std::string> splits;
  for (const json& s : list) {
    name_width = std::max(name_width, text(s, "name").size());
    live_width = std::max(live_width, text(s, "live").size());
    const json& d = member(s, "deployment");
    if (d.is_object()) {
      splits.push_back(render_split(text(d, "from_version"), text(d, "to_version"),
                                    static_cast<int>(integer(d, "canary_weight")), 10, color));
      continue;
    }
    std::string split;
    const json& versions = member(s, "versions");
    if (versions.is_array()) {
      for (const json& v : versions) {
        const double weight = number(v, "weight");
        if (weight <= 0) continue;
        split += fmt::format("{}{} {}%", split.empty() ? "" : " | ", text(v, "name"),
                             weight == std::floor(weight) ? fmt::format("{:.0f}", weight)
                                                          : fmt::format("{:.2f}", weight));
      }
    }
    splits.push_back(split);
  }
  size_t split_width = 7;  // "TRAFFIC"
  for (const std::string& s : splits)
    split_width = std::max(split_width, display_columns(s));
  lines.push_back(fit_to_width(fmt::format("{}  {}  {}  DEPLOYMENT", pad("SERVICE", name_width),
                                           pad("LIVE", live_width), pad("TRAFFIC", split_width)),
                               options.width));
  for (size_t i = 0; i < list.size(); ++i) {
    const json& s = list[i];
    const json& d = member(s, "deployment");
    std::string deployment = "-";
    if (d.is_object()) {
      const std::string state = text(d, "state");
      const int64_t total = integer(d, "total_steps");
      deployment = fmt::format("{} {}", text(d, "id"), paint(state, state_colour(state), color));
      if (total > 0) {
        deployment += fmt::format(" step {}/{}", std::min(integer(d, "step") + 1, total), total);
      }
    }
    lines.push_back(fit_to_width(
        fmt::format("{}  {}  {}  {}", pad(text(s, "name"), name_width),
                    pad(text(s, "live"), live_width), pad(splits[i], split_width), deployment),
        options.width));
  }
  return lines;
}

std::string format_event_line(const json& event) {
  return fmt::format("{}  {} {}", text(event, "time"), pad(text(event, "type"), 8),
                     text(event, "message"));
}

}  // namespace glidepath::cli
