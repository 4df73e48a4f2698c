// Runs the real glidepath binary (or any program) from an integration test: argv in,
// exit code and output back; bounded by a timeout so a hang fails the test instead of CI.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace glidepath::testing {

struct ProcessResult {
  int exit_code = -1;  // -1 when it was killed by a signal or the timeout
  bool timed_out = false;
  std::string out;  // standard output
  std::string err;  // standard error
};

ProcessResult run_process(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds(30),
                          const std::vector<std::string>& extra_env = {});

// The glidepath binary under test (from the GLIDEPATH_BINARY environment variable that
// CTest sets) and the source tree (GLIDEPATH_SOURCE_DIR).
std::string glidepath_binary();
std::string source_dir();

}  // namespace glidepath::testing
