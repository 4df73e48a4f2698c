// Keeps one TLS listener's ServerContext in step with its certificate and key files.
//
// check() compares each file's identity and modification time (device, inode, size,
// mtime; symbolic links followed, so a Kubernetes-style `..data` swap counts) with what it
// saw last, and builds a new ServerContext when any changed, or always when forced (on
// SIGHUP). A pair that does not load is refused: the old context stays in force, the
// status says why, and the next change or SIGHUP tries again. The caller (serve) runs
// check() once a second on its own thread, hands a new context to the listener, and logs
// and records an event for each outcome.
//
// Files are best replaced by renaming a complete new file into place. A writer that
// rewrites the certificate and then the key in place may be seen between the two: that
// pair is refused (the key does not match) and the next check picks up the complete one.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"
#include "tls/server_context.h"
#include "tls/ticket_keys.h"

namespace glidepath::tls {

struct FileStamp {
  bool exists = false;
  uint64_t device = 0;
  uint64_t inode = 0;
  int64_t size = 0;
  int64_t mtime_ns = 0;
  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};
FileStamp stamp_of(const std::string& path);

class Reloader {
 public:
  // `name` says which listener in messages: "gateway", "gateway.listeners[1]", "admin".
  Reloader(std::string name, config::TlsConfig config);

  // The first load; serve refuses to start when it fails.
  core::Result<std::shared_ptr<const ServerContext>> load(core::TimePoint now);

  struct Outcome {
    enum class Kind { unchanged, reloaded, refused } kind = Kind::unchanged;
    std::string message;  // for reloaded and refused: what a log line and an event say
    std::shared_ptr<const ServerContext> context;  // reloaded: the new one
  };
  Outcome check(bool force, core::TimePoint now);

  struct Status {
    std::string name;
    bool ok = true;     // the files on disk are the ones in force
    std::string error;  // the last refusal, while !ok
    core::TimePoint loaded_at{};
    core::TimePoint refused_at{};
    uint64_t reloads = 0;                       // successful reloads after the first load
    uint64_t refusals = 0;                      // pairs refused
    std::vector<CertificateInfo> certificates;  // of the context in force
  };
  Status status() const;
  const std::string& name() const { return name_; }
  const std::shared_ptr<TicketKeys>& ticket_keys() const { return keys_; }

 private:
  std::vector<FileStamp> stamps() const;

  const std::string name_;
  const config::TlsConfig config_;
  const std::shared_ptr<TicketKeys> keys_;  // one set for the listener's life
  mutable std::mutex mutex_;
  std::vector<FileStamp> seen_;
  std::shared_ptr<const ServerContext> current_;
  Status status_;
};

}  // namespace glidepath::tls
