// The text form of a SparseHistogram's buckets, as a fleet's gateways store their metric
// windows in the shared database (SPEC section 9): "index:count" pairs in increasing index
// order, joined by commas ("12:3,40:1"); an empty histogram is the empty string. Decimal
// numbers without signs, spaces or leading zeros, so every histogram has exactly one
// spelling and decode(encode(h)) == h's buckets.
//
// The text comes back from a database other processes write to, so decoding trusts
// nothing: every malformed, overflowing, unordered or over-long input is an error value
// naming where it went wrong, never a crash, an exception or a silently clipped value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "metrics/histogram.h"

namespace glidepath::metrics {

// The longest text decode_buckets accepts: every bucket present with the widest index and
// count ("1343:4294967295,").
inline constexpr size_t kMaxEncodedBucketsLength = kBucketCount * 16;

std::string encode_buckets(std::span<const SparseHistogram::Bucket> buckets);
inline std::string encode_buckets(const SparseHistogram& histogram) {
  return encode_buckets(histogram.buckets());
}

// Parses the text encode_buckets makes. Refused: anything but digits, ':' and ','; empty
// or zero-led numbers; indices not strictly increasing or beyond the last bucket; counts
// of 0 or above 2^32-1; text longer than kMaxEncodedBucketsLength.
core::Result<std::vector<SparseHistogram::Bucket>> decode_buckets(std::string_view text);

// decode_buckets, then SparseHistogram::from_parts: a stored histogram, checked whole.
core::Result<SparseHistogram> decode_histogram(std::string_view buckets_text, uint64_t sum,
                                               int64_t min, int64_t max);

}  // namespace glidepath::metrics
