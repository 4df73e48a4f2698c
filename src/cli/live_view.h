// What `glidepath deploy --wait` and `glidepath status` show (SPEC section 1): the
// traffic split as a bar, the state, the step and the time to the next one, each alarm's
// state and value, the latest events. Pure functions of the admin API's JSON, the time
// and the terminal's width, so the picture is tested line by line; the commands around
// them do the polling and the drawing.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/clock.h"

namespace glidepath::cli {

struct ViewOptions {
  int width = 80;         // terminal columns: no line is longer (so a redraw never wraps);
                          // 0 or less: lines are not cut (not a terminal)
  bool color = false;     // ANSI colours (only on a TTY)
  size_t max_events = 5;  // the latest events shown
};

// "v1 ██████████████████░░ 90% | v2 10%": `bar_cells` cells, the stable version's share
// filled. With colour the stable share is green and the canary's yellow.
std::string render_split(const std::string& from, const std::string& to, int canary_weight,
                         int bar_cells, bool color);

// The live view of one deployment (the admin API's deployment object).
std::vector<std::string> render_deployment(const nlohmann::json& deployment, core::TimePoint now,
                                           const ViewOptions& options);

// `glidepath status SERVICE`: the service's versions, split and its active deployment.
std::vector<std::string> render_service(const nlohmann::json& service, core::TimePoint now,
                                        const ViewOptions& options);

// `glidepath status`: one line per service (GET /v1/services).
std::vector<std::string> render_services(const nlohmann::json& services,
                                         const ViewOptions& options);

// One plain line for a log (not a TTY): "2026-11-26T11:49:46.123Z  state     shifting".
std::string format_event_line(const nlohmann::json& event);

// A value of an alarm's metric as people read it: "3.2%" for an error rate, "412ms" for
// a latency, "12/s" for a request rate, "7" for a 5xx count; "-" without a value.
std::string format_metric_value(const std::string& metric, const nlohmann::json& value);

// "12s", "1m05s", "2h03m": the time to the next step.
std::string format_remaining(core::Duration d);

// Cuts `line` to `width` columns (UTF-8 aware; ANSI colour sequences take no column);
// a width of 0 or less leaves it whole.
std::string fit_to_width(const std::string& line, int width);

}  // namespace glidepath::cli
