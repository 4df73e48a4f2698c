#include "test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

namespace glidepath::testing {

namespace {

[[noreturn]] void openssl_failed(std::string_view what) {
  char reason[256] = {};
  ERR_error_string_n(ERR_get_error(), reason, sizeof reason);
  throw std::runtime_error(fmt::format("{}: {}", what, reason));
}

// The oldest OpenSSL error of this thread, as text ("" when none), and the queue cleared.
std::string take_openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "";
  char reason[256] = {};
  ERR_error_string_n(code, reason, sizeof reason);
  return reason;
}

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertFree {
  void operator()(X509* cert) const { X509_free(cert); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

Key new_key() {
  Key key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", const_cast<char*>("P-256")));
  if (!key) openssl_failed("generating a key");
  return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  if (extension == nullptr) openssl_failed(fmt::format("extension {}", value));
  const int added = X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
  if (added != 1) openssl_failed("adding an extension");
}

enum class Role { ca, server, client };

// A certificate for `key`, signed by issuer/issuer_key (itself when issuer is null).
Cert new_cert(EVP_PKEY* key, const char* common_name, Role role, long serial, X509* issuer,
              EVP_PKEY* issuer_key) {
  Cert cert(X509_new());
  if (!cert) openssl_failed("X509_new");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24L * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Glidepath tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  add_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
  add_extension(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  switch (role) {
    case Role::ca:
      add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
      add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
      break;
    case Role::server:
      add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
      add_extension(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
      add_extension(cert.get(), signer, NID_ext_key_usage, "serverAuth");
      add_extension(cert.get(), signer, NID_subject_alt_name, "IP:127.0.0.1,IP:::1,DNS:localhost");
      break;
    case Role::client:
      add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
      add_extension(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
      add_extension(cert.get(), signer, NID_ext_key_usage, "clientAuth");
      break;
  }
  if (X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
    openssl_failed("signing a certificate");
  }
  return cert;
}

void write_pem(const std::filesystem::path& path, X509* cert, EVP_PKEY* key) {
  BIO* out = BIO_new_file(path.c_str(), "w");
  if (out == nullptr) openssl_failed(fmt::format("writing {}", path.string()));
  const int written =
      cert != nullptr ? PEM_write_bio_X509(out, cert)
                      : PEM_write_bio_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
  BIO_free(out);
  if (written != 1) openssl_failed(fmt::format("writing {}", path.string()));
}

// The CN of a certificate's subject, "" when none.
std::string common_name(X509* cert) {
  char text[256] = {};
  if (cert == nullptr || X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName,
                                                   text, sizeof text) < 0) {
    return "";
  }
  return text;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Content-Length of a request head, 0 when absent.
size_t content_length(std::string_view head) {
  size_t start = 0;
  while (start < head.size()) {
    size_t end = head.find("\r\n", start);
    if (end == std::string_view::npos) end = head.size();
    const std::string_view line = head.substr(start, end - start);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos && iequals(line.substr(0, colon), "content-length")) {
      return std::stoul(std::string(line.substr(colon + 1)));
    }
    start = end + 2;
  }
  return 0;
}

}  // namespace

TestPki make_test_pki(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  TestPki pki;
  const Key ca_key = new_key();
  const Cert ca = new_cert(ca_key.get(), "Glidepath test CA", Role::ca, 1, nullptr, nullptr);
  const Key other_key = new_key();
  const Cert other =
      new_cert(other_key.get(), "Glidepath other test CA", Role::ca, 2, nullptr, nullptr);
  const Key server_key = new_key();
  const Cert server =
      new_cert(server_key.get(), "127.0.0.1", Role::server, 3, ca.get(), ca_key.get());
  const Key client_key = new_key();
  const Cert client =
      new_cert(client_key.get(), "glidepath-test-client", Role::client, 4, ca.get(), ca_key.get());
  auto write = [&](std::string& field, const char* name, X509* cert, EVP_PKEY* key) {
    const std::filesystem::path path = dir / name;
    write_pem(path, cert, key);
    field = path.string();
  };
  write(pki.ca_cert, "ca.pem", ca.get(), nullptr);
  write(pki.other_ca_cert, "other-ca.pem", other.get(), nullptr);
  write(pki.server_cert, "server.pem", server.get(), nullptr);
  write(pki.server_key, "server-key.pem", nullptr, server_key.get());
  write(pki.client_cert, "client.pem", client.get(), nullptr);
  write(pki.client_key, "client-key.pem", nullptr, client_key.get());
  return pki;
}

std::string http_response(int status, std::string_view body,
                          std::vector<std::pair<std::string, std::string>> headers) {
  std::string out = fmt::format("HTTP/1.1 {} Test\r\n", status);
  for (const auto& [name, value] : headers)
    out += fmt::format("{}: {}\r\n", name, value);
  out += fmt::format("Content-Length: {}\r\nConnection: close\r\n\r\n", body.size());
  out += body;
  return out;
}

struct TestHttpServer::State {
  Options options;
  SSL_CTX* tls = nullptr;
  int listen_fd = -1;
  int wake[2] = {-1, -1};  // written to stop the accept loop
  uint16_t port = 0;
  std::thread thread;
  mutable std::mutex mutex;
  mutable std::condition_variable handshake_failed;
  std::vector<ReceivedRequest> requests;
  std::vector<std::string> failed_handshakes;

  ~State() {
    for (int fd : {listen_fd, wake[0], wake[1]}) {
      if (fd >= 0) ::close(fd);
    }
    if (tls != nullptr) SSL_CTX_free(tls);
  }

  // One connection: read a request, answer it, close.
  void serve(int fd) {
    timeval patience{5, 0};  // a client that stalls cannot hold the test forever
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &patience, sizeof patience);
    SSL* ssl = nullptr;
    ReceivedRequest seen;
    if (tls != nullptr) {
      ssl = SSL_new(tls);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) != 1) {
        std::string reason = take_openssl_error();
        {
          std::lock_guard lock(mutex);
          failed_handshakes.push_back(reason.empty() ? "handshake failed" : reason);
        }
        handshake_failed.notify_all();
        SSL_free(ssl);
        return;
      }
      if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) {
        seen.server_name = name;
      }
      seen.client_subject = common_name(SSL_get0_peer_certificate(ssl));
    }
    auto receive = [&](char* buffer, size_t size) -> long {
      if (ssl != nullptr) return SSL_read(ssl, buffer, static_cast<int>(size));
      return ::recv(fd, buffer, size, 0);
    };
    std::string data;
    char buffer[16 * 1024];
    size_t head_end = std::string::npos;
    size_t wanted = 0;
    while (true) {
      if (head_end == std::string::npos) {
        head_end = data.find("\r\n\r\n");
        if (head_end != std::string::npos) wanted = head_end + 4 + content_length(data);
      }
      if (head_end != std::string::npos && data.size() >= wanted) break;
      const long n = receive(buffer, sizeof buffer);
      if (n <= 0) break;
      data.append(buffer, static_cast<size_t>(n));
    }
    if (head_end != std::string::npos && data.size() >= wanted) {
      seen.head = data.substr(0, head_end + 2);
      seen.body = data.substr(head_end + 4, wanted - head_end - 4);
      const std::string response =
          options.answer ? options.answer(seen) : http_response(200, "hello");
      {
        // Recorded before the client can have its answer: a test that got the response
        // finds the request here without waiting.
        std::lock_guard lock(mutex);
        requests.push_back(std::move(seen));
      }
      std::string_view rest = response;
      while (!rest.empty()) {
        const long n = ssl != nullptr ? SSL_write(ssl, rest.data(), static_cast<int>(rest.size()))
                                      : ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
        if (n <= 0) break;  // the client stopped reading (a body over its limit)
        rest.remove_prefix(static_cast<size_t>(n));
      }
    }
    if (ssl != nullptr) {
      SSL_shutdown(ssl);
      SSL_free(ssl);
    }
    ERR_clear_error();
  }

  void run() {
    // SSL_write to a client that has gone raises SIGPIPE: kept pending on this thread.
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
    while (true) {
      pollfd fds[2] = {{listen_fd, POLLIN, 0}, {wake[0], POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents != 0) return;
      const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      serve(fd);
      ::close(fd);
    }
  }
};

namespace {

// A socket listening on 127.0.0.1 at a free port; throws when it cannot.
int listen_on_free_port(uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("listening on 127.0.0.1: " + why);
  }
  port = ntohs(address.sin_port);
  return fd;
}

}  // namespace

TestHttpServer::TestHttpServer(Options options) : state_(std::make_shared<State>()) {
  State& s = *state_;
  s.options = std::move(options);
  if (!s.options.cert_file.empty()) {
    s.tls = SSL_CTX_new(TLS_server_method());
    if (s.tls == nullptr) openssl_failed("SSL_CTX_new");
    if (SSL_CTX_use_certificate_chain_file(s.tls, s.options.cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(s.tls, s.options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      openssl_failed("loading the server's certificate");
    }
    if (!s.options.client_ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(s.tls, s.options.client_ca_file.c_str(), nullptr) != 1) {
        openssl_failed("loading the client CA");
      }
      SSL_CTX_set_client_CA_list(s.tls, SSL_load_client_CA_file(s.options.client_ca_file.c_str()));
      SSL_CTX_set_verify(s.tls, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
  }
  s.listen_fd = listen_on_free_port(s.port);
  if (::pipe2(s.wake, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  s.thread = std::thread([state = state_] { state->run(); });
}

TestHttpServer::~TestHttpServer() {
  const char stop = 1;
  (void)!::write(state_->wake[1], &stop, 1);
  if (state_->thread.joinable()) state_->thread.join();
}

uint16_t TestHttpServer::port() const {
  return state_->port;
}

std::string TestHttpServer::url(std::string_view path, std::string_view host) const {
  return fmt::format("{}://{}:{}{}", state_->tls != nullptr ? "https" : "http", host, state_->port,
                     path);
}

std::vector<ReceivedRequest> TestHttpServer::requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->requests;
}

std::vector<std::string> TestHttpServer::failed_handshakes(
    std::chrono::milliseconds patience) const {
  std::unique_lock lock(state_->mutex);
  // The client may learn of the refusal (the alert) before the server has noted it.
  state_->handshake_failed.wait_for(lock, patience,
                                    [&] { return !state_->failed_handshakes.empty(); });
  return state_->failed_handshakes;
}

TestHttpServer::Options answering(std::function<std::string(const ReceivedRequest&)> answer) {
  TestHttpServer::Options options;
  options.answer = std::move(answer);
  return options;
}

SilentListener::SilentListener() {
  fd_ = listen_on_free_port(port_);
}

SilentListener::~SilentListener() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace glidepath::testing
