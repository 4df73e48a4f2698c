#include "core/sigpipe.h"

#include <pthread.h>
#include <time.h>

namespace glidepath::core {
namespace {

sigset_t pipe_only() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  return set;
}

}  // namespace

SigpipeBlock::SigpipeBlock() {
  const sigset_t set = pipe_only();
  pthread_sigmask(SIG_BLOCK, &set, &previous_);
}

SigpipeBlock::~SigpipeBlock() {
  if (sigismember(&previous_, SIGPIPE) == 0) {
    sigset_t pending;
    sigemptyset(&pending);
    if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
      const sigset_t set = pipe_only();
      const timespec now{0, 0};
      while (sigtimedwait(&set, nullptr, &now) == SIGPIPE) {
      }
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

}  // namespace glidepath::core
