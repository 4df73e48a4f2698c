// `glidepath demo` (SPEC section 8): the whole product in under a minute, with nothing
// but the binary. Sample backends, the gateway and admin API, a steady load from a few
// consumers, a healthy canary that succeeds, then a faulty version that trips the alarm
// and is rolled back, measured from the load generator's side.
#pragma once

namespace glidepath::demo {

struct DemoOptions {
  bool keep = false;  // leave everything running until Ctrl-C
  bool color = false;
};

// Returns the process exit code: 0 when both deployments ended as they should.
int run_demo(const DemoOptions& options);

}  // namespace glidepath::demo
