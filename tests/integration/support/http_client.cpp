#include "support/http_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

}  // namespace

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

HttpClient::~HttpClient() {
  close();
}

HttpClient::HttpClient(HttpClient&& other) noexcept
    : host_(std::move(other.host_)),
      port_(other.port_),
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
}

void HttpClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void HttpClient::shutdown_send() {
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
