#include "contract/impact_report.h"

#include <fmt/format.h>

#include "contract/report_json.h"

namespace glidepath::contract {
namespace {

const char* verdict_name(deploy::ContractVerdict kind) {
  switch (kind) {
    case deploy::ContractVerdict::passed:
      return "pass";
    case deploy::ContractVerdict::warned:
      return "warn";
    case deploy::ContractVerdict::blocked:
      return "block";
  }
  return "pass";
}

}  // namespace

std::string render_impact_json(const ImpactReport& impact, const ImpactContext& context) {
  using json = nlohmann::ordered_json;
  const deploy::ContractObservation verdict = gate_verdict(impact, context.policy);
  json breaking = json::array();
  for (const ImpactedChange& c : impact.breaking) {
    json entry = change_json(c.change);
    json consumers = json::array();
    for (const AffectedConsumer& a : c.consumers) {
      consumers.push_back(json{{"name", a.name},
                               {"contact", a.contact.empty() ? json(nullptr) : json(a.contact)},
                               {"requests", a.requests},
                               {"last_seen", core::format_rfc3339(a.last_seen)},
                               {"versions", a.versions}});
    }
    entry["consumers"] = std::move(consumers);
    breaking.push_back(std::move(entry));
  }
  json warnings = json::array();
  for (const Change& c : impact.warnings)
    warnings.push_back(change_json(c));
  const json out{
      {"service", impact.service},
      {"live_version", context.live_version},
      {"base", context.base_name},
      {"revision", context.revision_name},
      {"since", core::format_rfc3339(impact.since)},
      {"summary",
       {{"breaking", impact.breaking.size()},
        {"warning", impact.warnings.size()},
        {"affected_consumers", impact.affected_consumers().size()}}},
      {"gate",
       {{"policy", deploy::to_string(context.policy)},
        {"verdict", verdict_name(verdict.verdict)},
        {"summary", verdict.summary}}},
      {"breaking", std::move(breaking)},
      {"warnings", std::move(warnings)},
      {"advice", impact.breaking.empty() ? "" : new_major_version_advice(impact.service)}};
  return out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace glidepath::contract
