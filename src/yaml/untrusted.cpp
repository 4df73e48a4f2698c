#include "yaml/untrusted.h"

#include <fmt/format.h>

#include <exception>
#include <string>

#include "yaml/guard.h"

namespace glidepath::yaml {
std::string at_line(int line, std::string_view message) {
  return line > 0 ? fmt::format("line {}: {}", line, message) : std::string(message);
}

std::optional<YAML::Node> child(const YAML::Node& map, std::string_view key) {
  if (!map.IsMap()) return std::nullopt;
  for (const auto& entry : map) {
    if (entry.first.IsScalar() && entry.first.Scalar() == key) return entry.second;
  }
  return std::nullopt;
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      if (text.size() > 40) return fmt::format("'{}...'", text.substr(0, 40));
      return fmt::format("'{}'", text);
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "null";
}

int line_of(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : 0;
}

core::Result<YAML::Node> parse_untrusted(std::string_view text) {
  try {
    Guarded guarded = load_guarded(text, GuardLimits{.max_depth = kMaxNestingDepth});
    if (guarded.error) return core::fail(at_line(guarded.error->line, guarded.error->message));
    if (!guarded.root.IsDefined() || guarded.root.IsNull()) {
      return core::fail("the document is empty");
    }
    return guarded.root;
  } catch (const std::exception& e) {
    return core::fail(fmt::format("cannot read the document: {}", e.what()));
  }
}

}  // namespace glidepath::yaml
