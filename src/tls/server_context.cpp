#include "tls/server_context.h"

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <exception>

namespace glidepath::tls {
namespace {

// Mozilla's "intermediate" TLS 1.2 list: ECDHE key exchange, AEAD ciphers only. TLS 1.3's
// suites are all AEAD, and OpenSSL's default order for them is kept.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kGroups = "X25519:P-256:P-384";

// Where each SSL_CTX points back to its ServerContext (for the ticket callback). Not the
// SSL_CTX's "app data": Asio's ssl::context, which the gateway wraps around these, deletes
// whatever it finds there as its own.
int owner_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

struct CtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;

// What OpenSSL said last, oldest reason first, and its queue emptied.
std::string openssl_reason() {
  std::string reason;
  while (const unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    // "error:0A00018F:SSL routines::ee key too small" → "ee key too small"
    std::string_view view(text);
    if (const size_t colon = view.rfind(':'); colon != std::string_view::npos) {
      view.remove_prefix(colon + 1);
    }
    if (!reason.empty()) reason += "; ";
    reason += view;
  }
  return reason.empty() ? "unknown OpenSSL error" : reason;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string subject_of(X509* cert) {
  char text[512];
  X509_NAME_oneline(X509_get_subject_name(cert), text, sizeof text);
  return text;
}

// The DNS names a certificate is for: its subjectAltName entries, else its common name.
std::vector<std::string> names_of(X509* cert) {
  std::vector<std::string> names;
  auto* alt =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (alt != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(alt); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(alt, i);
      if (name->type != GEN_DNS) continue;
      const auto* data = ASN1_STRING_get0_data(name->d.dNSName);
      names.push_back(
          lower(std::string_view(reinterpret_cast<const char*>(data),
                                 static_cast<size_t>(ASN1_STRING_length(name->d.dNSName)))));
    }
    GENERAL_NAMES_free(alt);
  }
  if (names.empty()) {
    char cn[256];
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0) {
      names.push_back(lower(cn));
    }
  }
  return names;
}

core::TimePoint not_after_of(X509* cert) {
  struct tm when {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &when) != 1) return {};
  return std::chrono::time_point_cast<core::Duration>(
      std::chrono::system_clock::from_time_t(timegm(&when)));
}

std::string key_type_of(SSL_CTX* ctx) {
  EVP_PKEY* key = SSL_CTX_get0_privatekey(ctx);
  if (key == nullptr) return "";
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &length) == 1) {
      const std::string_view name(group, length);
      if (name == "prime256v1") return "EC P-256";
      if (name == "secp384r1") return "EC P-384";
      return fmt::format("EC {}", name);
    }
    return "EC";
  }
  return fmt::format("{} {}", EVP_PKEY_get0_type_name(key), EVP_PKEY_get_bits(key));
}

bool host_matches(std::string_view pattern, std::string_view name) {
  if (pattern.starts_with("*.")) {
    // One label: *.example.com covers a.example.com, not example.com or b.a.example.com.
    const size_t dot = name.find('.');
    return dot != std::string_view::npos && dot > 0 && name.substr(dot) == pattern.substr(1);
  }
  return pattern == name;
}

}  // namespace

struct ServerContext::Impl {
  std::vector<CtxPtr> contexts;   // one per certificate, in config order; [0] the default
  std::vector<std::string> alpn;  // our protocols, in order of preference
  std::shared_ptr<TicketKeys> keys;

  static ServerContext* owner(SSL* ssl) {
    return static_cast<ServerContext*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), owner_index()));
  }

  // SNI: move the connection to the certificate for the name it asked for.
  static int on_server_name(SSL* ssl, int* /*alert*/, void* arg) {
    const auto* self = static_cast<const ServerContext*>(arg);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (name == nullptr) return SSL_TLSEXT_ERR_NOACK;
    const size_t index = self->select(name);
    if (index != 0) SSL_set_SSL_CTX(ssl, self->impl_->contexts[index].get());
    return SSL_TLSEXT_ERR_OK;
  }

  // ALPN: our first protocol the client also offers. A client offering none of ours
  // goes on without ALPN (it is then speaking HTTP/1.1 or nothing we could serve).
  static int on_alpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_length,
                     const unsigned char* in, unsigned int in_length, void* arg) {
    const auto* self = static_cast<const ServerContext*>(arg);
    for (const std::string& ours : self->impl_->alpn) {
      for (unsigned int i = 0; i < in_length;) {
        const unsigned int length = in[i];
        if (i + 1 + length > in_length) break;
        if (length == ours.size() && std::memcmp(in + i + 1, ours.data(), length) == 0) {
          *out = in + i + 1;
          *out_length = static_cast<unsigned char>(length);
          return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + length;
      }
    }
    return SSL_TLSEXT_ERR_NOACK;
  }

  // Session tickets: AES-256-CBC with HMAC-SHA256 under the listener's rotating keys
  // (RFC 5077 section 4's recommended construction, as OpenSSL's own default).
  static int on_ticket(SSL* ssl, unsigned char key_name[16], unsigned char* iv,
                       EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int encrypt) {
    ServerContext* self = owner(ssl);
    if (self == nullptr || !self->impl_->keys) return encrypt ? -1 : 0;
    try {
      const core::TimePoint now = core::SystemClock().now();
      TicketKey key;
      int result = 1;
      if (encrypt) {
        key = self->impl_->keys->issuing(now);
        std::copy(key.name.begin(), key.name.end(), key_name);
        if (RAND_bytes(iv, 16) != 1) return -1;  // an AES block
        if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes_key.data(), iv) != 1) {
          return -1;
        }
      } else {
        auto found = self->impl_->keys->find(key_name, now);
        if (!found) return 0;  // unknown or expired key: a full handshake
        key = found->key;
        result = found->renew ? 2 : 1;
        if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes_key.data(), iv) != 1) {
          return -1;
        }
      }
      char digest[] = "SHA256";
      const OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_END};
      if (EVP_MAC_init(mac, key.hmac_key.data(), key.hmac_key.size(), params) != 1) return -1;
      return result;
    } catch (const std::exception&) {
      return encrypt ? -1 : 0;
    }
  }
};

ServerContext::ServerContext() : impl_(std::make_unique<Impl>()) {}
ServerContext::~ServerContext() = default;

SSL_CTX* ServerContext::handshake_context() const {
  return impl_->contexts.front().get();
}

size_t ServerContext::select(std::string_view server_name) const {
  const std::string name = lower(server_name);
  for (size_t i = 0; i < certificates_.size(); ++i) {
    for (const std::string& host : certificates_[i].hosts) {
      if (!host.starts_with("*.") && host == name) return i;
    }
  }
  for (size_t i = 0; i < certificates_.size(); ++i) {
    for (const std::string& host : certificates_[i].hosts) {
      if (host.starts_with("*.") && host_matches(host, name)) return i;
    }
  }
  return 0;
}

core::Result<std::shared_ptr<const ServerContext>> ServerContext::load(
    const config::TlsConfig& config, std::shared_ptr<TicketKeys> keys) {
  if (config.certificates.empty()) return core::fail("tls: no certificate configured");
  std::shared_ptr<ServerContext> self(new ServerContext());
  Impl& impl = *self->impl_;
  impl.keys = config.session_tickets ? std::move(keys) : nullptr;
  if (config.session_tickets && !impl.keys) {
    impl.keys = std::make_shared<TicketKeys>(config.ticket_key_rotation);
  }
  for (const std::string& protocol : config.alpn)
    impl.alpn.push_back(protocol);

  ERR_clear_error();
  for (const config::TlsCertificate& files : config.certificates) {
    CtxPtr ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) return core::fail(fmt::format("tls: cannot create a context: {}", openssl_reason()));
    SSL_CTX* c = ctx.get();
    const int min_version =
        config.min_version == config::TlsVersion::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (SSL_CTX_set_min_proto_version(c, min_version) != 1 ||
        SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(c, kTls12Ciphers) != 1 ||
        SSL_CTX_set1_groups_list(c, kGroups) != 1) {
      return core::fail(fmt::format("tls: cannot set the protocol versions, ciphers and groups: {}",
                                    openssl_reason()));
    }
    SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               (config.session_tickets ? 0 : SSL_OP_NO_TICKET));
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
    // The key first: OpenSSL checks a key against a certificate already set and fails with
    // "key values mismatch", which would read as an unusable key file. Set after the key,
    // a certificate of another key just displaces it, and the check below says so.
    if (SSL_CTX_use_PrivateKey_file(c, files.key.c_str(), SSL_FILETYPE_PEM) != 1) {
      return core::fail(fmt::format("tls: key {}: not a usable PEM private key: {}", files.key,
                                    openssl_reason()));
    }
    if (SSL_CTX_use_certificate_chain_file(c, files.cert.c_str()) != 1) {
      return core::fail(fmt::format("tls: cert {}: not a usable PEM certificate: {}", files.cert,
                                    openssl_reason()));
    }
    if (SSL_CTX_check_private_key(c) != 1) {
      ERR_clear_error();
      return core::fail(fmt::format("tls: key {} does not belong to the certificate in {}",
                                    files.key, files.cert));
    }
    X509* leaf = SSL_CTX_get0_certificate(c);
    CertificateInfo info;
    info.cert_file = files.cert;
    info.subject = subject_of(leaf);
    info.hosts = files.hosts.empty() ? names_of(leaf) : files.hosts;
    info.not_after = not_after_of(leaf);
    info.key_type = key_type_of(c);

    SSL_CTX_set_ex_data(c, owner_index(), self.get());
    // SSL_CTX_set_tlsext_servername_callback, without the macro's C-style cast.
    SSL_CTX_callback_ctrl(c, SSL_CTRL_SET_TLSEXT_SERVERNAME_CB,
                          reinterpret_cast<void (*)()>(&Impl::on_server_name));
    SSL_CTX_set_tlsext_servername_arg(c, self.get());
    SSL_CTX_set_alpn_select_cb(c, &Impl::on_alpn, self.get());
    if (config.session_tickets) SSL_CTX_set_tlsext_ticket_key_evp_cb(c, &Impl::on_ticket);
    impl.contexts.push_back(std::move(ctx));
    self->certificates_.push_back(std::move(info));
  }
  return std::shared_ptr<const ServerContext>(std::move(self));
}

std::span<const std::string_view> negotiable_ciphers() {
  static constexpr std::string_view kNames[] = {
      "TLS_AES_128_GCM_SHA256",       "TLS_AES_256_GCM_SHA384",
      "TLS_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256",
      "ECDHE-RSA-AES128-GCM-SHA256",  "ECDHE-ECDSA-AES256-GCM-SHA384",
      "ECDHE-RSA-AES256-GCM-SHA384",  "ECDHE-ECDSA-CHACHA20-POLY1305",
      "ECDHE-RSA-CHACHA20-POLY1305"};
  return kNames;
}

std::string_view short_version(std::string_view openssl_version) {
  if (openssl_version == "TLSv1.3") return "1.3";
  if (openssl_version == "TLSv1.2") return "1.2";
  return openssl_version;
}

}  // namespace glidepath::tls
