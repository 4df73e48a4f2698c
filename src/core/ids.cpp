#include "core/ids.h"

#include <sys/random.h>

#include <array>
#include <cstdint>
#include <stdexcept>

namespace glidepath::core {
namespace {

constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void fill_random(uint8_t* out, size_t n) {
  size_t done = 0;
  while (done < n) {
    const ssize_t got = getrandom(out + done, n - done, 0);
    if (got < 0) throw std::runtime_error("getrandom failed");  // only at start-up paths
    done += static_cast<size_t>(got);
  }
}

// Base32 of a byte string, 5 bits at a time, most significant first.
std::string base32(const uint8_t* bytes, size_t n, const char* alphabet) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    buffer = (buffer << 8) | bytes[i];
    bits += 8;
    while (bits >= 5) {
      out.push_back(alphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(alphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

}  // namespace

std::string make_id(std::string_view prefix, TimePoint now) {
  // 16 bytes = 6 bytes of time + 10 random; 26 base32 characters as ULID.
  std::array<uint8_t, 16> raw{};
  const auto ms = static_cast<uint64_t>(to_epoch_micros(now) / 1000);
  for (int i = 0; i < 6; ++i)
    raw[static_cast<size_t>(i)] = static_cast<uint8_t>(ms >> (40 - 8 * i));
  fill_random(raw.data() + 6, 10);
  // ULID: 26 characters hold 130 bits, so the 128 bits follow two zero bits and the
  // first 10 characters are exactly the 48-bit timestamp. Character i holds bits
  // [5i - 2, 5i + 3) of `raw`, most significant first; bits before 0 are the padding.
  std::string id(prefix);
  id += '_';
  for (int i = 0; i < 26; ++i) {
    unsigned value = 0;
    for (int bit = 5 * i - 2; bit < 5 * i + 3; ++bit) {
      const bool set = bit >= 0 && ((raw[static_cast<size_t>(bit / 8)] >> (7 - bit % 8)) & 1u) != 0;
      value = (value << 1) | (set ? 1u : 0u);
    }
    id += kCrockford[value];
  }
  return id;
}

std::string random_token(size_t bytes) {
  std::string raw(bytes, '\0');
  fill_random(reinterpret_cast<uint8_t*>(raw.data()), bytes);
  return base32(reinterpret_cast<const uint8_t*>(raw.data()), bytes,
                "abcdefghijklmnopqrstuvwxyz234567");
}

}  // namespace glidepath::core
