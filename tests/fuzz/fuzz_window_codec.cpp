// Fuzz target for the bucket text of metrics/window_codec.h (STYLE.md habit 5): what a
// controller reads back from rows other processes wrote. Besides "no crash, no sanitizer
// report", it checks what the codec promises: text that decodes is the one canonical
// spelling of its buckets (it re-encodes to the same bytes), and the buckets it yields
// make a valid histogram whose own encoding decodes to it again. A broken promise traps,
// so libFuzzer keeps the input as a reproducer.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "metrics/histogram.h"
#include "metrics/window_codec.h"

namespace {

using namespace glidepath::metrics;

void require(bool holds, const char* what) {
  if (holds) return;
  std::fprintf(stderr, "fuzz_window_codec: invariant broken: %s\n", what);
  __builtin_trap();
}

void check_decode(std::string_view text) {
  const auto buckets = decode_buckets(text);
  if (!buckets) {
    require(!buckets.error().message.empty(), "a decode error has a message");
    return;
  }
  require(text.size() <= kMaxEncodedBucketsLength, "decoded text is within the length limit");
  require(encode_buckets(*buckets) == text, "encode(decode(t)) == t");
  const auto histogram = SparseHistogram::from_parts(*buckets, 0, 0, kMaxTrackableMicros);
  require(histogram.ok() || buckets->empty(), "decoded buckets make a histogram");
  if (!histogram) return;
  const auto again = decode_histogram(encode_buckets(*histogram), histogram->sum(),
                                      histogram->min(), histogram->max());
  require(again.ok() && *again == *histogram, "decode_histogram(encode(h)) == h");
}

// The first 24 bytes as sum, min and max: whatever from_parts accepts keeps its promises.
void check_from_parts(const uint8_t* data, size_t size) {
  if (size < 24) return;
  uint64_t sum = 0;
  int64_t min = 0;
  int64_t max = 0;
  std::memcpy(&sum, data, 8);
  std::memcpy(&min, data + 8, 8);
  std::memcpy(&max, data + 16, 8);
  const auto buckets =
      decode_buckets(std::string_view(reinterpret_cast<const char*>(data + 24), size - 24));
  if (!buckets) return;
  const auto histogram = SparseHistogram::from_parts(*buckets, sum, min, max);
  if (!histogram) return;
  require(histogram->min() >= 0 && histogram->min() <= histogram->max(), "0 <= min <= max");
  require(histogram->count() > 0 || (histogram->sum() == 0 && histogram->max() == 0),
          "an empty histogram has nothing else");
  const int64_t median = histogram->percentile(0.5);
  require(median >= histogram->min() && median <= histogram->max(), "percentiles stay in range");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  check_decode(std::string_view(reinterpret_cast<const char*>(data), size));
  check_from_parts(data, size);
  return 0;
}
