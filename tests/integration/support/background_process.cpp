#include "support/background_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace glidepath::testing {

namespace {

constexpr auto kReapPoll = std::chrono::milliseconds(2);

int status_to_exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv,
                                     const std::vector<std::string>& extra_env) {
  if (argv.empty()) throw std::invalid_argument("BackgroundProcess: empty argv");
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    throw std::runtime_error("pipe failed");
  }
  if (pipe2(wake_fds_, O_CLOEXEC) != 0) {
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]})
      close(fd);
    throw std::runtime_error("pipe failed");
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // Its own process group, so kill() reaches anything it starts; default signal handling
  // and an empty mask whatever the test runner set.
  sigset_t no_signals;
  sigset_t all_signals;
  sigemptyset(&no_signals);
  sigfillset(&all_signals);
  posix_spawnattr_setsigmask(&attributes, &no_signals);
  posix_spawnattr_setsigdefault(&attributes, &all_signals);
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e)
    env_storage.emplace_back(*e);
  for (const auto& e : extra_env)
    env_storage.push_back(e);
  std::vector<char*> env;
  for (auto& e : env_storage)
    env.push_back(e.data());
  env.push_back(nullptr);

  const int rc = posix_spawn(&pid_, args[0], &actions, &attributes, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  close(out_pipe[1]);
  close(err_pipe[1]);
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
  if (rc != 0) {
    for (int fd : {out_fd_, err_fd_, wake_fds_[0], wake_fds_[1]})
      close(fd);
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  reader_ = std::thread([this] { read_output(); });
}

BackgroundProcess::~BackgroundProcess() {
  if (!exit_status_) kill(SIGKILL);
  // The process is gone, but a child it left behind could still hold the pipes open.
  const char wake = 'x';
  [[maybe_unused]] const ssize_t n = write(wake_fds_[1], &wake, 1);
  if (reader_.joinable()) reader_.join();
  for (int fd : {out_fd_, err_fd_, wake_fds_[0], wake_fds_[1]})
    close(fd);
}

void BackgroundProcess::read_output() {
  pollfd fds[3] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}, {wake_fds_[0], POLLIN, 0}};
  Captured* sinks[2] = {&out_, &err_};
  char buffer[4096];
  int open_streams = 2;
  while (open_streams > 0) {
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[2].revents != 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      std::lock_guard lock(mutex_);
      if (n > 0) {
        append(*sinks[i], buffer, static_cast<size_t>(n));
      } else {
        sinks[i]->closed = true;
        fds[i].fd = -1;  // poll ignores negative descriptors; closed in the destructor
        --open_streams;
      }
      changed_.notify_all();
    }
  }
  std::lock_guard lock(mutex_);
  out_.closed = true;
  err_.closed = true;
  changed_.notify_all();
}

void BackgroundProcess::append(Captured& captured, const char* data, size_t n) {
  captured.text.append(data, n);
  size_t newline;
  while ((newline = captured.text.find('\n', captured.partial_from)) != std::string::npos) {
    captured.lines.push_back(
        captured.text.substr(captured.partial_from, newline - captured.partial_from));
    captured.partial_from = newline + 1;
  }
}

std::optional<std::vector<std::string>> BackgroundProcess::wait_for_line(
    const std::string& pattern, std::chrono::milliseconds timeout, OutputStream stream) {
  const std::regex re(pattern);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  Captured& captured = stream == OutputStream::out ? out_ : err_;
  size_t scanned = captured.next_line;
  while (true) {
    for (; scanned < captured.lines.size(); ++scanned) {
      std::smatch match;
      if (!std::regex_search(captured.lines[scanned], match, re)) continue;
      captured.next_line = scanned + 1;
      std::vector<std::string> groups;
      for (const auto& group : match)
        groups.push_back(group.str());
      return groups;
    }
    if (captured.closed) return std::nullopt;
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout &&
        scanned == captured.lines.size()) {
      return std::nullopt;
    }
  }
}

std::string BackgroundProcess::out() const {
  std::lock_guard lock(mutex_);
  return out_.text;
}

std::string BackgroundProcess::err() const {
  std::lock_guard lock(mutex_);
  return err_.text;
}

std::optional<int> BackgroundProcess::reap(bool block) {
  if (exit_status_) return exit_status_;
  int status = 0;
  pid_t done;
  do {
    done = waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (done < 0 && errno == EINTR);
  if (done == pid_) exit_status_ = status_to_exit_code(status);
  return exit_status_;
}

std::optional<int> BackgroundProcess::exit_code() {
  return reap(false);
}

std::optional<int> BackgroundProcess::wait_for_exit(std::chrono::milliseconds timeout) {
  // Polls waitpid: a child's exit has no descriptor to wait on without pidfd, and this
  // is test code; the poll interval bounds the added delay.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reap(false)) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kReapPoll);
  }
  return exit_status_;
}

int BackgroundProcess::terminate(std::chrono::milliseconds grace) {
  if (exit_status_) return *exit_status_;
  ::kill(pid_, SIGTERM);
  if (auto code = wait_for_exit(grace)) return *code;
  return kill(SIGKILL);
}

void BackgroundProcess::send_signal(int signal_number) {
  if (!exit_status_) ::kill(pid_, signal_number);
}

int BackgroundProcess::kill(int signal_number) {
  if (exit_status_) return *exit_status_;
  ::kill(-pid_, signal_number);
  if (signal_number == SIGKILL) return *reap(true);
  return wait_for_exit(std::chrono::seconds(5)).value_or(-1);
}

}  // namespace glidepath::testing
