// POST /v1/contract/diff (SPEC section 7): {"base": "<document>", "revision": "<document>"}
// → the JSON report of contract/report.h. Pure apart from the clock reading passed in.
//
// Only the documents' text is taken: the admin API reads no files on a caller's behalf,
// so a $ref to another file is refused (bundle the document first), as are remote refs.
// The body's size is bounded by the admin server (ServerOptions::max_body_bytes, 413
// beyond it); the loader's own limits bound what a small hostile document can cost.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "contract/model.h"
#include "core/clock.h"
#include "core/result.h"

namespace glidepath::admin {

struct ContractDiffRequest {
  // The document clients use now (OpenAPI 3.x or Swagger 2.0, YAML or JSON text; a JSON
  // object in the body is taken as the document itself).
  std::string base;
  std::string revision;  // the proposed one, likewise
};

// A document posted in `field` of a JSON body: its text, or the document itself as a JSON
// object. Errors start with the field's name.
core::Result<std::string> document_field(const nlohmann::json& body, std::string_view field);
// Loads a posted document; a $ref to another file is refused (the admin API reads no
// files on a caller's behalf). Errors start with the field's name.
core::Result<contract::Document> load_posted_document(std::string_view field,
                                                      const std::string& text);

// Every mistake is an error starting with the field's name ("base: ..."), answered 400.
core::Result<ContractDiffRequest> parse_contract_diff_request(std::string_view body);

// Loads both documents and diffs them (x-sunset dates compared with `now`). The answer is
// the report's JSON with "base" and "revision" naming the documents by their info title
// and version; an error names the document it is about ("revision: at #/paths/... (line
// 3): ...").
core::Result<std::string> contract_diff_json(const ContractDiffRequest& request,
                                             core::TimePoint now);

}  // namespace glidepath::admin
