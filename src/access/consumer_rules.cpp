#include "access/consumer_rules.h"

#include <fmt/format.h>

#include <algorithm>

#include "access/key_table.h"
#include "core/text.h"

namespace glidepath::access {

namespace {

core::Failure field_error(std::string_view path, std::string_view message) {
  return core::fail(fmt::format("{}: {}", path, message));
}

bool is_control(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_alnum(char c) {
  return is_alpha(c) || (c >= '0' && c <= '9');
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    const char a =
        text[i] >= 'A' && text[i] <= 'Z' ? static_cast<char>(text[i] - 'A' + 'a') : text[i];
    if (a != prefix[i]) return false;
  }
  return true;
}

// A DNS name of at least two labels: "example.com", "mail.example.co.uk". Each label
// 1-63 letters, digits or '-', not starting or ending with '-' (RFC 1035 2.3.1).
bool is_domain(std::string_view domain, bool require_alpha_tld) {
  if (domain.empty() || domain.size() > 253) return false;
  size_t labels = 0;
  std::string_view last;
  while (true) {
    const size_t dot = domain.find('.');
    const std::string_view label = domain.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    if (!std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-'; })) {
      return false;
    }
    ++labels;
    last = label;
    if (dot == std::string_view::npos) break;
    domain.remove_prefix(dot + 1);
  }
  if (!require_alpha_tld) return true;
  return labels >= 2 && last.size() >= 2 &&
         std::all_of(last.begin(), last.end(), [](char c) { return is_alpha(c); });
}

// The local part of an address: dot-separated atoms of RFC 5322 3.2.3's atext.
bool is_local_part(std::string_view local) {
  if (local.empty() || local.size() > 64) return false;
  if (local.front() == '.' || local.back() == '.') return false;
  if (local.find("..") != std::string_view::npos) return false;
  constexpr std::string_view kSpecials = "!#$%&'*+/=?^_`{|}~-.";
  return std::all_of(local.begin(), local.end(), [&](char c) {
    return is_alnum(c) || kSpecials.find(c) != std::string_view::npos;
  });
}

bool is_email(std::string_view contact) {
  const size_t at = contact.find('@');
  if (at == std::string_view::npos || contact.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  return is_local_part(contact.substr(0, at)) && is_domain(contact.substr(at + 1), true);
}

// "http://" or "https://", then a host (a DNS name, an IPv4 address or a bracketed IPv6
// address) with an optional user and port, then anything.
bool is_web_url(std::string_view contact) {
  std::string_view rest;
  if (starts_with_nocase(contact, "https://")) {
    rest = contact.substr(8);
  } else if (starts_with_nocase(contact, "http://")) {
    rest = contact.substr(7);
  } else {
    return false;
  }
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    host = authority.substr(1, close - 1);
    if (!std::all_of(host.begin(), host.end(),
                     [](char c) { return is_alnum(c) || c == ':' || c == '.'; })) {
      return false;
    }
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return false;
      port = after.substr(1);
      if (port.empty()) return false;
    }
  } else {
    if (const size_t colon = authority.find(':'); colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      if (port.empty()) return false;
    }
    if (!is_domain(host, false)) return false;
  }
  return port.size() <= 5 &&
         std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

core::Result<void> check_consumer_name(std::string_view consumer) {
  if (!core::is_valid_name(consumer)) {
    return field_error("consumer",
                       fmt::format("invalid consumer name '{}': use up to {} letters, digits, '.', "
                                   "'_' or '-', starting with a letter or digit",
                                   consumer.substr(0, core::kMaxNameLength), core::kMaxNameLength));
  }
  // Reports call requests without a key "anonymous": a key of that name would merge with
  // them. Any case, so no report shows two look-alike rows.
  if (consumer.size() == access::kAnonymousName.size() &&
      starts_with_nocase(consumer, access::kAnonymousName)) {
    return field_error("consumer",
                       fmt::format("'{}' is reserved for requests without a key", consumer));
  }
  return {};
}

core::Result<void> check_contact(std::string_view contact) {
  constexpr std::string_view kExpected =
      "must be an e-mail address (team@example.com) or an http(s) URL "
      "(https://example.com/team)";
  if (contact.empty()) return field_error("contact", kExpected);
  if (contact.size() > kMaxContactLength) {
    return field_error("contact", fmt::format("at most {} characters", kMaxContactLength));
  }
  if (std::any_of(contact.begin(), contact.end(),
                  [](char c) { return c == ' ' || is_control(c); })) {
    return field_error("contact", "must not contain spaces or control characters");
  }
  if (is_web_url(contact) || is_email(contact)) return {};
  // Not quoted back: the caller knows what was sent, and a pasted secret stays out of the
  // answer.
  return field_error("contact", kExpected);
}

core::Result<void> check_metadata_entry(std::string_view key, std::string_view value) {
  if (key.empty()) return field_error("metadata", "keys must not be empty");
  if (key.size() > kMaxMetadataKeyLength) {
    return field_error("metadata", fmt::format("key '{}...' is longer than {} characters",
                                               key.substr(0, 16), kMaxMetadataKeyLength));
  }
  if (std::any_of(key.begin(), key.end(), is_control)) {
    return field_error("metadata", "keys must not contain control characters");
  }
  const std::string path = fmt::format("metadata.{}", key);
  if (value.size() > kMaxMetadataValueLength) {
    return field_error(path, fmt::format("at most {} characters", kMaxMetadataValueLength));
  }
  if (std::any_of(value.begin(), value.end(), is_control)) {
    return field_error(path, "must not contain control characters");
  }
  return {};
}

core::Result<core::TimePoint> report_window_start(std::string_view since, core::TimePoint now) {
  const std::string_view text = since.empty() ? kDefaultReportWindow : since;
  auto window = core::parse_duration(text);
  if (!window) return core::fail(fmt::format("since: {}", window.error().message));
  if (*window <= core::Duration(0)) return core::fail("since: must be longer than zero");
  if (*window > kMaxReportWindow) {
    return core::fail(fmt::format("since: at most {} days (usage is kept per minute)",
                                  std::chrono::floor<std::chrono::days>(kMaxReportWindow).count()));
  }
  return core::TimePoint(std::chrono::floor<std::chrono::minutes>(now - *window));
}

}  // namespace glidepath::access
