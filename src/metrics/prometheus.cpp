#include "metrics/prometheus.h"

#include <fmt/format.h>

#include <iterator>
#include <vector>

namespace glidepath::metrics {

namespace {

// The service and version labels, ready to be followed by more labels or '}'.
void append_series_labels(std::string& out, std::string_view name, const PrometheusSeries& s) {
  out += name;
  out += "{service=\"";
  append_escaped_label_value(out, s.service);
  out += "\",version=\"";
  append_escaped_label_value(out, s.version);
  out += '"';
}

}  // namespace

void append_metric_header(std::string& out, std::string_view name, std::string_view help,
                          std::string_view type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void append_escaped_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void append_request_metrics(std::string& out, std::span<const PrometheusSeries> series) {
  auto sink = std::back_inserter(out);

  append_metric_header(out, "glidepath_requests_total",
                       "Requests answered, by service, version and status class (gateway-made "
                       "502 and 504 included).",
                       "counter");
  for (const PrometheusSeries& s : series) {
    const SeriesTotals empty;
    const SeriesTotals& t = s.totals != nullptr ? *s.totals : empty;
    for (StatusClass c :
         {StatusClass::informational, StatusClass::success, StatusClass::redirection,
          StatusClass::client_error, StatusClass::server_error}) {
      if (c == StatusClass::informational && t.status_1xx == 0) continue;
      append_series_labels(out, "glidepath_requests_total", s);
      fmt::format_to(sink, ",code=\"{}\"}} {}\n", to_string(c), t.of(c));
    }
  }

  append_metric_header(out, "glidepath_request_duration_seconds",
                       "Time from the first request byte to the last response byte.", "histogram");
  for (const PrometheusSeries& s : series) {
    const SeriesTotals empty;
    const SeriesTotals& t = s.totals != nullptr ? *s.totals : empty;
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= kDurationBoundCount; ++i) {
      cumulative += t.duration_buckets[i];
      append_series_labels(out, "glidepath_request_duration_seconds_bucket", s);
      fmt::format_to(sink, ",le=\"{}\"}} {}\n",
                     i < kDurationBoundCount ? kDurationBoundLabels[i] : "+Inf", cumulative);
    }
    append_series_labels(out, "glidepath_request_duration_seconds_sum", s);
    fmt::format_to(sink, "}} {}\n", static_cast<double>(t.latency_sum_us) / 1e6);
    append_series_labels(out, "glidepath_request_duration_seconds_count", s);
    fmt::format_to(sink, "}} {}\n", t.latency_count);
  }
}

std::string render_request_metrics(const SeriesRegistry& registry, const MetricsHistory& history) {
  const std::vector<SeriesName> names = registry.names();
  const std::vector<SeriesTotals> totals = history.all_totals();
  const SeriesTotals empty;
  std::vector<PrometheusSeries> series;
  series.reserve(names.size());
  for (size_t id = 0; id < names.size(); ++id) {
    series.push_back(PrometheusSeries{names[id].service, names[id].version,
                                      id < totals.size() ? &totals[id] : &empty});
  }
  std::string out;
  append_request_metrics(out, series);
  return out;
}

}  // namespace glidepath::metrics
