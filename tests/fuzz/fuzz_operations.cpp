// Fuzz target for operation naming (access/operations.h, STYLE.md habit 5): the OpenAPI /
// Swagger reader, path folding and template matching. The input's first line is a request
// path, the rest an OpenAPI document. Besides "no crash, no hang, no sanitizer report", it
// checks what the header promises; a broken promise traps, so libFuzzer keeps the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "access/operations.h"

namespace {

using namespace glidepath::access;

void require(bool holds, const char* what) {
  if (holds) return;
  std::fprintf(stderr, "fuzz_operations: invariant broken: %s\n", what);
  __builtin_trap();
}

size_t count_slashes(std::string_view text) {
  size_t n = 0;
  for (const char c : text)
    n += c == '/' ? 1 : 0;
  return n;
}

void check_folding(std::string_view path) {
  std::string folded = "stale";
  fold_path(path, folded);
  require(!folded.empty(), "a folded path is never empty");
  require(folded.find('?') == std::string::npos, "the query is dropped");
  // Folding replaces segments, never the separators between them.
  const std::string_view path_part = path.substr(0, path.find('?'));
  require(count_slashes(folded) == (path_part.empty() ? 1 : count_slashes(path_part)),
          "folding keeps the segments");
  std::string again;
  fold_path(folded, again);
  require(again == folded, "folding is idempotent");

  std::string scratch;
  std::string operation;
  operation_of("GET", path, nullptr, scratch, operation);
  require(operation == "GET " + folded, "without a matcher the operation is the folded path");
}

void check_matcher(const OperationMatcher& matcher, std::string_view request) {
  const std::string_view base = matcher.base_path();
  require(base.empty() || (base.front() == '/' && base.back() != '/'),
          "the base path is empty or '/...' without a trailing '/'");

  const std::string* found = matcher.match(request);
  if (found == nullptr) return;
  require(!found->empty() && found->front() == '/', "a template starts with '/'");
  // A template, requested as it is written, matches a template (itself or a more literal
  // one): only when no base path is stripped and no '?' cuts it short.
  if (base.empty() && found->find('?') == std::string::npos) {
    require(matcher.match(*found) != nullptr, "a template matches itself");
  }
  std::string scratch;
  std::string operation;
  operation_of("PATCH", request, &matcher, scratch, operation);
  require(operation == "PATCH " + *found, "operation_of names the matched template");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view request = input.substr(0, newline);
  const std::string_view document =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

  check_folding(request);
  require(canonical_method(request).size() <= 7, "a canonical method is a known one");

  const auto matcher = OperationMatcher::from_text(document);
  if (!matcher.ok()) {
    require(!matcher.error().message.empty(), "a refusal has a reason");
    return 0;
  }
  require(*matcher != nullptr, "success gives a matcher");
  check_matcher(**matcher, request);
  return 0;
}
