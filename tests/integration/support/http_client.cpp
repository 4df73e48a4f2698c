#include "support/http_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace glidepath::testing {

namespace {

namespace http = boost::beast::http;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<std::int64_t>(0, left.count()));
}

int connect_to(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd >= 0) {
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

bool method_has_body(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

// Waits up to the deadline for `events` on `fd`: true when ready.
bool wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    const int ready = poll(&p, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    return ready > 0;
  }
}

// OpenSSL's whole error queue as text, and the queue emptied.
std::string openssl_errors() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out;
}

int tls_version(const std::string& text) {
  if (text.empty()) return 0;
  if (text == "1.0") return TLS1_VERSION;
  if (text == "1.1") return TLS1_1_VERSION;
  if (text == "1.2") return TLS1_2_VERSION;
  if (text == "1.3") return TLS1_3_VERSION;
  throw std::invalid_argument("unknown TLS version " + text);
}

}  // namespace

// ---- TLS ----------------------------------------------------------------------------------

struct HttpClient::TlsState {
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  bool broken = false;  // a fatal error: no close_notify may follow
  ~TlsState() {
    SSL_free(ssl);
    SSL_CTX_free(ctx);
  }
};

void HttpClient::start_tls() {
  // OpenSSL writes with write(2): a server that has gone would kill the test with SIGPIPE.
  static const bool sigpipe_ignored = [] {
    std::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)sigpipe_ignored;
  const TlsOptions& options = *tls_options_;
  const auto deadline = std::chrono::steady_clock::now() + options.handshake_timeout;
  auto state = std::make_unique<TlsState>();
  const auto fail = [&](const std::string& why) {
    state.reset();
    close();
    throw std::runtime_error("TLS handshake with " + host_ + ":" + std::to_string(port_) +
                             " failed: " + why);
  };
  ERR_clear_error();
  state->ctx = SSL_CTX_new(TLS_client_method());
  if (state->ctx == nullptr) fail("SSL_CTX_new: " + openssl_errors());
  const int min_version = tls_version(options.min_version);
  const int max_version = tls_version(options.max_version);
  if (min_version != 0) SSL_CTX_set_min_proto_version(state->ctx, min_version);
  if (max_version != 0) SSL_CTX_set_max_proto_version(state->ctx, max_version);
  if (min_version != 0 && min_version < TLS1_2_VERSION) {
    SSL_CTX_set_security_level(state->ctx, 0);
  }
  if (!options.ciphers.empty() &&
      SSL_CTX_set_cipher_list(state->ctx, options.ciphers.c_str()) != 1) {
    fail("cipher list " + options.ciphers + ": " + openssl_errors());
  }
  if (!options.alpn.empty()) {
    std::string wire;
    for (const std::string& protocol : options.alpn) {
      wire.push_back(static_cast<char>(protocol.size()));
      wire += protocol;
    }
    SSL_CTX_set_alpn_protos(state->ctx, reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned>(wire.size()));
  }
  if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(state->ctx, options.ca_file.c_str(), nullptr) != 1) {
      fail("CA file " + options.ca_file + ": " + openssl_errors());
    }
    SSL_CTX_set_verify(state->ctx, SSL_VERIFY_PEER, nullptr);
  }
  // A server that closes without close_notify has closed, not failed.
  SSL_CTX_set_options(state->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(state->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

  state->ssl = SSL_new(state->ctx);
  if (state->ssl == nullptr || SSL_set_fd(state->ssl, fd_) != 1)
    fail("SSL_new: " + openssl_errors());
  if (!options.server_name.empty()) {
    // SSL_set_tlsext_host_name, without the macro's C-style cast.
    SSL_ctrl(state->ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(options.server_name.c_str()));
    if (!options.ca_file.empty()) SSL_set1_host(state->ssl, options.server_name.c_str());
  }
  if (options.session) SSL_set_session(state->ssl, options.session.get());
  const int flags = fcntl(fd_, F_GETFL, 0);
  fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
  while (true) {
    ERR_clear_error();
    const int rc = SSL_connect(state->ssl);
    if (rc == 1) break;
    const int error = SSL_get_error(state->ssl, rc);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      if (!wait_for(fd_, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
        fail("timed out");
      }
      continue;
    }
    std::string why = openssl_errors();
    if (error == SSL_ERROR_SYSCALL) {
      why += (why.empty() ? "" : "; ") +
             std::string(errno != 0 ? std::strerror(errno) : "the server closed");
    }
    const long verify = SSL_get_verify_result(state->ssl);
    if (verify != X509_V_OK) why += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
    fail(why.empty() ? "SSL error " + std::to_string(error) : why);
  }
  tls_ = std::move(state);
}

TlsInfo HttpClient::tls_info() const {
  TlsInfo info;
  if (!tls_) return info;
  info.version = SSL_get_version(tls_->ssl);
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(tls_->ssl); cipher != nullptr) {
    info.cipher = SSL_CIPHER_get_name(cipher);
  }
  const unsigned char* alpn = nullptr;
  unsigned alpn_length = 0;
  SSL_get0_alpn_selected(tls_->ssl, &alpn, &alpn_length);
  if (alpn != nullptr) info.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_length);
  if (X509* peer = SSL_get0_peer_certificate(tls_->ssl); peer != nullptr) {
    char text[512];
    X509_NAME_oneline(X509_get_subject_name(peer), text, sizeof text);
    info.peer_subject = text;
  }
  info.session_reused = SSL_session_reused(tls_->ssl) == 1;
  return info;
}

TlsSession HttpClient::tls_session() const {
  if (!tls_) return nullptr;
  SSL_SESSION* session = SSL_get1_session(tls_->ssl);
  if (session == nullptr) return nullptr;
  return TlsSession(session, [](SSL_SESSION* s) { SSL_SESSION_free(s); });
}

void HttpClient::resume_with(TlsSession session) {
  if (tls_options_) tls_options_->session = std::move(session);
}

bool HttpClient::send_tls(std::string_view bytes, std::chrono::steady_clock::time_point deadline) {
  while (!bytes.empty()) {
    if (!tls_ || tls_->broken) return false;
    ERR_clear_error();
    const int n = SSL_write(tls_->ssl, bytes.data(),
                            static_cast<int>(std::min<size_t>(bytes.size(), 1 << 20)));
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    const int error = SSL_get_error(tls_->ssl, n);
    if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) {
      if (!wait_for(fd_, error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, deadline)) return false;
      continue;
    }
    tls_->broken = true;
    return false;
  }
  return true;
}

HttpClient::ReadResult HttpClient::read_some_tls(std::chrono::steady_clock::time_point deadline) {
  char buffer[16384];
  while (true) {
    if (tls_->broken) return ReadResult::failed;
    ERR_clear_error();
    errno = 0;
    const int n = SSL_read(tls_->ssl, buffer, sizeof buffer);
    if (n > 0) {
      pending_.append(buffer, static_cast<size_t>(n));
      return ReadResult::data;
    }
    const int error = SSL_get_error(tls_->ssl, n);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      if (!wait_for(fd_, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
        return ReadResult::timed_out;
      }
      continue;
    }
    if (error == SSL_ERROR_ZERO_RETURN) {  // close_notify, or EOF (IGNORE_UNEXPECTED_EOF)
      peer_closed_ = true;
      return ReadResult::closed;
    }
    tls_->broken = true;
    if (error == SSL_ERROR_SYSCALL && errno == ECONNRESET) {
      peer_closed_ = true;
      peer_reset_ = true;
      return ReadResult::reset;
    }
    if (error == SSL_ERROR_SYSCALL && errno == 0) {
      peer_closed_ = true;
      return ReadResult::closed;
    }
    return ReadResult::failed;
  }
}

// ---- HeaderList ---------------------------------------------------------------------------

void HeaderList::add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string> HeaderList::get(std::string_view name) const {
  for (const auto& [n, v] : fields_) {
    if (iequals(n, name)) return v;
  }
  return std::nullopt;
}

std::string HeaderList::value(std::string_view name) const {
  return get(name).value_or("");
}

std::vector<std::string> HeaderList::get_all(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [n, v] : fields_) {
    if (iequals(n, name)) values.push_back(v);
  }
  return values;
}

bool HeaderList::contains(std::string_view name) const {
  return get(name).has_value();
}

// ---- HttpClient ---------------------------------------------------------------------------

HttpClient::HttpClient(std::string host, std::uint16_t port) : host_(std::move(host)), port_(port) {
  reconnect();
}

HttpClient::HttpClient(std::string host, std::uint16_t port, TlsOptions tls)
    : host_(std::move(host)), port_(port), tls_options_(std::move(tls)) {
  reconnect();
}

HttpClient::~HttpClient() {
  close();
}

HttpClient::HttpClient(HttpClient&& other) noexcept
    : host_(std::move(other.host_)),
      port_(other.port_),
      tls_options_(std::move(other.tls_options_)),
      tls_(std::move(other.tls_)),
      fd_(std::exchange(other.fd_, -1)),
      connects_(other.connects_),
      peer_closed_(other.peer_closed_),
      peer_reset_(other.peer_reset_),
      pending_(std::move(other.pending_)) {}

HttpClient& HttpClient::operator=(HttpClient&& other) noexcept {
  if (this != &other) {
    close();
    host_ = std::move(other.host_);
    port_ = other.port_;
    tls_options_ = std::move(other.tls_options_);
    tls_ = std::move(other.tls_);
    fd_ = std::exchange(other.fd_, -1);
    connects_ = other.connects_;
    peer_closed_ = other.peer_closed_;
    peer_reset_ = other.peer_reset_;
    pending_ = std::move(other.pending_);
  }
  return *this;
}

bool HttpClient::can_connect(const std::string& host, std::uint16_t port) {
  const int fd = connect_to(host, port);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

void HttpClient::reconnect() {
  close();
  fd_ = connect_to(host_, port_);
  if (fd_ < 0) {
    throw std::runtime_error("cannot connect to " + host_ + ":" + std::to_string(port_) + ": " +
                             std::strerror(errno));
  }
  ++connects_;
  peer_closed_ = false;
  peer_reset_ = false;
  pending_.clear();
  if (tls_options_) start_tls();
}

void HttpClient::close() {
  if (tls_) {
    // close_notify, without waiting for the server's.
    if (!tls_->broken && !peer_reset_) SSL_shutdown(tls_->ssl);
    ERR_clear_error();
    tls_.reset();
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void HttpClient::shutdown_send() {
  if (tls_ && !tls_->broken) SSL_shutdown(tls_->ssl);
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

std::uint16_t HttpClient::local_port() const {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (fd_ < 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
}

bool HttpClient::send_raw(std::string_view bytes, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (tls_) return send_tls(bytes, deadline);
  while (!bytes.empty()) {
    if (fd_ < 0) return false;
    pollfd p{fd_, POLLOUT, 0};
    const int ready = poll(&p, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

HttpClient::ReadResult HttpClient::read_some(std::chrono::steady_clock::time_point deadline) {
  if (peer_reset_) return ReadResult::reset;
  if (peer_closed_) return ReadResult::closed;
  if (fd_ < 0) return ReadResult::failed;
  if (tls_) return read_some_tls(deadline);
  char buffer[65536];
  while (true) {
    pollfd p{fd_, POLLIN, 0};
    const int ready = poll(&p, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return ReadResult::failed;
    if (ready == 0) return ReadResult::timed_out;
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n > 0) {
      pending_.append(buffer, static_cast<size_t>(n));
      return ReadResult::data;
    }
    if (n == 0) {
      peer_closed_ = true;
      return ReadResult::closed;
    }
    if (errno == EINTR || errno == EAGAIN) continue;
    if (errno == ECONNRESET) {
      peer_closed_ = true;
      peer_reset_ = true;
      return ReadResult::reset;
    }
    return ReadResult::failed;
  }
}

HttpResponse HttpClient::read_response(std::chrono::milliseconds timeout, bool head_request) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  HttpResponse response;
  http::response_parser<http::string_body> parser;
  parser.header_limit(1024 * 1024);
  // Not boost::none: Beast 1.74 compares a Content-Length with the empty optional and
  // rejects every body.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  parser.eager(true);
  if (head_request) parser.skip(true);

  auto fail = [&](std::string why) {
    response.status = 0;
    response.error = std::move(why);
    response.closed = peer_closed_;
    response.reset = peer_reset_;
    return response;
  };

  while (true) {
    while (!parser.is_done() && !pending_.empty()) {
      boost::beast::error_code ec;
      const size_t used = parser.put(boost::asio::buffer(pending_.data(), pending_.size()), ec);
      pending_.erase(0, used);
      if (ec == http::error::need_more) break;
      if (ec) return fail("invalid response: " + ec.message());
      if (used == 0) break;
    }
    if (parser.is_done()) break;
    const ReadResult read = read_some(deadline);
    if (read == ReadResult::data) continue;
    if (read == ReadResult::timed_out) {
      response.timed_out = true;
      return fail("timed out waiting for a response");
    }
    if (read == ReadResult::closed && parser.got_some()) {
      // A response without Content-Length or chunking ends with the connection.
      boost::beast::error_code ec;
      parser.put_eof(ec);
      if (!ec && parser.is_done()) break;
      return fail("connection closed in the middle of a response");
    }
    if (read == ReadResult::reset) return fail("connection reset");
    if (read == ReadResult::closed) return fail("connection closed before a response");
    return fail(std::string("read failed: ") + std::strerror(errno));
  }

  auto& message = parser.get();
  response.status = static_cast<int>(message.result_int());
  response.reason = std::string(message.reason());
  response.version = message.version();
  for (const auto& field : message) {
    response.headers.add(std::string(field.name_string()), std::string(field.value()));
  }
  response.body = std::move(message.body());
  response.chunked = parser.chunked();
  response.keep_alive = message.keep_alive();
  if (!response.keep_alive && response.status >= 200 && pending_.empty()) {
    // The server said it closes: give it a moment so tests can assert `closed`.
    const auto close_deadline =
        std::min(deadline, std::chrono::steady_clock::now() + std::chrono::seconds(1));
    while (read_some(close_deadline) == ReadResult::data) {
    }
  }
  response.closed = peer_closed_;
  response.reset = peer_reset_;
  return response;
}

HttpResponse HttpClient::request(std::string_view method, std::string_view target,
                                 const HeaderFields& headers, std::string_view body,
                                 std::chrono::milliseconds timeout) {
  std::string text;
  text.reserve(256 + body.size());
  text.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  bool has_host = false;
  bool framed = false;
  for (const auto& [name, value] : headers) {
    has_host = has_host || iequals(name, "host");
    framed = framed || iequals(name, "content-length") || iequals(name, "transfer-encoding");
    text.append(name).append(": ").append(value).append("\r\n");
  }
  if (!has_host) text.append("Host: ").append(host_ + ":" + std::to_string(port_)).append("\r\n");
  if (!framed && (!body.empty() || method_has_body(method))) {
    text.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  text.append("\r\n").append(body);

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!send_raw(text, timeout)) {
    HttpResponse response;
    response.error = "could not send the request";
    response.closed = true;
    return response;
  }
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    HttpResponse response =
        read_response(std::max(left, std::chrono::milliseconds(0)), method == "HEAD");
    if (!response.ok() || response.status >= 200) return response;
  }
}

RawRead HttpClient::read_all_until_close(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  RawRead result;
  while (true) {
    const ReadResult read = read_some(deadline);
    if (read == ReadResult::data) continue;
    result.timed_out = read == ReadResult::timed_out;
    break;
  }
  result.data = std::move(pending_);
  pending_.clear();
  result.closed = peer_closed_;
  result.reset = peer_reset_;
  return result;
}

std::string encode_chunked(std::string_view data, size_t chunk_size) {
  std::string out;
  out.reserve(data.size() + data.size() / std::max<size_t>(chunk_size, 1) * 12 + 16);
  char size_text[32];
  while (!data.empty()) {
    const size_t n = std::min(chunk_size, data.size());
    const int length = std::snprintf(size_text, sizeof size_text, "%zx\r\n", n);
    out.append(size_text, static_cast<size_t>(length));
    out.append(data.substr(0, n));
    out.append("\r\n");
    data.remove_prefix(n);
  }
  out.append("0\r\n\r\n");
  return out;
}

}  // namespace glidepath::testing
