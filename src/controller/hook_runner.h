// Runs the owner's hooks (SPEC section 2, `hooks`) off every event loop: each blocking
// hook on a thread of its own, on_event notifications on one background thread with a
// bounded queue. The controller asks what it knows (observe) and reconcile decides;
// the runner never changes a deployment itself.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/result.h"
#include "deploy/hooks.h"
#include "deploy/reconcile.h"

namespace glidepath::controller {

struct HookCall {
  std::string deployment_id;
  deploy::HookKind kind = deploy::HookKind::pre_traffic;
  deploy::HookSpec spec;
  // The JSON payload: deployment id, service, versions, hook name, the preview header.
  std::string payload;
  // The same facts as environment variables for command hooks: GLIDEPATH_DEPLOYMENT_ID...
  std::vector<std::pair<std::string, std::string>> environment;
};

class HookRunner {
 public:
  HookRunner();
  // Kills command hooks still running, each with its whole process group. A blocking hook
  // runs on a detached thread that owns its own record, so shutting down never waits for
  // a slow hook endpoint.
  ~HookRunner();
  HookRunner(const HookRunner&) = delete;
  HookRunner& operator=(const HookRunner&) = delete;

  // Starts a blocking hook. An http hook succeeds on 2xx except 202, which means
  // "running": the result then comes through report(). A command hook succeeds on exit
  // status 0; it leads a process group of its own and gets the whole payload on stdin
  // (reading it is optional). Either is stopped at its timeout: a command hook's process
  // group is killed, so whatever it started in the background goes too.
  void start(HookCall call);
  // What the runner knows of (deployment, hook): nullopt if it never started it (for
  // example, in a process started after the hook was).
  std::optional<deploy::HookObservation> observe(const std::string& deployment_id,
                                                 deploy::HookKind kind) const;
  // The result of an asynchronous (202) http hook: POST /v1/deployments/{id}/hooks/{hook}.
  core::Result<void> report(const std::string& deployment_id, deploy::HookKind kind, bool succeeded,
                            std::string message);
  // Fire and forget (on_event): never blocks the caller; the oldest notifications are
  // dropped when more than 1000 wait. An http hook gets the payload POSTed; a command
  // hook runs like a blocking one (payload on stdin, GLIDEPATH_HOOK=on_event), one
  // notification at a time, its outcome ignored.
  void notify(const deploy::HookSpec& hook, std::string payload);
  // The deployment finished (or was aborted): its hook records go, and its command hooks
  // still running are killed with their process groups.
  void forget(const std::string& deployment_id);

 private:
  struct Run;
  using Key = std::pair<std::string, deploy::HookKind>;
  static void run(const std::shared_ptr<Run>& run);
  void notifier();

  mutable std::mutex mutex_;
  std::map<Key, std::shared_ptr<Run>> runs_;

  std::mutex notify_mutex_;
  std::condition_variable notify_cv_;
  std::deque<std::pair<deploy::HookSpec, std::string>> notifications_;
  bool stopping_ = false;
  // The on_event command running now, if any, so the destructor can kill its group.
  std::mutex notify_run_mutex_;
  pid_t notify_pid_ = 0;
  bool notify_killed_ = false;
  std::thread notify_thread_;
};

}  // namespace glidepath::controller
