// `glidepath keys create|list|revoke` (SPEC sections 1 and 5): API keys through the admin
// API. `create` prints the new key once — the store keeps only its hash, so it can never
// be shown again; `--json` prints the admin API's object, key included. `list` shows
// every key without it; `revoke ID` refuses a key from the next request on.
//
// What the admin API would refuse anyway (a bad name, contact, rate, quota or metadata
// entry) is caught here, so a typo is exit 2, not 1; the admin API refusing is exit 1.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "access/consumer_rules.h"
#include "cli/admin_client.h"
#include "cli/commands.h"
#include "cli/text_output.h"
#include "core/text.h"
#include "core/units.h"

namespace glidepath::cli {

namespace {

struct CreateOptions {
  AdminOptions admin;
  std::string consumer;
  std::string contact;
  std::vector<std::string> metadata;  // k=v
  std::string rate;
  std::string quota;
  bool preview = false;
};

struct ListOptions {
  AdminOptions admin;
  std::string consumer;
};

struct RevokeOptions {
  AdminOptions admin;
  std::string id;
};

// "2026-11-26T11:49:46.123456Z" → "2026-11-26 11:49" (UTC, as the admin API answers).
std::string short_time(const std::string& rfc3339) {
  if (rfc3339.size() < 16 || rfc3339[10] != 'T') return rfc3339.empty() ? "-" : rfc3339;
  return rfc3339.substr(0, 10) + " " + rfc3339.substr(11, 5);
}

// The request body, or a usage error naming the flag.
core::Result<nlohmann::json> build_request(const CreateOptions& o) {
  if (auto name = access::check_consumer_name(o.consumer); !name) {
    return core::fail("--" + name.error().message);
  }
  if (auto contact = access::check_contact(o.contact); !contact) {
    return core::fail("--" + contact.error().message);
  }
  nlohmann::json body{{"consumer", o.consumer}, {"contact", o.contact}};
  nlohmann::json metadata = nlohmann::json::object();
  for (const std::string& entry : o.metadata) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos) {
      return core::fail(
          fmt::format("--metadata '{}': expected KEY=VALUE, like team=payments", entry));
    }
    const std::string key = entry.substr(0, eq);
    const std::string value = entry.substr(eq + 1);
    if (auto checked = access::check_metadata_entry(key, value); !checked) {
      // "metadata.team: at most ..." → "--metadata 'team=...': at most ...".
      const std::string& message = checked.error().message;
      const size_t colon = message.find(": ");
      return core::fail(
          fmt::format("--metadata '{}': {}", entry.substr(0, 80),
                      colon == std::string::npos ? message : message.substr(colon + 2)));
    }
    if (metadata.contains(key)) {
      return core::fail(fmt::format("--metadata: '{}' is given twice", key));
    }
    metadata[key] = value;
  }
  if (metadata.size() > access::kMaxMetadataEntries) {
    return core::fail(fmt::format("--metadata: at most {} entries", access::kMaxMetadataEntries));
  }
  if (!metadata.empty()) body["metadata"] = std::move(metadata);
  if (!o.rate.empty()) {
    auto rate = core::parse_rate(o.rate);
    if (!rate) return core::fail("--rate: " + rate.error().message);
    body["rate"] = core::format_rate(*rate);
  }
  if (!o.quota.empty()) {
    auto quota = core::parse_quota(o.quota);
    if (!quota) return core::fail("--quota: " + quota.error().message);
    body["quota"] = core::format_quota(*quota);
  }
  if (o.preview) body["preview"] = true;
  return body;
}

int run_create(const CreateOptions& options) {
  AdminClient client(options.admin);
  if (auto url = client.check_url(); !url) return usage_error(url.error().message);
  auto body = build_request(options);
  if (!body) return usage_error(body.error().message);
  const auto reply = client.post("/v1/keys", *body);
  const nlohmann::json* created = answered_object(client, reply);
  if (created == nullptr) return kFailed;
  const nlohmann::json& k = *created;
  if (options.admin.json) {
    std::cout << k.dump(2) << '\n';
    return kOk;
  }
  const bool color = stdout_is_tty();
  fmt::print("created {} for consumer {} ({})\n", json_text(k, "id"), json_text(k, "consumer"),
             json_text(k, "contact"));
  std::vector<std::string> limits;
  if (!json_text(k, "rate").empty()) limits.push_back("rate " + json_text(k, "rate"));
  if (!json_text(k, "quota").empty()) limits.push_back("quota " + json_text(k, "quota"));
  if (k.value("preview", false)) limits.emplace_back("may preview versions");
  if (!limits.empty()) {
    std::string line;
    for (const std::string& l : limits)
      line += line.empty() ? l : ", " + l;
    fmt::print("{}\n", line);
  }
  fmt::print("\n    {}\n\n", paint(json_text(k, "key"), "\x1b[1;33m", color));
  fmt::print(
      "This is the only time the key is shown: store it now. Glidepath keeps only its hash.\n"
      "Clients send it in the X-Api-Key header. If it is lost, revoke it with\n"
      "`glidepath keys revoke {}` and create another.\n",
      json_text(k, "id"));
  return kOk;
}

int run_list(const ListOptions& options) {
  AdminClient client(options.admin);
  if (auto url = client.check_url(); !url) return usage_error(url.error().message);
  std::string path = "/v1/keys";
  if (!options.consumer.empty()) {
    // Names are [A-Za-z0-9._-]: nothing to escape, and anything else matches no key.
    if (!core::is_valid_name(options.consumer)) {
      return usage_error(fmt::format("--consumer: '{}' is not a consumer name", options.consumer));
    }
    path += "?consumer=" + options.consumer;
  }
  const auto reply = client.get(path);
  const nlohmann::json* listed = answered_object(client, reply);
  if (listed == nullptr) return kFailed;
  if (options.admin.json) {
    std::cout << listed->dump(2) << '\n';
    return kOk;
  }
  const nlohmann::json keys = listed->value("keys", nlohmann::json::array());
  if (!keys.is_array() || keys.empty()) {
    fmt::print("{}\n", options.consumer.empty() ? "no keys"
                                                : fmt::format("no keys for {}", options.consumer));
    return kOk;
  }
  const bool tty = stdout_is_tty();
  std::vector<std::vector<std::string>> rows = {
      {"ID", "CONSUMER", "CONTACT", "PREFIX", "RATE", "QUOTA", "PREVIEW", "CREATED", "STATE"}};
  for (const nlohmann::json& k : keys) {
    auto or_dash = [](std::string s) { return s.empty() ? std::string("-") : s; };
    rows.push_back({json_text(k, "id"), json_text(k, "consumer"), json_text(k, "contact"),
                    json_text(k, "prefix") + "…", or_dash(json_text(k, "rate")),
                    or_dash(json_text(k, "quota")), k.value("preview", false) ? "yes" : "no",
                    short_time(json_text(k, "created_at")), json_text(k, "state")});
  }
  constexpr size_t kStateColumn = 8;
  print_table(rows, tty, [](size_t, size_t column, const std::string& cell) -> const char* {
    if (column != kStateColumn) return nullptr;
    return cell == "active" ? kGreen : kRed;
  });
  return kOk;
}

int run_revoke(const RevokeOptions& options) {
  AdminClient client(options.admin);
  if (auto url = client.check_url(); !url) return usage_error(url.error().message);
  if (options.id.empty() || options.id.find_first_of("/?#% ") != std::string::npos) {
    return usage_error(fmt::format(
        "'{}' is not a key id (they look like key_01J...; see glidepath keys list)", options.id));
  }
  const auto reply = client.del("/v1/keys/" + options.id);
  const nlohmann::json* revoked = answered_object(client, reply);
  if (revoked == nullptr) return kFailed;
  if (options.admin.json) {
    std::cout << revoked->dump(2) << '\n';
    return kOk;
  }
  fmt::print("revoked {} of consumer {} ({}…): requests with it are now refused\n",
             json_text(*revoked, "id"), json_text(*revoked, "consumer"),
             json_text(*revoked, "prefix"));
  return kOk;
}

}  // namespace

void add_keys_command(CLI::App& app, int& exit_code) {
  CLI::App* keys = app.add_subcommand("keys", "Create, list and revoke API keys");
  keys->require_subcommand(1);

  auto create = std::make_shared<CreateOptions>();
  CLI::App* create_cmd =
      keys->add_subcommand("create", "Create a key for a consumer and print it (once)");
  create_cmd->add_option("--consumer", create->consumer, "Who the key is for (a name)")->required();
  create_cmd
      ->add_option("--contact", create->contact, "Whom to tell about changes: an e-mail or a URL")
      ->required();
  create_cmd->add_option("--metadata", create->metadata,
                         "KEY=VALUE labels (several after one flag, or the flag repeated)");
  create_cmd->add_option("--rate", create->rate, "Request rate limit, like 100/s");
  create_cmd->add_option("--quota", create->quota, "Request quota, like 100000/day");
  create_cmd->add_flag("--preview", create->preview,
                       "May pin a version with the X-Glidepath-Version header");
  add_admin_options(*create_cmd, create->admin);
  create_cmd->callback([create, &exit_code] { exit_code = run_create(*create); });

  auto list = std::make_shared<ListOptions>();
  CLI::App* list_cmd = keys->add_subcommand("list", "List keys (never the keys themselves)");
  list_cmd->add_option("--consumer", list->consumer, "Only this consumer's keys");
  add_admin_options(*list_cmd, list->admin);
  list_cmd->callback([list, &exit_code] { exit_code = run_list(*list); });

  auto revoke = std::make_shared<RevokeOptions>();
  CLI::App* revoke_cmd = keys->add_subcommand("revoke", "Refuse a key from now on");
  revoke_cmd->add_option("id", revoke->id, "The key's id (key_...)")->required();
  add_admin_options(*revoke_cmd, revoke->admin);
  revoke_cmd->callback([revoke, &exit_code] { exit_code = run_revoke(*revoke); });
}

}  // namespace glidepath::cli
