#include "access/key_material.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

#include "core/ids.h"

namespace glidepath::access {
namespace {

constexpr size_t kKeyRandomBytes = 32;
constexpr char kHexDigits[] = "0123456789abcdef";

// A broken libcrypto (no default provider) leaves the gateway unable to recognise any key:
// there is no sensible request-path answer, so stop loudly instead of returning a digest
// that might match another one.
[[noreturn]] void digest_failed(const char* what) {
  std::fprintf(stderr, "glidepath: SHA-256 unavailable (%s)\n", what);
  std::abort();
}

// Fetched once for the process: EVP_MD_fetch looks the algorithm up in the provider
// store under a lock, which the one-shot SHA256() would do on every call. Never freed:
// thread-local contexts may still use it while the process exits.
const EVP_MD* sha256() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) digest_failed("EVP_MD_fetch");
  return md;
}

// One digest context per thread, reinitialised per key: no allocation per call.
class ThreadDigestContext {
 public:
  ThreadDigestContext() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr) digest_failed("EVP_MD_CTX_new");
  }
  ~ThreadDigestContext() { EVP_MD_CTX_free(ctx_); }
  ThreadDigestContext(const ThreadDigestContext&) = delete;
  ThreadDigestContext& operator=(const ThreadDigestContext&) = delete;
  EVP_MD_CTX* get() const { return ctx_; }

 private:
  EVP_MD_CTX* ctx_;
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string generate_key() {
  // random_token is lowercase RFC 4648 base32 without padding: 32 bytes → 52 characters.
  std::string key(kKeyPrefix);
  key += core::random_token(kKeyRandomBytes);
  return key;
}

KeyDigest key_digest(std::string_view key) {
  const EVP_MD* md = sha256();
  thread_local ThreadDigestContext context;
  EVP_MD_CTX* ctx = context.get();
  KeyDigest digest{};
  unsigned int length = 0;
  if (EVP_DigestInit_ex2(ctx, md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx, key.data(), key.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, digest.data(), &length) != 1 || length != digest.size()) {
    digest_failed("EVP_Digest");
  }
  return digest;
}

std::string key_hash_hex(std::string_view key) {
  return to_hex(key_digest(key));
}

std::string to_hex(const KeyDigest& digest) {
  std::string hex;
  hex.reserve(digest.size() * 2);
  for (const uint8_t byte : digest) {
    hex += kHexDigits[byte >> 4];
    hex += kHexDigits[byte & 0x0f];
  }
  return hex;
}

std::optional<KeyDigest> parse_digest_hex(std::string_view hex) {
  KeyDigest digest{};
  if (hex.size() != digest.size() * 2) return std::nullopt;
  for (size_t i = 0; i < digest.size(); ++i) {
    const int high = hex_value(hex[2 * i]);
    const int low = hex_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    digest[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return digest;
}

std::string display_prefix(std::string_view key) {
  return std::string(key.substr(0, kDisplayPrefixLength));
}

bool plausible_key(std::string_view presented) {
  if (presented.empty() || presented.size() > 256) return false;
  for (const char c : presented) {
    // Visible ASCII (RFC 5234 VCHAR): no space, no control characters, no obs-text.
    if (c < '!' || c > '~') return false;
  }
  return true;
}

}  // namespace glidepath::access
