#include "tls/reloader.h"

#include <fmt/format.h>
#include <sys/stat.h>

namespace glidepath::tls {

FileStamp stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return FileStamp{};
  FileStamp stamp;
  stamp.exists = true;
  stamp.device = static_cast<uint64_t>(st.st_dev);
  stamp.inode = static_cast<uint64_t>(st.st_ino);
  stamp.size = static_cast<int64_t>(st.st_size);
  stamp.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return stamp;
}

Reloader::Reloader(std::string name, config::TlsConfig config)
    : name_(std::move(name)),
      config_(std::move(config)),
      keys_(std::make_shared<TicketKeys>(config_.ticket_key_rotation)) {
  status_.name = name_;
}

std::vector<FileStamp> Reloader::stamps() const {
  std::vector<FileStamp> out;
  out.reserve(config_.certificates.size() * 2);
  for (const config::TlsCertificate& files : config_.certificates) {
    out.push_back(stamp_of(files.cert));
    out.push_back(stamp_of(files.key));
  }
  return out;
}

core::Result<std::shared_ptr<const ServerContext>> Reloader::load(core::TimePoint now) {
  std::lock_guard lock(mutex_);
  seen_ = stamps();
  auto context = ServerContext::load(config_, keys_);
  if (!context) {
    return core::fail(fmt::format("{}: {}", name_, context.error().message));
  }
  current_ = *context;
  status_.ok = true;
  status_.loaded_at = now;
  status_.certificates = current_->certificates();
  return current_;
}

Reloader::Outcome Reloader::check(bool force, core::TimePoint now) {
  std::lock_guard lock(mutex_);
  std::vector<FileStamp> stamps_now = stamps();
  if (!force && stamps_now == seen_) return Outcome{};
  seen_ = std::move(stamps_now);
  auto context = ServerContext::load(config_, keys_);
  Outcome outcome;
  if (!context) {
    outcome.kind = Outcome::Kind::refused;
    outcome.message = fmt::format(
        "{}: the new certificate was refused and the one loaded before stays in force: {}", name_,
        context.error().message);
    status_.ok = false;
    status_.error = context.error().message;
    status_.refused_at = now;
    ++status_.refusals;
    return outcome;
  }
  current_ = *context;
  outcome.kind = Outcome::Kind::reloaded;
  outcome.context = current_;
  std::string subjects;
  for (const CertificateInfo& info : current_->certificates()) {
    if (!subjects.empty()) subjects += ", ";
    subjects += info.subject;
  }
  outcome.message = fmt::format("{}: certificates reloaded ({})", name_, subjects);
  status_.ok = true;
  status_.error.clear();
  status_.loaded_at = now;
  status_.certificates = current_->certificates();
  ++status_.reloads;
  return outcome;
}

Reloader::Status Reloader::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

}  // namespace glidepath::tls
