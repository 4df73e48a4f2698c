// Invalid documents: every class of mistake is reported with its exact path and line (the
// line carrying the marker comment "# <-"), all mistakes at once, and no input crashes.
#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"
#include "test_support.h"

namespace glidepath::config {
namespace {

using testing::describe;
using testing::empty_env;
using testing::marked_line;

// A valid service; cases append to it or put a section before it.
const std::string kService = R"(services:
  - name: orders
    versions:
      - name: v1
        upstreams: [127.0.0.1:9001]
      - name: v2
        upstreams: [127.0.0.1:9002]
    live: v1
)";

std::string top(std::string_view section) {
  return std::string(section) + kService;
}
std::string svc(std::string_view fields) {
  return kService + std::string(fields);
}
std::string dep(std::string_view fields) {
  return kService + "    deployment:\n" + std::string(fields);
}

struct ErrorCase {
  std::string name;
  std::string yaml;
  std::string path;
  std::string message;  // a part of the message
};

std::ostream& operator<<(std::ostream& out, const ErrorCase& c) {
  return out << c.name;
}

class SingleErrorTest : public ::testing::TestWithParam<ErrorCase> {};

std::string case_name(const ::testing::TestParamInfo<ErrorCase>& param) {
  return param.param.name;
}

TEST_P(SingleErrorTest, ReportsPathLineAndMessage) {
  const ErrorCase& c = GetParam();
  const LoadResult result = load_config(c.yaml, empty_env());
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.config, nullptr);
  ASSERT_EQ(result.errors.size(), 1u) << c.yaml << "\n" << describe(result);
  const ConfigError& e = result.errors[0];
  EXPECT_EQ(e.path, c.path) << describe(result);
  EXPECT_EQ(e.line, marked_line(c.yaml)) << describe(result);
  EXPECT_NE(e.message.find(c.message), std::string::npos) << "expected '" << c.message << "' in:\n"
                                                          << describe(result);
}

INSTANTIATE_TEST_SUITE_P(
    Gateway, SingleErrorTest,
    ::testing::Values(
        ErrorCase{"UnknownSection", top("gatway:  # <-\n  workers: 2\n"), "gatway",
                  "unknown key; did you mean 'gateway'?"},
        ErrorCase{"UnknownKeyWithoutSuggestion", top("gateway:\n  frobnicate: 1  # <-\n"),
                  "gateway.frobnicate", "unknown key (expected one of listen, workers,"},
        ErrorCase{"ListWhereMapExpected", top("gateway: [1, 2]  # <-\n"), "gateway",
                  "expected a mapping, got a list"},
        ErrorCase{"WordForInteger", top("gateway:\n  workers: abc  # <-\n"), "gateway.workers",
                  "expected an integer, got 'abc'"},
        ErrorCase{"NegativeWorkers", top("gateway:\n  workers: -1  # <-\n"), "gateway.workers",
                  "must be between 0 and 1024, got -1"},
        ErrorCase{"MapForInteger", top("gateway:\n  workers: {a: 1}  # <-\n"), "gateway.workers",
                  "expected an integer, got a mapping"},
        ErrorCase{"ListenWithoutPort", top("gateway:\n  listen: 127.0.0.1  # <-\n"),
                  "gateway.listen", "missing port"},
        ErrorCase{"TimeoutWithoutUnit", top("gateway:\n  header_timeout: 10  # <-\n"),
                  "gateway.header_timeout", "missing unit"},
        ErrorCase{"ZeroTimeout", top("gateway:\n  idle_timeout: 0s  # <-\n"),
                  "gateway.idle_timeout", "must be positive"},
        ErrorCase{"ZeroWebSocketIdleTimeout", top("gateway:\n  websocket_idle_timeout: 0s  # <-\n"),
                  "gateway.websocket_idle_timeout", "must be positive"},
        ErrorCase{"WebSocketDrainWithoutUnit", top("gateway:\n  websocket_drain: 5  # <-\n"),
                  "gateway.websocket_drain", "missing unit"},
        ErrorCase{"TinyHeaderLimit", top("gateway:\n  max_header_bytes: 10  # <-\n"),
                  "gateway.max_header_bytes", "must be at least 1024 bytes, got 10"},
        ErrorCase{"BadSize", top("gateway:\n  max_body_bytes: 10 parsecs  # <-\n"),
                  "gateway.max_body_bytes", "expected a size in bytes"},
        ErrorCase{"DuplicateKey", top("gateway:\n  workers: 1\n  workers: 2  # <-\n"),
                  "gateway.workers", "duplicate key"},
        ErrorCase{"AdminOnGatewayAddress",
                  top("gateway: {listen: 127.0.0.1:9000}\nadmin: {listen: 127.0.0.1:9000}  # <-\n"),
                  "admin.listen", "must differ from gateway.listen (127.0.0.1:9000)"},
        ErrorCase{"MalformedEnvReference", top("admin:\n  token: ${TOKEN  # <-\n"), "admin.token",
                  "unterminated '${'"}),
    case_name);

INSTANTIATE_TEST_SUITE_P(
    Store, SingleErrorTest,
    ::testing::Values(ErrorCase{"OtherDatabase", top("store: mysql://db/x  # <-\n"), "store",
                                "must be sqlite:PATH or a postgres://user@host:5432/db URL"},
                      ErrorCase{"BarePath", top("store: glidepath.db  # <-\n"), "store",
                                "did you mean 'sqlite:glidepath.db'?"},
                      ErrorCase{"EmptySqlitePath", top("store: \"sqlite:\"  # <-\n"), "store",
                                "needs a file path"},
                      ErrorCase{"PostgresWithoutHost", top("store: postgres://  # <-\n"), "store",
                                "needs a host"},
                      ErrorCase{"StoreAsMap", top("store: {kind: sqlite}  # <-\n"), "store",
                                "expected sqlite:PATH or a postgres:// URL, got a mapping"}),
    case_name);

INSTANTIATE_TEST_SUITE_P(
    Services, SingleErrorTest,
    ::testing::Values(
        ErrorCase{"NoServices", "gateway: {workers: 1}\n", "services",
                  "at least one service is required"},
        ErrorCase{"EmptyServices", "services: []  # <-\n", "services",
                  "at least one service is required"},
        ErrorCase{"ServicesAsMap", "services: {orders: {}}  # <-\n", "services",
                  "expected a list, got a mapping"},
        ErrorCase{"ServiceWithoutName",
                  "services:\n  - versions: [{name: v1, upstreams: [127.0.0.1:1]}]  # <-\n"
                  "    live: v1\n",
                  "services[0].name", "is required"},
        ErrorCase{"BadServiceName",
                  "services:\n  - name: my orders  # <-\n"
                  "    versions: [{name: v1, upstreams: [127.0.0.1:1]}]\n    live: v1\n",
                  "services[0].name", "invalid service name 'my orders'"},
        ErrorCase{"DuplicateServiceName",
                  kService + "  - name: orders  # <-\n    match: {path_prefix: /other}\n"
                             "    versions: [{name: v1, upstreams: [127.0.0.1:1]}]\n"
                             "    live: v1\n",
                  "services[1].name", "duplicate service name 'orders' (also services[0])"},
        ErrorCase{"SameRoute",
                  kService + "  - name: payments\n    match: {path_prefix: /}  # <-\n"
                             "    versions: [{name: v1, upstreams: [127.0.0.1:1]}]\n"
                             "    live: v1\n",
                  "services[1].match", "same route as services[0] ('orders'): any host"},
        ErrorCase{
            "SharedHost",
            "services:\n"
            "  - name: a\n    match: {hosts: [x.example.com, y.example.com], path_prefix: /v}\n"
            "    versions: [{name: v1, upstreams: [127.0.0.1:1]}]\n    live: v1\n"
            "  - name: b\n    match: {hosts: [Y.example.com], path_prefix: /v}  # <-\n"
            "    versions: [{name: v1, upstreams: [127.0.0.1:1]}]\n    live: v1\n",
            "services[1].match", "host y.example.com with path_prefix /v"},
        ErrorCase{"NoVersions", "services:\n  - name: orders  # <-\n    live: v1\n",
                  "services[0].versions", "is required"},
        ErrorCase{"EmptyVersions",
                  "services:\n  - name: orders\n    versions: []  # <-\n    live: v1\n",
                  "services[0].versions", "must list at least one version"},
        ErrorCase{"DuplicateVersion",
                  "services:\n  - name: orders\n    versions:\n"
                  "      - {name: v1, upstreams: [127.0.0.1:1]}\n"
                  "      - name: v1  # <-\n        upstreams: [127.0.0.1:2]\n    live: v1\n",
                  "services[0].versions[1].name", "duplicate version name 'v1' (also versions[0])"},
        ErrorCase{
            "LiveNamesNoVersion",
            "services:\n  - name: orders\n    versions: [{name: v1, upstreams: [127.0.0.1:1]}]\n"
            "    live: v11  # <-\n",
            "services[0].live",
            "names no version of this service ('v11'; versions: v1); did "
            "you mean 'v1'?"},
        ErrorCase{"NoLive",
                  "services:\n  - name: orders  # <-\n"
                  "    versions: [{name: v1, upstreams: [127.0.0.1:1]}]\n",
                  "services[0].live", "is required: the version that serves traffic (live: v1)"},
        ErrorCase{"VersionWithoutUpstreams",
                  "services:\n  - name: orders\n    versions:\n      - name: v1  # <-\n"
                  "    live: v1\n",
                  "services[0].versions[0].upstreams", "is required"},
        ErrorCase{"EmptyUpstreams",
                  "services:\n  - name: orders\n    versions:\n      - name: v1\n"
                  "        upstreams: []  # <-\n    live: v1\n",
                  "services[0].versions[0].upstreams", "must list at least one host:port"},
        ErrorCase{
            "BadUpstreamPort",
            "services:\n  - name: orders\n    versions:\n      - name: v1\n"
            "        upstreams:\n          - 127.0.0.1:9001\n          - 127.0.0.1:99999  # <-\n"
            "    live: v1\n",
            "services[0].versions[0].upstreams[1]", "port must be 1-65535"},
        ErrorCase{
            "DuplicateUpstream",
            "services:\n  - name: orders\n    versions:\n      - name: v1\n"
            "        upstreams:\n          - 127.0.0.1:9001\n          - 127.0.0.1:9001  # <-\n"
            "    live: v1\n",
            "services[0].versions[0].upstreams[1]", "duplicate upstream 127.0.0.1:9001"},
        ErrorCase{"UnknownVersionKey",
                  "services:\n  - name: orders\n    versions:\n      - name: v1\n"
                  "        upstream: [127.0.0.1:1]  # <-\n        upstreams: [127.0.0.1:1]\n"
                  "    live: v1\n",
                  "services[0].versions[0].upstream", "did you mean 'upstreams'?"},
        ErrorCase{"PathPrefixWithoutSlash", svc("    match: {path_prefix: orders}  # <-\n"),
                  "services[0].match.path_prefix", "must start with '/', got 'orders'"},
        ErrorCase{"PathPrefixWithQuery", svc("    match:\n      path_prefix: /a?b=1  # <-\n"),
                  "services[0].match.path_prefix", "no spaces, query ('?') or fragment ('#')"},
        ErrorCase{"BadHost", svc("    match:\n      hosts: [\"api example.com\"]  # <-\n"),
                  "services[0].match.hosts[0]", "invalid host 'api example.com'"},
        ErrorCase{"StripPrefixNotBool", svc("    match:\n      strip_prefix: maybe  # <-\n"),
                  "services[0].match.strip_prefix", "expected true or false, got 'maybe'"},
        ErrorCase{"ApiKeysTypo", svc("    api_keys: requried  # <-\n"), "services[0].api_keys",
                  "must be one of required, optional, off; got 'requried' (did you mean "
                  "'required'?)"},
        ErrorCase{"ApiKeySource", svc("    api_key_source: query  # <-\n"),
                  "services[0].api_key_source", "must be one of header, bearer"},
        ErrorCase{"StickinessWithoutName", svc("    stickiness: \"header:\"  # <-\n"),
                  "services[0].stickiness", "'header:' needs a header name"},
        ErrorCase{"StickinessUnknown", svc("    stickiness: apikey  # <-\n"),
                  "services[0].stickiness", "(did you mean 'api_key'?)"},
        ErrorCase{"PreviewUnknown", svc("    preview: everyone  # <-\n"), "services[0].preview",
                  "must be one of keys, anyone, off"},
        ErrorCase{"TrafficSum", svc("    traffic: {v1: 90, v2: 20}  # <-\n"), "services[0].traffic",
                  "weights must sum to 100, got 110"},
        ErrorCase{"TrafficOver100", svc("    traffic:\n      v1: 120%  # <-\n      v2: 0\n"),
                  "services[0].traffic.v1", "must be between 0 and 100 percent, got 120%"},
        ErrorCase{"TrafficUnknownVersion", svc("    traffic:\n      v1: 90\n      v3: 10  # <-\n"),
                  "services[0].traffic.v3",
                  "names no version of this service ('v3'; versions: "
                  "v1, v2)"},
        ErrorCase{"TrafficNotANumber", svc("    traffic:\n      v1: most  # <-\n      v2: 0\n"),
                  "services[0].traffic.v1", "expected a whole percentage like 10 or 10%"},
        ErrorCase{"TrafficAsList", svc("    traffic: [v1, v2]  # <-\n"), "services[0].traffic",
                  "expected a mapping, got a list"}),
    case_name);

INSTANTIATE_TEST_SUITE_P(
    Deployment, SingleErrorTest,
    ::testing::Values(
        ErrorCase{"UnknownStrategy", dep("      strategy: Canary10Percent  # <-\n"),
                  "services[0].deployment.strategy",
                  "unknown strategy 'Canary10Percent'; valid strategies: AllAtOnce; BlueGreen;"},
        ErrorCase{"StrategyAndSteps",
                  dep("      strategy: AllAtOnce\n      steps: [{weight: 100}]  # <-\n"),
                  "services[0].deployment.steps", "give either strategy or steps, not both"},
        ErrorCase{"StepWeightOver100", dep("      steps:\n        - weight: 120  # <-\n"),
                  "services[0].deployment.steps[0].weight",
                  "must be between 0 and 100 percent, got 120%"},
        ErrorCase{"StepWeightGoesDown",
                  dep("      steps:\n        - weight: 50\n        - weight: 20  # <-\n"),
                  "services[0].deployment.steps[1].weight", "weights never go down: 20% after 50%"},
        ErrorCase{"StepWithBoth", dep("      steps:\n        - {weight: 5, pause: 1s}  # <-\n"),
                  "services[0].deployment.steps[0]", "not both"},
        ErrorCase{"EmptyStep", dep("      steps:\n        - {}  # <-\n"),
                  "services[0].deployment.steps[0]", "a step needs weight or pause"},
        ErrorCase{"StepTypo", dep("      steps:\n        - {wieght: 5}  # <-\n"),
                  "services[0].deployment.steps[0].wieght", "did you mean 'weight'?"},
        ErrorCase{"ZeroPause", dep("      steps:\n        - pause: 0s  # <-\n"),
                  "services[0].deployment.steps[0].pause", "must be positive"},
        ErrorCase{"BadPause", dep("      steps:\n        - pause: {duration: soon}  # <-\n"),
                  "services[0].deployment.steps[0].pause.duration", "invalid duration 'soon'"},
        ErrorCase{"NoSteps", dep("      steps: []  # <-\n"), "services[0].deployment.steps",
                  "must list at least one step"},
        ErrorCase{"SlowEvaluation", dep("      evaluation_interval: 2s  # <-\n"),
                  "services[0].deployment.evaluation_interval", "must be at most 1s"},
        ErrorCase{"ZeroEvaluation", dep("      evaluation_interval: 0s  # <-\n"),
                  "services[0].deployment.evaluation_interval", "must be positive"},
        ErrorCase{"BadBake", dep("      bake: soon  # <-\n"), "services[0].deployment.bake",
                  "invalid duration 'soon'"},
        ErrorCase{"DeploymentAsString", dep("      fast  # <-\n"), "services[0].deployment",
                  "expected a mapping, got 'fast'"},
        ErrorCase{"ContractPolicy", dep("      contract: {on_breaking: never}  # <-\n"),
                  "services[0].deployment.contract.on_breaking",
                  "must be one of block, block_if_used, warn; got 'never'"},
        ErrorCase{"ContractTypo", dep("      contract: {on_braking: warn}  # <-\n"),
                  "services[0].deployment.contract.on_braking", "did you mean 'on_breaking'?"},
        ErrorCase{"HookWithNeither",
                  dep("      hooks:\n        pre_traffic: {timeout: 5s}  # <-\n"),
                  "services[0].deployment.hooks.pre_traffic",
                  "http or command: one of the two is required"},
        ErrorCase{"HookWithBoth",
                  dep("      hooks:\n        pre_traffic:\n          http: http://x/  # <-\n"
                      "          command: [a]\n"),
                  "services[0].deployment.hooks.pre_traffic", "give one, not both"},
        ErrorCase{"HookNotHttp",
                  dep("      hooks:\n        on_event: {http: \"ftp://x/\"}  # <-\n"),
                  "services[0].deployment.hooks.on_event.http",
                  "must be an http:// or https:// URL, got 'ftp://x/'"},
        ErrorCase{"HookCommandWithSpaces",
                  dep("      hooks:\n        post_traffic:\n          command: ./smoke.sh --fast  "
                      "# <-\n"),
                  "services[0].deployment.hooks.post_traffic.command",
                  "as a list, e.g. [\"./smoke.sh\", \"--fast\"]"},
        ErrorCase{"HookEmptyProgram",
                  dep("      hooks:\n        post_traffic: {command: [\"\", x]}  # <-\n"),
                  "services[0].deployment.hooks.post_traffic.command",
                  "the program (first element) must not be empty"},
        ErrorCase{"HookZeroTimeout",
                  dep("      hooks:\n        post_traffic:\n          command: [a]\n"
                      "          timeout: 0s  # <-\n"),
                  "services[0].deployment.hooks.post_traffic.timeout", "must be positive"},
        ErrorCase{"HookCaFileOnHttp",
                  dep("      hooks:\n        pre_traffic:\n          http: http://x/\n"
                      "          ca_file: ca.pem  # <-\n"),
                  "services[0].deployment.hooks.pre_traffic.ca_file", "only for an https:// hook"},
        ErrorCase{"HookClientKeyAlone",
                  dep("      hooks:\n        pre_traffic:\n          http: https://x/\n"
                      "          client_key: key.pem  # <-\n"),
                  "services[0].deployment.hooks.pre_traffic.client_key", "needs client_cert"},
        ErrorCase{"HookKindTypo",
                  dep("      hooks:\n        pre_trafic: {http: http://x/}  # <-\n"),
                  "services[0].deployment.hooks.pre_trafic", "did you mean 'pre_traffic'?"}),
    case_name);

std::string alarm(std::string_view fields) {
  return dep("      alarms:\n        - name: first\n        - name: second\n" +
             std::string(fields));
}

INSTANTIATE_TEST_SUITE_P(
    Alarms, SingleErrorTest,
    ::testing::Values(
        ErrorCase{
            "DatapointsOverPeriods",
            alarm("          evaluation_periods: 3\n          datapoints_to_alarm: 4  # <-\n"),
            "services[0].deployment.alarms[1].datapoints_to_alarm",
            "must be <= evaluation_periods (3)"},
        ErrorCase{"DatapointsOverDefaultPeriods", alarm("          datapoints_to_alarm: 4  # <-\n"),
                  "services[0].deployment.alarms[1].datapoints_to_alarm",
                  "must be <= evaluation_periods (3)"},
        ErrorCase{"TypoWithSuggestion", alarm("          evaluation_period: 5  # <-\n"),
                  "services[0].deployment.alarms[1].evaluation_period",
                  "unknown key; did you mean 'evaluation_periods'?"},
        ErrorCase{"ZeroPeriods", alarm("          evaluation_periods: 0  # <-\n"),
                  "services[0].deployment.alarms[1].evaluation_periods", "must be at least 1"},
        ErrorCase{"FractionalPeriod", alarm("          period: 1500ms  # <-\n"),
                  "services[0].deployment.alarms[1].period", "whole number of seconds"},
        ErrorCase{"UnknownMetric", alarm("          metric: latency_p95  # <-\n"),
                  "services[0].deployment.alarms[1].metric",
                  "must be one of error_rate, status_5xx, request_rate, latency_p50, latency_p90, "
                  "latency_p99; got 'latency_p95'"},
        ErrorCase{"LatencyThresholdNotADuration",
                  alarm("          metric: latency_p99\n          threshold: fast  # <-\n"),
                  "services[0].deployment.alarms[1].threshold",
                  "latency_p99 is a latency: expected a duration like 250ms"},
        ErrorCase{"LatencyWithoutThreshold",
                  dep("      alarms:\n        - name: first\n        - name: second  # <-\n"
                      "          metric: latency_p90\n"),
                  "services[0].deployment.alarms[1].threshold",
                  "is required for metric latency_p90"},
        ErrorCase{"ErrorRateAsWholeNumber", alarm("          threshold: 5  # <-\n"),
                  "services[0].deployment.alarms[1].threshold",
                  "error_rate is a ratio: must be between 0 and 1 (0.05 = 5%)"},
        ErrorCase{"ErrorRatePercentOver100", alarm("          threshold: 150%  # <-\n"),
                  "services[0].deployment.alarms[1].threshold", "must be between 0 and 1"},
        ErrorCase{"PercentForCount",
                  alarm("          metric: status_5xx\n          threshold: 5%  # <-\n"),
                  "services[0].deployment.alarms[1].threshold",
                  "a percentage applies to error_rate only"},
        ErrorCase{"ThresholdWord", alarm("          threshold: high  # <-\n"),
                  "services[0].deployment.alarms[1].threshold",
                  "expected a ratio (0.05) or a percentage (5%), got 'high'"},
        ErrorCase{"UnquotedComparison",
                  alarm("          comparison: >  # <-\n          threshold: 0.1\n"),
                  "services[0].deployment.alarms[1].comparison", "(quote it: comparison: \">\")"},
        ErrorCase{"WrongComparison", alarm("          comparison: \"=>\"  # <-\n"),
                  "services[0].deployment.alarms[1].comparison", "must be one of >, >=, <, <="},
        ErrorCase{"BadTarget", alarm("          version: canery  # <-\n"),
                  "services[0].deployment.alarms[1].version", "(did you mean 'canary'?)"},
        ErrorCase{"RelativeOnStable",
                  alarm("          version: stable\n          relative_to_stable: true  # <-\n"),
                  "services[0].deployment.alarms[1].relative_to_stable", "canary alarms only"},
        ErrorCase{"NegativeMinRequests", alarm("          min_requests: -1  # <-\n"),
                  "services[0].deployment.alarms[1].min_requests", "must be at least 0, got -1"},
        ErrorCase{"DuplicateName",
                  dep("      alarms:\n        - name: first\n        - name: first  # <-\n"),
                  "services[0].deployment.alarms[1].name", "duplicate alarm name 'first'"},
        ErrorCase{"MissingName", dep("      alarms:\n        - metric: error_rate  # <-\n"),
                  "services[0].deployment.alarms[0].name", "is required"},
        ErrorCase{"AlarmAsString", dep("      alarms:\n        - errors  # <-\n"),
                  "services[0].deployment.alarms[0]", "expected a mapping, got 'errors'"},
        ErrorCase{"AlarmsAsMap", dep("      alarms: {name: x}  # <-\n"),
                  "services[0].deployment.alarms", "expected a list, got a mapping"}),
    case_name);

// `gateway.tls` with one certificate (paths are not checked without a file to load from:
// see tls_config_test.cpp) and `fields` after it.
std::string tls(std::string_view fields) {
  return top("gateway:\n  tls:\n    certificates: [{cert: a.crt, key: a.key}]\n" +
             std::string(fields));
}
// `gateway.listeners` holding `items`.
std::string listeners(std::string_view items) {
  return top("gateway:\n  listen: 127.0.0.1:8443\n  listeners:\n" + std::string(items));
}

INSTANTIATE_TEST_SUITE_P(
    Tls, SingleErrorTest,
    ::testing::Values(
        ErrorCase{"NoCertificates", top("gateway:\n  tls:\n    min_version: \"1.3\"  # <-\n"),
                  "gateway.tls.certificates", "is required: [{cert: FILE, key: FILE}] (PEM files)"},
        ErrorCase{"EmptyCertificates", top("gateway:\n  tls:\n    certificates: []  # <-\n"),
                  "gateway.tls.certificates", "needs at least one {cert, key}"},
        ErrorCase{"CertificatesAsMap",
                  top("gateway:\n  tls:\n    certificates: {cert: a.crt}  # <-\n"),
                  "gateway.tls.certificates", "expected a list, got a mapping"},
        ErrorCase{"CertificateWithoutCert",
                  top("gateway:\n  tls:\n    certificates:\n      - key: a.key  # <-\n"),
                  "gateway.tls.certificates[0].cert",
                  "is required: a PEM file with the certificate (and its chain)"},
        ErrorCase{"CertificateWithoutKey",
                  top("gateway:\n  tls:\n    certificates:\n      - cert: a.crt  # <-\n"),
                  "gateway.tls.certificates[0].key",
                  "is required: a PEM file with the certificate's private key"},
        ErrorCase{"EmptyCertPath",
                  top("gateway:\n  tls:\n    certificates:\n      - key: a.key\n"
                      "        cert: \"\"  # <-\n"),
                  "gateway.tls.certificates[0].cert", "must not be empty"},
        ErrorCase{"CertTypo",
                  top("gateway:\n  tls:\n    certificates:\n      - key: a.key\n"
                      "        certs: a.crt  # <-\n"),
                  "gateway.tls.certificates[0].certs", "did you mean 'cert'?"},
        ErrorCase{"HostWithSpace",
                  top("gateway:\n  tls:\n    certificates:\n      - cert: a.crt\n"
                      "        key: a.key\n        hosts: [\"api example.com\"]  # <-\n"),
                  "gateway.tls.certificates[0].hosts[0]",
                  "'api example.com' is not a server name (e.g. api.example.com or *.example.com)"},
        ErrorCase{"WildcardInsideAName",
                  top("gateway:\n  tls:\n    certificates:\n      - cert: a.crt\n"
                      "        key: a.key\n        hosts:\n          - api.example.com\n"
                      "          - \"a.*.example.com\"  # <-\n"),
                  "gateway.tls.certificates[0].hosts[1]", "'a.*.example.com' is not a server name"},
        ErrorCase{"TwoWildcardLabels",
                  top("gateway:\n  tls:\n    certificates:\n      - cert: a.crt\n"
                      "        key: a.key\n        hosts: [\"*.*.example.com\"]  # <-\n"),
                  "gateway.tls.certificates[0].hosts[0]", "is not a server name"},
        ErrorCase{"HostWithAnEmptyLabel",
                  top("gateway:\n  tls:\n    certificates:\n      - cert: a.crt\n"
                      "        key: a.key\n        hosts: [\"api..example.com\"]  # <-\n"),
                  "gateway.tls.certificates[0].hosts[0]",
                  "'api..example.com' is not a server name"},
        ErrorCase{"HostWithALabelOver63",
                  top("gateway:\n  tls:\n    certificates:\n      - cert: a.crt\n"
                      "        key: a.key\n        hosts: [\"" +
                      std::string(64, 'a') + ".example.com\"]  # <-\n"),
                  "gateway.tls.certificates[0].hosts[0]", "is not a server name"},
        ErrorCase{"HostEndingInADot",
                  top("gateway:\n  tls:\n    certificates:\n      - cert: a.crt\n"
                      "        key: a.key\n        hosts: [example.com.]  # <-\n"),
                  "gateway.tls.certificates[0].hosts[0]", "is not a server name"},
        ErrorCase{"MinVersion11", tls("    min_version: \"1.1\"  # <-\n"),
                  "gateway.tls.min_version", "must be one of 1.2, 1.3; got '1.1'"},
        ErrorCase{"MinVersion11Unquoted", tls("    min_version: 1.1  # <-\n"),
                  "gateway.tls.min_version", "must be one of 1.2, 1.3; got '1.1'"},
        ErrorCase{"AlpnH2", tls("    alpn: [h2, http/1.1]  # <-\n"), "gateway.tls.alpn[0]",
                  "HTTP/2 is not served yet: offer http/1.1 only (the default)"},
        ErrorCase{"AlpnUnknown", tls("    alpn:\n      - http/1.1\n      - spdy/3  # <-\n"),
                  "gateway.tls.alpn[1]", "unknown protocol 'spdy/3': the gateway speaks http/1.1"},
        ErrorCase{"AlpnEmpty", tls("    alpn: []  # <-\n"), "gateway.tls.alpn",
                  "needs at least one protocol, e.g. [http/1.1]"},
        ErrorCase{"SessionTicketsWord", tls("    session_tickets: sometimes  # <-\n"),
                  "gateway.tls.session_tickets", "expected true or false"},
        ErrorCase{"RotationTooShort", tls("    ticket_key_rotation: 30s  # <-\n"),
                  "gateway.tls.ticket_key_rotation", "must be between 1m and 168h"},
        ErrorCase{"RotationTooLong", tls("    ticket_key_rotation: 169h  # <-\n"),
                  "gateway.tls.ticket_key_rotation", "must be between 1m and 168h"},
        ErrorCase{"RotationWithoutUnit", tls("    ticket_key_rotation: 60  # <-\n"),
                  "gateway.tls.ticket_key_rotation", "missing unit"},
        ErrorCase{"UnknownTlsKey", tls("    min_verison: \"1.3\"  # <-\n"),
                  "gateway.tls.min_verison", "did you mean 'min_version'?"},
        ErrorCase{"TlsAsString", top("gateway:\n  tls: on  # <-\n"), "gateway.tls",
                  "expected a mapping"},
        ErrorCase{"ListenerWithoutListen", listeners("    - redirect_https: 8443  # <-\n"),
                  "gateway.listeners[0].listen", "is required: HOST:PORT"},
        ErrorCase{"ListenerBadAddress", listeners("    - listen: 127.0.0.1:99999  # <-\n"),
                  "gateway.listeners[0].listen", "port must be 1-65535"},
        ErrorCase{"ListenerTlsErrorsHaveTheirPath",
                  listeners("    - listen: 127.0.0.1:9443\n      tls:\n"
                            "        certificates: []  # <-\n"),
                  "gateway.listeners[0].tls.certificates", "needs at least one {cert, key}"},
        ErrorCase{"RedirectOnATlsListener",
                  listeners("    - listen: 127.0.0.1:9443\n"
                            "      tls: {certificates: [{cert: a.crt, key: a.key}]}\n"
                            "      redirect_https: 8443  # <-\n"),
                  "gateway.listeners[0].redirect_https",
                  "is for a plain listener: a TLS listener serves HTTPS itself"},
        ErrorCase{"RedirectPortOutOfRange",
                  listeners("    - listen: 127.0.0.1:8080\n      redirect_https: 70000  # <-\n"),
                  "gateway.listeners[0].redirect_https", "must be between 1 and 65535"},
        ErrorCase{"ListenersAsMap", top("gateway:\n  listeners: {listen: 127.0.0.1:1}  # <-\n"),
                  "gateway.listeners", "expected a list, got a mapping"},
        ErrorCase{"ListenerTypo",
                  listeners("    - listen: 127.0.0.1:8080\n      redirect_http: 8443  # <-\n"),
                  "gateway.listeners[0].redirect_http", "did you mean 'redirect_https'?"},
        ErrorCase{"ListenerOnGatewayListen", listeners("    - listen: 127.0.0.1:8443  # <-\n"),
                  "gateway.listeners[0].listen", "127.0.0.1:8443 is gateway.listen already"},
        ErrorCase{"SameListenerTwice",
                  listeners("    - listen: 127.0.0.1:8080\n    - listen: 127.0.0.1:8081\n"
                            "    - listen: 127.0.0.1:8080  # <-\n"),
                  "gateway.listeners[2].listen", "127.0.0.1:8080 is listed twice"},
        ErrorCase{"AdminOnAListener",
                  listeners("    - listen: 127.0.0.1:8080\n") +
                      "admin:\n  listen: 127.0.0.1:8080  # <-\n",
                  "admin.listen", "must differ from the gateway's listener 127.0.0.1:8080"}),
    case_name);

INSTANTIATE_TEST_SUITE_P(
    Document, SingleErrorTest,
    ::testing::Values(
        ErrorCase{"SyntaxError", "gateway:\n  workers: 1: 2  # <-\n" + kService, "",
                  "YAML syntax error: illegal map value"},
        // An unclosed bracket is noticed at the end of the input.
        ErrorCase{"UnclosedFlow", "services:\n  - name: orders\n    versions: [v1\n  # <-", "",
                  "YAML syntax error: end of sequence flow not found"},
        ErrorCase{"BadIndentation", "gateway:\n  workers: 1\n   listen: x  # <-\n", "",
                  "YAML syntax error"},
        ErrorCase{"ListRoot", "- a  # <-\n- b\n", "",
                  "expected a mapping with gateway, admin, store and services at the top level, "
                  "got a list"},
        ErrorCase{"ScalarRoot", "just some words  # <-\n", "",
                  "expected a mapping with gateway, admin, store and services at the top level, "
                  "got 'just some words'"},
        ErrorCase{"EmptyDocument", "", "services", "at least one service is required"},
        ErrorCase{"OnlyComments", "# nothing here\n\n# at all\n", "services",
                  "at least one service is required"},
        ErrorCase{"TwoDocuments", kService + "---\nservices: []  # <-\n", "",
                  "only one YAML document is allowed"},
        ErrorCase{"ComplexKey", top("? [a, b]  # <-\n: 1\n"), "", "keys must be plain names"},
        ErrorCase{"BadMerge", top("gateway:\n  <<: 5  # <-\n"), "gateway.<<",
                  "a merge key takes a mapping or a list of mappings, got '5'"}),
    case_name);

TEST(AllErrors, FiveDifferentMistakesAreAllReported) {
  const std::string yaml = R"(gateway:
  workers: many
store: mysql://db
services:
  - name: orders
    versions:
      - name: v1
        upstreams: [127.0.0.1:9001]
      - name: v2
        upstreams: [127.0.0.1:9002]
    live: v3
    traffic: {v1: 90, v2: 20}
    deployment:
      alarms:
        - name: errors
          evaluation_period: 3
)";
  const LoadResult result = load_config(yaml, empty_env());
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.errors.size(), 5u) << describe(result);
  const std::vector<std::pair<std::string, int>> expected = {
      {"gateway.workers", 2},
      {"store", 3},
      {"services[0].live", 11},
      {"services[0].traffic", 12},
      {"services[0].deployment.alarms[0].evaluation_period", 16},
  };
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(result.errors[i].path, expected[i].first) << describe(result);
    EXPECT_EQ(result.errors[i].line, expected[i].second) << describe(result);
  }
}

TEST(AllErrors, ErrorsInSeveralServicesAreAllReported) {
  std::string yaml = "services:\n";
  for (int i = 0; i < 20; ++i) {
    yaml += "  - name: s" + std::to_string(i) + "\n";
    yaml += "    match: {path_prefix: /s" + std::to_string(i) + "}\n";
    yaml += "    versions: [{name: v1, upstreams: [127.0.0.1:" + std::to_string(9000 + i) + "]}]\n";
    yaml += "    live: v" + std::to_string(i % 2 == 0 ? 1 : 2) + "\n";
  }
  const LoadResult result = load_config(yaml, empty_env());
  ASSERT_EQ(result.errors.size(), 10u) << describe(result);
  for (size_t k = 0; k < result.errors.size(); ++k) {
    EXPECT_EQ(result.errors[k].path, "services[" + std::to_string(2 * k + 1) + "].live");
    EXPECT_EQ(result.errors[k].line, static_cast<int>(4 * (2 * k + 1) + 5));
  }
}

TEST(AllErrors, ErrorsAreCappedAndSaySo) {
  std::string yaml = "gateway:\n";
  for (int i = 0; i < 2000; ++i)
    yaml += "  unknown_" + std::to_string(i) + ": 1\n";
  yaml += kService;
  const LoadResult result = load_config(yaml, empty_env());
  ASSERT_EQ(result.errors.size(), kMaxErrors + 1);
  EXPECT_EQ(result.errors.back().message, "too many errors; stopped after 500");
}

TEST(AllErrors, AnUnparsableFieldDoesNotCauseFollowOnErrors) {
  // evaluation_periods is unreadable: no "datapoints_to_alarm must be <=" on top of it.
  const LoadResult result =
      load_config(dep("      alarms:\n        - name: a\n          evaluation_periods: x\n"
                      "          datapoints_to_alarm: 5\n"),
                  empty_env());
  ASSERT_EQ(result.errors.size(), 1u) << describe(result);
  EXPECT_EQ(result.errors[0].path, "services[0].deployment.alarms[0].evaluation_periods");
  // A version that fails to parse does not make `live` and `traffic` name "no version".
  const LoadResult broken_version = load_config(
      "services:\n  - name: o\n    versions:\n      - {name: v1, upstreams: [nope]}\n"
      "    live: v1\n    traffic: {v1: 100}\n",
      empty_env());
  ASSERT_EQ(broken_version.errors.size(), 1u) << describe(broken_version);
  EXPECT_EQ(broken_version.errors[0].path, "services[0].versions[0].upstreams[0]");
}

// ---------------------------------------------------------------------------------------
// Odd and hostile inputs: each must give errors (or a config), never a crash or a hang.

TEST(OddInputs, DeepFlowNestingIsRefusedBeforeParsing) {
  const std::string yaml = "services: " + std::string(100000, '[') + std::string(100000, ']');
  const LoadResult result = load_config(yaml, empty_env());
  ASSERT_EQ(result.errors.size(), 1u) << describe(result);
  EXPECT_EQ(result.errors[0].message, "nested more than 64 levels deep");
  EXPECT_EQ(result.errors[0].line, 1);
}

TEST(OddInputs, DeepBlockNestingIsRefusedBeforeParsing) {
  std::string yaml;
  for (int i = 0; i < 200; ++i)
    yaml += std::string(static_cast<size_t>(i), ' ') + "a:\n";
  const LoadResult result = load_config(yaml, empty_env());
  ASSERT_EQ(result.errors.size(), 1u) << describe(result);
  EXPECT_EQ(result.errors[0].message, "nested more than 64 levels deep");
  EXPECT_GT(result.errors[0].line, 1);
  std::string dashes = "services:\n";
  for (int i = 0; i < 200; ++i)
    dashes += "- ";
  dashes += "x\n";
  EXPECT_EQ(load_config(dashes, empty_env()).errors.at(0).message,
            "nested more than 64 levels deep");
}

TEST(OddInputs, BracketsInQuotesCommentsAndBlockScalarsDoNotCountAsNesting) {
  const std::string many(200, '[');
  const std::string yaml = "# " + many + "\nadmin:\n  token: \"" + many + "\"\n" +
                           "gateway: {listen: '127.0.0.1:8080'}  # " + many + "\n" + kService +
                           "    deployment:\n      hooks:\n        post_traffic:\n"
                           "          command: [sh, -c, '" +
                           many + "']\n";
  const LoadResult result = load_config(yaml, empty_env());
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_EQ(result.config->admin.token, many);
}

// yaml-cpp 0.7 parses this into an endless stream of empty documents (found by fuzz_config).
TEST(OddInputs, EndlessDocumentStreamFromYamlCppIsCutShort) {
  const LoadResult result = load_config(",- services\n-'mname[*'m", empty_env());
  ASSERT_EQ(result.errors.size(), 1u) << describe(result);
  EXPECT_EQ(result.errors[0].message,
            "YAML syntax error: the parser makes no progress here (malformed document)");
}

TEST(OddInputs, TrailingEmptyDocumentsAreFine) {
  const LoadResult result = load_config("---\n" + kService + "...\n---\n...\n", empty_env());
  EXPECT_TRUE(result.ok()) << describe(result);
}

TEST(OddInputs, OversizedInputIsRefused) {
  const std::string yaml(kMaxConfigBytes + 1, '#');
  const LoadResult result = load_config(yaml, empty_env());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_NE(result.errors[0].message.find("larger than 4194304 bytes"), std::string::npos);
}

TEST(OddInputs, AliasBombStopsAtTheBudget) {
  // 300 services × 300 versions × 300 upstreams through aliases: 2.7e7 values if walked
  // naively, from a few kilobytes of text.
  auto repeat = [](std::string_view item, int times) {
    std::string out = "[";
    for (int i = 0; i < times; ++i)
      out += (i ? ", " : "") + std::string(item);
    return out + "]";
  };
  const std::string yaml = "x:\n  - &u " + repeat("127.0.0.1:1", 300) +
                           "\n  - &v {name: v1, upstreams: *u}\n"
                           "  - &s {name: s, versions: " +
                           repeat("*v", 300) + ", live: v1}\nservices: " + repeat("*s", 300) + "\n";
  const LoadResult result = load_config(yaml, empty_env());
  ASSERT_FALSE(result.ok());
  bool budget = false;
  for (const ConfigError& e : result.errors) {
    budget = budget || e.message.find("expands to more than 100000 values") != std::string::npos;
  }
  EXPECT_TRUE(budget) << describe(result);
}

TEST(OddInputs, SelfReferencingAnchorsEndInErrors) {
  for (std::string_view yaml :
       {"services: &a [*a]\n", "services: &a\n  - *a\n",
        "gateway: &g {<<: *g}\n" /* alias before its anchor closes */,
        "services:\n  - &s\n    name: x\n    versions: [*s]\n    live: x\n"}) {
    const LoadResult result = load_config(yaml, empty_env());
    EXPECT_FALSE(result.ok()) << yaml;
    EXPECT_FALSE(result.errors.empty()) << yaml;
  }
}

TEST(OddInputs, BinaryAndControlBytesGiveErrors) {
  const std::string inputs[] = {
      std::string("\0\0\0\0", 4),
      std::string("services:\n  - name: \0x\n", 22),
      "\xff\xfe\x00s\x00",
      "\t\tservices: x",
      "%YAML 1.2\n%TAG ! tag:x\n--- !foo\n",
      "!!binary AAAA",
      "&a *a",
      "*unknown",
      "{{{{}}}}",
      "? ? ? ?",
      "- - - -",
      "services: [{name: a, versions: [{name: v1, upstreams: \"\"}], live: v1}]",
      "services:\n  - name: a\n    versions: [{name: v1, upstreams: [\"127.0.0.1:1\"]}]\n"
      "    live: v1\n    deployment: {alarms: [{name: x, threshold: .nan}, {name: y, "
      "threshold: 1e999}, {name: z, evaluation_periods: 99999999999999999999}]}\n",
  };
  for (const std::string& input : inputs) {
    const LoadResult result = load_config(input, empty_env());
    EXPECT_FALSE(result.ok()) << input;
    EXPECT_FALSE(result.errors.empty());
  }
}

TEST(OddInputs, ManyServicesLoad) {
  std::string yaml = "services:\n";
  for (int i = 0; i < 2000; ++i) {
    yaml += "  - {name: s" + std::to_string(i) + ", match: {path_prefix: /s" + std::to_string(i) +
            "}, versions: [{name: v1, upstreams: [127.0.0.1:9001]}], live: v1}\n";
  }
  const LoadResult result = load_config(yaml, empty_env());
  ASSERT_TRUE(result.ok()) << describe(result);
  EXPECT_EQ(result.config->services.size(), 2000u);
  EXPECT_NE(result.config->find_service("s1999"), nullptr);
}

TEST(OddInputs, LongScalarsAreCutInMessages) {
  const std::string word(100000, 'x');
  const LoadResult result = load_config(top("gateway: {workers: " + word + "}\n"), empty_env());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_LT(result.errors[0].message.size(), 200u);
}

}  // namespace
}  // namespace glidepath::config
