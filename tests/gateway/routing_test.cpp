// Routing decisions (SPEC section 4): path normalisation, service matching, snapshot
// building and version choice. All pure: tables in, answers out.
#include "gateway/routing.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/loader.h"
#include "metrics/series_registry.h"

namespace glidepath::gateway {
namespace {

using Runtime = std::vector<std::pair<std::string, ServiceRuntime>>;

// ---- Path normalisation ----------------------------------------------------------------

struct NormCase {
  std::string_view target;
  std::string_view want;  // the normalised target
};

constexpr NormCase kAccepted[] = {
    {"/", "/"},
    {"/orders", "/orders"},
    {"/orders/1", "/orders/1"},
    // Dot segments cannot walk out of a service's prefix, plain or encoded.
    {"/orders/../admin", "/admin"},
    {"/orders/%2e%2e/admin", "/admin"},
    {"/orders/%2E./x", "/x"},
    {"/orders/.%2e/x", "/x"},
    {"/orders/x/%2E%2E/%2e%2e/admin", "/admin"},
    {"/a/./b", "/a/b"},
    {"/a/%2e/b", "/a/b"},
    {"/a/b/..", "/a/"},
    {"/a/b/.", "/a/b/"},
    {"/.", "/"},
    {"/a/..", "/"},
    {"/a/b/c/./../../g", "/a/g"},  // RFC 3986 5.2.4's own example
    {"/a/b/", "/a/b/"},
    {"/...", "/..."},
    {"/..a/b./.b", "/..a/b./.b"},
    // Escapes: unreserved decoded, the rest kept with upper-case hex.
    {"/a%2Fb", "/a%2Fb"},
    {"/a%2fb", "/a%2Fb"},
    {"/%7euser", "/~user"},
    {"/%7Euser", "/~user"},
    {"/%41%62%63%2D%5f%30", "/Abc-_0"},
    {"/a%20b", "/a%20b"},
    {"/a%3bb", "/a%3Bb"},
    {"/%252e%252e/x", "/%252e%252e/x"},  // decoded once only: %25 is not unreserved
    {"/caf\xc3\xa9", "/caf%C3%A9"},      // raw UTF-8 == its encoded form
    {"/caf%c3%a9", "/caf%C3%A9"},
    {"/a;b=c,d:e@f!$&'()*+", "/a;b=c,d:e@f!$&'()*+"},
    // The query is kept as it came, dots and escapes included.
    {"/a?x=../y/./z", "/a?x=../y/./z"},
    {"/a/../b?q=%2e%2E&r=/../", "/b?q=%2e%2E&r=/../"},
    {"/?", "/?"},
    {"/a?", "/a?"},
    {"/a?b?c", "/a?b?c"},
    // Empty segments are kept; a ".." after one removes it (RFC 3986 5.2.4).
    {"/a//b", "/a//b"},
    {"//", "//"},
    {"//x", "//x"},
    {"/a//../b", "/a/b"},
    // Absolute-form (RFC 9112 3.2.2): the path, "" meaning "/".
    {"http://example.com/a/../b?x", "/b?x"},
    {"HTTP://example.com", "/"},
    {"https://example.com:8443?q=1", "/?q=1"},
    {"http://[::1]:8080/%7e", "/~"},
};

constexpr std::string_view kRefused[] = {
    "",
    "*",
    "orders",
    "/..",
    "/../x",
    "/%2e%2e",
    "/%2E%2E/x",
    "/a/../../b",
    "/orders/%2E%2E/%2e%2e/admin",
    "/a/%2e%2e/%2E%2e/b",
    "/%00",
    "/a%00b",
    std::string_view("/a\0b", 4),
    std::string_view("/a?x\0", 5),
    "/a%",
    "/a%0",
    "/a%zz",
    "/a%g1",
    "/a%%41",
    "/a b",
    "/a\tb",
    "/a\x7f",
    "/a\x01",
    "/a\\b",
    "/a/..\\x",
    "/a#frag",
    "/a?x#f",
    "/a?x y",
    "/a?x\r\n",
    "ftp://h/x",
    "http:///x",
    "http://user@h/x",
    "http:/x",
};

TEST(NormalizeTarget, AcceptsAndNormalises) {
  std::string out;
  std::string_view error;
  for (const NormCase& c : kAccepted) {
    SCOPED_TRACE(std::string(c.target));
    ASSERT_TRUE(normalize_target(c.target, out, error)) << error;
    EXPECT_EQ(out, c.want);
    EXPECT_TRUE(error.empty());
  }
}

TEST(NormalizeTarget, OutputIsIdempotent) {
  std::string once;
  std::string twice;
  std::string_view error;
  for (const NormCase& c : kAccepted) {
    SCOPED_TRACE(std::string(c.target));
    ASSERT_TRUE(normalize_target(c.target, once, error));
    ASSERT_TRUE(normalize_target(once, twice, error)) << error;
    EXPECT_EQ(twice, once);
  }
}

TEST(NormalizeTarget, RefusesWithAReason) {
  std::string out = "left over";
  std::string_view error;
  for (const std::string_view target : kRefused) {
    SCOPED_TRACE(std::string(target));
    EXPECT_FALSE(normalize_target(target, out, error)) << "gave " << out;
    EXPECT_FALSE(error.empty());
  }
}

TEST(NormalizeTarget, SpecificReasons) {
  std::string out;
  std::string_view error;
  EXPECT_FALSE(normalize_target("/../x", out, error));
  EXPECT_EQ(error, "path climbs above the root");
  EXPECT_FALSE(normalize_target("/%00", out, error));
  EXPECT_EQ(error, "%00 in the path");
  EXPECT_FALSE(normalize_target("/a\\b", out, error));
  EXPECT_EQ(error, "backslash in the path");
  EXPECT_FALSE(normalize_target("*", out, error));
  EXPECT_EQ(error, "request target must start with '/'");
  // A refused target leaves a cleared buffer and a fresh error on the next success.
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(normalize_target("/ok", out, error));
  EXPECT_TRUE(error.empty());
}

TEST(NormalizeTarget, ReusesTheCallersBuffer) {
  std::string out;
  out.reserve(256);
  const char* const buffer = out.data();
  std::string_view error;
  for (const NormCase& c : kAccepted) {
    ASSERT_TRUE(normalize_target(c.target, out, error));
    EXPECT_EQ(out.data(), buffer) << c.target;
  }
  for (const std::string_view target : kRefused) {
    EXPECT_FALSE(normalize_target(target, out, error));
    EXPECT_EQ(out.data(), buffer) << target;
  }
}

TEST(TargetAuthority, AbsoluteFormOnly) {
  EXPECT_EQ(target_authority("http://api.example.com:8080/a"), "api.example.com:8080");
  EXPECT_EQ(target_authority("HTTPS://[::1]:8443?q"), "[::1]:8443");
  EXPECT_EQ(target_authority("http://h"), "h");
  EXPECT_EQ(target_authority("/a"), "");
  EXPECT_EQ(target_authority("http://user@h/"), "");
  EXPECT_EQ(target_authority("*"), "");
}

// ---- Snapshot building and matching ------------------------------------------------------

config::VersionConfig version(std::string name, std::vector<core::HostPort> upstreams) {
  config::VersionConfig v;
  v.name = std::move(name);
  v.upstreams = std::move(upstreams);
  return v;
}

config::ServiceConfig service(std::string name, std::vector<std::string> hosts,
                              std::string path_prefix,
                              std::vector<config::VersionConfig> versions = {},
                              std::string live = "v1") {
  config::ServiceConfig s;
  s.name = std::move(name);
  s.match.hosts = std::move(hosts);
  s.match.path_prefix = std::move(path_prefix);
  if (versions.empty()) versions.push_back(version("v1", {{"127.0.0.1", 9001}}));
  s.versions = std::move(versions);
  s.live = std::move(live);
  return s;
}

std::shared_ptr<const Snapshot> build(const config::Config& config, const Runtime& runtime = {},
                                      metrics::SeriesRegistry* registry = nullptr) {
  metrics::SeriesRegistry local;
  auto result = build_snapshot(config, runtime, registry ? *registry : local, 7);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message);
  return result.ok() ? *result : nullptr;
}

std::string build_error(const config::Config& config, const Runtime& runtime = {},
                        metrics::SeriesRegistry* registry = nullptr) {
  metrics::SeriesRegistry local;
  auto result = build_snapshot(config, runtime, registry ? *registry : local, 1);
  return result.ok() ? std::string("(built)") : result.error().message;
}

config::Config routing_config() {
  config::Config c;
  c.services = {
      service("orders-api", {"api.example.com"}, "/orders"),
      service("orders-any", {}, "/orders"),
      service("admin", {}, "/admin"),
      service("orders-v2", {}, "/orders/v2/"),
      service("root", {}, "/"),
      service("wild", {"*.example.com"}, "/"),
      service("deep-wild", {"*.eu.example.com"}, "/"),
      service("ipv6", {"[::1]"}, "/six"),
      service("mixed", {"Shop.Example.COM:8080"}, "/shop/"),
  };
  return c;
}

struct MatchCase {
  std::string_view host;
  std::string_view path;
  std::string_view want;  // service name; "" = no route
};

TEST(SnapshotMatch, Table) {
  const auto snapshot = build(routing_config());
  ASSERT_NE(snapshot, nullptr);
  const MatchCase cases[] = {
      {"api.example.com", "/orders/1", "orders-api"},
      {"api.example.com", "/orders", "orders-api"},
      {"API.Example.COM:8080", "/orders", "orders-api"},  // case and port ignored
      {"api.example.com.", "/orders", "orders-api"},      // a fully qualified name
      {"other.com", "/orders/1", "orders-any"},
      {"", "/orders", "orders-any"},                      // no Host: any-host services only
      {"api.example.com", "/orders/v2/x", "orders-api"},  // a named host beats a longer prefix
      {"other.com", "/orders/v2/x", "orders-v2"},         // the longest prefix
      {"other.com", "/orders/v2", "orders-v2"},
      {"other.com", "/orders/v20", "orders-any"},  // segment boundary
      {"other.com", "/ordersX", "root"},
      {"api.example.com", "/ordersX", "wild"},  // wildcard host beats any host
      {"other.com", "/orders?x=1", "orders-any"},
      {"other.com", "/orders/?x=1", "orders-any"},
      {"other.com", "/admin", "admin"},
      {"other.com", "/administrator", "root"},
      {"other.com", "/", "root"},
      {"example.com", "/x", "root"},  // "*.example.com" does not match the apex
      {"a.b.example.com", "/x", "wild"},
      {"x.eu.example.com", "/x", "deep-wild"},  // the longer wildcard wins
      {"X.EU.Example.com:443", "/x", "deep-wild"},
      {"[::1]:8080", "/six/x", "ipv6"},
      {"[::1]", "/six", "ipv6"},
      {"::1", "/six", "ipv6"},
      {"[::1]:8080", "/sixty", "root"},
      {"127.0.0.1:8080", "/six", "root"},
      {"shop.example.com:9999", "/shop/cart", "mixed"},
      {"shop.example.com", "/shop", "mixed"},
      {"shop.example.com", "/orders", "wild"},
  };
  for (const MatchCase& c : cases) {
    SCOPED_TRACE(std::string(c.host) + " " + std::string(c.path));
    const ServiceRoute* route = snapshot->match(c.host, c.path);
    if (c.want.empty()) {
      EXPECT_EQ(route, nullptr);
    } else {
      ASSERT_NE(route, nullptr);
      EXPECT_EQ(route->name, c.want);
    }
  }
}

TEST(SnapshotMatch, NoRouteWithoutACatchAll) {
  config::Config c;
  c.services = {service("orders", {"api.example.com"}, "/orders"), service("users", {}, "/users")};
  const auto snapshot = build(c);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->match("other.com", "/orders"), nullptr);
  EXPECT_EQ(snapshot->match("api.example.com", "/"), nullptr);
  EXPECT_EQ(snapshot->match("api.example.com", "/usersX"), nullptr);
  ASSERT_NE(snapshot->match("api.example.com", "/users/1"), nullptr);
}

TEST(SnapshotMatch, FullTieGoesToTheEarlierService) {
  config::Config c;
  // The loader refuses these as the same route; a snapshot built anyway stays deterministic.
  c.services = {service("first", {}, "/a/"), service("second", {}, "/a")};
  const auto snapshot = build(c);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->match("h", "/a/b")->name, "first");
}

TEST(BuildSnapshot, NormalisesHostsAndPrefixes) {
  config::Config c;
  c.services = {service("a", {"Shop.Example.COM:8080", "shop.example.com", "[::1]:9"}, "/a/./b/"),
                service("b", {}, "/"), service("c", {}, "/%7euser/x/../")};
  const auto snapshot = build(c);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->generation, 7u);
  ASSERT_EQ(snapshot->services.size(), 3u);
  EXPECT_EQ(snapshot->services[0].hosts, (std::vector<std::string>{"shop.example.com", "::1"}));
  EXPECT_EQ(snapshot->services[0].path_prefix, "/a/b");
  EXPECT_EQ(snapshot->services[1].path_prefix, "/");
  EXPECT_EQ(snapshot->services[2].path_prefix, "/~user");
  EXPECT_EQ(snapshot->find_service("c"), &snapshot->services[2]);
  EXPECT_EQ(snapshot->find_service("nope"), nullptr);
}

TEST(BuildSnapshot, CopiesServiceSettings) {
  config::Config c;
  c.services = {service("a", {}, "/a")};
  c.services[0].match.strip_prefix = true;
  c.services[0].api_keys = config::ApiKeyMode::required;
  c.services[0].api_key_source = config::ApiKeySource::bearer;
  c.services[0].stickiness = {config::StickinessKind::cookie, "sid"};
  c.services[0].preview = config::PreviewMode::anyone;
  const auto snapshot = build(c);
  ASSERT_NE(snapshot, nullptr);
  const ServiceRoute& route = snapshot->services[0];
  EXPECT_TRUE(route.strip_prefix);
  EXPECT_EQ(route.api_keys, config::ApiKeyMode::required);
  EXPECT_EQ(route.api_key_source, config::ApiKeySource::bearer);
  EXPECT_EQ(route.stickiness, (config::Stickiness{config::StickinessKind::cookie, "sid"}));
  EXPECT_EQ(route.preview, config::PreviewMode::anyone);
}

TEST(BuildSnapshot, DeduplicatesUpstreamsAcrossServices) {
  config::Config c;
  c.services = {
      service("a", {}, "/a",
              {version("v1", {{"127.0.0.1", 9001}, {"127.0.0.1", 9002}}),
               version("v2", {{"127.0.0.1", 9002}})}),
      service("b", {}, "/b", {version("v1", {{"127.0.0.1", 9001}, {"localhost", 9001}})}),
  };
  const auto snapshot = build(c);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(
      snapshot->upstreams,
      (std::vector<core::HostPort>{{"127.0.0.1", 9001}, {"127.0.0.1", 9002}, {"localhost", 9001}}));
  EXPECT_EQ(snapshot->services[0].versions[0].upstreams, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(snapshot->services[0].versions[1].upstreams, (std::vector<uint32_t>{1}));
  EXPECT_EQ(snapshot->services[1].versions[0].upstreams, (std::vector<uint32_t>{0, 2}));
}

TEST(BuildSnapshot, InternsSeriesStably) {
  config::Config c;
  c.services = {service("a", {}, "/a", {version("v1", {{"h", 1}}), version("v2", {{"h", 2}})}),
                service("b", {}, "/b")};
  metrics::SeriesRegistry registry;
  const auto first = build(c, {}, &registry);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->services[0].versions[0].series, *registry.find("a", "v1"));
  EXPECT_EQ(first->services[0].versions[1].series, *registry.find("a", "v2"));
  EXPECT_EQ(first->services[1].versions[0].series, *registry.find("b", "v1"));
  EXPECT_EQ(registry.size(), 3u);

  // A new version in a later snapshot gets a new id; the old ids stay.
  ServiceRuntime runtime;
  runtime.added_versions = {version("v3", {{"h", 3}})};
  const auto second = build(c, {{"a", runtime}}, &registry);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->services[0].versions[0].series, first->services[0].versions[0].series);
  EXPECT_EQ(second->services[1].versions[0].series, first->services[1].versions[0].series);
  EXPECT_EQ(second->services[0].versions[2].series, *registry.find("a", "v3"));
  EXPECT_EQ(registry.size(), 4u);
}

config::Config two_versions(std::string live = "v1") {
  config::Config c;
  c.services = {
      service("orders", {}, "/orders",
              {version("v1", {{"127.0.0.1", 9001}}), version("v2", {{"127.0.0.1", 9002}})},
              std::move(live))};
  return c;
}

ServiceRuntime canary(std::string name, int weight) {
  ServiceRuntime r;
  r.canary = std::move(name);
  r.canary_weight = weight;
  return r;
}

using Slices = std::vector<std::pair<uint32_t, uint32_t>>;  // (version, upper)

Slices slices_of(const ServiceRoute& route) {
  Slices out;
  for (const TrafficSlice& s : route.slices)
    out.emplace_back(s.version, s.upper);
  return out;
}

TEST(BuildSnapshot, SlicesWithoutRuntimeSendEverythingToLive) {
  const auto snapshot = build(two_versions("v2"));
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->services[0].live, 1u);
  EXPECT_EQ(slices_of(snapshot->services[0]), (Slices{{1, 10000}}));
}

TEST(BuildSnapshot, CanarySliceComesFirst) {
  const struct {
    int weight;
    Slices want;
  } cases[] = {
      {0, {{0, 10000}}},
      {1, {{1, 100}, {0, 10000}}},
      {10, {{1, 1000}, {0, 10000}}},
      {55, {{1, 5500}, {0, 10000}}},
      {99, {{1, 9900}, {0, 10000}}},
      {100, {{1, 10000}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.weight);
    const auto snapshot = build(two_versions(), {{"orders", canary("v2", c.weight)}});
    ASSERT_NE(snapshot, nullptr);
    EXPECT_EQ(slices_of(snapshot->services[0]), c.want);
    EXPECT_EQ(snapshot->services[0].weight_of(1), static_cast<uint32_t>(c.weight) * 100);
    EXPECT_EQ(snapshot->services[0].weight_of(0), 10000 - static_cast<uint32_t>(c.weight) * 100);
  }
}

TEST(BuildSnapshot, FixedSplitWithThreeVersionsInWrittenOrder) {
  config::Config c;
  c.services = {
      service("orders", {}, "/orders",
              {version("v1", {{"h", 1}}), version("v2", {{"h", 2}}), version("v3", {{"h", 3}})})};
  c.services[0].traffic = {{"v2", 30}, {"v1", 50}, {"v3", 20}};
  const auto snapshot = build(c);
  ASSERT_NE(snapshot, nullptr);
  const ServiceRoute& route = snapshot->services[0];
  EXPECT_EQ(slices_of(route), (Slices{{1, 3000}, {0, 8000}, {2, 10000}}));
  EXPECT_EQ(route.weight_of(0), 5000u);
  EXPECT_EQ(route.weight_of(1), 3000u);
  EXPECT_EQ(route.weight_of(2), 2000u);

  // Weighted choice follows the split: bucket b of random_bits % 10000.
  const RequestFacts none;
  EXPECT_EQ(choose_version(route, none, 0).version, 1u);
  EXPECT_EQ(choose_version(route, none, 2999).version, 1u);
  EXPECT_EQ(choose_version(route, none, 3000).version, 0u);
  EXPECT_EQ(choose_version(route, none, 7999).version, 0u);
  EXPECT_EQ(choose_version(route, none, 8000).version, 2u);
  EXPECT_EQ(choose_version(route, none, 9999).version, 2u);
  EXPECT_EQ(choose_version(route, none, 10000 + 3000).version, 0u);

  int counts[3] = {};
  std::mt19937_64 rng(42);
  for (int i = 0; i < 100000; ++i)
    ++counts[choose_version(route, none, rng()).version];
  EXPECT_NEAR(counts[0] / 1000.0, 50.0, 1.0);
  EXPECT_NEAR(counts[1] / 1000.0, 30.0, 1.0);
  EXPECT_NEAR(counts[2] / 1000.0, 20.0, 1.0);
}

TEST(BuildSnapshot, FixedSplitSkipsZeroWeights) {
  config::Config c = two_versions();
  c.services[0].traffic = {{"v1", 100}, {"v2", 0}};
  const auto snapshot = build(c);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(slices_of(snapshot->services[0]), (Slices{{0, 10000}}));
}

TEST(BuildSnapshot, ADeploymentReplacesTheFixedSplit) {
  config::Config c = two_versions();
  c.services[0].traffic = {{"v1", 90}, {"v2", 10}};
  {
    const auto snapshot = build(c);
    ASSERT_NE(snapshot, nullptr);
    EXPECT_EQ(slices_of(snapshot->services[0]), (Slices{{0, 9000}, {1, 10000}}));
  }
  {  // A runtime naming the config's live keeps the split.
    ServiceRuntime same;
    same.live = "v1";
    const auto snapshot = build(c, {{"orders", same}});
    ASSERT_NE(snapshot, nullptr);
    EXPECT_EQ(slices_of(snapshot->services[0]), (Slices{{0, 9000}, {1, 10000}}));
  }
  {  // A deployment in progress shifts from live; the split is off.
    const auto snapshot = build(c, {{"orders", canary("v2", 25)}});
    ASSERT_NE(snapshot, nullptr);
    EXPECT_EQ(slices_of(snapshot->services[0]), (Slices{{1, 2500}, {0, 10000}}));
  }
  {  // A finished deployment left v3 live: everything to v3.
    ServiceRuntime done;
    done.live = "v3";
    done.added_versions = {version("v3", {{"127.0.0.1", 9003}})};
    const auto snapshot = build(c, {{"orders", done}});
    ASSERT_NE(snapshot, nullptr);
    EXPECT_EQ(snapshot->services[0].live, 2u);
    EXPECT_EQ(slices_of(snapshot->services[0]), (Slices{{2, 10000}}));
  }
}

TEST(BuildSnapshot, RuntimeAddedVersions) {
  ServiceRuntime runtime = canary("v3", 20);
  runtime.added_versions = {version("v3", {{"127.0.0.1", 9003}, {"127.0.0.1", 9001}}),
                            version("v2", {{"127.0.0.1", 9002}})};  // identical: merged
  const auto snapshot = build(two_versions(), {{"orders", runtime}});
  ASSERT_NE(snapshot, nullptr);
  const ServiceRoute& route = snapshot->services[0];
  ASSERT_EQ(route.versions.size(), 3u);
  EXPECT_EQ(route.versions[2].name, "v3");
  ASSERT_NE(route.find_version("v3"), nullptr);
  EXPECT_EQ(route.find_version("v3"), &route.versions[2]);
  EXPECT_EQ(route.find_version("v4"), nullptr);
  EXPECT_EQ(snapshot->upstreams.size(), 3u);
  EXPECT_EQ(route.versions[2].upstreams, (std::vector<uint32_t>{2, 0}));
  EXPECT_EQ(slices_of(route), (Slices{{2, 2000}, {0, 10000}}));
}

TEST(BuildSnapshot, Errors) {
  const auto with = [](ServiceRuntime r) { return Runtime{{"orders", std::move(r)}}; };
  ServiceRuntime unknown_live;
  unknown_live.live = "v9";
  EXPECT_EQ(build_error(two_versions(), with(unknown_live)),
            "service 'orders': live 'v9' names no version (have v1, v2)");
  EXPECT_EQ(build_error(two_versions(), with(canary("v9", 10))),
            "service 'orders': canary 'v9' names no version (have v1, v2)");
  EXPECT_EQ(build_error(two_versions(), with(canary("v1", 10))),
            "service 'orders': canary 'v1' is the live version");
  EXPECT_EQ(build_error(two_versions(), with(canary("v2", 120))),
            "service 'orders': canary weight 120 is outside 0..100");
  EXPECT_EQ(build_error(two_versions(), with(canary("v2", -1))),
            "service 'orders': canary weight -1 is outside 0..100");
  EXPECT_EQ(build_error(two_versions(), {{"payments", canary("v2", 10)}}),
            "run-time state for service 'payments', which the config does not have");
  EXPECT_EQ(build_error(two_versions(), {{"orders", {}}, {"orders", {}}}),
            "run-time state for service 'orders' given twice");

  ServiceRuntime differs;
  differs.added_versions = {version("v2", {{"127.0.0.1", 9999}})};
  EXPECT_EQ(build_error(two_versions(), with(differs)),
            "service 'orders': version 'v2' added at run time differs from the config's");
  ServiceRuntime twice;
  twice.added_versions = {version("v3", {{"h", 1}}), version("v3", {{"h", 2}})};
  EXPECT_EQ(build_error(two_versions(), with(twice)),
            "service 'orders': version 'v3' added at run time differs from the config's");
  ServiceRuntime empty;
  empty.added_versions = {version("v3", {})};
  EXPECT_EQ(build_error(two_versions(), with(empty)),
            "service 'orders': version 'v3' has no upstreams");

  config::Config bad_traffic = two_versions();
  bad_traffic.services[0].traffic = {{"v1", 90}, {"v7", 10}};
  EXPECT_EQ(build_error(bad_traffic), "service 'orders': traffic names unknown version 'v7'");
  bad_traffic.services[0].traffic = {{"v1", 90}, {"v2", 5}};
  EXPECT_EQ(build_error(bad_traffic), "service 'orders': traffic weights sum to 95%, not 100%");

  config::Config climbing = two_versions();
  climbing.services[0].match.path_prefix = "/../x";
  EXPECT_EQ(build_error(climbing),
            "service 'orders': path_prefix '/../x': path climbs above the root");

  metrics::SeriesRegistry tiny(1);
  EXPECT_NE(build_error(two_versions(), {}, &tiny).find("service 'orders': version 'v2': "),
            std::string::npos);
}

TEST(BuildSnapshot, FromALoadedConfig) {
  const auto loaded = config::load_config(R"(
services:
  - name: orders
    match: {hosts: ["API.example.com", "*.example.org"], path_prefix: /orders/}
    stickiness: header:X-User
    versions:
      - name: v1
        upstreams: [127.0.0.1:9001, 127.0.0.1:9002]
      - name: v2
        upstreams: [127.0.0.1:9003]
    live: v1
    traffic: {v1: 90, v2: 10}
  - name: users
    versions:
      - name: v1
        upstreams: [127.0.0.1:9001]
    live: v1
)",
                                          [](std::string_view) { return std::nullopt; });
  ASSERT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0].message);
  const auto snapshot = build(*loaded.config);
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(snapshot->upstreams.size(), 3u);
  EXPECT_EQ(snapshot->match("api.example.com:8080", "/orders/1")->name, "orders");
  EXPECT_EQ(snapshot->match("a.example.org", "/orders")->name, "orders");
  EXPECT_EQ(snapshot->match("api.example.com", "/users")->name, "users");
  EXPECT_EQ(slices_of(snapshot->services[0]), (Slices{{0, 9000}, {1, 10000}}));
  EXPECT_EQ(snapshot->services[0].stickiness.kind, config::StickinessKind::header);
}

TEST(StripRoutePrefix, OnlyWhenTheRouteSaysSo) {
  ServiceRoute route;
  route.path_prefix = "/orders";
  std::string out;
  strip_route_prefix(route, "/orders/1?x", out);
  EXPECT_EQ(out, "/orders/1?x");
  route.strip_prefix = true;
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"/orders/1?x", "/1?x"}, {"/orders", "/"},      {"/orders/", "/"},
      {"/orders?x", "/?x"},    {"/orders//a", "//a"}, {"/other", "/other"},
  };
  for (const auto& [target, want] : cases) {
    strip_route_prefix(route, target, out);
    EXPECT_EQ(out, want) << target;
  }
  route.path_prefix = "/";
  strip_route_prefix(route, "/a?b", out);
  EXPECT_EQ(out, "/a?b");
}

// ---- Version choice ----------------------------------------------------------------------

std::shared_ptr<const Snapshot> canary_snapshot(
    int weight, config::PreviewMode preview = config::PreviewMode::keys) {
  config::Config c = two_versions();
  c.services[0].preview = preview;
  return build(c, {{"orders", canary("v2", weight)}});
}

TEST(ChooseVersion, SplitAccuracyAtTenPercent) {
  const auto snapshot = canary_snapshot(10);
  ASSERT_NE(snapshot, nullptr);
  const ServiceRoute& route = snapshot->services[0];
  std::mt19937_64 rng(20240601);
  int canary_count = 0;
  for (int i = 0; i < 100000; ++i) {
    const VersionChoice choice = choose_version(route, {}, rng());
    EXPECT_EQ(choice.kind, ChoiceKind::weighted);
    canary_count += choice.version == 1 ? 1 : 0;
  }
  EXPECT_NEAR(canary_count / 1000.0, 10.0, 1.0);

  // Sticky values spread the same way (the hash is uniform enough).
  int sticky_canary = 0;
  std::string value;
  for (int i = 0; i < 100000; ++i) {
    value = "consumer-" + std::to_string(i);
    RequestFacts facts;
    facts.sticky_value = value;
    const VersionChoice choice = choose_version(route, facts, 0);
    EXPECT_EQ(choice.kind, ChoiceKind::sticky);
    sticky_canary += choice.version == 1 ? 1 : 0;
  }
  EXPECT_NEAR(sticky_canary / 1000.0, 10.0, 1.0);
}

TEST(ChooseVersion, WeightedBucketIsRandomBitsModulo10000) {
  const auto snapshot = canary_snapshot(10);
  ASSERT_NE(snapshot, nullptr);
  const ServiceRoute& route = snapshot->services[0];
  EXPECT_EQ(choose_version(route, {}, 0).version, 1u);
  EXPECT_EQ(choose_version(route, {}, 999).version, 1u);
  EXPECT_EQ(choose_version(route, {}, 1000).version, 0u);
  EXPECT_EQ(choose_version(route, {}, 9999).version, 0u);
  EXPECT_EQ(choose_version(route, {}, 10999).version, 1u);
  EXPECT_EQ(choose_version(route, {}, UINT64_MAX).version, 0u);  // 2^64-1 % 10000 = 1615
}

TEST(ChooseVersion, StickyMonotonicity) {
  std::vector<std::shared_ptr<const Snapshot>> by_weight;
  metrics::SeriesRegistry registry;
  for (int w = 0; w <= 100; ++w) {
    by_weight.push_back(build(two_versions(), {{"orders", canary("v2", w)}}, &registry));
    ASSERT_NE(by_weight.back(), nullptr);
  }
  std::string value;
  for (int i = 0; i < 10000; ++i) {
    value = "user-" + std::to_string(i * 7919);
    RequestFacts facts;
    facts.sticky_value = value;
    int switches = 0;
    uint32_t previous = 0;  // at weight 0 everyone is on v1 (index 0)
    const uint32_t bucket = sticky_bucket("orders", value);
    for (int w = 0; w <= 100; ++w) {
      const VersionChoice choice = choose_version(by_weight[w]->services[0], facts, 12345);
      ASSERT_EQ(choice.kind, ChoiceKind::sticky);
      ASSERT_EQ(choice.version, bucket < static_cast<uint32_t>(w) * 100 ? 1u : 0u);
      if (choice.version != previous) {
        ASSERT_EQ(previous, 0u) << value << " went back to stable at weight " << w;
        ++switches;
      }
      previous = choice.version;
    }
    ASSERT_LE(switches, 1) << value;
    ASSERT_EQ(previous, 1u) << value << " is on canary at 100%";
  }
}

TEST(ChooseVersion, StickyIsStableAndIgnoresRandomBits) {
  const auto snapshot = canary_snapshot(50);
  ASSERT_NE(snapshot, nullptr);
  const ServiceRoute& route = snapshot->services[0];
  RequestFacts facts;
  facts.sticky_value = "alice";
  const uint32_t first = choose_version(route, facts, 0).version;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1000; ++i)
    EXPECT_EQ(choose_version(route, facts, rng()).version, first);
}

TEST(ChooseVersion, StickinessNoneIgnoresTheValue) {
  config::Config c = two_versions();
  c.services[0].stickiness = {config::StickinessKind::none, ""};
  const auto snapshot = build(c, {{"orders", canary("v2", 10)}});
  ASSERT_NE(snapshot, nullptr);
  RequestFacts facts;
  facts.sticky_value = "alice";
  const VersionChoice choice = choose_version(snapshot->services[0], facts, 5);
  EXPECT_EQ(choice.kind, ChoiceKind::weighted);
  EXPECT_EQ(choice.version, 1u);
}

TEST(StickyHash, IsTheDocumentedFunction) {
  // Computed independently from the definition in routing.h (FNV-1a 64 over
  // service '\0' value, then fmix64). Changing these values re-buckets every consumer
  // of every fleet: do not.
  EXPECT_EQ(sticky_hash("orders", "alice"), 0x75747850ea00240cULL);
  EXPECT_EQ(sticky_hash("orders", "bob"), 0x4fae48abaf49e176ULL);
  EXPECT_EQ(sticky_hash("payments", "alice"), 0xea5a4f719ea2ed5bULL);
  EXPECT_EQ(sticky_hash("", ""), 0xb9034ad37056f5fbULL);
  EXPECT_EQ(sticky_bucket("orders", "alice"), 9180u);
  EXPECT_EQ(sticky_bucket("orders", "bob"), 3222u);
  EXPECT_EQ(sticky_bucket("payments", "alice"), 2539u);
  // The separator keeps ("ab", "c") and ("a", "bc") apart.
  EXPECT_NE(sticky_hash("ab", "c"), sticky_hash("a", "bc"));
}

struct PinCase {
  config::PreviewMode preview;
  std::string_view pin;
  bool may_pin;
  int want_status;
  std::string_view want_error;
  uint32_t want_version;
};

TEST(ChooseVersion, TheDeploymentsPreviewTokenPinsInEveryPreviewMode) {
  using config::PreviewMode;
  for (const PreviewMode mode : {PreviewMode::off, PreviewMode::keys, PreviewMode::anyone}) {
    SCOPED_TRACE(config::to_string(mode));
    const auto snapshot = canary_snapshot(0, mode);
    ASSERT_NE(snapshot, nullptr);
    RequestFacts facts;
    facts.pin = "v2";
    facts.preview_token = true;
    const VersionChoice choice = choose_version(snapshot->services[0], facts, 0);
    EXPECT_EQ(choice.error_status, 0) << choice.error;
    EXPECT_EQ(choice.kind, ChoiceKind::pinned);
    EXPECT_EQ(choice.version, 1u);
    facts.pin = "v9";  // existence is still checked
    EXPECT_EQ(choose_version(snapshot->services[0], facts, 0).error_status, 400);
  }
}

TEST(ChooseVersion, PinsPerPreviewMode) {
  using config::PreviewMode;
  const PinCase cases[] = {
      {PreviewMode::keys, "v2", true, 0, "", 1},
      {PreviewMode::keys, "v1", true, 0, "", 0},
      {PreviewMode::keys, "v2", false, 403, "version pinning needs a preview key", 0},
      {PreviewMode::keys, "v9", true, 400, "unknown version", 0},
      {PreviewMode::keys, "v9", false, 403, "version pinning needs a preview key", 0},
      {PreviewMode::anyone, "v2", false, 0, "", 1},
      {PreviewMode::anyone, "v2", true, 0, "", 1},
      {PreviewMode::anyone, "V2", false, 400, "unknown version", 0},
      {PreviewMode::off, "v2", true, 403, "version pinning is off for this service", 0},
      {PreviewMode::off, "v2", false, 403, "version pinning is off for this service", 0},
  };
  for (const PinCase& c : cases) {
    SCOPED_TRACE(std::string(config::to_string(c.preview)) + " " + std::string(c.pin) +
                 (c.may_pin ? " may" : " may not"));
    // Weight 0: a pin reaches a version that gets no public traffic (blue/green preview).
    const auto snapshot = canary_snapshot(0, c.preview);
    ASSERT_NE(snapshot, nullptr);
    RequestFacts facts;
    facts.pin = c.pin;
    facts.may_pin = c.may_pin;
    facts.sticky_value = "alice";
    const VersionChoice choice = choose_version(snapshot->services[0], facts, 0);
    EXPECT_EQ(choice.error_status, c.want_status);
    EXPECT_EQ(choice.error, c.want_error);
    if (c.want_status == 0) {
      EXPECT_EQ(choice.kind, ChoiceKind::pinned);
      EXPECT_EQ(choice.version, c.want_version);
    }
  }
}

// ---- Sticky values -------------------------------------------------------------------------

http::RequestHead head_with(std::vector<http::Header> headers) {
  http::RequestHead head;
  head.method = "GET";
  head.target = "/";
  head.headers = std::move(headers);
  return head;
}

TEST(StickyValue, ApiKeyAndHeader) {
  const auto head = head_with({{"Host", "a"}, {"x-user", "u-1"}, {"X-User", "u-2"}});
  const config::Stickiness api_key{config::StickinessKind::api_key, ""};
  const config::Stickiness header{config::StickinessKind::header, "X-User"};
  const config::Stickiness missing{config::StickinessKind::header, "X-Other"};
  const config::Stickiness none{config::StickinessKind::none, ""};
  EXPECT_EQ(sticky_value(api_key, head, "acme"), "acme");
  EXPECT_EQ(sticky_value(api_key, head, ""), "");
  EXPECT_EQ(sticky_value(header, head, "acme"), "u-1");  // the first, any case
  EXPECT_EQ(sticky_value(missing, head, "acme"), "");
  EXPECT_EQ(sticky_value(none, head, "acme"), "");
}

TEST(StickyValue, Cookies) {
  const config::Stickiness sid{config::StickinessKind::cookie, "sid"};
  const std::pair<std::vector<http::Header>, std::string_view> cases[] = {
      {{{"Cookie", "sid=abc"}}, "abc"},
      {{{"Cookie", "a=1; sid=abc; b=2"}}, "abc"},
      {{{"cookie", "a=1;sid=abc"}}, "abc"},
      {{{"Cookie", "SID=upper; sid=lower"}}, "lower"},  // names match exactly
      {{{"Cookie", "sessionid=1; xsid=2; sid_x=3"}}, ""},
      {{{"Cookie", "a=1; sid=\"quoted\""}}, "quoted"},
      {{{"Cookie", "a=1 ;  sid = spaced ; b"}}, "spaced"},
      {{{"Cookie", "sid=first; sid=second"}}, "first"},
      {{{"Cookie", "flag; sid=x=y"}}, "x=y"},
      {{{"Cookie", "a=1"}, {"Cookie", "sid=two-headers"}}, "two-headers"},
      {{{"X-Cookie", "sid=nope"}}, ""},
      {{{"Cookie", ""}}, ""},
      {{}, ""},
  };
  for (const auto& [headers, want] : cases) {
    const auto head = head_with(headers);
    SCOPED_TRACE(headers.empty() ? std::string("(none)") : std::string(headers.back().value));
    EXPECT_EQ(sticky_value(sid, head, "acme"), want);
  }
}

}  // namespace
}  // namespace glidepath::gateway
