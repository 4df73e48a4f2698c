#include "yaml/untrusted.h"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <exception>
#include <sstream>
#include <string>

namespace glidepath::yaml {
namespace {

int line_of_mark(const YAML::Mark& mark) {
  return mark.line >= 0 ? mark.line + 1 : 0;
}

class ParseCheck final : public YAML::EventHandler {
 public:
  struct Stop {
    int line = 0;
    std::string message;
  };

  explicit ParseCheck(std::size_t budget) : budget_(budget) {}

  // Whether the document just handled held anything but a null (what a trailing '---'
  // leaves behind), and where it started.
  bool has_content() const { return content_events_ > 1 || non_null_; }
  int document_line() const { return document_line_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    tick(mark);
    content_events_ = 0;
    non_null_ = false;
    document_line_ = line_of_mark(mark);
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { content(mark, true); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { content(mark, false); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    content(mark, false);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    open(mark);
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    open(mark);
  }
  void OnMapEnd() override { --depth_; }

 private:
  void tick(const YAML::Mark& mark) {
    if (++events_ > budget_) {
      throw Stop{line_of_mark(mark), "YAML syntax error: the parser makes no progress here"};
    }
  }
  void content(const YAML::Mark& mark, bool null) {
    tick(mark);
    ++content_events_;
    if (!null) non_null_ = true;
  }
  void open(const YAML::Mark& mark) {
    content(mark, false);
    // Thrown before yaml-cpp recurses into the collection.
    if (++depth_ > kMaxNestingDepth) {
      throw Stop{line_of_mark(mark),
                 fmt::format("nested more than {} levels deep", kMaxNestingDepth)};
    }
  }

  std::size_t budget_;
  std::size_t events_ = 0;
  int depth_ = 0;
  std::size_t content_events_ = 0;
  bool non_null_ = false;
  int document_line_ = 0;
};

}  // namespace

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
  return line_of_mark(node.Mark());
}

core::Result<YAML::Node> parse_untrusted(std::string_view text) {
  try {
    ParseCheck check(4 * text.size() + 64);
    std::istringstream stream{std::string(text)};
    YAML::Parser parser(stream);
    if (!parser.HandleNextDocument(check) || !check.has_content()) {
      return core::fail("the document is empty");
    }
    if (parser.HandleNextDocument(check) && check.has_content()) {
      return core::fail(at_line(check.document_line(),
                                "only one YAML document is allowed (a second one starts here)"));
    }
    return YAML::Load(std::string(text));
  } catch (const ParseCheck::Stop& stop) {
    return core::fail(at_line(stop.line, stop.message));
  } catch (const YAML::DeepRecursion& e) {
    return core::fail(at_line(line_of_mark(e.mark), "nested too deeply"));
  } catch (const YAML::Exception& e) {
    return core::fail(at_line(line_of_mark(e.mark), fmt::format("YAML syntax error: {}", e.msg)));
  } catch (const std::exception& e) {
    return core::fail(fmt::format("cannot read the document: {}", e.what()));
  }
}

}  // namespace glidepath::yaml
