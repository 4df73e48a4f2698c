// Helpers shared by the TLS unit tests: a scratch directory, a TlsConfig naming files, and
// a real handshake between an OpenSSL client and a ServerContext over an in-memory BIO
// pair (no sockets, no threads: both sides are pumped in turn).
#pragma once

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.h"
#include "tls/server_context.h"
#include "tls/support/test_certificates.h"

namespace glidepath::tls::testing {

using glidepath::testing::CertificateFiles;
using glidepath::testing::KeyType;
using glidepath::testing::LeafSpec;
using glidepath::testing::PemPair;
using glidepath::testing::TestCa;

// A fresh directory under $TMPDIR (or /tmp), removed with its files at the end.
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/glidepath-tls-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline config::TlsCertificate certificate_of(const CertificateFiles& files,
                                             std::vector<std::string> hosts = {}) {
  return config::TlsCertificate{files.cert, files.key, std::move(hosts)};
}

inline config::TlsConfig tls_config(std::vector<config::TlsCertificate> certificates) {
  config::TlsConfig config;
  config.certificates = std::move(certificates);
  return config;
}

// ---- a client and an in-memory handshake ---------------------------------------------

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
struct SessionFree {
  void operator()(SSL_SESSION* session) const { SSL_SESSION_free(session); }
};
using ClientCtx = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;
using Session = std::shared_ptr<SSL_SESSION>;

// What the whole OpenSSL error queue says, and the queue emptied.
inline std::string drain_errors() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out;
}

struct ClientOptions {
  std::string server_name{};  // SNI and the name verified; empty: neither
  int min_version = TLS1_2_VERSION;
  int max_version = TLS1_3_VERSION;
  std::string tls12_ciphers{};      // empty: OpenSSL's default list
  std::vector<std::string> alpn{};  // offered; empty: no ALPN extension
  const TestCa* trust = nullptr;    // verify the chain against this CA
  Session session{};                // offer this session for resumption
};

inline ClientCtx client_context(const ClientOptions& options) {
  ClientCtx ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) throw std::runtime_error("SSL_CTX_new: " + drain_errors());
  SSL_CTX_set_min_proto_version(ctx.get(), options.min_version);
  SSL_CTX_set_max_proto_version(ctx.get(), options.max_version);
  if (options.min_version < TLS1_2_VERSION) {
    // Old protocols need security level 0 to be offered at all: the point is that the
    // server, not our own client, refuses them.
    SSL_CTX_set_security_level(ctx.get(), 0);
  }
  if (!options.tls12_ciphers.empty() &&
      SSL_CTX_set_cipher_list(ctx.get(), options.tls12_ciphers.c_str()) != 1) {
    throw std::runtime_error("cipher list " + options.tls12_ciphers + ": " + drain_errors());
  }
  if (!options.alpn.empty()) {
    std::string wire;
    for (const std::string& protocol : options.alpn) {
      wire.push_back(static_cast<char>(protocol.size()));
      wire += protocol;
    }
    SSL_CTX_set_alpn_protos(ctx.get(), reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned>(wire.size()));
  }
  if (options.trust != nullptr) {
    const std::string& pem = options.trust->cert_pem();
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (ca == nullptr) throw std::runtime_error("the CA does not parse: " + drain_errors());
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx.get()), ca);
    X509_free(ca);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  }
  return ctx;
}

struct HandshakeResult {
  bool ok = false;
  std::string client_error;  // the client's OpenSSL errors when it failed
  std::string server_error;  // the server's
  std::string version;       // "TLSv1.3"
  std::string cipher;        // "TLS_AES_128_GCM_SHA256"
  std::string alpn;          // the protocol the server chose; "" when none
  std::string subject;       // the server certificate's, "/CN=..."
  bool reused = false;       // the session offered was resumed
  Session session;           // a session to resume later (after the server's tickets)
};

namespace detail {

// SSL_do_handshake, and whether it is waiting for the other side (WANT_*), done (1) or
// failed (-1, with the errors in `error`).
inline int step(SSL* ssl, std::string& error) {
  const int rc = SSL_do_handshake(ssl);
  if (rc == 1) return 1;
  const int code = SSL_get_error(ssl, rc);
  if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) return 0;
  error = "SSL error " + std::to_string(code) + ": " + drain_errors();
  return -1;
}

}  // namespace detail

// A full TLS handshake of a client configured by `options` with a connection made from
// `server`'s handshake context, as the gateway makes them. After it the server sends one
// byte, which the client reads: in TLS 1.3 the session tickets come with it.
inline HandshakeResult handshake(const ServerContext& server, const ClientOptions& options) {
  ERR_clear_error();
  HandshakeResult result;
  ClientCtx ctx = client_context(options);
  SslPtr client(SSL_new(ctx.get()));
  SslPtr serving(SSL_new(server.handshake_context()));
  if (!client || !serving) throw std::runtime_error("SSL_new: " + drain_errors());
  BIO* client_bio = nullptr;
  BIO* server_bio = nullptr;
  if (BIO_new_bio_pair(&client_bio, 0, &server_bio, 0) != 1) {
    throw std::runtime_error("BIO_new_bio_pair: " + drain_errors());
  }
  SSL_set_bio(client.get(), client_bio, client_bio);
  SSL_set_bio(serving.get(), server_bio, server_bio);
  SSL_set_connect_state(client.get());
  SSL_set_accept_state(serving.get());
  if (!options.server_name.empty()) {
    // SSL_set_tlsext_host_name, without the macro's C-style cast.
    SSL_ctrl(client.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(options.server_name.c_str()));
    if (options.trust != nullptr) SSL_set1_host(client.get(), options.server_name.c_str());
  }
  if (options.session) SSL_set_session(client.get(), options.session.get());

  int client_state = 0;
  int server_state = 0;
  for (int round = 0; round < 50 && !(client_state == 1 && server_state == 1); ++round) {
    if (client_state == 0) client_state = detail::step(client.get(), result.client_error);
    if (server_state == 0) server_state = detail::step(serving.get(), result.server_error);
    if (client_state < 0 || server_state < 0) {
      // Let the other side read the alert, so both say why.
      if (client_state == 0) detail::step(client.get(), result.client_error);
      if (server_state == 0) detail::step(serving.get(), result.server_error);
      return result;
    }
  }
  if (client_state != 1 || server_state != 1) {
    result.client_error = "the handshake did not finish";
    return result;
  }
  result.ok = true;
  result.version = SSL_get_version(client.get());
  result.cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(client.get()));
  const unsigned char* alpn = nullptr;
  unsigned alpn_length = 0;
  SSL_get0_alpn_selected(client.get(), &alpn, &alpn_length);
  if (alpn != nullptr) result.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_length);
  if (X509* peer = SSL_get0_peer_certificate(client.get()); peer != nullptr) {
    char text[512];
    X509_NAME_oneline(X509_get_subject_name(peer), text, sizeof text);
    result.subject = text;
  }
  result.reused = SSL_session_reused(client.get()) == 1;

  const char byte = 'x';
  char read = 0;
  if (SSL_write(serving.get(), &byte, 1) != 1 || SSL_read(client.get(), &read, 1) != 1) {
    result.ok = false;
    result.client_error = "no data after the handshake: " + drain_errors();
    return result;
  }
  if (SSL_SESSION* session = SSL_get1_session(client.get()); session != nullptr) {
    if (SSL_SESSION_is_resumable(session) == 1) {
      result.session = Session(session, SessionFree{});
    } else {
      SSL_SESSION_free(session);
    }
  }
  // A connection freed without close_notify marks its session not resumable (and so would
  // freeing a client context that cached it: ours caches nothing).
  SSL_shutdown(client.get());
  return result;
}

}  // namespace glidepath::tls::testing
