// API keys and consumers through the real binary (SPEC sections 4, 5 and 7): a restartable
// `glidepath serve` whose config directory can hold OpenAPI documents (a version's `spec:`
// is relative to it), the key and usage calls of the admin API, and the checks every test
// repeats — the gateway's own error answers, what the upstream received, and that a key
// never shows up where it must not.
//
// No sleeps as synchronisation: usage is polled through the admin API with a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "deployment_harness.h"
#include "support/gateway_harness.h"
#include "support/http_client.h"

namespace glidepath::testing {

struct AccessServerOptions {
  int workers = 2;
  std::string token;  // the admin API's bearer token, if any
  // Written into the config's directory before the first start: relative name → text.
  std::map<std::string, std::string> files;
};

// `glidepath serve -c DIR/glidepath.yaml` with `store: sqlite:DIR/glidepath.db`; both
// outlive the process, so start() after stop() or kill() is a restart on the same store.
class AccessServer {
 public:
  // `services_yaml`: the list under `services:` ("  - name: ...").
  explicit AccessServer(std::string services_yaml, AccessServerOptions options = {});
  ~AccessServer();  // stop() when still running
  AccessServer(const AccessServer&) = delete;
  AccessServer& operator=(const AccessServer&) = delete;

  void start();  // waits for both ports (new ones on every start)
  // SIGTERM; expects exit 0 and an empty stderr (no warning, no sanitizer report).
  int stop();
  void kill();  // SIGKILL: nothing is flushed
  bool running() const { return process_ != nullptr; }

  std::uint16_t port() const { return port_; }
  std::uint16_t admin_port() const { return admin_port_; }
  std::string admin_url() const;
  const std::string& token() const { return options_.token; }
  const TempDir& dir() const { return dir_; }
  HttpClient client() const { return HttpClient("127.0.0.1", port_); }
  // Standard output and error of every run so far, the current one included.
  std::string output() const;

  // One admin request on a fresh connection; the token is sent unless `with_token` is false.
  AdminReply admin(const std::string& method, const std::string& target,
                   const std::string& body = "", bool with_token = true) const;
  AdminReply get(const std::string& target) const { return admin("GET", target); }
  AdminReply post(const std::string& target, const Json& body) const {
    return admin("POST", target, body.dump());
  }
  AdminReply del(const std::string& target) const { return admin("DELETE", target); }

 private:
  AccessServerOptions options_;
  TempDir dir_;
  std::string config_path_;
  std::unique_ptr<BackgroundProcess> process_;
  std::string earlier_output_;
  std::uint16_t port_ = 0;
  std::uint16_t admin_port_ = 0;
};

// One service at `prefix` whose versions are `versions` (name → "HOST:PORT"), live the
// first; `extra` are further lines of the service, indented by 4 ("    api_keys: required\n").
// A version named in `specs` gets that `spec:` line.
struct VersionSpec {
  std::string name;
  std::string upstream;
  std::string spec;  // empty: none
};
std::string service_yaml(const std::string& name, const std::string& prefix,
                         const std::vector<VersionSpec>& versions, const std::string& extra = "");

// ---- keys -------------------------------------------------------------------------------------

struct ApiKey {
  std::string id;
  std::string key;
  std::string consumer;
  Json object;  // the whole 201 answer
};

// POST /v1/keys {"consumer": consumer, "contact": ..., ...extra}; a non-201 answer fails the
// test (ADD_FAILURE) and returns an ApiKey with empty fields.
ApiKey create_key(const AccessServer& server, const std::string& consumer,
                  const Json& extra = Json::object());
// DELETE /v1/keys/{id}, expecting 200.
void revoke_key(const AccessServer& server, const std::string& id);

// "gp_" followed by 52 letters or digits.
bool looks_like_api_key(std::string_view text);
// A well-formed key that no server ever issued.
std::string unknown_key();

HeaderFields key_header(const std::string& key);     // X-Api-Key
HeaderFields bearer_header(const std::string& key);  // Authorization: Bearer

// ---- gateway answers --------------------------------------------------------------------------

// The body as JSON; null when it is not.
Json json_body(const HttpResponse& r);
// A gateway-made answer (SPEC section 4): `status`, a JSON body with a non-empty "error" and
// the "request_id" of the X-Request-Id header.
void expect_gateway_error(const HttpResponse& r, int status);
// The Retry-After header as whole seconds; -1 when absent or not a non-negative integer.
long retry_after_seconds(const HttpResponse& r);
// Seconds from now to the next midnight UTC.
long seconds_to_utc_midnight();
// The sample backend's description of the request it received: its "headers" object
// (names lower-cased). Null when the answer is not the backend's.
Json upstream_headers(const HttpResponse& r);

// ---- usage ------------------------------------------------------------------------------------

// A JSON number or, for a list, its size; -1 otherwise (lets "keys": 2 and "keys": [..] alike
// be counted).
long count_of(const Json& value);
// by_class["4xx"] as a number, 0 when absent.
std::uint64_t class_count(const Json& by_class, const std::string& cls);

// What a consumer's usage says per service, operation and version.
struct UsageCounts {
  std::uint64_t requests = 0;
  std::map<std::string, std::uint64_t> by_class;  // "2xx" → n; zero classes left out
  friend bool operator==(const UsageCounts&, const UsageCounts&) = default;
};
// For gtest's messages: "12 requests (10 2xx, 2 5xx)".
void PrintTo(const UsageCounts& counts, std::ostream* out);
using UsageKey = std::tuple<std::string, std::string, std::string>;  // service, operation, version
using OperationUsage = std::map<UsageKey, UsageCounts>;

// GET /v1/consumers/{name}/usage[?query]; the reply.
AdminReply get_usage(const AccessServer& server, const std::string& consumer,
                     const std::string& query = "");
// The "operations" of a usage object as a table; `service` empty: every service.
OperationUsage operation_usage(const Json& usage, const std::string& service = "");
std::uint64_t usage_total(const Json& usage, const std::string& service = "");
// Polls the consumer's usage (every 100 ms, up to `timeout`) until its total requests on
// `service` (empty: all) reach `total`; returns the last usage object. A timeout fails the
// test with what was last seen.
Json wait_for_usage(const AccessServer& server, const std::string& consumer, std::uint64_t total,
                    const std::string& service = "",
                    std::chrono::milliseconds timeout = std::chrono::seconds(15));
// The entry for `name` in GET /v1/consumers' "consumers"; null when absent.
Json find_consumer(const Json& consumers_reply, const std::string& name);
std::string describe(const OperationUsage& table);

// ---- deployments ------------------------------------------------------------------------------

// POST /v1/services/{service}/deployments with custom `steps` and an alarm that never fires
// (the tests send errors on purpose); waits until the first weight step is in force and
// returns the deployment's id ("" on failure, which fails the test).
std::string start_held_canary(const AccessServer& server, const std::string& service,
                              const std::string& version, const Json& steps);
// Polls GET /v1/deployments/{id} until `done` (bounded); returns the last object.
Json wait_for_deployment(const AccessServer& server, const std::string& id,
                         const std::function<bool(const Json&)>& done,
                         std::chrono::milliseconds timeout, const std::string& what);
Json wait_for_weight(const AccessServer& server, const std::string& id, int weight);

}  // namespace glidepath::testing
