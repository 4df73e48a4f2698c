#include "config/config.h"

#include <cassert>

namespace glidepath::config {

const VersionConfig* ServiceConfig::find_version(std::string_view version) const {
  for (const VersionConfig& v : versions) {
    if (v.name == version) return &v;
  }
  return nullptr;
}

const VersionConfig& ServiceConfig::live_version() const {
  const VersionConfig* v = find_version(live);
  assert(v != nullptr && "a loaded Config always has its live version");
  return v != nullptr ? *v : versions.front();
}

int ServiceConfig::weight_of(std::string_view version) const {
  if (traffic.empty()) return version == live ? 100 : 0;
  for (const VersionWeight& w : traffic) {
    if (w.version == version) return w.weight;
  }
  return 0;
}

const ServiceConfig* Config::find_service(std::string_view name) const {
  for (const ServiceConfig& s : services) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const char* to_string(StoreKind kind) {
  return kind == StoreKind::postgres ? "postgres" : "sqlite";
}

const char* to_string(ApiKeyMode mode) {
  switch (mode) {
    case ApiKeyMode::required:
      return "required";
    case ApiKeyMode::optional:
      return "optional";
    case ApiKeyMode::off:
      return "off";
  }
  return "optional";
}

const char* to_string(ApiKeySource source) {
  return source == ApiKeySource::bearer ? "bearer" : "header";
}

const char* to_string(PreviewMode mode) {
  switch (mode) {
    case PreviewMode::keys:
      return "keys";
    case PreviewMode::anyone:
      return "anyone";
    case PreviewMode::off:
      return "off";
  }
  return "keys";
}

std::string to_string(const Stickiness& stickiness) {
  switch (stickiness.kind) {
    case StickinessKind::api_key:
      return "api_key";
    case StickinessKind::header:
      return "header:" + stickiness.name;
    case StickinessKind::cookie:
      return "cookie:" + stickiness.name;
    case StickinessKind::none:
      return "none";
  }
  return "api_key";
}

std::string to_string(const StoreConfig& store) {
  if (store.kind == StoreKind::postgres) return store.postgres_url;
  return "sqlite:" + store.sqlite_path;
}

}  // namespace glidepath::config
