// `glidepath sample-backend --port P --name V [--error-rate R] [--latency-ms L] [--workers N]`
// (SPEC section 1): a tiny HTTP backend for demos and tests. It prints one line,
// `sample-backend V listening on ADDRESS:PORT`, so a caller that asked for port 0 learns the
// port, then serves until SIGTERM or SIGINT and exits 0.
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/commands.h"
#include "tools/sample_backend/routes.h"
#include "tools/sample_backend/sample_backend.h"

namespace glidepath::cli {

namespace {

struct SampleBackendCliOptions {
  int port = 0;
  std::string name;
  double error_rate = 0.0;
  std::int64_t latency_ms = 0;
  int workers = 1;
  std::string bind = "127.0.0.1";
};

int run_sample_backend(const SampleBackendCliOptions& cli) {
  sample_backend::SampleBackendOptions options;
  options.name = cli.name;
  options.bind_address = cli.bind;
  options.port = static_cast<std::uint16_t>(cli.port);
  options.error_rate = cli.error_rate;
  options.latency = std::chrono::milliseconds(cli.latency_ms);
  options.workers = cli.workers;
  if (auto valid = sample_backend::validate(options); !valid) {
    fmt::print(stderr, "error: {}\n", valid.error().message);
    return kUsage;
  }

  // Block the stop signals before the worker threads exist, so they inherit the mask and
  // only this thread, in sigwait(), ever sees SIGTERM or SIGINT.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &stop_signals, &previous);

  auto server = sample_backend::SampleBackend::start(options);
  if (!server) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    fmt::print(stderr, "error: {}\n", server.error().message);
    return kFailed;
  }
  const std::string& address = (*server)->address();
  const bool ipv6 = address.find(':') != std::string::npos;
  fmt::print("sample-backend {} listening on {}{}{}:{}\n", options.name, ipv6 ? "[" : "", address,
             ipv6 ? "]" : "", (*server)->port());
  std::fflush(stdout);

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) != 0) {
  }
  (*server)->stop();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return kOk;
}

}  // namespace

void add_sample_backend_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<SampleBackendCliOptions>();
  CLI::App* cmd =
      app.add_subcommand("sample-backend", "Run a tiny HTTP backend for demos and tests");
  cmd->add_option("--port", options->port, "TCP port to listen on; 0 picks a free one")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--name", options->name, "The version name it reports (X-Backend-Version)")
      ->required();
  cmd->add_option("--error-rate", options->error_rate,
                  "Fraction of requests answered 500, from 0 to 1")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--latency-ms", options->latency_ms, "Milliseconds added to every request")
      ->check(CLI::Range(std::int64_t{0}, static_cast<std::int64_t>(sample_backend::kMaxLatencyMs)))
      ->capture_default_str();
  cmd->add_option("--workers", options->workers, "Threads serving requests; 0 = one per core")
      ->check(CLI::Range(0, sample_backend::kMaxWorkers))
      ->capture_default_str();
  cmd->add_option("--bind", options->bind, "Address to listen on")->capture_default_str();
  cmd->callback([options, &exit_code] { exit_code = run_sample_backend(*options); });
}

}  // namespace glidepath::cli
