#include "support/access_harness.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cctype>
#include <ctime>
#include <filesystem>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/process.h"

namespace glidepath::testing {

namespace {

// Under the sanitizers a start takes a moment; more on a loaded CI machine.
constexpr auto kStartTimeout = std::chrono::seconds(30);

using Clock = std::chrono::steady_clock;

}  // namespace

// ---- AccessServer -----------------------------------------------------------------------------

AccessServer::AccessServer(std::string services_yaml, AccessServerOptions options)
    : options_(std::move(options)) {
  for (const auto& [name, text] : options_.files) {
    const std::filesystem::path file = std::filesystem::path(dir_.path()) / name;
    std::filesystem::create_directories(file.parent_path());
    dir_.write(name, text);
  }
  std::ostringstream config;
  config << "gateway:\n  listen: 127.0.0.1:0\n  workers: " << options_.workers << "\n";
  config << "admin:\n  listen: 127.0.0.1:0\n";
  if (!options_.token.empty()) config << "  token: " << options_.token << "\n";
  config << "store: sqlite:" << dir_.path() << "/glidepath.db\n";
  config << "services:\n" << services_yaml;
  config_path_ = dir_.write("glidepath.yaml", config.str());
  start();
}

AccessServer::~AccessServer() {
  if (process_) stop();
}

void AccessServer::start() {
  process_ = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{glidepath_binary(), "serve", "-c", config_path_});
  auto gateway_line =
      process_->wait_for_line(R"(^gateway listening on 127\.0\.0\.1:(\d+)$)", kStartTimeout);
  if (!gateway_line) {
    const std::string err = process_->err();
    process_.reset();
    throw std::runtime_error("glidepath serve did not start: " + err);
  }
  port_ = static_cast<std::uint16_t>(std::stoi((*gateway_line)[1]));
  auto admin_line =
      process_->wait_for_line(R"(^admin listening on 127\.0\.0\.1:(\d+)$)", kStartTimeout);
  if (!admin_line) {
    const std::string err = process_->err();
    process_.reset();
    throw std::runtime_error("the admin API did not start: " + err);
  }
  admin_port_ = static_cast<std::uint16_t>(std::stoi((*admin_line)[1]));
}

int AccessServer::stop() {
  if (!process_) return -1;
  const int code = process_->terminate(std::chrono::seconds(20));
  EXPECT_EQ(code, 0) << "glidepath serve: " << process_->err();
  EXPECT_EQ(process_->err(), "") << "glidepath serve wrote to stderr";
  earlier_output_ += process_->out() + process_->err();
  process_.reset();
  return code;
}

void AccessServer::kill() {
  if (!process_) return;
  process_->kill(SIGKILL);
  earlier_output_ += process_->out() + process_->err();
  process_.reset();
}

std::string AccessServer::admin_url() const {
  return fmt::format("http://127.0.0.1:{}", admin_port_);
}

std::string AccessServer::output() const {
  return earlier_output_ + (process_ ? process_->out() + process_->err() : "");
}

AdminReply AccessServer::admin(const std::string& method, const std::string& target,
                               const std::string& body, bool with_token) const {
  HeaderFields headers;
  if (with_token && !options_.token.empty()) {
    headers.emplace_back("Authorization", "Bearer " + options_.token);
  }
  return admin_request(admin_port_, method, target, body, std::move(headers));
}

std::string service_yaml(const std::string& name, const std::string& prefix,
                         const std::vector<VersionSpec>& versions, const std::string& extra) {
  std::string yaml = fmt::format(
      "  - name: {}\n"
      "    match: {{path_prefix: {}}}\n"
      "    versions:\n",
      name, prefix);
  for (const VersionSpec& v : versions) {
    yaml += fmt::format("      - name: {}\n        upstreams: [{}]\n", v.name, v.upstream);
    if (!v.spec.empty()) yaml += fmt::format("        spec: {}\n", v.spec);
  }
  yaml += fmt::format("    live: {}\n", versions.empty() ? "" : versions.front().name);
  return yaml + extra;
}

// ---- keys -------------------------------------------------------------------------------------

ApiKey create_key(const AccessServer& server, const std::string& consumer, const Json& extra) {
  Json body = {{"consumer", consumer}, {"contact", consumer + "@example.com"}};
  for (const auto& [name, value] : extra.items())
    body[name] = value;
  const AdminReply r = server.post("/v1/keys", body);
  if (r.status != 201 || !r.json.is_object()) {
    ADD_FAILURE() << "POST /v1/keys " << body.dump() << ": HTTP " << r.status << " " << r.body
                  << r.error;
    return {};
  }
  ApiKey key;
  key.id = r.json.value("id", "");
  key.key = r.json.value("key", "");
  key.consumer = r.json.value("consumer", "");
  key.object = r.json;
  EXPECT_FALSE(key.id.empty()) << r.body;
  EXPECT_TRUE(looks_like_api_key(key.key)) << r.body;
  return key;
}

void revoke_key(const AccessServer& server, const std::string& id) {
  const AdminReply r = server.del("/v1/keys/" + id);
  EXPECT_EQ(r.status, 200) << "DELETE /v1/keys/" << id << ": " << r.body << r.error;
}

bool looks_like_api_key(std::string_view text) {
  if (text.size() != 55 || text.substr(0, 3) != "gp_") return false;
  for (const char c : text.substr(3)) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string unknown_key() {
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";
  std::random_device device;
  std::string key = "gp_";
  for (int i = 0; i < 52; ++i)
    key += kAlphabet[device() % kAlphabet.size()];
  return key;
}

HeaderFields key_header(const std::string& key) {
  return {{"X-Api-Key", key}};
}

HeaderFields bearer_header(const std::string& key) {
  return {{"Authorization", "Bearer " + key}};
}

// ---- gateway answers --------------------------------------------------------------------------

Json json_body(const HttpResponse& r) {
  Json j = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? Json() : j;
}

void expect_gateway_error(const HttpResponse& r, int status) {
  ASSERT_EQ(r.status, status) << r.error << " " << r.body;
  EXPECT_EQ(r.header("Content-Type").rfind("application/json", 0), 0u) << r.header("Content-Type");
  const Json body = json_body(r);
  ASSERT_TRUE(body.is_object()) << r.body;
  ASSERT_TRUE(body.contains("error")) << r.body;
  EXPECT_TRUE(body["error"].is_string() && !body["error"].get<std::string>().empty()) << r.body;
  ASSERT_TRUE(body.contains("request_id")) << r.body;
  EXPECT_FALSE(r.header("X-Request-Id").empty()) << status;
  EXPECT_EQ(body["request_id"], r.header("X-Request-Id")) << r.body;
}

long retry_after_seconds(const HttpResponse& r) {
  const std::string value = r.header("Retry-After");
  if (value.empty() || value.size() > 12) return -1;
  for (const char c : value) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return -1;
  }
  return std::stol(value);
}

long seconds_to_utc_midnight() {
  const long now = static_cast<long>(std::time(nullptr));
  return 86400 - now % 86400;
}

Json upstream_headers(const HttpResponse& r) {
  const Json body = json_body(r);
  if (!body.is_object() || !body.contains("headers") || !body["headers"].is_object()) return {};
  return body["headers"];
}

// ---- usage ------------------------------------------------------------------------------------

long count_of(const Json& value) {
  if (value.is_number_integer()) return value.get<long>();
  if (value.is_array()) return static_cast<long>(value.size());
  return -1;
}

std::uint64_t class_count(const Json& by_class, const std::string& cls) {
  if (!by_class.is_object()) return 0;
  const auto it = by_class.find(cls);
  return it != by_class.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

void PrintTo(const UsageCounts& counts, std::ostream* out) {
  *out << counts.requests << " requests (";
  const char* separator = "";
  for (const auto& [cls, n] : counts.by_class) {
    *out << separator << n << " " << cls;
    separator = ", ";
  }
  *out << ")";
}

AdminReply get_usage(const AccessServer& server, const std::string& consumer,
                     const std::string& query) {
  return server.get("/v1/consumers/" + consumer + "/usage" + (query.empty() ? "" : "?" + query));
}

OperationUsage operation_usage(const Json& usage, const std::string& service) {
  OperationUsage table;
  if (!usage.is_object() || !usage.contains("operations") || !usage["operations"].is_array()) {
    return table;
  }
  for (const Json& op : usage["operations"]) {
    if (!service.empty() && op.value("service", "") != service) continue;
    UsageCounts& counts =
        table[{op.value("service", ""), op.value("operation", ""), op.value("version", "")}];
    counts.requests += op.value("requests", std::uint64_t{0});
    if (op.contains("by_class") && op["by_class"].is_object()) {
      for (const auto& [cls, n] : op["by_class"].items()) {
        if (n.is_number_unsigned() && n.get<std::uint64_t>() > 0) {
          counts.by_class[cls] += n.get<std::uint64_t>();
        }
      }
    }
  }
  return table;
}

std::uint64_t usage_total(const Json& usage, const std::string& service) {
  std::uint64_t total = 0;
  for (const auto& [key, counts] : operation_usage(usage, service))
    total += counts.requests;
  return total;
}

Json wait_for_usage(const AccessServer& server, const std::string& consumer, std::uint64_t total,
                    const std::string& service, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  AdminReply last;
  while (true) {
    last = get_usage(server, consumer);
    if (last.status == 200 && usage_total(last.json, service) >= total) return last.json;
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "timed out waiting for " << total << " requests of " << consumer
                << (service.empty() ? "" : " on " + service) << " in its usage; last seen: HTTP "
                << last.status << " " << last.body << last.error;
  return last.json;
}

Json find_consumer(const Json& consumers_reply, const std::string& name) {
  if (!consumers_reply.is_object() || !consumers_reply.contains("consumers") ||
      !consumers_reply["consumers"].is_array()) {
    return {};
  }
  for (const Json& c : consumers_reply["consumers"]) {
    if (c.value("name", "") == name) return c;
  }
  return {};
}

std::string describe(const OperationUsage& table) {
  std::string out;
  for (const auto& [key, counts] : table) {
    const auto& [service, operation, version] = key;
    out += fmt::format("  {} | {} | {}: {} requests", service, operation, version, counts.requests);
    for (const auto& [cls, n] : counts.by_class)
      out += fmt::format(", {} {}", n, cls);
    out += "\n";
  }
  return out;
}

// ---- deployments ------------------------------------------------------------------------------

std::string start_held_canary(const AccessServer& server, const std::string& service,
                              const std::string& version, const Json& steps) {
  const Json body = {{"version", version},
                     {"steps", steps},
                     {"alarms", Json::array({{{"name", "never"},
                                              {"metric", "error_rate"},
                                              {"comparison", ">"},
                                              {"threshold", 1.0}}})}};
  const AdminReply r = server.post("/v1/services/" + service + "/deployments", body);
  if (r.status != 201 || !r.json.is_object()) {
    ADD_FAILURE() << "starting a deployment of " << version << ": HTTP " << r.status << " "
                  << r.body << r.error;
    return "";
  }
  const std::string id = r.json.value("id", "");
  const int first_weight = steps.at(0).value("weight", 0);
  const Json d = wait_for_weight(server, id, first_weight);
  if (d.value("canary_weight", -1) != first_weight) return "";
  return id;
}

Json wait_for_deployment(const AccessServer& server, const std::string& id,
                         const std::function<bool(const Json&)>& done,
                         std::chrono::milliseconds timeout, const std::string& what) {
  const auto deadline = Clock::now() + timeout;
  Json last;
  while (true) {
    const AdminReply r = server.get("/v1/deployments/" + id);
    if (r.status == 200) {
      last = r.json;
      if (done(last)) return last;
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "timed out waiting for " << what << " of deployment " << id
                << "; last seen: " << last.dump();
  return last;
}

Json wait_for_weight(const AccessServer& server, const std::string& id, int weight) {
  return wait_for_deployment(
      server, id,
      [weight](const Json& d) {
        return d.value("canary_weight", -1) == weight && d.value("state", "") == "shifting";
      },
      std::chrono::seconds(20), fmt::format("canary weight {}%", weight));
}

}  // namespace glidepath::testing
