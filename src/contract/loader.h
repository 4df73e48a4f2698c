// Loading OpenAPI 3.0 / 3.1 and Swagger 2.0 documents (YAML or JSON) into the normalised
// model of contract/model.h, with every $ref resolved.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "contract/model.h"
#include "core/result.h"

namespace glidepath::contract {

struct LoadOptions {
  // The directory that relative `$ref`s to other files ("common.yaml#/components/...")
  // are resolved against. Empty: such refs are an error (the text came from nowhere).
  // load_document_file() sets it to the file's directory.
  std::filesystem::path base_dir;
  // How other files are read; by default from the file system. Tests and callers that
  // keep documents elsewhere can supply their own. Called with a lexically normalised path.
  std::function<core::Result<std::string>(const std::filesystem::path&)> read_file;

  // Limits that keep a hostile document from costing more than its size suggests.
  std::size_t max_bytes = 32 * 1024 * 1024;  // per file
  std::size_t max_files = 64;                // files, the first one included
  std::size_t max_schemas = 200'000;         // schema nodes in the model, merges included
  int max_ref_depth = 32;                    // $ref -> $ref -> ... before a target
};

// Loads one document. Promises, whatever the input: no crash, no unbounded time or
// memory, and on failure a message that says where (the file, the JSON pointer of the
// offending element, and the line when the YAML parser knows it). Remote refs (http:,
// https:) are refused, not fetched.
core::Result<Document> load_document(std::string_view text, const LoadOptions& options = {});

// Reads `path` and loads it, with relative refs resolved against its directory.
core::Result<Document> load_document_file(const std::filesystem::path& path,
                                          LoadOptions options = {});

}  // namespace glidepath::contract
