// API keys as bytes (SPEC section 5): making a new key, and the SHA-256 digest under which
// the store and the gateway's key table know it. The key itself is shown once, at
// creation, and never kept: neither in the store nor in any log, event or error.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace glidepath::access {

// A key is "gp_" + 52 lowercase base32 characters (32 bytes from the OS CSPRNG): 55
// bytes, so its SHA-256 is a single compression block. The prefix makes a leaked key
// recognisable to secret scanners and to people.
inline constexpr std::string_view kKeyPrefix = "gp_";
inline constexpr size_t kKeyLength = 55;
// How many leading characters are kept for display ("gp_7kq2x…"): the prefix and five
// characters, 25 bits — enough to tell keys apart in a list, far too few to guess one.
inline constexpr size_t kDisplayPrefixLength = 8;

std::string generate_key();

using KeyDigest = std::array<uint8_t, 32>;

// SHA-256 of the key's bytes (OpenSSL's libcrypto, SHA-NI where the CPU has it). Usable on
// the request path: no allocation, no lock (the digest algorithm is fetched once).
KeyDigest key_digest(std::string_view key);
// Lowercase hex of key_digest: what access::ApiKeyRecord::key_hash holds.
std::string key_hash_hex(std::string_view key);
std::string to_hex(const KeyDigest& digest);
// 64 hex digits (either case) → the digest; nullopt for anything else.
std::optional<KeyDigest> parse_digest_hex(std::string_view hex);
// The first kDisplayPrefixLength characters of a key.
std::string display_prefix(std::string_view key);

// A plausible key to look up: 1..256 bytes of visible ASCII. Anything else is answered
// 403 without hashing (a header can carry up to the header limit).
bool plausible_key(std::string_view presented);

}  // namespace glidepath::access
