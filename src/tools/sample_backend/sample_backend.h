// The sample backend (`glidepath sample-backend`, SPEC section 1): a small, fast HTTP/1.1
// server that the demo, the integration tests and the proxy benchmark put behind the
// gateway. It reports its version name, can be told to fail or slow down at run time
// (/_control), and has test hooks under /_test/ (see routes.h and docs in sample_backend.cpp).
//
// This header stays free of Asio and Beast so the CLI does not compile them.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"

namespace glidepath::sample_backend {

struct SampleBackendOptions {
  std::string name;  // the version name it reports
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;                // 0: the kernel picks a free port
  double error_rate = 0.0;               // 0..1: that fraction of ordinary requests gets 500
  std::chrono::milliseconds latency{0};  // added to each ordinary request, on a timer
  int workers = 1;                       // threads, each with its own event loop; 0 = one per core
};

inline constexpr int kMaxWorkers = 256;

// Every problem with the options, joined in one message; checked again by start().
core::Result<void> validate(const SampleBackendOptions& options);

class SampleBackend {
 public:
  // Validates, binds and starts the worker threads: on success the port is bound and
  // connections are accepted. Threads inherit the caller's signal mask.
  static core::Result<std::unique_ptr<SampleBackend>> start(const SampleBackendOptions& options);

  ~SampleBackend();  // stop()
  SampleBackend(const SampleBackend&) = delete;
  SampleBackend& operator=(const SampleBackend&) = delete;

  std::uint16_t port() const;  // the bound port (the chosen one when options.port was 0)
  const std::string& address() const;

  // Closes the listeners and every connection and joins the threads. Requests in flight
  // are dropped. Idempotent; call from any thread except a worker.
  void stop();

  struct Impl;

 private:
  explicit SampleBackend(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace glidepath::sample_backend
