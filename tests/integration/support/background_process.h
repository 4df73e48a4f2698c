// A long-running program under test (the gateway, a sample backend): started in its own
// process group with stdout and stderr captured line by line by a reader thread, so a test
// can wait for the line that says it is ready (and learn the port it printed) instead of
// sleeping. Every wait is bounded; the destructor kills whatever is left.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace glidepath::testing {

enum class OutputStream { out, err };

class BackgroundProcess {
 public:
  // Starts argv[0] (a path, not searched in PATH) with the current environment plus
  // `extra_env` ("NAME=value"); stdin is /dev/null. Throws std::runtime_error when the
  // program cannot be started.
  explicit BackgroundProcess(const std::vector<std::string>& argv,
                             const std::vector<std::string>& extra_env = {});
  ~BackgroundProcess();  // SIGKILL to the process group if still running, then reaped
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const { return pid_; }

  // Waits for a line of the stream (without its newline) that `pattern` matches
  // (std::regex_search). Lines are consumed in order: each call looks only at lines after
  // the one the previous successful call returned. Returns the match, [0] whole and [1..]
  // the groups, or nullopt on timeout or when the stream ended without a match.
  std::optional<std::vector<std::string>> wait_for_line(
      const std::string& pattern, std::chrono::milliseconds timeout = std::chrono::seconds(10),
      OutputStream stream = OutputStream::out);

  // Everything captured so far.
  std::string out() const;
  std::string err() const;

  // The exit status once the process has ended: its exit code, or 128 + the signal that
  // killed it (as a shell reports it); nullopt while it runs. Never blocks.
  std::optional<int> exit_code();
  // Waits up to `timeout` for the process to end.
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);
  // SIGTERM to the process; after `grace` without an exit, SIGKILL to its group. Returns
  // the exit status (see exit_code()).
  int terminate(std::chrono::milliseconds grace = std::chrono::seconds(5));
  // Sends `signal_number` to the whole process group and waits for the process to end
  // (SIGKILL: until reaped; other signals: up to 5 s). Returns its exit status, -1 if it
  // still runs.
  int kill(int signal_number = SIGKILL);
  // Sends `signal_number` to the process only, and does not wait.
  void send_signal(int signal_number);

 private:
  struct Captured {
    std::string text;
    std::vector<std::string> lines;  // complete lines
    size_t partial_from = 0;         // where the unfinished last line starts in text
    size_t next_line = 0;            // wait_for_line's cursor
    bool closed = false;
  };

  void read_output();
  void append(Captured& captured, const char* data, size_t n);
  std::optional<int> reap(bool block);

  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  int out_fd_ = -1;
  int err_fd_ = -1;
  int wake_fds_[2] = {-1, -1};  // the destructor stops the reader through this pipe

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  Captured out_;
  Captured err_;
  std::thread reader_;
};

}  // namespace glidepath::testing
