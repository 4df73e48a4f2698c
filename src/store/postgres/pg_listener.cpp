// PgListener (postgres_store.h): one connection, one thread, LISTEN on each channel.
#include <fcntl.h>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>

#include "store/postgres/pg_connection.h"
#include "store/postgres/postgres_store.h"

namespace glidepath::store {

using postgres::Connection;
using postgres::ConnectionOptions;

namespace {

using Clock = std::chrono::steady_clock;

bool is_channel_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

}  // namespace

class PgListener::Impl {
 public:
  Impl(ConnectionOptions options, std::vector<std::string> channels, Callback callback,
       std::chrono::milliseconds first_backoff, std::chrono::milliseconds max_backoff,
       int wake_read, int wake_write)
      : connection_(std::move(options)),
        channels_(std::move(channels)),
        callback_(std::move(callback)),
        first_backoff_(first_backoff),
        max_backoff_(max_backoff),
        wake_read_(wake_read),
        wake_write_(wake_write) {}

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  ~Impl() {
    stopping_ = true;
    const char byte = 0;
    // The thread polls the pipe; a failed write can only mean it is full, which wakes it
    // just as well.
    (void)::write(wake_write_, &byte, 1);
    if (thread_.joinable()) thread_.join();
    ::close(wake_read_);
    ::close(wake_write_);
  }

  // One attempt: connect (if needed) and LISTEN on every channel.
  core::Result<void> connect_and_listen() {
    backend_pid_ = 0;
    auto connected = connection_.ensure_connected();
    if (!connected) return connected;
    for (const std::string& channel : channels_) {
      auto quoted = connection_.quote_identifier(channel);
      if (!quoted) return core::Failure{quoted.error()};
      // The one statement built from text: LISTEN takes an identifier, not a value, and
      // the name was checked against a strict alphabet and quoted by libpq.
      auto listened = connection_.exec("LISTEN " + *quoted);
      if (!listened) {
        connection_.disconnect();
        return core::fail(fmt::format("LISTEN {} failed: {}", channel, listened.error().message));
      }
    }
    backend_pid_ = PQbackendPID(connection_.handle());
    return {};
  }

  void start_thread() {
    thread_ = std::thread([this] { run(); });
  }

  int backend_pid() const { return backend_pid_; }

  // Waits up to `timeout` for the wake pipe; true when asked to stop.
  bool wait_or_stop(std::chrono::milliseconds timeout) {
    pollfd wake{wake_read_, POLLIN, 0};
    (void)::poll(&wake, 1, static_cast<int>(timeout.count()));
    return stopping_;
  }

 private:
  void deliver(const PgNotification& notification) {
    try {
      callback_(notification);
    } catch (...) {
      // The callback's failure is its own; the listener keeps listening.
    }
  }

  void drain_notifications() {
    while (PGnotify* notify = PQnotifies(connection_.handle())) {
      PgNotification notification{notify->relname != nullptr ? notify->relname : "",
                                  notify->extra != nullptr ? notify->extra : "", false};
      PQfreemem(notify);
      deliver(notification);
    }
  }

  void reconnect() {
    auto backoff = std::max(first_backoff_, std::chrono::milliseconds(1));
    while (!stopping_) {
      if (connect_and_listen()) {
        deliver(PgNotification{"", "", true});
        return;
      }
      if (wait_or_stop(backoff)) return;
      backoff = std::min(backoff * 2, max_backoff_);
    }
  }

  void run() {
    while (!stopping_) {
      if (!connection_.healthy()) {
        reconnect();
        continue;
      }
      drain_notifications();
      pollfd fds[2] = {{PQsocket(connection_.handle()), POLLIN, 0}, {wake_read_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) continue;  // EINTR
      if (stopping_) break;
      if ((fds[0].revents & (POLLIN | POLLERR | POLLHUP)) == 0) continue;
      if (PQconsumeInput(connection_.handle()) == 0 ||
          PQstatus(connection_.handle()) != CONNECTION_OK) {
        // Whatever arrived before the connection broke is still delivered.
        drain_notifications();
        connection_.disconnect();
        backend_pid_ = 0;
      }
    }
  }

  Connection connection_;
  std::vector<std::string> channels_;
  Callback callback_;
  std::chrono::milliseconds first_backoff_;
  std::chrono::milliseconds max_backoff_;
  int wake_read_;
  int wake_write_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> backend_pid_{0};
  std::thread thread_;

  friend class PgListener;
};

PgListener::PgListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PgListener::~PgListener() = default;

int PgListener::backend_pid() const {
  return impl_->backend_pid();
}

core::Result<std::unique_ptr<PgListener>> PgListener::start(const std::string& url,
                                                            std::vector<std::string> channels,
                                                            Callback callback,
                                                            const PostgresOptions& options) {
  const std::string context =
      fmt::format("listening on PostgreSQL {}", postgres::describe_server(url));
  try {
    if (channels.empty()) return core::fail(fmt::format("store: {}: no channel given", context));
    for (const std::string& channel : channels) {
      if (!is_channel_name(channel)) {
        return core::fail(
            fmt::format("store: {}: channel name '{}' is not 1 to 63 characters of [A-Za-z0-9_.-]",
                        context, channel));
      }
    }
    if (!callback) return core::fail(fmt::format("store: {}: no callback given", context));
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
      return core::fail(fmt::format("store: {}: cannot create a pipe", context));
    }
    // Single attempts: the waits between them are the listener's own, so that stopping
    // interrupts them.
    ConnectionOptions connection_options;
    connection_options.url = url;
    connection_options.connect_timeout = options.connect_timeout;
    connection_options.reconnect_timeout = std::chrono::milliseconds(0);
    auto impl = std::make_unique<Impl>(std::move(connection_options), std::move(channels),
                                       std::move(callback), options.first_backoff,
                                       options.max_backoff, pipe_fds[0], pipe_fds[1]);
    const auto deadline = Clock::now() + options.reconnect_timeout;
    auto backoff = std::max(options.first_backoff, std::chrono::milliseconds(1));
    while (true) {
      auto listening = impl->connect_and_listen();
      if (listening) break;
      const auto now = Clock::now();
      if (now >= deadline)
        return core::fail(fmt::format("store: {}: {}", context, listening.error().message));
      impl->wait_or_stop(
          std::min(backoff, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now)));
      backoff = std::min(backoff * 2, options.max_backoff);
    }
    impl->start_thread();
    return std::unique_ptr<PgListener>(new PgListener(std::move(impl)));
  } catch (const std::exception& e) {
    return core::fail(fmt::format("store: {}: {}", context, e.what()));
  }
}

}  // namespace glidepath::store
