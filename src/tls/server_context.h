// A TLS listener's OpenSSL state, built from its `tls:` config: one SSL_CTX per
// certificate, all configured alike, and the server-name (SNI) choice between them.
//
// Only TLS 1.2 and 1.3; for 1.2 only ECDHE key exchange with AEAD ciphers (Mozilla's
// "intermediate" list), groups X25519, P-256 and P-384; no renegotiation, no compression.
// Resumption is by session tickets under rotating keys (ticket_keys.h); there is no
// server-side session cache to share between workers.
//
// A ServerContext is immutable once loaded. A certificate reload builds a new one; a
// connection keeps a reference to the one it started its handshake with, so open
// connections keep their certificate and new handshakes get the new one.
//
// No Asio here: the gateway wraps handshake_context() in its own stream type.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"
#include "tls/ticket_keys.h"

struct ssl_ctx_st;  // <openssl/ssl.h>: SSL_CTX

namespace glidepath::tls {

struct CertificateInfo {
  std::string cert_file;
  std::string subject;             // OpenSSL's one-line form: "/CN=api.example.com"
  std::vector<std::string> hosts;  // the names SNI matches: configured, else the cert's own
  core::TimePoint not_after{};
  std::string key_type;  // "EC P-256", "RSA 2048"
};

class ServerContext {
 public:
  // Reads every certificate and key and checks that each key matches its certificate.
  // The error names the file and what is wrong with it. `keys` may be null when session
  // tickets are off.
  static core::Result<std::shared_ptr<const ServerContext>> load(const config::TlsConfig& config,
                                                                 std::shared_ptr<TicketKeys> keys);
  ~ServerContext();
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  // The context a new connection's SSL object is made from (the default certificate's).
  // During the handshake the SNI callback moves the connection to the certificate that
  // answers the client's server name. Valid while this ServerContext lives.
  ssl_ctx_st* handshake_context() const;

  const std::vector<CertificateInfo>& certificates() const { return certificates_; }
  // The certificate (index) that answers `server_name`: an exact name first, then a
  // `*.` wildcard covering one label, else the first certificate. Case-insensitive.
  size_t select(std::string_view server_name) const;

 private:
  struct Impl;
  ServerContext();
  std::unique_ptr<Impl> impl_;
  std::vector<CertificateInfo> certificates_;
};

// Every cipher a TLS listener may negotiate, TLS 1.3's and TLS 1.2's, by OpenSSL's names.
std::span<const std::string_view> negotiable_ciphers();

// "TLSv1.3" → "1.3": the short form metrics use.
std::string_view short_version(std::string_view openssl_version);

}  // namespace glidepath::tls
