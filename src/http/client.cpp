#include "http/client.h"

#include <fmt/format.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include "http/message.h"
#include "http/parser.h"

namespace glidepath::http {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

class Socket {
 public:
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

  core::Result<void> connect(const Url& url, Clock::time_point deadline,
                             std::chrono::milliseconds timeout) {
    auto addresses = resolve(url.host, url.port, timeout);
    if (!addresses) return core::Failure{addresses.error()};
    std::string last_error = "no address";
    for (addrinfo* a = addresses->get(); a != nullptr; a = a->ai_next) {
      fd_ = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
      if (fd_ < 0) continue;
      if (::connect(fd_, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS) {
        pollfd p{fd_, POLLOUT, 0};
        if (poll(&p, 1, remaining_ms(deadline)) == 1) {
          int error = 0;
          socklen_t len = sizeof error;
          getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len);
          if (error == 0) return {};
          last_error = std::strerror(error);
        } else {
          last_error = "timed out";
        }
      } else {
        last_error = std::strerror(errno);
      }
      ::close(fd_);
      fd_ = -1;
    }
    return core::fail(fmt::format("cannot connect to {}:{}: {}", url.host, url.port, last_error));
  }

  core::Result<void> send_all(std::string_view data, Clock::time_point deadline) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return core::fail(fmt::format("send failed: {}", std::strerror(errno)));
      }
      pollfd p{fd_, POLLOUT, 0};
      if (poll(&p, 1, remaining_ms(deadline)) != 1)
        return core::fail("timed out sending the request");
    }
    return {};
  }

  // Bytes read (0 = closed); an error on timeout or failure.
  core::Result<size_t> receive(char* buffer, size_t size, Clock::time_point deadline) {
    while (true) {
      const ssize_t n = ::recv(fd_, buffer, size, 0);
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EAGAIN && errno != EINTR) {
        return core::fail(fmt::format("receive failed: {}", std::strerror(errno)));
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, remaining_ms(deadline)) != 1)
        return core::fail("timed out waiting for the response");
    }
  }

 private:
  int fd_ = -1;
};

std::string build_request(const ClientRequest& request, const Url& url) {
  std::string out = fmt::format("{} {} HTTP/1.1\r\nHost: {}:{}\r\nConnection: close\r\n",
                                request.method, url.target, url.host, url.port);
  bool has_type = false;
  for (const auto& [name, value] : request.headers) {
    out += fmt::format("{}: {}\r\n", name, value);
    has_type = has_type || iequals(name, "content-type");
  }
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    if (!has_type) out += "Content-Type: application/json\r\n";
    out += fmt::format("Content-Length: {}\r\n", request.body.size());
  }
  out += "\r\n";
  out += request.body;
  return out;
}

// Runs the exchange, handing the response head to `on_head` and each body piece to
// `on_body` (which may stop it by returning false).
core::Result<int> exchange(const ClientRequest& request,
                           const std::function<void(const ResponseHead&)>& on_head,
                           const std::function<bool(std::string_view)>& on_body) {
  auto url = parse_url(request.url);
  if (!url) return core::Failure{url.error()};
  const auto deadline = Clock::now() + request.timeout;
  Socket socket;
  if (auto c = socket.connect(*url, deadline, request.timeout); !c) {
    return core::Failure{c.error()};
  }
  if (auto s = socket.send_all(build_request(request, *url), deadline); !s) {
    return core::Failure{s.error()};
  }
  ResponseParser parser(64 * 1024);
  parser.expect_response_to(request.method);
  char buffer[16 * 1024];
  std::string_view pending;
  bool paused = false;
  int status = 0;
  bool closed = false;
  while (true) {
    if (pending.empty() && !paused) {
      if (closed) {
        const FeedResult r = parser.finish();
        if (r.event == ParseEvent::message_complete) return status;
        return core::fail("the server closed the connection mid-response");
      }
      auto n = socket.receive(buffer, sizeof buffer, deadline);
      if (!n) return core::Failure{n.error()};
      if (*n == 0) {
        closed = true;
        continue;
      }
      pending = std::string_view(buffer, *n);
    }
    const FeedResult r = parser.feed(pending);
    pending.remove_prefix(r.consumed);
    paused = r.event != ParseEvent::need_more;
    switch (r.event) {
      case ParseEvent::need_more:
        break;
      case ParseEvent::head_complete:
        if (parser.is_interim()) break;
        status = parser.head().status;
        on_head(parser.head());
        break;
      case ParseEvent::body: {
        const auto chunk = parser.body_chunk();
        if (!on_body(std::string_view(chunk.data(), chunk.size()))) return status;
        break;
      }
      case ParseEvent::message_complete:
        if (status != 0) return status;
        break;  // the end of a 1xx
      case ParseEvent::error:
        return core::fail(fmt::format("malformed response: {}", parser.error().reason));
    }
  }
}

// "8080" → 8080; nullopt unless it is digits only and 1..65535.
std::optional<uint16_t> parse_port(std::string_view digits) {
  if (digits.empty() || digits.size() > 5) return std::nullopt;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  unsigned value = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (value < 1 || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

core::Result<uint16_t> port_of(std::string_view digits, std::string_view url) {
  if (auto port = parse_port(digits)) return *port;
  return core::fail(fmt::format("invalid port '{}' in URL '{}': a port is a number from 1 to 65535",
                                digits, url));
}

// One lookup's result, shared by the thread that runs it and the caller that waits for it
// (for a while): whichever lets go last frees the addresses.
struct Lookup {
  std::mutex mutex;
  std::condition_variable answered;
  bool done = false;
  int rc = 0;
  addrinfo* found = nullptr;
  ~Lookup() {
    if (found != nullptr) freeaddrinfo(found);
  }
};

}  // namespace

core::Result<Addresses> resolve(const std::string& host, uint16_t port,
                                std::chrono::milliseconds timeout, AddressLookup lookup) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  const std::string service = std::to_string(port);
  // An address (the control plane's usual 127.0.0.1): nothing to look up, no thread.
  addrinfo numeric_hints = hints;
  numeric_hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), service.c_str(), &numeric_hints, &found) == 0) {
    return Addresses(found, freeaddrinfo);
  }
  if (!lookup) lookup = ::getaddrinfo;
  auto state = std::make_shared<Lookup>();
  try {
    std::thread([state, host, service, hints, lookup = std::move(lookup)] {
      addrinfo* result = nullptr;
      const int rc = lookup(host.c_str(), service.c_str(), &hints, &result);
      std::lock_guard lock(state->mutex);
      state->rc = rc;
      state->found = rc == 0 ? result : nullptr;
      state->done = true;
      state->answered.notify_all();
    }).detach();
  } catch (const std::system_error& e) {
    return core::fail(fmt::format("cannot resolve {}: {}", host, e.what()));
  }
  std::unique_lock lock(state->mutex);
  if (!state->answered.wait_for(lock, timeout, [&] { return state->done; })) {
    return core::fail(
        fmt::format("cannot resolve {}: no answer within {} ms", host, timeout.count()));
  }
  if (state->rc != 0) {
    return core::fail(fmt::format("cannot resolve {}: {}", host, gai_strerror(state->rc)));
  }
  if (state->found == nullptr)
    return core::fail(fmt::format("cannot resolve {}: no address", host));
  return Addresses(std::exchange(state->found, nullptr), freeaddrinfo);
}

core::Result<Url> parse_url(std::string_view text) {
  constexpr std::string_view kScheme = "http://";
  if (text.substr(0, kScheme.size()) != kScheme) {
    return core::fail(fmt::format("unsupported URL '{}': only http:// URLs are supported", text));
  }
  std::string_view rest = text.substr(kScheme.size());
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  Url url;
  url.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  std::string_view host = authority;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return core::fail(fmt::format("invalid URL '{}'", text));
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return core::fail(fmt::format("invalid URL '{}'", text));
      auto port = port_of(after.substr(1), text);
      if (!port) return core::Failure{port.error()};
      url.port = *port;
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    auto port = port_of(authority.substr(colon + 1), text);
    if (!port) return core::Failure{port.error()};
    url.port = *port;
  }
  if (host.empty()) return core::fail(fmt::format("invalid URL '{}': no host", text));
  url.host = std::string(host);
  return url;
}

std::string ClientResponse::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return v;
  }
  return "";
}

core::Result<ClientResponse> send_request(const ClientRequest& request) {
  ClientResponse response;
  bool too_large = false;
  auto status = exchange(
      request,
      [&](const ResponseHead& head) {
        for (const Header& h : head.headers)
          response.headers.emplace_back(h.name, h.value);
      },
      [&](std::string_view data) {
        if (response.body.size() + data.size() > request.max_response_bytes) {
          too_large = true;
          return false;
        }
        response.body.append(data);
        return true;
      });
  if (!status) return core::Failure{status.error()};
  if (too_large) return core::fail("the response is larger than allowed");
  response.status = *status;
  return response;
}

}  // namespace glidepath::http
