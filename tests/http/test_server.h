// Real servers for the control-plane client's tests, on 127.0.0.1 and a free port: an
// HTTP/1.1 server, plain or TLS (OpenSSL), that answers one connection at a time with
// what the test says and records what it was sent; a throwaway PKI made at test time;
// and a listener that never answers.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace glidepath::testing {

// PEM files written into a directory: a CA, a server certificate it signs for 127.0.0.1,
// ::1 and localhost, a client certificate it signs (CN "glidepath-test-client"), and a
// second CA that signed none of them. Throws std::runtime_error when OpenSSL fails.
struct TestPki {
  std::string ca_cert;
  std::string other_ca_cert;
  std::string server_cert;
  std::string server_key;
  std::string client_cert;
  std::string client_key;
};
TestPki make_test_pki(const std::filesystem::path& dir);

struct ReceivedRequest {
  std::string head;  // request line and headers, up to the blank line
  std::string body;
  std::string client_subject;  // the CN of the client certificate presented, if any
  std::string server_name;     // the SNI the client sent, if any
};

class TestHttpServer {
 public:
  struct Options {
    // Both set: TLS with this certificate; both empty: plain HTTP.
    std::string cert_file;
    std::string key_file;
    // Not empty: the TLS handshake requires a client certificate signed by these CAs.
    std::string client_ca_file;
    // The raw response to each request; default: 200 with "hello".
    std::function<std::string(const ReceivedRequest&)> answer;
  };
  // Listening when constructed; throws std::runtime_error when it cannot.
  explicit TestHttpServer(Options options);
  ~TestHttpServer();  // stops accepting and joins its thread
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  uint16_t port() const;
  // "https://127.0.0.1:PORT/path" (http:// without TLS); `host` replaces 127.0.0.1.
  std::string url(std::string_view path = "/", std::string_view host = "127.0.0.1") const;
  // Every request answered so far (each is recorded before its response is sent).
  std::vector<ReceivedRequest> requests() const;
  // Every TLS handshake that failed (OpenSSL's reason), waiting up to `patience` for the
  // first one.
  std::vector<std::string> failed_handshakes(
      std::chrono::milliseconds patience = std::chrono::seconds(5)) const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// Options for a plain HTTP server that answers with `answer`.
TestHttpServer::Options answering(std::function<std::string(const ReceivedRequest&)> answer);

// A socket on 127.0.0.1 that listens but never accepts: the kernel completes the TCP
// handshake and queues what the client sends, and nothing ever answers.
class SilentListener {
 public:
  SilentListener();
  ~SilentListener();
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// A raw HTTP/1.1 response with Content-Length and Connection: close.
std::string http_response(int status, std::string_view body,
                          std::vector<std::pair<std::string, std::string>> headers = {});

}  // namespace glidepath::testing
