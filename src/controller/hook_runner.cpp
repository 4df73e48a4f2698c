#include "controller/hook_runner.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>

#include "core/sigpipe.h"
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
  // A command hook's process, leader of its own process group (whose id is the same),
  // from its start until just before it is reaped: killing -pid is safe while it is set.
  pid_t pid = 0;
  bool killed = false;  // forgotten or shut down: a process that starts now is killed at once

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
      run->killed = true;
      if (run->pid > 0) ::kill(-run->pid, SIGKILL);  // the hook's whole process group
    }
  }
  {
    std::lock_guard lock(notify_run_mutex_);
    notify_killed_ = true;
    if (notify_pid_ > 0) ::kill(-notify_pid_, SIGKILL);  // a notification command running
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
      it->second->killed = true;
      if (it->second->pid > 0) ::kill(-it->second->pid, SIGKILL);  // its whole process group
      it = runs_.erase(it);
    } else {
      ++it;
    }
  }
}

namespace {

// An https:// hook's trust: its ca_file instead of the system's CAs, its client certificate.
http::TlsOptions tls_options(const deploy::HookSpec& hook) {
  http::TlsOptions tls;
  tls.ca_file = hook.ca_file;
  tls.client_cert = hook.client_cert;
  tls.client_key = hook.client_key;
  return tls;
}

}  // namespace

void HookRunner::notify(const deploy::HookSpec& hook, std::string payload) {
  {
    std::lock_guard lock(notify_mutex_);
    if (notifications_.size() >= kMaxQueuedNotifications) notifications_.pop_front();
    notifications_.emplace_back(hook, std::move(payload));
  }
  notify_cv_.notify_one();
}

namespace {

// Runs argv with `payload` on stdin and the hook's facts in the environment; returns the
// exit status, or an error (failed to start, timed out — then the process is killed).
struct CommandOutcome {
  int exit_status = -1;
  std::string output;  // the tail of stdout+stderr, for the event log
  std::string error;
};

void close_fd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// Whether `pid` has exited, without reaping it: until it is reaped its pid (the process
// group's id) cannot be reused, so killing the group stays safe.
bool has_exited(pid_t pid) {
  siginfo_t info{};
  return waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid;
}

CommandOutcome run_command(const HookCall& call, pid_t& pid_slot, const bool& killed,
                           std::mutex& slot_mutex) {
  CommandOutcome outcome;
  int in_pipe[2];
  int out_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) {
    outcome.error = "cannot create pipes";
    return outcome;
  }
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    close(in_pipe[0]);
    close(in_pipe[1]);
    outcome.error = "cannot create pipes";
    return outcome;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDERR_FILENO);
  // The hook leads a process group of its own, so a timeout or an abort kills everything
  // it started (`sh -c 'a & b'`), not just the shell. posix_spawn sets the group in the
  // child before exec and returns only after that, so no kill can come before it.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
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
  const int rc = posix_spawnp(&pid, argv[0], &actions, &attributes, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  close(in_pipe[0]);
  close(out_pipe[1]);
  int in_fd = in_pipe[1];
  int out_fd = out_pipe[0];
  if (rc != 0) {
    close_fd(in_fd);
    close_fd(out_fd);
    outcome.error = fmt::format("cannot run {}: {}", call.spec.command.front(), std::strerror(rc));
    return outcome;
  }
  // Also from this side, as after a fork (EACCES once the child has exec'd: it is set).
  setpgid(pid, pid);
  {
    std::lock_guard lock(slot_mutex);
    pid_slot = pid;
    if (killed) ::kill(-pid, SIGKILL);  // forget() came while it was starting
  }

  // One loop feeds the payload to stdin and reads the output, both non-blocking, so a
  // payload of any size arrives whole and a hook that never reads it cannot block us.
  core::SigpipeBlock sigpipe_block;
  fcntl(in_fd, F_SETFL, O_NONBLOCK);
  fcntl(out_fd, F_SETFL, O_NONBLOCK);
  std::string_view unwritten = call.payload;
  if (unwritten.empty()) close_fd(in_fd);
  // At most 64 KiB a turn: something the hook left running may write without end.
  auto drain_output = [&] {
    char buffer[4096];
    for (int turn = 0; turn < 16; ++turn) {
      const ssize_t n = read(out_fd, buffer, sizeof buffer);
      if (n == 0) close_fd(out_fd);  // every writer closed it
      if (n <= 0) return;
      outcome.output.append(buffer, static_cast<size_t>(n));
      if (outcome.output.size() > 8192) outcome.output.erase(0, outcome.output.size() - 4096);
    }
  };
  auto feed_input = [&] {
    while (in_fd >= 0 && !unwritten.empty()) {
      const ssize_t n = write(in_fd, unwritten.data(), unwritten.size());
      if (n > 0) {
        unwritten.remove_prefix(static_cast<size_t>(n));
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && errno == EAGAIN) {
        return;
      } else {
        close_fd(in_fd);  // EPIPE: the hook does not read its stdin, which is its right
      }
    }
    if (unwritten.empty()) close_fd(in_fd);
  };

  const auto deadline = std::chrono::steady_clock::now() + call.spec.timeout;
  while (true) {
    if (out_fd >= 0) drain_output();
    feed_input();
    if (has_exited(pid)) break;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      ::kill(-pid, SIGKILL);  // the whole group: the hook and whatever it started
      outcome.error = "timed out";
      break;
    }
    pollfd fds[2];
    nfds_t count = 0;
    if (out_fd >= 0) fds[count++] = pollfd{out_fd, POLLIN, 0};
    if (in_fd >= 0) fds[count++] = pollfd{in_fd, POLLOUT, 0};
    // The child's exit is noticed by polling: at most 20 ms late.
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    poll(fds, count, static_cast<int>(std::clamp<int64_t>(left.count() + 1, 1, 20)));
  }
  close_fd(in_fd);
  // Not reaped yet: forget() and the destructor may still kill the group until the slot is
  // cleared, and the pid cannot be reused before waitpid.
  {
    std::lock_guard lock(slot_mutex);
    pid_slot = 0;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (out_fd >= 0) drain_output();  // what it wrote just before exiting
  close_fd(out_fd);
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
    request.tls = tls_options(call.spec);
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
  const CommandOutcome outcome = run_command(call, run->pid, run->killed, run->mutex);
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
      request.tls = tls_options(hook);
      request.body = std::move(payload);
      request.timeout = std::min<std::chrono::milliseconds>(
          std::chrono::duration_cast<std::chrono::milliseconds>(hook.timeout),
          std::chrono::seconds(5));
      (void)http::send_request(request);  // notification only: its outcome changes nothing
    } else if (!hook.command.empty()) {
      // The same way as a blocking command hook (its own process group, the whole payload
      // on stdin, killed at its timeout or when the runner goes), one at a time.
      HookCall call;
      call.kind = deploy::HookKind::on_event;
      call.spec = std::move(hook);
      call.payload = std::move(payload);
      call.environment = {{"GLIDEPATH_HOOK", "on_event"}};
      (void)run_command(call, notify_pid_, notify_killed_, notify_run_mutex_);
    }
    lock.lock();
  }
}

}  // namespace glidepath::controller
