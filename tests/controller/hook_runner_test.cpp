// The hook runner's command hooks: a timeout or forget() kills everything the hook
// started (its process group), and a stdin payload of any size arrives whole. Its https
// hooks: a private CA's server trusted through the hook's ca_file, a client certificate.
#include "controller/hook_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "test_server.h"

namespace glidepath::controller {
namespace {

using namespace std::chrono_literals;

constexpr auto kPatience = 5s;  // every wait below is bounded by this

// A fresh path in the test's temporary directory.
std::string temp_path(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / (name + "-" + std::to_string(::getpid())))
      .string();
}

HookCall command_hook(const std::string& id, std::string script, std::chrono::milliseconds timeout,
                      std::string payload = "{}") {
  HookCall call;
  call.deployment_id = id;
  call.kind = deploy::HookKind::pre_traffic;
  call.spec.command = {"sh", "-c", std::move(script)};
  call.spec.timeout = timeout;
  call.payload = std::move(payload);
  return call;
}

// The hook's observation once it is no longer running (nullopt after kPatience).
std::optional<deploy::HookObservation> wait_finished(const HookRunner& runner,
                                                     const std::string& id) {
  const auto until = std::chrono::steady_clock::now() + kPatience;
  while (std::chrono::steady_clock::now() < until) {
    auto seen = runner.observe(id, deploy::HookKind::pre_traffic);
    if (seen && seen->status != deploy::HookStatus::running) return seen;
    std::this_thread::sleep_for(10ms);
  }
  return std::nullopt;
}

// The pid a hook wrote to `file` (0 if it did not within kPatience).
pid_t wait_for_pid_in(const std::string& file) {
  const auto until = std::chrono::steady_clock::now() + kPatience;
  while (std::chrono::steady_clock::now() < until) {
    std::ifstream in(file);
    long pid = 0;
    if (in >> pid && pid > 0) return static_cast<pid_t>(pid);
    std::this_thread::sleep_for(10ms);
  }
  return 0;
}

// Gone, or dead and waiting for its new parent (init) to reap it: a zombie runs nothing.
bool is_gone(pid_t pid) {
  if (::kill(pid, 0) == -1 && errno == ESRCH) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  const size_t close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z';
}

bool becomes_gone(pid_t pid) {
  const auto until = std::chrono::steady_clock::now() + kPatience;
  while (std::chrono::steady_clock::now() < until) {
    if (is_gone(pid)) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

// The grandchild is ours to clean up when a test fails: it would otherwise sleep on.
struct KillOnExit {
  pid_t pid = 0;
  ~KillOnExit() {
    if (pid > 0 && !is_gone(pid)) ::kill(pid, SIGKILL);
  }
};

TEST(HookRunner, ATimeoutKillsWhatTheHookStartedToo) {
  const std::string file = temp_path("timeout-grandchild");
  std::filesystem::remove(file);
  HookRunner runner;
  runner.start(command_hook("dep_timeout", "sleep 30 & echo $! > '" + file + "'; wait", 300ms));
  const auto seen = wait_finished(runner, "dep_timeout");
  ASSERT_TRUE(seen.has_value()) << "the hook outlived its timeout";
  EXPECT_EQ(seen->status, deploy::HookStatus::failed);
  EXPECT_EQ(seen->message, "timed out");
  KillOnExit grandchild{wait_for_pid_in(file)};
  ASSERT_GT(grandchild.pid, 0) << "the hook never wrote its child's pid";
  EXPECT_TRUE(becomes_gone(grandchild.pid)) << "sleep " << grandchild.pid << " survived";
  std::filesystem::remove(file);
}

TEST(HookRunner, ForgettingADeploymentKillsWhatItsHookStarted) {
  const std::string file = temp_path("forget-grandchild");
  std::filesystem::remove(file);
  HookRunner runner;
  runner.start(command_hook("dep_forget", "sleep 30 & echo $! > '" + file + "'; wait", 60s));
  KillOnExit grandchild{wait_for_pid_in(file)};
  ASSERT_GT(grandchild.pid, 0) << "the hook never wrote its child's pid";
  runner.forget("dep_forget");
  EXPECT_FALSE(runner.observe("dep_forget", deploy::HookKind::pre_traffic).has_value());
  EXPECT_TRUE(becomes_gone(grandchild.pid)) << "sleep " << grandchild.pid << " survived";
  std::filesystem::remove(file);
}

TEST(HookRunner, AMegabytePayloadArrivesWholeOnStdin) {
  constexpr size_t kSize = 1024 * 1024;  // 16 pipe buffers
  HookRunner runner;
  runner.start(command_hook("dep_payload", "n=$(wc -c); echo \"read $n\"; [ $n -eq 1048576 ]", 20s,
                            std::string(kSize, 'x')));
  const auto seen = wait_finished(runner, "dep_payload");
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->status, deploy::HookStatus::succeeded) << seen->message;
  EXPECT_EQ(seen->message, "exit status 0: read 1048576");
}

TEST(HookRunner, AHookThatStopsReadingItsStdinSucceedsAndNothingIsSignalled) {
  HookRunner runner;
  runner.start(command_hook("dep_no_read", "head -c 10 > /dev/null; echo done", 20s,
                            std::string(1024 * 1024, 'x')));
  const auto seen = wait_finished(runner, "dep_no_read");
  ASSERT_TRUE(seen.has_value());
  // This process is still here (no SIGPIPE killed it), and the hook counts by its exit.
  EXPECT_EQ(seen->status, deploy::HookStatus::succeeded) << seen->message;
  EXPECT_EQ(seen->message, "exit status 0: done");
  // The runner did not change the process's SIGPIPE disposition to get there.
  struct sigaction current {};
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &current), 0);
  EXPECT_EQ(current.sa_handler, SIG_DFL);
}

TEST(HookRunner, AnOnEventCommandGetsEachNotificationOnStdinInOrder) {
  const std::string file = temp_path("on-event");
  std::filesystem::remove(file);
  HookRunner runner;
  deploy::HookSpec hook;
  hook.command = {"sh", "-c", "cat >> '" + file + "'; echo \" $GLIDEPATH_HOOK\" >> '" + file + "'"};
  hook.timeout = 5s;
  runner.notify(hook, R"({"event":"first"})");
  runner.notify(hook, R"({"event":"second"})");
  const std::string expected = R"({"event":"first"} on_event)"
                               "\n"
                               R"({"event":"second"} on_event)"
                               "\n";
  std::string seen;
  const auto until = std::chrono::steady_clock::now() + kPatience;
  while (std::chrono::steady_clock::now() < until && seen != expected) {
    std::ifstream in(file);
    seen.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(seen, expected);
  std::filesystem::remove(file);
}

TEST(HookRunner, AnOnEventCommandStillRunningIsKilledWithTheRunner) {
  const std::string file = temp_path("on-event-grandchild");
  std::filesystem::remove(file);
  KillOnExit grandchild;
  {
    HookRunner runner;
    deploy::HookSpec hook;
    hook.command = {"sh", "-c", "sleep 30 & echo $! > '" + file + "'; wait"};
    hook.timeout = 60s;
    runner.notify(hook, "{}");
    grandchild.pid = wait_for_pid_in(file);
    ASSERT_GT(grandchild.pid, 0) << "the notification command never ran";
  }
  EXPECT_TRUE(becomes_gone(grandchild.pid)) << "sleep " << grandchild.pid << " survived";
  std::filesystem::remove(file);
}

TEST(HookRunner, AnHttpsHookTrustsItsCaFileAndPresentsItsClientCertificate) {
  const std::string dir = temp_path("hook-pki");
  const glidepath::testing::TestPki pki = glidepath::testing::make_test_pki(dir);
  glidepath::testing::TestHttpServer::Options options;
  options.cert_file = pki.server_cert;
  options.key_file = pki.server_key;
  options.client_ca_file = pki.ca_cert;  // the endpoint wants to know who calls
  options.answer = [](const glidepath::testing::ReceivedRequest&) {
    return glidepath::testing::http_response(200, "validated");
  };
  glidepath::testing::TestHttpServer server(options);
  HookRunner runner;
  HookCall call;
  call.deployment_id = "dep_https";
  call.kind = deploy::HookKind::pre_traffic;
  call.spec.http = server.url("/validate");
  call.spec.ca_file = pki.ca_cert;
  call.spec.client_cert = pki.client_cert;
  call.spec.client_key = pki.client_key;
  call.spec.timeout = 20s;
  call.payload = R"({"deployment_id":"dep_https"})";
  runner.start(call);
  const auto seen = wait_finished(runner, "dep_https");
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->status, deploy::HookStatus::succeeded) << seen->message;
  EXPECT_EQ(seen->message, "HTTP 200: validated");
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].body, call.payload);
  EXPECT_EQ(requests[0].client_subject, "glidepath-test-client");

  // Without its ca_file the system's CAs do not trust the endpoint: the hook fails, saying so.
  call.deployment_id = "dep_untrusted";
  call.spec.ca_file.clear();
  runner.start(call);
  const auto untrusted = wait_finished(runner, "dep_untrusted");
  ASSERT_TRUE(untrusted.has_value());
  EXPECT_EQ(untrusted->status, deploy::HookStatus::failed);
  EXPECT_THAT(untrusted->message, ::testing::HasSubstr("certificate is not trusted"));
  EXPECT_EQ(server.requests().size(), 1u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace glidepath::controller
