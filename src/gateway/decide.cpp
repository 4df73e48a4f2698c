#include "gateway/decide.h"

#include "access/request_access.h"
#include "http/message.h"

namespace glidepath::gateway {

namespace {

Decision refuse(Decision d, int status, std::string_view error, Refusal refusal) {
  d.status = status;
  d.error = error;
  d.refusal = refusal;
  return d;
}

}  // namespace

Decision decide(const Snapshot& snapshot, const http::RequestHead& head,
                const ConnectionFacts& facts, DecisionScratch& scratch) {
  Decision d;
  std::string_view error;
  if (!normalize_target(head.target, scratch.target, error)) {
    return refuse(d, 400, error, Refusal::bad_target);
  }
  d.target = scratch.target;
  // An absolute-form target names the host itself (RFC 9112 3.2.2); it wins over Host.
  const std::string_view authority = target_authority(head.target);
  d.route = snapshot.match(authority.empty() ? head.host : authority, scratch.target);
  if (d.route == nullptr)
    return refuse(d, 404, "no route for this host and path", Refusal::no_route);
  const ServiceRoute& route = *d.route;

  // Who is calling (SPEC section 5): the key is looked up in the snapshot's table, with no
  // lock and no store access. 401/403 come before anything else is decided.
  const access::Identity identity =
      access::identify(route.api_keys, route.api_key_source, *snapshot.keys, head);
  if (identity.status != 0) {
    return refuse(d, identity.status, identity.error,
                  identity.status == 401 ? Refusal::missing_key : Refusal::invalid_key);
  }
  d.key = identity.key;

  RequestFacts request;
  request.pin = head.find("x-glidepath-version");
  // A preview key may pin where the service's `preview` allows it; the running
  // deployment's preview token (which its hooks are given) may pin everywhere.
  request.may_pin = d.key != nullptr && d.key->preview;
  request.preview_token =
      !route.preview_token.empty() &&
      http::same_secret(head.find("x-glidepath-preview-token"), route.preview_token);
  request.sticky_value = sticky_value(route.stickiness, head,
                                      d.key != nullptr ? std::string_view(d.key->consumer) : "");
  const VersionChoice choice = choose_version(route, request, facts.random_bits);
  if (choice.error_status != 0) {
    return refuse(d, choice.error_status, choice.error,
                  choice.error_status == 403 ? Refusal::pin_not_allowed : Refusal::unknown_version);
  }
  d.version = &route.versions[choice.version];
  d.reason = choice.kind;
  strip_route_prefix(route, scratch.target, scratch.forward_target);
  d.forward_target = scratch.forward_target;

  if (d.key != nullptr && (d.key->state->rate || d.key->state->quota)) {
    const int64_t now_epoch_seconds = d.key->state->quota && facts.wall_clock != nullptr
                                          ? core::epoch_second(facts.wall_clock->now())
                                          : 0;
    const access::Admission admission = access::admit(*d.key, facts.now_us, now_epoch_seconds);
    if (admission.status != 0) {
      // Refused before it reached the version: usage of the version (the consumer sees
      // its 429s) but not one of its metrics, which judge the canary.
      d = refuse(d, admission.status, admission.error,
                 admission.by_quota ? Refusal::quota_exceeded : Refusal::rate_limited);
      d.retry_after_seconds = admission.retry_after_seconds;
    }
  }
  return d;
}

}  // namespace glidepath::gateway
