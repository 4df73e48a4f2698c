#include "deployment_harness.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <sstream>
#include <stdexcept>

#include "support/process.h"

namespace glidepath::testing {

namespace {

// Under the sanitizers a start takes a moment; more on a loaded CI machine.
constexpr auto kStartTimeout = std::chrono::seconds(30);

using Clock = std::chrono::steady_clock;

}  // namespace

// ---- ServeProcess -------------------------------------------------------------------------

ServeProcess::ServeProcess(std::string services_yaml, std::string token,
                           const std::string& gateway_yaml)
    : token_(std::move(token)) {
  std::ostringstream config;
  config << "gateway:\n  listen: 127.0.0.1:0\n  workers: 2\n" << gateway_yaml;
  config << "admin:\n  listen: 127.0.0.1:0\n";
  if (!token_.empty()) config << "  token: " << token_ << "\n";
  config << "store: sqlite:" << dir_.path() << "/glidepath.db\n";
  config << "services:\n" << services_yaml;
  config_path_ = dir_.write("glidepath.yaml", config.str());
  start();
}

ServeProcess::~ServeProcess() {
  if (process_) stop();
}

void ServeProcess::start() {
  process_ = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{glidepath_binary(), "serve", "-c", config_path_});
  auto gateway_line =
      process_->wait_for_line(R"(^gateway listening on 127\.0\.0\.1:(\d+)$)", kStartTimeout);
  if (!gateway_line) {
    throw std::runtime_error("glidepath serve did not start: " + process_->err());
  }
  port_ = static_cast<uint16_t>(std::stoi((*gateway_line)[1]));
  auto admin_line =
      process_->wait_for_line(R"(^admin listening on 127\.0\.0\.1:(\d+)$)", kStartTimeout);
  if (!admin_line) throw std::runtime_error("the admin API did not start: " + process_->err());
  admin_port_ = static_cast<uint16_t>(std::stoi((*admin_line)[1]));
}

void ServeProcess::kill() {
  if (!process_) return;
  process_->kill(SIGKILL);
  process_.reset();
}

int ServeProcess::stop() {
  if (!process_) return -1;
  const int code = process_->terminate(std::chrono::seconds(20));
  EXPECT_EQ(code, 0) << "glidepath serve: " << process_->err();
  EXPECT_EQ(process_->err(), "") << "glidepath serve wrote to stderr";
  process_.reset();
  return code;
}

std::string ServeProcess::admin_url() const {
  return fmt::format("http://127.0.0.1:{}", admin_port_);
}

AdminReply ServeProcess::admin(const std::string& method, const std::string& target,
                               const std::string& body, bool with_token,
                               const HeaderFields& extra_headers) const {
  HeaderFields headers = extra_headers;
  if (with_token && !token_.empty()) headers.emplace_back("Authorization", "Bearer " + token_);
  return admin_request(admin_port_, method, target, body, std::move(headers));
}

AdminReply admin_request(uint16_t port, const std::string& method, const std::string& target,
                         const std::string& body, HeaderFields headers,
                         std::chrono::milliseconds timeout) {
  AdminReply reply;
  try {
    HttpClient client("127.0.0.1", port);
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    HttpResponse r = client.request(method, target, headers, body, timeout);
    reply.status = r.status;
    reply.body = r.body;
    reply.error = r.error;
    reply.content_type = r.header("Content-Type");
    reply.json = Json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (reply.json.is_discarded()) reply.json = nullptr;
  } catch (const std::exception& e) {
    reply.error = e.what();
  }
  return reply;
}

std::string one_service(const std::string& upstream, const std::string& deployment_yaml,
                        const std::string& name, const std::string& prefix) {
  std::string yaml = fmt::format(
      "  - name: {}\n"
      "    match: {{path_prefix: {}}}\n"
      "    versions:\n"
      "      - name: v1\n"
      "        upstreams: [{}]\n"
      "    live: v1\n"
      "    deployment:\n"
      "      evaluation_interval: 1s\n",
      name, prefix, upstream);
  return yaml + deployment_yaml;
}

// ---- Deployments ----------------------------------------------------------------------------

Json start_deployment(const ServeProcess& serve, const std::string& service, const Json& body) {
  const AdminReply r = serve.post("/v1/services/" + service + "/deployments", body);
  EXPECT_EQ(r.status, 201) << r.body << r.error;
  return r.json;
}

bool is_finished(const Json& d) {
  const std::string state = d.is_object() ? d.value("state", "") : "";
  return state == "succeeded" || state == "rolled_back" || state == "failed";
}

Json wait_for(const ServeProcess& serve, const std::string& id,
              const std::function<bool(const Json&)>& done, std::chrono::milliseconds timeout,
              const std::string& what) {
  const auto deadline = Clock::now() + timeout;
  Json last;
  while (true) {
    const AdminReply r = serve.get("/v1/deployments/" + id);
    if (r.status == 200) {
      last = r.json;
      if (done(last)) return last;
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "timed out waiting for " << what << " of " << id
                << "; last seen: " << (last.is_object() ? last.value("state", "?") : "nothing")
                << "\n"
                << event_log(last);
  return last;
}

Json wait_for_state(const ServeProcess& serve, const std::string& id, const std::string& state,
                    std::chrono::milliseconds timeout) {
  return wait_for(
      serve, id, [&](const Json& d) { return d.value("state", "") == state; }, timeout,
      "state " + state);
}

Json wait_until_finished(const ServeProcess& serve, const std::string& id,
                         std::chrono::milliseconds timeout) {
  return wait_for(serve, id, is_finished, timeout, "the end");
}

bool has_event(const Json& d, const std::string& type, const std::string& text) {
  if (!d.is_object() || !d.contains("events") || !d["events"].is_array()) return false;
  for (const Json& e : d["events"]) {
    if (e.value("type", "") == type && e.value("message", "").find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::string event_log(const Json& d) {
  std::string out;
  if (!d.is_object() || !d.contains("events") || !d["events"].is_array()) return out;
  for (const Json& e : d["events"]) {
    out += fmt::format("  {} {}: {}\n", e.value("time", ""), e.value("type", ""),
                       e.value("message", ""));
  }
  return out;
}

// ---- SteadyLoad -----------------------------------------------------------------------------

SteadyLoad::SteadyLoad(uint16_t gateway_port, std::string target, std::chrono::microseconds pace,
                       std::chrono::seconds max_duration)
    : thread_([this, gateway_port, target = std::move(target), pace, max_duration] {
        run(gateway_port, target, pace, max_duration);
      }) {}

SteadyLoad::~SteadyLoad() {
  stop();
}

void SteadyLoad::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

SteadyLoad::Counts SteadyLoad::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

bool SteadyLoad::wait_for_answers(uint64_t n, std::chrono::milliseconds timeout) {
  const auto start = counts();
  const uint64_t target = start.ok + start.failed + n;
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    const auto now = counts();
    if (now.ok + now.failed >= target) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

void SteadyLoad::run(uint16_t port, std::string target, std::chrono::microseconds pace,
                     std::chrono::seconds max_duration) {
  const auto end = Clock::now() + max_duration;
  std::optional<HttpClient> client;
  auto record_failure = [&](std::string what) {
    std::lock_guard lock(mutex_);
    ++counts_.failed;
    if (counts_.failures.size() < 10) counts_.failures.push_back(std::move(what));
  };
  while (!stopping_ && Clock::now() < end) {
    if (!client) {
      try {
        client.emplace("127.0.0.1", port);
      } catch (const std::exception& e) {
        record_failure(std::string("connect: ") + e.what());
        std::this_thread::sleep_for(pace);
        continue;
      }
    }
    HttpResponse r = client->request("GET", target, {}, {}, std::chrono::seconds(10));
    if (r.status >= 200 && r.status < 300) {
      std::lock_guard lock(mutex_);
      ++counts_.ok;
      ++counts_.by_version[r.header("X-Glidepath-Version")];
    } else {
      record_failure(fmt::format("status {} from {}: {}{}", r.status,
                                 r.header("X-Glidepath-Version"), r.error, r.body.substr(0, 200)));
    }
    if (!r.ok() || !r.keep_alive || r.closed) client.reset();
    std::this_thread::sleep_for(pace);
  }
}

// ---- HookEndpoint ---------------------------------------------------------------------------

HookEndpoint::HookEndpoint(int status) : status_(status) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    throw std::runtime_error(std::string("hook endpoint: ") + std::strerror(errno));
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

HookEndpoint::~HookEndpoint() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
}

std::string HookEndpoint::url(const std::string& path) const {
  return fmt::format("http://127.0.0.1:{}{}", port_, path);
}

std::vector<std::string> HookEndpoint::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

bool HookEndpoint::wait_for_requests(size_t n, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (requests().size() >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return requests().size() >= n;
}

void HookEndpoint::serve() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) != 1) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    // One request: the head, then Content-Length bytes of body; every read bounded.
    std::string data;
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    size_t head_end = std::string::npos;
    size_t body_length = 0;
    while (Clock::now() < deadline) {
      if (head_end != std::string::npos && data.size() >= head_end + 4 + body_length) break;
      pollfd c{fd, POLLIN, 0};
      if (::poll(&c, 1, 100) != 1) continue;
      char buffer[4096];
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      data.append(buffer, static_cast<size_t>(n));
      if (head_end == std::string::npos &&
          (head_end = data.find("\r\n\r\n")) != std::string::npos) {
        std::string head = data.substr(0, head_end);
        for (char& ch : head)
          ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        if (const size_t at = head.find("content-length:"); at != std::string::npos) {
          body_length = std::stoul(head.substr(at + 15));
        }
      }
    }
    const std::string response =
        fmt::format("HTTP/1.1 {} Hook\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status_);
    (void)::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
    ::close(fd);
    std::string record = data.substr(0, data.find("\r\n"));
    if (head_end != std::string::npos) record += "\n\n" + data.substr(head_end + 4);
    std::lock_guard lock(mutex_);
    requests_.push_back(std::move(record));
  }
}

}  // namespace glidepath::testing
