#include "http/client.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include "core/sigpipe.h"
#include "http/message.h"
#include "http/syntax.h"

namespace glidepath::http {

namespace {

// ---------------------------------------------------------------------------------------
// libcurl, once per process.

struct CurlLibrary {
  CURLcode init = CURLE_OK;
  // CURL_VERSION_ASYNCHDNS: names are resolved on a thread of libcurl's own (Debian builds
  // the threaded resolver), so CURLOPT_TIMEOUT_MS covers resolution. Without it the
  // blocking resolver could only be bounded with SIGALRM, which a multi-threaded process
  // cannot use (CURLOPT_NOSIGNAL below).
  bool threaded_resolver = false;
};

const CurlLibrary& curl_library() {
  static std::once_flag once;
  static CurlLibrary library;
  // curl_global_init is not safe to race with itself, nor with a handle being used.
  std::call_once(once, [] {
    library.init = curl_global_init(CURL_GLOBAL_DEFAULT);
    const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
    library.threaded_resolver = info != nullptr && (info->features & CURL_VERSION_ASYNCHDNS) != 0;
  });
  return library;
}

// ---------------------------------------------------------------------------------------
// URLs.

struct UrlFree {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
using UrlHandle = std::unique_ptr<CURLU, UrlFree>;

// One part of a parsed URL; nullopt when the URL has none.
std::optional<std::string> url_part(CURLU* url, CURLUPart part, unsigned flags = 0) {
  char* text = nullptr;
  if (curl_url_get(url, part, &text, flags) != CURLUE_OK || text == nullptr) return std::nullopt;
  std::string out(text);
  curl_free(text);
  return out;
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

core::Failure bad_port(std::string_view digits, std::string_view url) {
  return core::fail(fmt::format("invalid port '{}' in URL '{}': a port is a number from 1 to 65535",
                                digits, url));
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

struct ParsedUrl {
  Url url;
  UrlHandle handle;  // what libcurl connects to
};

core::Result<ParsedUrl> parse(std::string_view text) {
  const size_t separator = text.find("://");
  if (separator == std::string_view::npos) {
    return core::fail(
        fmt::format("invalid URL '{}': it needs a scheme, like http://HOST:PORT/", text));
  }
  const std::string scheme = lower(text.substr(0, separator));
  if (scheme != "http" && scheme != "https") {
    return core::fail(
        fmt::format("unsupported URL '{}': only http:// and https:// URLs are supported", text));
  }
  // The port as written, checked before libcurl sees it: libcurl reads "host:/" as the
  // default port, and a port is something we want said exactly or not at all.
  std::string_view authority = text.substr(separator + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);  // refused below, with its own message
  }
  // libcurl would read "http:///v1" as the host v1.
  if (authority.empty()) return core::fail(fmt::format("invalid URL '{}': no host", text));
  std::optional<std::string_view> port_text;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return core::fail(fmt::format("invalid URL '{}': an IPv6 address lacks its ']'", text));
    }
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return core::fail(fmt::format("invalid URL '{}'", text));
      port_text = after.substr(1);
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    port_text = authority.substr(colon + 1);
  }
  if (port_text && !parse_port(*port_text)) return bad_port(*port_text, text);

  ParsedUrl parsed;
  (void)curl_library();
  parsed.handle.reset(curl_url());
  if (!parsed.handle) return core::fail("out of memory parsing a URL");
  const std::string owned(text);
  // As written: no dot segments removed (the old client sent the path untouched), and a
  // user or password in the URL refused (credentials go in headers, not in URLs that end
  // up in logs).
  const CURLUcode set = curl_url_set(parsed.handle.get(), CURLUPART_URL, owned.c_str(),
                                     CURLU_PATH_AS_IS | CURLU_DISALLOW_USER);
  switch (set) {
    case CURLUE_OK:
      break;
    case CURLUE_USER_NOT_ALLOWED:
      return core::fail(
          fmt::format("invalid URL '{}': a user or password in the URL is not supported", text));
    case CURLUE_NO_HOST:
      return core::fail(fmt::format("invalid URL '{}': no host", text));
    case CURLUE_BAD_PORT_NUMBER:
      return core::fail(
          fmt::format("invalid port in URL '{}': a port is a number from 1 to 65535", text));
    default:
      return core::fail(fmt::format("invalid URL '{}': {}", text, curl_url_strerror(set)));
  }
  Url& url = parsed.url;
  url.scheme = scheme;
  auto host = url_part(parsed.handle.get(), CURLUPART_HOST);
  if (!host || host->empty() || *host == "[]") {
    return core::fail(fmt::format("invalid URL '{}': no host", text));
  }
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  url.host = std::move(*host);
  auto port = url_part(parsed.handle.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  const auto number = port ? parse_port(*port) : std::nullopt;
  if (!number) return bad_port(port.value_or(""), text);
  url.port = *number;
  auto path = url_part(parsed.handle.get(), CURLUPART_PATH);
  url.target = path && !path->empty() ? std::move(*path) : std::string(1, '/');
  if (auto query = url_part(parsed.handle.get(), CURLUPART_QUERY)) {
    url.target += '?';
    url.target += *query;
  }
  return parsed;
}

// ---------------------------------------------------------------------------------------
// One exchange.

struct EasyFree {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct ListFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

struct Exchange {
  ClientResponse* response = nullptr;
  size_t max_body = 0;
  bool too_large = false;
  bool certificate_requested = false;  // the TLS server asked for a client certificate
};

// Whether the server asked for a client certificate, for the error when it then drops the
// connection: under TLS 1.3 the client only learns of the refusal when it next reads or
// writes, and libcurl reports that as a failed send or receive. (libcurl is built on
// OpenSSL here; with another TLS library the option is refused and this stays unknown.)
int exchange_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

int on_certificate_request(SSL* ssl, X509**, EVP_PKEY**) {
  auto* exchange =
      static_cast<Exchange*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), exchange_index()));
  if (exchange != nullptr) exchange->certificate_requested = true;
  return 0;  // no certificate: the handshake goes on without one
}

CURLcode on_tls_context(CURL*, void* context, void* user) {
  auto* tls = static_cast<SSL_CTX*>(context);
  SSL_CTX_set_ex_data(tls, exchange_index(), user);
  SSL_CTX_set_client_cert_cb(tls, &on_certificate_request);
  return CURLE_OK;
}

size_t on_body(char* data, size_t, size_t size, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  std::string& body = exchange->response->body;
  if (body.size() + size > exchange->max_body) {
    exchange->too_large = true;
    return 0;  // libcurl stops with CURLE_WRITE_ERROR
  }
  body.append(data, size);
  return size;
}

// Each header line of the response, the status line first ("HTTP/1.1 200 OK"). A 1xx
// answer's headers are forgotten when the real status line comes.
size_t on_header(char* data, size_t, size_t size, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  auto& headers = exchange->response->headers;
  std::string_view line(data, size);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
    line.remove_suffix(1);
  if (line.substr(0, 5) == "HTTP/") {
    headers.clear();
  } else if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
    if (!headers.empty()) {  // an obsolete folded line continues the previous value
      headers.back().second += ' ';
      headers.back().second += syntax::trim_ows(line);
    }
  } else if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
    headers.emplace_back(std::string(line.substr(0, colon)),
                         std::string(syntax::trim_ows(line.substr(colon + 1))));
  }
  return size;
}

// Sockets that a hook's command, started meanwhile on another thread, does not inherit.
curl_socket_t open_socket(void*, curlsocktype, curl_sockaddr* address) {
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

bool has_line_break(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

std::string with_detail(std::string what, const char* detail) {
  if (detail != nullptr && *detail != '\0') what += fmt::format(" ({})", detail);
  return what;
}

// What failed, in words: the caller prefixes the server's scheme://host:port.
std::string describe(CURLcode code, CURL* easy, const char* detail, const Url& url,
                     const ClientRequest& request, const Exchange& exchange) {
  const long long ms = request.timeout.count();
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:  // libcurl's detail only repeats the name
      return fmt::format("cannot resolve {}", url.host);
    case CURLE_COULDNT_CONNECT: {
      long os_errno = 0;
      curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
      if (os_errno != 0) {
        return fmt::format("cannot connect: {}", std::strerror(static_cast<int>(os_errno)));
      }
      return with_detail("cannot connect", detail);
    }
    case CURLE_OPERATION_TIMEDOUT: {
      // Which step the timeout stopped, from how far the exchange got: no name yet, no
      // TCP connection (libcurl records the local port once connected), no TLS session,
      // no answer yet, or an answer still arriving.
      curl_off_t resolved = 0;
      long local_port = 0;
      curl_off_t handshaken = 0;
      curl_off_t first_byte = 0;
      curl_easy_getinfo(easy, CURLINFO_NAMELOOKUP_TIME_T, &resolved);
      curl_easy_getinfo(easy, CURLINFO_LOCAL_PORT, &local_port);
      curl_easy_getinfo(easy, CURLINFO_APPCONNECT_TIME_T, &handshaken);
      curl_easy_getinfo(easy, CURLINFO_STARTTRANSFER_TIME_T, &first_byte);
      if (resolved == 0) {
        return fmt::format("cannot resolve {}: no answer within {} ms (timed out)", url.host, ms);
      }
      if (local_port == 0) return fmt::format("cannot connect: timed out after {} ms", ms);
      if (url.tls() && handshaken == 0) {
        return fmt::format("the TLS handshake timed out after {} ms", ms);
      }
      if (first_byte == 0) return fmt::format("no response: timed out after {} ms", ms);
      return fmt::format("timed out after {} ms reading the response", ms);
    }
    case CURLE_PEER_FAILED_VERIFICATION:
      return with_detail(
          request.tls.ca_file.empty()
              ? "the server's certificate is not trusted by the system's CAs"
              : fmt::format("the server's certificate is not trusted by the CA file {}",
                            request.tls.ca_file),
          detail);
    case CURLE_SSL_CACERT_BADFILE:
      return with_detail(request.tls.ca_file.empty()
                             ? std::string("cannot read the system's CA certificates")
                             : fmt::format("cannot use the CA file {}", request.tls.ca_file),
                         detail);
    case CURLE_SSL_CERTPROBLEM:
      return with_detail(
          fmt::format("cannot use the client certificate {}{}", request.tls.client_cert,
                      request.tls.client_key.empty() ? "" : " with key " + request.tls.client_key),
          detail);
    case CURLE_SSL_CONNECT_ERROR:
      return with_detail("the TLS handshake failed", detail);
    case CURLE_FILESIZE_EXCEEDED:
      return fmt::format("the response is larger than allowed ({} bytes)",
                         request.max_response_bytes);
    case CURLE_WRITE_ERROR:
      if (exchange.too_large) {
        return fmt::format("the response is larger than allowed ({} bytes)",
                           request.max_response_bytes);
      }
      return with_detail("the response could not be kept", detail);
    case CURLE_GOT_NOTHING:
      return "the server closed the connection without answering";
    case CURLE_PARTIAL_FILE:
      return with_detail("the server closed the connection mid-response", detail);
    case CURLE_WEIRD_SERVER_REPLY:
      return with_detail("malformed response", detail);
    case CURLE_SEND_ERROR:
      return with_detail("sending the request failed", detail);
    case CURLE_RECV_ERROR:
      return with_detail("receiving the response failed", detail);
    default:
      return with_detail(curl_easy_strerror(code), detail);
  }
}

// The easy handle's options; false when libcurl refused one (out of memory, or an option
// this libcurl lacks).
bool configure(CURL* easy, const ClientRequest& request, const ParsedUrl& url, curl_slist* headers,
               Exchange& exchange, char* error_buffer) {
  const bool has_body =
      !request.body.empty() || request.method == "POST" || request.method == "PUT";
  // The whole exchange, and connecting (resolution included) within it; libcurl reads 0
  // as "no timeout", which a caller asking for 0 ms does not mean.
  const long timeout_ms = static_cast<long>(std::max<long long>(1, request.timeout.count()));
  bool ok = curl_easy_setopt(easy, CURLOPT_CURLU, url.handle.get()) == CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    ok = ok && curl_easy_setopt(easy, option, value) == CURLE_OK;
  };
  set(CURLOPT_ERRORBUFFER, error_buffer);
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  set(CURLOPT_FOLLOWLOCATION, 0L);
  // No signals (this process has many threads): the threaded resolver is what bounds a
  // name lookup (see CurlLibrary). QUICK_EXIT: a lookup still running at the timeout is
  // left to finish on its own thread instead of being waited for at cleanup, which would
  // stretch the timeout to however long the resolver takes.
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_QUICK_EXIT, 1L);
  set(CURLOPT_TIMEOUT_MS, timeout_ms);
  set(CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  // The control plane talks to its own admin API and its hooks directly: an http_proxy in
  // the environment is not followed (CURLOPT_PROXY "" turns that off).
  set(CURLOPT_PROXY, "");
  set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  set(CURLOPT_OPENSOCKETFUNCTION, &open_socket);
  set(CURLOPT_HTTPHEADER, headers);
  set(CURLOPT_HEADERFUNCTION, &on_header);
  set(CURLOPT_HEADERDATA, &exchange);
  set(CURLOPT_WRITEFUNCTION, &on_body);
  set(CURLOPT_WRITEDATA, &exchange);
  // A Content-Length over the limit is refused before any of the body is read.
  set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.max_response_bytes));
  if (request.method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else if (has_body) {
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    set(CURLOPT_POSTFIELDS, request.body.data());
    if (request.method != "POST") set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (request.method == "GET") {
    set(CURLOPT_HTTPGET, 1L);
  } else {
    set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  if (url.url.tls()) {
    if (request.tls.client_cert.empty()) {
      // Optional: a libcurl on another TLS library refuses it, and only an error's
      // wording depends on it.
      (void)curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, &on_tls_context);
      (void)curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, &exchange);
    }
    set(CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    set(CURLOPT_SSL_VERIFYPEER, request.tls.verify ? 1L : 0L);
    set(CURLOPT_SSL_VERIFYHOST, request.tls.verify ? 2L : 0L);
    if (!request.tls.ca_file.empty()) {
      // Instead of the system's CAs, not beside them: no CA directory either.
      set(CURLOPT_CAINFO, request.tls.ca_file.c_str());
      set(CURLOPT_CAPATH, static_cast<const char*>(nullptr));
    }
    if (!request.tls.client_cert.empty()) {
      set(CURLOPT_SSLCERTTYPE, "PEM");
      set(CURLOPT_SSLCERT, request.tls.client_cert.c_str());
      if (!request.tls.client_key.empty()) set(CURLOPT_SSLKEY, request.tls.client_key.c_str());
    }
  }
  return ok;
}

// Lookup: one resolve()'s result, shared by the thread that runs it and the caller that
// waits for it (for a while): whichever lets go last frees the addresses.
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

std::string Url::authority() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

core::Result<Url> parse_url(std::string_view text) {
  auto parsed = parse(text);
  if (!parsed) return core::Failure{parsed.error()};
  return std::move(parsed->url);
}

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

std::string ClientResponse::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return v;
  }
  return "";
}

std::string without_server(std::string_view message, std::string_view url) {
  auto parsed = parse_url(url);
  if (!parsed) return std::string(message);
  const std::string prefix = fmt::format("{}://{}: ", parsed->scheme, parsed->authority());
  if (message.substr(0, prefix.size()) == prefix) message.remove_prefix(prefix.size());
  return std::string(message);
}

void initialize_client() {
  (void)curl_library();
}

bool name_resolution_is_bounded() {
  return curl_library().threaded_resolver;
}

core::Result<ClientResponse> send_request(const ClientRequest& request) {
  const CurlLibrary& library = curl_library();
  auto url = parse(request.url);
  if (!url) return core::Failure{url.error()};
  const std::string server = fmt::format("{}://{}", url->url.scheme, url->url.authority());
  auto failed = [&](const std::string& what) {
    return core::fail(fmt::format("{}: {}", server, what));
  };
  if (library.init != CURLE_OK) {
    return failed(fmt::format("libcurl did not start: {}", curl_easy_strerror(library.init)));
  }

  std::unique_ptr<curl_slist, ListFree> headers;
  auto add_header = [&](const std::string& line) {
    curl_slist* grown = curl_slist_append(headers.get(), line.c_str());
    if (grown == nullptr) return false;
    (void)headers.release();
    headers.reset(grown);
    return true;
  };
  const bool has_body =
      !request.body.empty() || request.method == "POST" || request.method == "PUT";
  bool has_type = false;
  bool has_connection = false;
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || has_line_break(name) || has_line_break(value) ||
        name.find(':') != std::string::npos) {
      return failed(fmt::format("invalid request header '{}'", name));
    }
    // libcurl reads "Name:" as "remove the header" and "Name;" as "send it empty".
    if (!add_header(value.empty() ? name + ";" : name + ": " + value))
      return failed("out of memory");
    has_type = has_type || iequals(name, "content-type");
    has_connection = has_connection || iequals(name, "connection");
  }
  if (has_body && !has_type && !add_header("Content-Type: application/json"))
    return failed("out of memory");
  if (!has_connection && !add_header("Connection: close")) return failed("out of memory");
  // No "Expect: 100-continue" before a large body: the servers here answer at once.
  if (!add_header("Expect:")) return failed("out of memory");

  ClientResponse response;
  Exchange exchange;
  exchange.response = &response;
  exchange.max_body = request.max_response_bytes;
  char error_buffer[CURL_ERROR_SIZE] = {};
  const core::SigpipeBlock no_sigpipe;
  std::unique_ptr<CURL, EasyFree> easy(curl_easy_init());
  if (!easy) return failed("libcurl could not start a request");
  if (!configure(easy.get(), request, *url, headers.get(), exchange, error_buffer)) {
    return failed("libcurl refused an option (out of memory?)");
  }
  const CURLcode code = curl_easy_perform(easy.get());
  if (code != CURLE_OK) {
    std::string what = describe(code, easy.get(), error_buffer, url->url, request, exchange);
    const bool dropped = code == CURLE_SEND_ERROR || code == CURLE_RECV_ERROR ||
                         code == CURLE_SSL_CONNECT_ERROR || code == CURLE_GOT_NOTHING;
    if (dropped && exchange.certificate_requested) {
      what += "; the server asked for a client certificate, and none is configured";
    }
    return failed(what);
  }
  long status = 0;
  curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

}  // namespace glidepath::http
