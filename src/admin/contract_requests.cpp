#include "admin/contract_requests.h"

#include <fmt/format.h>

#include <array>
#include <nlohmann/json.hpp>

#include "admin/json_body.h"
#include "contract/diff.h"
#include "contract/loader.h"
#include "contract/report.h"

namespace glidepath::admin {

namespace {

constexpr std::array<std::string_view, 2> kFields = {"base", "revision"};

}  // namespace

core::Result<std::string> document_field(const nlohmann::json& body, std::string_view field) {
  const auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    return field_error(field,
                       "required: the document's text (OpenAPI 3.x or Swagger 2.0, YAML "
                       "or JSON)");
  }
  if (it->is_string()) return it->get<std::string>();
  // The document as JSON rather than as text: the same document, so taken too.
  if (it->is_object()) return it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return field_error(field,
                     "must be the document's text (a string) or the document as a JSON "
                     "object");
}

core::Result<contract::Document> load_posted_document(std::string_view field,
                                                      const std::string& text) {
  contract::LoadOptions options;
  // The loader resolves file refs against base_dir and reads them with read_file; here
  // nothing is read, every such ref is refused with a message that says what to do.
  options.base_dir = ".";
  options.read_file = [](const std::filesystem::path&) -> core::Result<std::string> {
    return core::fail(
        "refs to other files are refused by the admin API: send self-contained documents "
        "(bundle them first), or run `glidepath diff` on the files");
  };
  auto document = contract::load_document(text, options);
  if (!document) return field_error(field, document.error().message);
  return document;
}

namespace {

// "Orders API 1.2.0", or the field's name when the document has no title.
std::string document_name(const contract::Document& document, std::string_view field) {
  if (document.title.empty()) return std::string(field);
  if (document.version.empty()) return document.title;
  return fmt::format("{} {}", document.title, document.version);
}

}  // namespace

core::Result<ContractDiffRequest> parse_contract_diff_request(std::string_view body) {
  auto parsed = parse_json_body(body, false);
  if (!parsed) return core::Failure{parsed.error()};
  if (auto known = check_known_fields(*parsed, "", kFields); !known) {
    return core::Failure{known.error()};
  }
  ContractDiffRequest request;
  auto base = document_field(*parsed, "base");
  if (!base) return core::Failure{base.error()};
  auto revision = document_field(*parsed, "revision");
  if (!revision) return core::Failure{revision.error()};
  request.base = std::move(*base);
  request.revision = std::move(*revision);
  return request;
}

core::Result<std::string> contract_diff_json(const ContractDiffRequest& request,
                                             core::TimePoint now) {
  auto base = load_posted_document("base", request.base);
  if (!base) return core::Failure{base.error()};
  auto revision = load_posted_document("revision", request.revision);
  if (!revision) return core::Failure{revision.error()};
  contract::DiffOptions options;
  options.now = now;
  const contract::DiffReport report = contract::diff(*base, *revision, options);
  contract::ReportOptions names;
  names.base_name = document_name(*base, "base");
  names.revision_name = document_name(*revision, "revision");
  return contract::render_json(report, names, -1);
}

}  // namespace glidepath::admin
