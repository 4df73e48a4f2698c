// The bodies of the admin API's deployment calls (SPEC section 7), parsed into what the
// controller takes. Pure functions of the text: every mistake is an error whose message
// starts with the field's path ("steps[2]: ...", "alarms[0].threshold: ...",
// "hooks.pre_traffic.timeout: ..."), answered with 400. Unknown fields are mistakes too,
// with a did-you-mean when one is close.
#pragma once

#include <string>
#include <string_view>

#include "controller/controller.h"
#include "core/result.h"
#include "deploy/hooks.h"
#include "deploy/reconcile.h"

namespace glidepath::admin {

// POST /v1/services/{service}/deployments:
// {"version", "upstreams": ["host:port", ...], "strategy" | "steps", "alarms", "hooks",
//  "spec", "allow_breaking"}.
core::Result<controller::DeploymentRequest> parse_deployment_request(std::string_view service,
                                                                     std::string_view body);

// POST /v1/deployments/{id}/{promote|abort|pause|resume}, with an optional body:
// promote {"full": true}, abort {"reason": "..."}; pause and resume take none. An abort's
// reason is recorded as "aborted via admin API[: reason]".
core::Result<deploy::Command> parse_command(std::string_view command, std::string_view body);

// POST /v1/deployments/{id}/hooks/{hook}: {"status": "succeeded" | "failed", "message"}.
struct HookResult {
  deploy::HookKind kind = deploy::HookKind::pre_traffic;
  bool succeeded = false;
  std::string message;
};
core::Result<HookResult> parse_hook_result(std::string_view hook, std::string_view body);

// The HTTP status for an error of the controller or the store, by its prefix: "invalid: "
// 400, "not found: " 404, "conflict: " 409; anything else is the server's failure, 500.
int status_for_error(const core::Error& error);

}  // namespace glidepath::admin
