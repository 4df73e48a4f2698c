// Leader election for a fleet's controllers (SPEC section 9): the leader is the process
// whose connection holds one session-level PostgreSQL advisory lock. Exactly one session
// can hold it; when the leader dies its session ends and the server releases the lock, so
// the next standby that asks takes over.
//
// Fencing: a leader that loses its connection has lost the lock with it (the server ends
// the session), and finds out on its next poll(), at which point it must stop driving
// deployments. Between the loss and that poll a standby may already lead; the store's
// revision check (save_deployment) refuses the old leader's writes in that window, so two
// leaders never both move one deployment.
//
// The holder names itself in its session's application_name, so the others can say who
// leads (an admin API that is not the leader points callers at the one that is).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/result.h"

namespace glidepath::store {

class LeaderLock {
 public:
  // `description`: how others see this process (its admin API's URL); at most 50
  // characters are kept. Does not connect: poll() does.
  LeaderLock(std::string url, std::string description,
             std::chrono::milliseconds connect_timeout = std::chrono::milliseconds(2000));
  ~LeaderLock();
  LeaderLock(const LeaderLock&) = delete;
  LeaderLock& operator=(const LeaderLock&) = delete;

  // One round trip: while not leading, tries to take the lock; while leading, checks the
  // session (and so the lock) is still there. Returns whether this process leads now.
  // Never throws; a database that cannot be reached means not leading.
  bool poll();
  bool leading() const { return leading_; }
  // Gives the lock up (a graceful stop, so a standby takes over at once).
  void release();

  // The description of the process that leads, as the database sees it now; empty when
  // none does or the database cannot be asked.
  std::string current_leader();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
  bool leading_ = false;
};

}  // namespace glidepath::store
