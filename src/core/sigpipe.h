// SIGPIPE blocked for the calling thread only, for as long as the object lives: a write to
// a peer that went away (a hook that never read its stdin, a server that closed early)
// then fails with EPIPE instead of killing the process. The process's own disposition is
// left alone, and a SIGPIPE raised meanwhile is consumed before the mask is restored.
#pragma once

#include <signal.h>

namespace glidepath::core {

class SigpipeBlock {
 public:
  SigpipeBlock();
  ~SigpipeBlock();
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t previous_{};
};

}  // namespace glidepath::core
