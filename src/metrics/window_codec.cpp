#include "metrics/window_codec.h"

#include <fmt/format.h>

#include <charconv>
#include <iterator>
#include <limits>
#include <string>
#include <utility>

namespace glidepath::metrics {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// How a byte reads in a message: itself when printable, else its hex code.
std::string describe_byte(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x21 && byte <= 0x7e) return fmt::format("'{}'", c);
  return fmt::format("byte 0x{:02x}", byte);
}

// A cursor over the text that reads the grammar's pieces. A piece that fails records why
// (naming the entry and the offset) and returns false; the hot path builds no strings and
// no error values, since a controller decodes every gateway's rows every second.
class BucketParser {
 public:
  explicit BucketParser(std::string_view text) : text_(text) {}

  core::Result<std::vector<SparseHistogram::Bucket>> parse() {
    std::vector<SparseHistogram::Bucket> buckets;
    if (text_.empty()) return buckets;
    buckets.reserve(text_.size() / 4 + 1);
    while (true) {
      uint64_t index = 0;
      uint64_t count = 0;
      if (!number("index", kBucketCount - 1, index) || !expect(':') ||
          !number("count", std::numeric_limits<uint32_t>::max(), count)) {
        return core::fail(std::move(error_));
      }
      if (count == 0) {
        note_failure("a count of 0 (only non-zero buckets are written)");
        return core::fail(std::move(error_));
      }
      if (!buckets.empty() && index <= buckets.back().index) {
        note_failure(fmt::format("index {} does not follow {} in increasing order", index,
                                 buckets.back().index));
        return core::fail(std::move(error_));
      }
      buckets.push_back(
          SparseHistogram::Bucket{static_cast<uint16_t>(index), static_cast<uint32_t>(count)});
      if (position_ == text_.size()) return buckets;
      if (!expect(',')) return core::fail(std::move(error_));
      ++entry_;
    }
  }

 private:
  void note_failure(std::string_view what) {
    error_ = fmt::format("bucket text, entry {} (offset {}): {}", entry_, position_, what);
  }

  bool expect(char separator) {
    if (position_ == text_.size()) {
      note_failure(fmt::format("ends where '{}' was expected", separator));
      return false;
    }
    if (text_[position_] != separator) {
      note_failure(
          fmt::format("{} where '{}' was expected", describe_byte(text_[position_]), separator));
      return false;
    }
    ++position_;
    return true;
  }

  // A decimal number no larger than `limit` (which is below 2^32, so `value` cannot
  // overflow before the check stops it).
  bool number(std::string_view what, uint64_t limit, uint64_t& value) {
    const size_t start = position_;
    value = 0;
    while (position_ < text_.size() && is_digit(text_[position_])) {
      if (position_ > start && text_[start] == '0') {
        note_failure(fmt::format("the {} has a leading zero", what));
        return false;
      }
      value = value * 10 + static_cast<uint64_t>(text_[position_] - '0');
      if (value > limit) {
        note_failure(fmt::format("the {} is above {}", what, limit));
        return false;
      }
      ++position_;
    }
    if (position_ == start) {
      if (position_ == text_.size()) {
        note_failure(fmt::format("ends where the {} was expected", what));
      } else {
        note_failure(
            fmt::format("{} where the {} was expected", describe_byte(text_[position_]), what));
      }
      return false;
    }
    return true;
  }

  std::string_view text_;
  size_t position_ = 0;
  size_t entry_ = 0;
  std::string error_;
};

}  // namespace

std::string encode_buckets(std::span<const SparseHistogram::Bucket> buckets) {
  std::string text;
  text.reserve(buckets.size() * 8);
  for (const SparseHistogram::Bucket& bucket : buckets) {
    if (!text.empty()) text.push_back(',');
    fmt::format_to(std::back_inserter(text), "{}:{}", bucket.index, bucket.count);
  }
  return text;
}

core::Result<std::vector<SparseHistogram::Bucket>> decode_buckets(std::string_view text) {
  if (text.size() > kMaxEncodedBucketsLength) {
    return core::fail(
        fmt::format("bucket text is {} bytes long, more than the {} any histogram needs",
                    text.size(), kMaxEncodedBucketsLength));
  }
  return BucketParser(text).parse();
}

core::Result<SparseHistogram> decode_histogram(std::string_view buckets_text, uint64_t sum,
                                               int64_t min, int64_t max) {
  auto buckets = decode_buckets(buckets_text);
  if (!buckets) return core::Failure{buckets.error()};
  return SparseHistogram::from_parts(std::move(*buckets), sum, min, max);
}

}  // namespace glidepath::metrics
