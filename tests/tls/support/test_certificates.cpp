#include "tls/support/test_certificates.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace glidepath::testing {
namespace {

[[noreturn]] void fail(const std::string& what) {
  char reason[256] = "no OpenSSL error";
  if (const unsigned long code = ERR_get_error(); code != 0) {
    ERR_error_string_n(code, reason, sizeof reason);
  }
  ERR_clear_error();
  throw std::runtime_error("test certificates: " + what + ": " + reason);
}

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

PkeyPtr new_key(KeyType type) {
  EVP_PKEY* key = type == KeyType::ec_p256 ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
  if (key == nullptr) fail("generating a key");
  return PkeyPtr(key);
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(length));
}

std::string key_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    fail("writing a key as PEM");
  }
  return bio_text(bio.get());
}

std::string cert_pem_of(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) fail("writing a certificate as PEM");
  return bio_text(bio.get());
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (extension == nullptr) fail("making the extension " + value);
  const int added = X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
  if (added != 1) fail("adding the extension " + value);
}

// A certificate for `key` named `common_name`, valid over the given offsets from now,
// with a random serial; not yet signed and without extensions.
X509Ptr new_certificate(EVP_PKEY* key, const std::string& common_name,
                        std::chrono::seconds not_before, std::chrono::seconds not_after) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) fail("making a certificate");
  BIGNUM* serial = BN_new();
  if (serial == nullptr || BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get())) == nullptr) {
    BN_free(serial);
    fail("making a serial number");
  }
  BN_free(serial);
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(not_before.count())) ==
          nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(not_after.count())) ==
          nullptr) {
    fail("setting the validity");
  }
  if (X509_set_pubkey(cert.get(), key) != 1) fail("setting the public key");
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1) {
    fail("setting the subject " + common_name);
  }
  return cert;
}

std::string temporary_name_beside(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

}  // namespace

struct TestCa::Impl {
  PkeyPtr key;
  X509Ptr cert;
  std::string pem;
};

TestCa::TestCa(std::string common_name, KeyType key) : impl_(std::make_unique<Impl>()) {
  impl_->key = new_key(key);
  impl_->cert = new_certificate(impl_->key.get(), common_name, -std::chrono::hours(24),
                                std::chrono::hours(24 * 30));
  X509* cert = impl_->cert.get();
  if (X509_set_issuer_name(cert, X509_get_subject_name(cert)) != 1) fail("setting the CA issuer");
  add_extension(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
  add_extension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(cert, cert, NID_subject_key_identifier, "hash");
  if (X509_sign(cert, impl_->key.get(), EVP_sha256()) == 0) fail("signing the CA certificate");
  impl_->pem = cert_pem_of(cert);
}

TestCa::~TestCa() = default;
TestCa::TestCa(TestCa&&) noexcept = default;
TestCa& TestCa::operator=(TestCa&&) noexcept = default;

const std::string& TestCa::cert_pem() const {
  return impl_->pem;
}

std::string TestCa::write_cert(const std::string& dir, const std::string& name) const {
  const std::string path = dir + "/" + name;
  write_file(path, impl_->pem);
  return path;
}

PemPair TestCa::issue(const LeafSpec& spec) const {
  PkeyPtr key = new_key(spec.key);
  X509Ptr cert = new_certificate(key.get(), spec.common_name, spec.not_before, spec.not_after);
  X509* leaf = cert.get();
  X509* issuer = impl_->cert.get();
  if (X509_set_issuer_name(leaf, X509_get_subject_name(issuer)) != 1) fail("setting the issuer");
  add_extension(leaf, issuer, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(leaf, issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
  add_extension(leaf, issuer, NID_ext_key_usage, "serverAuth");
  add_extension(leaf, issuer, NID_authority_key_identifier, "keyid:always");
  std::string names;
  for (const std::string& dns : spec.dns_names)
    names += (names.empty() ? "DNS:" : ",DNS:") + dns;
  for (const std::string& ip : spec.ip_addresses)
    names += (names.empty() ? "IP:" : ",IP:") + ip;
  if (!names.empty()) add_extension(leaf, issuer, NID_subject_alt_name, names);
  if (X509_sign(leaf, impl_->key.get(), EVP_sha256()) == 0) fail("signing a certificate");
  return PemPair{cert_pem_of(leaf), key_pem(key.get())};
}

CertificateFiles TestCa::issue_files(const LeafSpec& spec, const std::string& dir,
                                     const std::string& name) const {
  const PemPair pair = issue(spec);
  CertificateFiles files{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
  write_file(files.cert, pair.cert);
  write_file(files.key, pair.key);
  return files;
}

std::string new_key_pem(KeyType key) {
  return key_pem(new_key(key).get());
}

std::string subject_of_pem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return "";
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!cert) return "";
  char text[512];
  X509_NAME_oneline(X509_get_subject_name(cert.get()), text, sizeof text);
  return text;
}

void write_file(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path);
}

namespace {
void rename_into_place(const std::string& temporary, const std::string& path) {
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw std::runtime_error("cannot rename " + temporary + " to " + path);
  }
}
}  // namespace

void replace_file(const std::string& path, std::string_view text) {
  const std::string temporary = temporary_name_beside(path);
  write_file(temporary, text);
  rename_into_place(temporary, path);
}

void replace_pair(const CertificateFiles& files, const PemPair& pair) {
  // Both written first, then two renames back to back: a reader comparing the two
  // between them (microseconds) is the only one to see a mismatched pair.
  const std::string cert = temporary_name_beside(files.cert);
  const std::string key = temporary_name_beside(files.key);
  write_file(cert, pair.cert);
  write_file(key, pair.key);
  rename_into_place(cert, files.cert);
  rename_into_place(key, files.key);
}

}  // namespace glidepath::testing
