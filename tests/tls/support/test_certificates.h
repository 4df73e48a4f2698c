// Certificates made at test time with OpenSSL's C API (no `openssl` command, no files in
// the repository that expire): a CA, and leaf certificates it signs with the names,
// validity and key type a test asks for, as PEM text or PEM files. Used by the TLS unit
// tests and by the integration tests, whose TLS client verifies against the CA.
//
// Every call makes fresh keys: two leaves issued with the same spec are different
// certificates. An EC P-256 key takes well under a millisecond; an RSA 2048 one tens of
// milliseconds, so tests use EC unless RSA is the point.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace glidepath::testing {

enum class KeyType { ec_p256, rsa_2048 };

// What a leaf certificate says. Times are relative to now; an already expired
// certificate has both in the past.
struct LeafSpec {
  std::string common_name = "localhost";
  std::vector<std::string> dns_names{};     // subjectAltName DNS entries ("*.example.com" too)
  std::vector<std::string> ip_addresses{};  // subjectAltName IP entries ("127.0.0.1", "::1")
  KeyType key = KeyType::ec_p256;
  std::chrono::seconds not_before = -std::chrono::hours(1);
  std::chrono::seconds not_after = std::chrono::hours(24);
};

// A certificate (PEM, leaf only) and its private key (PEM, PKCS#8).
struct PemPair {
  std::string cert;
  std::string key;
};

// Where a PemPair was written.
struct CertificateFiles {
  std::string cert;
  std::string key;
};

class TestCa {
 public:
  explicit TestCa(std::string common_name = "Glidepath Test CA", KeyType key = KeyType::ec_p256);
  ~TestCa();
  TestCa(TestCa&&) noexcept;
  TestCa& operator=(TestCa&&) noexcept;
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  const std::string& cert_pem() const;
  // Writes the CA certificate to dir/name and returns the path (what a client trusts).
  std::string write_cert(const std::string& dir, const std::string& name = "ca.crt") const;

  // A new key and a certificate for it signed by this CA: serverAuth, CA:FALSE.
  PemPair issue(const LeafSpec& spec) const;
  // The same, written to dir/NAME.crt and dir/NAME.key.
  CertificateFiles issue_files(const LeafSpec& spec, const std::string& dir,
                               const std::string& name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A PEM private key that belongs to no certificate.
std::string new_key_pem(KeyType key = KeyType::ec_p256);

// The subject of the first certificate in `pem`, as OpenSSL's one-line form
// ("/CN=api.example.com"), or "" when it holds none.
std::string subject_of_pem(std::string_view pem);

// Writes `text` to `path` (created or truncated in place).
void write_file(const std::string& path, std::string_view text);
// Writes `text` to a temporary file beside `path`, then renames it over `path`: readers see
// the old file or the new one, never half of one (how certificates should be replaced).
void replace_file(const std::string& path, std::string_view text);
// Replaces a certificate and its key, each by rename (both written first, then the
// certificate renamed, then the key).
void replace_pair(const CertificateFiles& files, const PemPair& pair);

}  // namespace glidepath::testing
