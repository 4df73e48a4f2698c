// Fuzz target for the OpenAPI loader (contract/loader.h, STYLE.md habit 5). Besides "no
// crash, no hang, no sanitizer report" it checks what the model promises: every SchemaRef
// points into the arena, operations are ordered and keyed, and a schema is equivalent to
// itself. A broken promise traps, so libFuzzer keeps the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "contract/compare.h"
#include "contract/loader.h"

namespace {

using namespace glidepath::contract;

void require(bool holds, const char* what) {
  if (holds) return;
  std::fprintf(stderr, "fuzz_contract_load: invariant broken: %s\n", what);
  __builtin_trap();
}

void check_ref(const Document& document, SchemaRef ref) {
  require(!ref.valid() || ref.index < document.schemas.size(), "a SchemaRef is in the arena");
}

void check_content(const Document& document, const Content& content) {
  for (const auto& [media, schema] : content) {
    require(!media.empty(), "a media type is named");
    check_ref(document, schema);
  }
}

void check(const Document& document) {
  for (const Schema& schema : document.schemas) {
    for (const auto& [name, ref] : schema.properties)
      check_ref(document, ref);
    check_ref(document, schema.items);
    check_ref(document, schema.additional_schema);
    check_ref(document, schema.not_schema);
    for (const SchemaRef ref : schema.one_of)
      check_ref(document, ref);
    for (const SchemaRef ref : schema.any_of)
      check_ref(document, ref);
  }
  for (size_t i = 0; i < document.operations.size(); ++i) {
    const Operation& operation = document.operations[i];
    require(operation.path_key == path_key(operation.path), "the key is the path's key");
    require(i == 0 || document.operations[i - 1].key() < operation.key(),
            "operations are ordered by key, without duplicates");
    require(document.find(operation.method, operation.path) == &operation,
            "find() finds each operation");
    for (const Parameter& parameter : operation.parameters) {
      check_ref(document, parameter.schema);
      check_content(document, parameter.content);
      require(parameter.in != "path" || parameter.required, "path parameters are required");
    }
    if (operation.request_body) check_content(document, operation.request_body->content);
    for (const auto& [status, response] : operation.responses) {
      check_content(document, response.content);
      for (const auto& [name, header] : response.headers)
        check_ref(document, header.schema);
    }
  }
  // Equivalence terminates on any graph, and a schema is equivalent to itself.
  for (uint32_t i = 0; i < document.schemas.size() && i < 64; ++i) {
    require(equivalent(document, SchemaRef{i}, document, SchemaRef{i}), "reflexive");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  LoadOptions options;
  options.max_schemas = 20'000;  // keeps each run fast; the limit itself is what is tested
  const auto document = load_document(text, options);
  if (!document.ok()) {
    require(!document.error().message.empty(), "a refusal has a reason");
    return 0;
  }
  check(*document);
  return 0;
}
