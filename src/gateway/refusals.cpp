#include "gateway/refusals.h"

namespace glidepath::gateway {

const char* to_string(Refusal refusal) {
  switch (refusal) {
    case Refusal::none:
      return "none";
    case Refusal::bad_target:
      return "bad_target";
    case Refusal::no_route:
      return "no_route";
    case Refusal::missing_key:
      return "missing_key";
    case Refusal::invalid_key:
      return "invalid_key";
    case Refusal::pin_not_allowed:
      return "pin_not_allowed";
    case Refusal::unknown_version:
      return "unknown_version";
    case Refusal::rate_limited:
      return "rate_limited";
    case Refusal::quota_exceeded:
      return "quota_exceeded";
  }
  return "none";
}

}  // namespace glidepath::gateway
