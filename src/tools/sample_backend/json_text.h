// The JSON the sample backend answers with, written straight into a reused string: the
// ordinary answer describes the request as the backend saw it, so tests through the
// gateway can check what a proxy added (X-Forwarded-For, X-Request-Id, Host) and removed
// (hop-by-hop headers).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace glidepath::sample_backend {

// Appends `text` as a JSON string literal. Bytes outside printable ASCII are escaped as
// \u00XX (read as Latin-1), so the output is valid JSON whatever a client sent.
void append_json_string(std::string& out, std::string_view text, bool lowercase = false);

struct HeaderField {
  std::string_view name;
  std::string_view value;
};

struct RequestSummary {
  std::string_view method;
  std::string_view target;
  std::uint64_t body_bytes = 0;
  std::span<const HeaderField> headers;
};

// {"version":"v1","method":"GET","path":"/orders/1","target":"/orders/1?x=1",
//  "request_id":"...","x_forwarded_for":"...","x_forwarded_proto":"...","host":"...",
//  "body_bytes":0,"headers":{"host":"...",...}[,"error":"..."]}
// request_id, x_forwarded_for, x_forwarded_proto and host are null when the header is
// absent. In "headers" names are lower-cased and repeated fields are joined with ", "
// (RFC 9110 section 5.3), in order of first appearance.
void append_request_json(std::string& out, std::string_view version, const RequestSummary& request,
                         std::string_view error = {});

}  // namespace glidepath::sample_backend
