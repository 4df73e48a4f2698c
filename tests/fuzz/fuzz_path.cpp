// Fuzz target for request-target normalisation (gateway/routing.h, STYLE.md habit 5).
// Besides "no crash, no sanitizer report", it checks what normalize_target promises: an
// accepted target normalises to an origin-form path without dot segments, escapes in
// canonical form, and normalising that output again gives the same output. A broken
// promise traps, so libFuzzer keeps the input as a reproducer.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "gateway/routing.h"

namespace {

using namespace glidepath::gateway;

void require(bool holds, const char* what) {
  if (holds) return;
  std::fprintf(stderr, "fuzz_path: invariant broken: %s\n", what);
  __builtin_trap();
}

bool is_hex_upper(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

void check_path(std::string_view path) {
  require(!path.empty() && path.front() == '/', "the output starts with '/'");
  require(path.find('\\') == std::string_view::npos, "no backslash in the path");
  require(path.find('#') == std::string_view::npos, "no fragment");
  // Dot segments: none in the middle ("/./", "/../") nor at the end ("/.", "/..").
  require(path.find("/./") == std::string_view::npos, "no /./ segment");
  require(path.find("/../") == std::string_view::npos, "no /../ segment");
  require(!path.ends_with("/.") && !path.ends_with("/.."), "no trailing dot segment");
  for (size_t i = 0; i < path.size(); ++i) {
    const auto c = static_cast<unsigned char>(path[i]);
    require(c > 0x20 && c < 0x7f, "the path is printable ASCII");
    if (c == '%') {
      require(i + 2 < path.size() && is_hex_upper(path[i + 1]) && is_hex_upper(path[i + 2]),
              "an escape has two upper-case hex digits");
      require(!(path[i + 1] == '0' && path[i + 2] == '0'), "no %00");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view target(reinterpret_cast<const char*>(data), size);
  std::string out;
  std::string_view error;
  if (!normalize_target(target, out, error)) {
    require(!error.empty(), "a refusal has a reason");
    require(out.empty(), "a refusal leaves the output empty");
    return 0;
  }
  require(error.empty(), "success leaves no error");
  const size_t query = out.find('?');
  check_path(std::string_view(out).substr(0, query));
  if (query != std::string::npos) {
    // The query is the input's, byte for byte.
    require(target.ends_with(std::string_view(out).substr(query)), "the query is kept as it came");
  }

  std::string again;
  require(normalize_target(out, again, error), "the output normalises again");
  require(again == out, "normalisation is idempotent");

  // Only an absolute-form target names an authority.
  const std::string_view authority = target_authority(target);
  require(authority.empty() || target.front() != '/', "origin-form has no authority");
  return 0;
}
