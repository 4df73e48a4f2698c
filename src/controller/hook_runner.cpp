#include "controller/hook_runner.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "http/client.h"

extern char** environ;

namespace glidepath::controller {

namespace {
constexpr size_t kMaxQueuedNotifications = 1000;
constexpr size_t kMaxMessageBytes = 300;

std::string excerpt(std::string_view text) {
  std::string out(text.substr(0, kMaxMessageBytes));
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}
}  // namespace

struct HookRunner::Run {
  HookCall call;
  std::mutex mutex;
  deploy::HookStatus status = deploy::HookStatus::running;
  std::string message;
  bool awaiting_report = false;  // an http hook answered 202
  pid_t pid = 0;                 // a command hook's process while it runs

  void finish(bool succeeded, std::string text) {
    std::lock_guard lock(mutex);
    if (status != deploy::HookStatus::running) return;  // already reported or killed
    status = succeeded ? deploy::HookStatus::succeeded : deploy::HookStatus::failed;
    message = std::move(text);
    pid = 0;
  }
};

HookRunner::HookRunner() : notify_thread_([this] { notifier(); }) {}

HookRunner::~HookRunner() {
  {
    std::lock_guard lock(mutex_);
    for (auto& [key, run] : runs_) {
      std::lock_guard run_lock(run->mutex);
      if (run->pid > 0) ::kill(run->pid, SIGKILL);
    }
  }
  {
    std::lock_guard lock(notify_mutex_);
    stopping_ = true;
  }
  notify_cv_.notify_all();
  notify_thread_.join();
}

void HookRunner::start(HookCall call) {
  auto run = std::make_shared<Run>();
  run->call = std::move(call);
  {
    std::lock_guard lock(mutex_);
    runs_[{run->call.deployment_id, run->call.kind}] = run;
  }
  std::thread([run] { HookRunner::run(run); }).detach();
}

std::optional<deploy::HookObservation> HookRunner::observe(const std::string& deployment_id,
                                                           deploy::HookKind kind) const {
  std::lock_guard lock(mutex_);
  auto it = runs_.find({deployment_id, kind});
  if (it == runs_.end()) return std::nullopt;
  std::lock_guard run_lock(it->second->mutex);
  return deploy::HookObservation{it->second->status, it->second->message};
}

core::Result<void> HookRunner::report(const std::string& deployment_id, deploy::HookKind kind,
                                      bool succeeded, std::string message) {
  std::shared_ptr<Run> run;
  {
    std::lock_guard lock(mutex_);
    auto it = runs_.find({deployment_id, kind});
    if (it != runs_.end()) run = it->second;
  }
  if (!run) {
    return core::fail(fmt::format("not found: deployment {} has no {} hook running", deployment_id,
                                  deploy::to_string(kind)));
  }
  {
    std::lock_guard lock(run->mutex);
    if (run->status != deploy::HookStatus::running) {
      return core::fail(fmt::format("conflict: the {} hook of {} already {}",
                                    deploy::to_string(kind), deployment_id,
                                    deploy::to_string(run->status)));
    }
  }
  run->finish(succeeded, message.empty() ? (succeeded ? "reported succeeded" : "reported failed")
                                         : excerpt(message));
  return {};
}

void HookRunner::forget(const std::string& deployment_id) {
  std::lock_guard lock(mutex_);
  for (auto it = runs_.begin(); it != runs_.end();) {
    if (it->first.first == deployment_id) {
      std::lock_guard run_lock(it->second->mutex);
      if (it->second->pid > 0) ::kill(it->second->pid, SIGKILL);
      it = runs_.erase(it);
    } else {
      ++it;
    }
  }
}

void HookRunner::notify(const deploy::HookSpec& hook, std::string payload) {
  {
    std::lock_guard lock(notify_mutex_);
    if (notifications_.size() >= kMaxQueuedNotifications) notifications_.pop_front();
    notifications_.emplace_back(hook, std::move(payload));
  }
  notify_cv_.notify_one();
}

void HookRunner::notifier() {
  std::unique_lock lock(notify_mutex_);
  while (true) {
    notify_cv_.wait(lock, [&] { return stopping_ || !notifications_.empty(); });
    if (stopping_) return;
    auto [hook, payload] = std::move(notifications_.front());
    notifications_.pop_front();
    lock.unlock();
    if (!hook.http.empty()) {
      http::ClientRequest request;
      request.method = "POST";
      request.url = hook.http;
      request.body = std::move(payload);
      request.timeout = std::min<std::chrono::milliseconds>(
          std::chrono::duration_cast<std::chrono::milliseconds>(hook.timeout),
          std::chrono::seconds(5));
      (void)http::send_request(request);  // notification only: its outcome changes nothing
    }
    lock.lock();
  }
}

namespace {

// Runs argv with `payload` on stdin and the hook's facts in the environment; returns the
// exit status, or an error (failed to start, timed out — then the process is killed).
struct CommandOutcome {
  int exit_status = -1;
  std::string output;  // the tail of stdout+stderr, for the event log
  std::string error;
};

CommandOutcome run_command(const HookCall& call, pid_t& pid_slot, std::mutex& slot_mutex) {
  CommandOutcome outcome;
  int in_pipe[2];
  int out_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0) {
    outcome.error = "cannot create pipes";
    return outcome;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDERR_FILENO);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e)
    env_storage.emplace_back(*e);
  for (const auto& [name, value] : call.environment)
    env_storage.push_back(name + "=" + value);
  std::vector<char*> env;
  for (auto& e : env_storage)
    env.push_back(e.data());
  env.push_back(nullptr);
  std::vector<char*> argv;
  for (const auto& a : call.spec.command)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  close(in_pipe[0]);
  close(out_pipe[1]);
  if (rc != 0) {
    close(in_pipe[1]);
    close(out_pipe[0]);
    outcome.error = fmt::format("cannot run {}: {}", call.spec.command.front(), std::strerror(rc));
    return outcome;
  }
  {
    std::lock_guard lock(slot_mutex);
    pid_slot = pid;
  }
  // The payload on stdin; a hook that does not read it must not block us.
  fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
  signal(SIGPIPE, SIG_IGN);
  const ssize_t written = write(in_pipe[1], call.payload.data(), call.payload.size());
  (void)written;
  close(in_pipe[1]);

  const auto deadline = std::chrono::steady_clock::now() + call.spec.timeout;
  fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
  char buffer[4096];
  int status = 0;
  while (true) {
    ssize_t n;
    while ((n = read(out_pipe[0], buffer, sizeof buffer)) > 0) {
      outcome.output.append(buffer, static_cast<size_t>(n));
      if (outcome.output.size() > 8192) outcome.output.erase(0, outcome.output.size() - 4096);
    }
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      outcome.error = "timed out";
      break;
    }
    pollfd p{out_pipe[0], POLLIN, 0};
    poll(&p, 1, 20);
  }
  close(out_pipe[0]);
  {
    std::lock_guard lock(slot_mutex);
    pid_slot = 0;
  }
  if (outcome.error.empty()) {
    outcome.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  return outcome;
}

}  // namespace

void HookRunner::run(const std::shared_ptr<Run>& run) {
  const HookCall& call = run->call;
  if (!call.spec.http.empty()) {
    http::ClientRequest request;
    request.method = "POST";
    request.url = call.spec.http;
    request.body = call.payload;
    request.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(call.spec.timeout);
    request.headers.emplace_back("Content-Type", "application/json");
    auto response = http::send_request(request);
    if (!response) {
      run->finish(false, response.error().message);
      return;
    }
    if (response->status == 202) {
      std::lock_guard lock(run->mutex);
      run->awaiting_report = true;  // still running: the result arrives through report()
      return;
    }
    const bool ok = response->status >= 200 && response->status < 300;
    std::string text = fmt::format("HTTP {}", response->status);
    if (!response->body.empty()) text += ": " + excerpt(response->body);
    run->finish(ok, std::move(text));
    return;
  }
  const CommandOutcome outcome = run_command(call, run->pid, run->mutex);
  if (!outcome.error.empty()) {
    run->finish(false, outcome.error);
    return;
  }
  std::string text = fmt::format("exit status {}", outcome.exit_status);
  if (!outcome.output.empty())
    text += ": " + excerpt(outcome.output.substr(
                       outcome.output.size() > 300 ? outcome.output.size() - 300 : 0));
  run->finish(outcome.exit_status == 0, std::move(text));
}

}  // namespace glidepath::controller
