// The shared Store for a fleet (SPEC section 9: `store: postgres://...`), and the
// LISTEN/NOTIFY building block the fleet uses to hear about changes.
//
// Concurrency: one connection per PostgresStore, serialized by a mutex held for each whole
// call, as in the SQLite store: the store is off the request hot path. Several stores (and
// processes) share a database through its locks: the `counters` row serializes event
// writers, the one-active-deployment index settles racing creates, revisions settle
// racing saves, and migrations run under an advisory lock.
//
// Connection loss: each call reconnects with backoff when the connection is broken
// (bounded by PostgresOptions::reconnect_timeout, so a call made while the server is down
// fails in bounded time) and runs again once when the server certainly rolled the failed
// attempt back. A connection lost while COMMIT was in flight is reported, not retried.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/store.h"

namespace glidepath::store {

struct PostgresOptions {
  // One connection attempt's limit (libpq counts whole seconds, at least 2).
  std::chrono::seconds connect_timeout{5};
  // How long one call keeps reconnecting, in total, before it fails.
  std::chrono::milliseconds reconnect_timeout{5000};
  std::chrono::milliseconds first_backoff{50};  // between attempts, doubling...
  std::chrono::milliseconds max_backoff{2000};  // ...up to this
  // When set, every write also calls pg_notify(change_channel, payload) inside its
  // transaction, so listeners hear of it exactly when it commits. Payloads:
  // "service NAME", "deployment ID", "event ID" (the last id appended), "api_key ID".
  std::string change_channel;
};

// A Store on PostgreSQL with what only PostgreSQL offers.
class PostgresStore : public Store {
 public:
  // Sends a notification on `channel` (pg_notify, delivered when it commits). The payload
  // must be shorter than 8000 bytes.
  virtual core::Result<void> notify(std::string_view channel, std::string_view payload) = 0;
};

// Connects to `url` (postgres://user@host:port/db or postgresql://..., or a libpq
// key=value string), and applies any migrations (store/migrations.h) the database lacks,
// under an advisory lock so processes starting together do not race. Fails with a message
// naming the server when it cannot be reached within reconnect_timeout or the database
// was migrated by a newer build.
core::Result<std::unique_ptr<PostgresStore>> open_postgres(const std::string& url,
                                                           const PostgresOptions& options = {});
core::Result<std::unique_ptr<Store>> open_postgres_store(const std::string& url,
                                                         const PostgresOptions& options = {});

// What a PgListener hands its callback: a notification, or (reconnected == true, channel
// and payload empty) word that the connection was lost and is back, so notifications
// may have been missed and the caller should re-read what it follows.
struct PgNotification {
  std::string channel;
  std::string payload;
  bool reconnected = false;
};

// LISTENs on channels on its own connection and calls back from its own thread, in the
// order notifications arrive. After connection loss it reconnects with backoff (never
// giving up until stopped), LISTENs again and then delivers one `reconnected`
// notification. The callback must not destroy the listener; it runs on the listener's
// thread, so it should hand work off rather than block.
class PgListener {
 public:
  using Callback = std::function<void(const PgNotification&)>;

  // Connects and LISTENs before returning, so a notification committed after start()
  // returns is delivered. Channel names: 1 to 63 characters of [A-Za-z0-9_.-].
  static core::Result<std::unique_ptr<PgListener>> start(const std::string& url,
                                                         std::vector<std::string> channels,
                                                         Callback callback,
                                                         const PostgresOptions& options = {});
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;
  // Stops the thread and closes the connection.
  ~PgListener();

  // The server process id of the current connection (0 while reconnecting): what
  // pg_terminate_backend needs, for tests.
  int backend_pid() const;

  class Impl;

 private:
  explicit PgListener(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace glidepath::store
