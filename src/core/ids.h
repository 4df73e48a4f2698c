// Identifiers that sort by creation time (ULID layout: 48 bits of milliseconds, then 80
// random bits, in Crockford base32), with a short type prefix: "dep_01JDX...".
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"

namespace glidepath::core {

std::string make_id(std::string_view prefix, TimePoint now);

// `bytes` bytes from the operating system's CSPRNG, as lowercase base32 text.
std::string random_token(size_t bytes);

}  // namespace glidepath::core
