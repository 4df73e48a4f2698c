// The embedded Store (SPEC section 2: `store: sqlite:glidepath.db`), for a single machine.
//
// Concurrency: one connection per SqliteStore, serialized by a mutex held for each whole
// call. The store is off the request hot path (the gateway reads snapshots, usage is
// written in batches), so a single connection is simpler than a pool and keeps every
// transaction on one thread. Several SqliteStores (or processes) may open the same file:
// WAL lets readers proceed beside a writer, writers take the lock up front
// (BEGIN IMMEDIATE) and wait up to busy_timeout for each other.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/result.h"
#include "store/store.h"

namespace glidepath::store {

struct SqliteOptions {
  // How long a writer waits for another connection's write transaction to finish.
  std::chrono::milliseconds busy_timeout{5000};
};

// Opens (creating when missing) the database file at `path`, or ":memory:" for a private
// in-memory database, sets WAL mode, synchronous=NORMAL, foreign keys and busy_timeout,
// and applies any migrations (store/migrations.h) the database lacks. Fails with a
// message naming the path when the directory does not exist, the file is not a SQLite
// database, or the database was migrated by a newer build.
core::Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path,
                                                       const SqliteOptions& options = {});

}  // namespace glidepath::store
