// `glidepath attach-spec SERVICE --version V --spec FILE`: gives a version a deployment
// added (with --upstream, without --spec) its OpenAPI document, so that `impact` and the
// next deployment's contract gate can compare against it, and its usage is named by the
// document's operations. A version the config lists takes `spec:` in the config instead.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/admin_client.h"
#include "cli/commands.h"

namespace glidepath::cli {

namespace {

struct AttachSpecOptions {
  AdminOptions admin;
  std::string service;
  std::string version;
  std::string spec;
};

int run_attach_spec(const AttachSpecOptions& o) {
  AdminClient client(o.admin);
  if (auto url = client.check_url(); !url) {
    fmt::print(stderr, "error: {}\n", url.error().message);
    return kUsage;
  }
  // The server reads the document: a path that does not depend on our working directory.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(o.spec, ec)) {
    fmt::print(stderr, "error: --spec: no such file '{}'\n", o.spec);
    return kUsage;
  }
  const nlohmann::json body{{"spec", std::filesystem::absolute(o.spec, ec).string()}};
  auto reply = client.put("/v1/services/" + o.service + "/versions/" + o.version + "/spec", body);
  const nlohmann::json* answered = answered_object(client, reply);
  if (answered == nullptr) return kFailed;
  if (o.admin.json) {
    std::cout << answered->dump(2) << '\n';
  } else {
    fmt::print("{} {}: spec {}\n", o.service, o.version, answered->value("spec", ""));
  }
  return kOk;
}

}  // namespace

void add_attach_spec_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<AttachSpecOptions>();
  CLI::App* cmd =
      app.add_subcommand("attach-spec", "Give a version a deployment added its OpenAPI document");
  cmd->add_option("service", options->service, "The service")->required();
  cmd->add_option("--version", options->version, "The version (one a deployment added)")
      ->required();
  cmd->add_option("--spec", options->spec, "The OpenAPI document (YAML or JSON)")->required();
  add_admin_options(*cmd, options->admin);
  cmd->callback([options, &exit_code] { exit_code = run_attach_spec(*options); });
}

}  // namespace glidepath::cli
