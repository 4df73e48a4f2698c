#include "store/postgres/leader_lock.h"

#include "store/postgres/pg_connection.h"

namespace glidepath::store {

namespace {

// The lock's key: pg_try_advisory_lock(int, int) with these two values ("glid", 1). The
// two-key form shows in pg_locks as classid/objid with objsubid = 2.
constexpr int64_t kLockClass = 0x676c6964;
constexpr int64_t kLockObject = 1;
constexpr std::string_view kNamePrefix = "glidepath leader ";

}  // namespace

class LeaderLock::Impl {
 public:
  Impl(std::string url, std::string description, std::chrono::milliseconds timeout)
      : description_(std::move(description)) {
    postgres::ConnectionOptions options;
    options.url = std::move(url);
    options.connect_timeout = std::chrono::seconds(2);
    options.reconnect_timeout = timeout;
    options.first_backoff = std::chrono::milliseconds(50);
    options.max_backoff = std::chrono::milliseconds(500);
    connection_ = std::make_unique<postgres::Connection>(std::move(options));
    if (description_.size() > 50) description_.resize(50);
  }

  bool try_take() {
    if (!connection_->ensure_connected()) return false;
    // application_name is how the others learn who leads (63 bytes at most).
    postgres::Params name;
    name.add(std::string(kNamePrefix) + description_);
    if (!connection_->exec("SELECT set_config('application_name', $1, false)", name)) {
      connection_->disconnect();
      return false;
    }
    postgres::Params key;
    key.add(kLockClass).add(kLockObject);
    auto taken = connection_->exec("SELECT pg_try_advisory_lock($1::int, $2::int)", key);
    if (!taken) {
      connection_->disconnect();
      return false;
    }
    return taken->text(0, 0) == "t";
  }

  bool still_held() {
    // The lock lives as long as the session: a session that answers still holds it.
    auto alive = connection_->exec("SELECT 1");
    if (!alive) {
      connection_->disconnect();
      return false;
    }
    return true;
  }

  void release() {
    postgres::Params key;
    key.add(kLockClass).add(kLockObject);
    (void)connection_->exec("SELECT pg_advisory_unlock($1::int, $2::int)", key);
  }

  std::string current_leader() {
    if (!connection_->ensure_connected()) return {};
    postgres::Params key;
    key.add(kLockClass).add(kLockObject);
    auto rows = connection_->exec(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.classid = $1::oid AND l.objid = $2::oid "
        "AND l.objsubid = 2 AND l.granted",
        key);
    if (!rows || rows->empty()) return {};
    std::string name = rows->text(0, 0);
    if (name.starts_with(kNamePrefix)) name.erase(0, kNamePrefix.size());
    return name;
  }

 private:
  std::string description_;
  std::unique_ptr<postgres::Connection> connection_;
};

LeaderLock::LeaderLock(std::string url, std::string description,
                       std::chrono::milliseconds connect_timeout)
    : impl_(std::make_unique<Impl>(std::move(url), std::move(description), connect_timeout)) {}

LeaderLock::~LeaderLock() = default;

bool LeaderLock::poll() {
  leading_ = leading_ ? impl_->still_held() : impl_->try_take();
  return leading_;
}

void LeaderLock::release() {
  if (leading_) impl_->release();
  leading_ = false;
}

std::string LeaderLock::current_leader() {
  return impl_->current_leader();
}

}  // namespace glidepath::store
