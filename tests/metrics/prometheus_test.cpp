#include "metrics/prometheus.h"

#include <gtest/gtest.h>

#include <string>

#include "metrics/history.h"
#include "metrics/series_registry.h"

namespace glidepath::metrics {
namespace {

void add_requests(MetricsHistory& history, SeriesId series, int64_t second,
                  std::initializer_list<std::pair<int, int64_t>> status_and_latency) {
  SecondStats stats;
  LatencyHistogram latency;
  for (const auto& [status, micros] : status_and_latency) {
    stats.count(status, 0, 0);
    latency.record(micros);
  }
  stats.latency.assign(latency);
  history.add(series, second, stats);
}

TEST(PrometheusTest, GoldenRequestMetrics) {
  SeriesRegistry registry;
  ASSERT_EQ(*registry.intern("orders", "v1"), 0u);
  ASSERT_EQ(*registry.intern("we\"ird\\svc", "v\n1"), 1u);
  MetricsHistory history;
  add_requests(history, 0, 10, {{200, 400}, {200, 999}});
  add_requests(history, 0, 11, {{503, 1'000}});

  const std::string expected =
      "# HELP glidepath_requests_total Requests answered, by service, version and status class "
      "(gateway-made 502 and 504 included).\n"
      "# TYPE glidepath_requests_total counter\n"
      "glidepath_requests_total{service=\"orders\",version=\"v1\",code=\"2xx\"} 2\n"
      "glidepath_requests_total{service=\"orders\",version=\"v1\",code=\"3xx\"} 0\n"
      "glidepath_requests_total{service=\"orders\",version=\"v1\",code=\"4xx\"} 0\n"
      "glidepath_requests_total{service=\"orders\",version=\"v1\",code=\"5xx\"} 1\n"
      "glidepath_requests_total{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\",code=\"2xx\"} 0\n"
      "glidepath_requests_total{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\",code=\"3xx\"} 0\n"
      "glidepath_requests_total{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\",code=\"4xx\"} 0\n"
      "glidepath_requests_total{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\",code=\"5xx\"} 0\n"
      "# HELP glidepath_request_duration_seconds Time from the first request byte to the last "
      "response byte.\n"
      "# TYPE glidepath_request_duration_seconds histogram\n"
      "glidepath_request_duration_seconds_bucket{service=\"orders\",version=\"v1\",le=\"0.0005\"} "
      "1\n"
      "glidepath_request_duration_seconds_bucket{service=\"orders\",version=\"v1\",le=\"0.001\"} "
      "2\n"
      "glidepath_request_duration_seconds_bucket{service=\"orders\",version=\"v1\",le=\"0.0025\"} "
      "3\n"
      "glidepath_request_duration_seconds_bucket{service=\"orders\",version=\"v1\",le=\"0.005\"} "
      "3\n"
      "glidepath_request_duration_seconds_bucket{service=\"orders\",version=\"v1\",le=\"0.01\"} 3\n"
      "glidepath_request_duration_seconds_bucket{service=\"orders\",version=\"v1\",le=\"0.025\"} "
      "3\n"
      "glidepath_request_duration_seconds_bucket{service=\"orders\",version=\"v1\",le=\"0.05\"} 3\n"
      "glidepath_request_duration_seconds_bucket{service=\"orders\",version=\"v1\",le=\"0.1\"} 3\n"
      "glidepath_request_duration_seconds_bucket{service=\"orders\",version=\"v1\",le=\"0.25\"} 3\n"
      "glidepath_request_duration_seconds_bucket{service=\"orders\",version=\"v1\",le=\"0.5\"} 3\n"
      "glidepath_request_duration_seconds_bucket{service=\"orders\",version=\"v1\",le=\"1\"} 3\n"
      "glidepath_request_duration_seconds_bucket{service=\"orders\",version=\"v1\",le=\"2.5\"} 3\n"
      "glidepath_request_duration_seconds_bucket{service=\"orders\",version=\"v1\",le=\"5\"} 3\n"
      "glidepath_request_duration_seconds_bucket{service=\"orders\",version=\"v1\",le=\"10\"} 3\n"
      "glidepath_request_duration_seconds_bucket{service=\"orders\",version=\"v1\",le=\"30\"} 3\n"
      "glidepath_request_duration_seconds_bucket{service=\"orders\",version=\"v1\",le=\"60\"} 3\n"
      "glidepath_request_duration_seconds_bucket{service=\"orders\",version=\"v1\",le=\"+Inf\"} 3\n"
      "glidepath_request_duration_seconds_sum{service=\"orders\",version=\"v1\"} 0.002399\n"
      "glidepath_request_duration_seconds_count{service=\"orders\",version=\"v1\"} 3\n"
      "glidepath_request_duration_seconds_bucket{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\","
      "le=\"0.0005\"} 0\n"
      "glidepath_request_duration_seconds_bucket{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\","
      "le=\"0.001\"} 0\n"
      "glidepath_request_duration_seconds_bucket{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\","
      "le=\"0.0025\"} 0\n"
      "glidepath_request_duration_seconds_bucket{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\","
      "le=\"0.005\"} 0\n"
      "glidepath_request_duration_seconds_bucket{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\","
      "le=\"0.01\"} 0\n"
      "glidepath_request_duration_seconds_bucket{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\","
      "le=\"0.025\"} 0\n"
      "glidepath_request_duration_seconds_bucket{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\","
      "le=\"0.05\"} 0\n"
      "glidepath_request_duration_seconds_bucket{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\","
      "le=\"0.1\"} 0\n"
      "glidepath_request_duration_seconds_bucket{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\","
      "le=\"0.25\"} 0\n"
      "glidepath_request_duration_seconds_bucket{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\","
      "le=\"0.5\"} 0\n"
      "glidepath_request_duration_seconds_bucket{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\","
      "le=\"1\"} 0\n"
      "glidepath_request_duration_seconds_bucket{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\","
      "le=\"2.5\"} 0\n"
      "glidepath_request_duration_seconds_bucket{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\","
      "le=\"5\"} 0\n"
      "glidepath_request_duration_seconds_bucket{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\","
      "le=\"10\"} 0\n"
      "glidepath_request_duration_seconds_bucket{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\","
      "le=\"30\"} 0\n"
      "glidepath_request_duration_seconds_bucket{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\","
      "le=\"60\"} 0\n"
      "glidepath_request_duration_seconds_bucket{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\","
      "le=\"+Inf\"} 0\n"
      "glidepath_request_duration_seconds_sum{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\"} 0\n"
      "glidepath_request_duration_seconds_count{service=\"we\\\"ird\\\\svc\",version=\"v\\n1\"} "
      "0\n";
  EXPECT_EQ(render_request_metrics(registry, history), expected);
}

TEST(PrometheusTest, InformationalCodeAppearsOnlyOnceSeenAndSlowRequestsLandInInf) {
  MetricsHistory history;
  add_requests(history, 0, 1, {{101, 70'000'000}});
  const SeriesTotals totals = history.totals(0);
  const PrometheusSeries series[] = {{"chat", "v2", &totals}, {"chat", "v3", nullptr}};
  std::string out;
  append_request_metrics(out, series);
  EXPECT_NE(out.find("glidepath_requests_total{service=\"chat\",version=\"v2\",code=\"1xx\"} 1\n"),
            std::string::npos);
  EXPECT_EQ(out.find("version=\"v3\",code=\"1xx\""), std::string::npos);
  EXPECT_NE(out.find("{service=\"chat\",version=\"v2\",le=\"60\"} 0\n"), std::string::npos);
  EXPECT_NE(out.find("{service=\"chat\",version=\"v2\",le=\"+Inf\"} 1\n"), std::string::npos);
  EXPECT_NE(out.find("_sum{service=\"chat\",version=\"v2\"} 70\n"), std::string::npos);
  EXPECT_NE(out.find("_count{service=\"chat\",version=\"v3\"} 0\n"), std::string::npos);
}

TEST(PrometheusTest, HeaderAndLabelEscaping) {
  std::string out;
  append_metric_header(out, "glidepath_traffic_weight", "Weight \\ in percent\nper version",
                       "gauge");
  EXPECT_EQ(out,
            "# HELP glidepath_traffic_weight Weight \\\\ in percent\\nper version\n"
            "# TYPE glidepath_traffic_weight gauge\n");
  out.clear();
  append_escaped_label_value(out, "a\"b\\c\nd");
  EXPECT_EQ(out, "a\\\"b\\\\c\\nd");
}

TEST(PrometheusTest, EmptyRegistryStillDeclaresTheFamilies) {
  SeriesRegistry registry;
  MetricsHistory history;
  const std::string out = render_request_metrics(registry, history);
  EXPECT_NE(out.find("# TYPE glidepath_requests_total counter\n"), std::string::npos);
  EXPECT_NE(out.find("# TYPE glidepath_request_duration_seconds histogram\n"), std::string::npos);
}

}  // namespace
}  // namespace glidepath::metrics
