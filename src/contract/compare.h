// Structural comparison of schemas, across two documents (or within one).
#pragma once

#include "contract/model.h"

namespace glidepath::contract {

// Whether two schemas accept and describe the same values: every field of Schema but the
// informational ones is equal, enum / required / oneOf / anyOf compare as sets, and
// subschemas compare recursively. Cycles compare coinductively (two recursive schemas
// that unfold alike are equivalent), so this terminates on any graph. Which `$ref` a
// schema came through, if any, does not matter. Two invalid refs are equivalent; an
// invalid and a valid one are not.
bool equivalent(const Document& a, SchemaRef a_ref, const Document& b, SchemaRef b_ref);

}  // namespace glidepath::contract
