#include "serve/tls_listeners.h"

#include <fmt/format.h>

#include <cstdio>

namespace glidepath::serve {

core::Result<std::shared_ptr<const tls::ServerContext>> TlsListeners::add(
    size_t listener, std::string name, const config::TlsConfig& tls, core::TimePoint now) {
  auto reloader = std::make_unique<tls::Reloader>(std::move(name), tls);
  auto context = reloader->load(now);
  if (!context) return core::Failure{context.error()};
  reloaders_.push_back({listener, std::move(reloader)});
  return context;
}

core::Result<void> TlsListeners::load_gateway(const config::Config& config,
                                              gateway::GatewayOptions& options,
                                              core::TimePoint now) {
  if (config.gateway.tls) {
    auto context = add(0, "gateway", *config.gateway.tls, now);
    if (!context) return core::Failure{context.error()};
    options.tls = *context;
  }
  for (size_t i = 0; i < config.gateway.listeners.size() && i < options.more_listeners.size();
       ++i) {
    const config::ListenerConfig& listener = config.gateway.listeners[i];
    if (!listener.tls) continue;
    auto context = add(i + 1, fmt::format("gateway.listeners[{}]", i), *listener.tls, now);
    if (!context) return core::Failure{context.error()};
    options.more_listeners[i].tls = *context;
  }
  return {};
}

core::Result<void> TlsListeners::load_admin(const config::Config& config,
                                            admin::ServerOptions& options, core::TimePoint now) {
  if (!config.admin.tls) return {};
  auto context = add(kAdmin, "admin", *config.admin.tls, now);
  if (!context) return core::Failure{context.error()};
  options.tls = *context;
  return {};
}

std::vector<std::string> TlsListeners::check(bool force, gateway::Gateway* gateway,
                                             admin::HttpServer* admin, core::TimePoint now) {
  std::lock_guard lock(mutex_);
  std::vector<std::string> reported;
  for (Entry& entry : reloaders_) {
    tls::Reloader::Outcome outcome = entry.reloader->check(force, now);
    using Kind = tls::Reloader::Outcome::Kind;
    if (outcome.kind == Kind::unchanged) continue;
    if (outcome.kind == Kind::reloaded) {
      if (entry.listener == kAdmin) {
        if (admin != nullptr) admin->set_tls(outcome.context);
      } else if (gateway != nullptr && !gateway->set_tls(entry.listener, outcome.context)) {
        outcome.message += " (not every worker has taken it yet)";
      }
    }
    fmt::print(stderr, "{}: {}\n", outcome.kind == Kind::refused ? "error" : "tls",
               outcome.message);
    reported.push_back(std::move(outcome.message));
  }
  return reported;
}

std::vector<tls::Reloader::Status> TlsListeners::status() const {
  std::lock_guard lock(mutex_);
  std::vector<tls::Reloader::Status> out;
  out.reserve(reloaders_.size());
  for (const Entry& entry : reloaders_)
    out.push_back(entry.reloader->status());
  return out;
}

}  // namespace glidepath::serve
