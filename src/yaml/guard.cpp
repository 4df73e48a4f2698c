#include "yaml/guard.h"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <sstream>
#include <string>
#include <vector>

namespace glidepath::yaml {
namespace {

int line_of_mark(const YAML::Mark& mark) {
  return mark.line >= 0 ? mark.line + 1 : 0;
}

std::string nested_too_deep(int limit) {
  return fmt::format("nested more than {} levels deep", limit);
}

// ---------------------------------------------------------------------------------------
// The estimate from the text (GuardLimits::estimate_from_text): it bounds the depth from
// the text alone, before any parsing. It over-estimates rather than under-estimates: two levels per
// open indentation (a mapping and a compact sequence under it), one per "- " / "? " / ": "
// indicator opening a line, one per open flow bracket; quoted scalars, comments and block
// scalars do not count. Should it ever under-estimate, the event pass still holds.

struct NestingReport {
  int depth = 0;
  int line = 0;  // 1-based, where the depth was first exceeded
};

bool opens_scalar(char previous) {
  return previous == ' ' || previous == '\t' || previous == '[' || previous == '{' ||
         previous == ',' || previous == ':' || previous == '-' || previous == '?' ||
         previous == '\0';
}

NestingReport find_excess_nesting(std::string_view text, int limit) {
  enum class Quote { none, single, dbl };
  Quote quote = Quote::none;
  int flow = 0;                  // open [ and { (outside quotes and comments)
  int block_depth = 0;           // estimate for the current block line
  int flow_base = 0;             // block depth where the outermost flow collection opened
  std::vector<int> indents;      // open block indentations
  int block_scalar_indent = -1;  // inside a | or > scalar whose header line had this indent
  int line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    ++line_number;
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    size_t i = 0;
    if (quote == Quote::none && flow == 0) {
      size_t indent = 0;
      while (indent < line.size() && line[indent] == ' ')
        ++indent;
      const bool blank = indent == line.size() || line[indent] == '#';
      if (block_scalar_indent >= 0) {
        if (blank || static_cast<int>(indent) > block_scalar_indent) continue;
        block_scalar_indent = -1;
      }
      if (blank) continue;
      while (!indents.empty() && indents.back() > static_cast<int>(indent))
        indents.pop_back();
      if (indents.empty() || indents.back() < static_cast<int>(indent)) {
        indents.push_back(static_cast<int>(indent));
      }
      int indicators = 0;
      i = indent;
      while (i < line.size() && (line[i] == '-' || line[i] == '?' || line[i] == ':') &&
             (i + 1 == line.size() || line[i + 1] == ' ')) {
        ++indicators;
        ++i;
        while (i < line.size() && line[i] == ' ')
          ++i;
      }
      block_depth = 2 * static_cast<int>(indents.size()) + indicators;
      if (block_depth > limit) return {block_depth, line_number};
      // A block scalar header ends the line: `key: |`, `- >-`, `key: |2`.
      std::string_view content = line.substr(indent);
      const size_t comment = content.find(" #");
      if (comment != std::string_view::npos) content = content.substr(0, comment);
      while (!content.empty() && content.back() == ' ')
        content.remove_suffix(1);
      size_t header = content.size();
      while (header > 0 && (content[header - 1] == '-' || content[header - 1] == '+' ||
                            (content[header - 1] >= '1' && content[header - 1] <= '9'))) {
        --header;
      }
      if (header > 0 && (content[header - 1] == '|' || content[header - 1] == '>') &&
          (header == 1 || content[header - 2] == ' ')) {
        block_scalar_indent = static_cast<int>(indent);
      }
    }
    char previous = i == 0 ? '\0' : line[i - 1];
    for (; i < line.size(); ++i) {
      const char c = line[i];
      if (quote == Quote::single) {
        if (c == '\'') {
          if (i + 1 < line.size() && line[i + 1] == '\'') {
            ++i;
          } else {
            quote = Quote::none;
          }
        }
      } else if (quote == Quote::dbl) {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          quote = Quote::none;
        }
      } else if (c == '#' && (previous == ' ' || previous == '\t' || previous == '\0')) {
        break;  // a comment runs to the end of the line
      } else if ((c == '\'' || c == '"') && opens_scalar(previous)) {
        quote = c == '\'' ? Quote::single : Quote::dbl;
      } else if (c == '[' || c == '{') {
        if (flow == 0) flow_base = block_depth;
        ++flow;
        if (flow_base + flow > limit) return {flow_base + flow, line_number};
      } else if ((c == ']' || c == '}') && flow > 0) {
        --flow;
      }
      previous = c;
    }
  }
  return {};
}

// ---------------------------------------------------------------------------------------
// The event pass. It counts events against the budget, nesting against the limit (thrown
// before yaml-cpp recurses into the collection), and notices a second, non-empty document.

class EventCheck final : public YAML::EventHandler {
 public:
  struct Stop {
    int line = 0;
    std::string message;
  };

  EventCheck(std::size_t budget, int max_depth) : budget_(budget), max_depth_(max_depth) {}

  // Whether a second, non-empty document follows the first, and its 1-based line (0 when
  // unknown).
  bool has_extra_document() const { return has_extra_document_; }
  int extra_document_line() const { return extra_document_line_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    tick(mark);
    ++documents_;
    events_in_document_ = 0;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { content(mark, /*null=*/true); }
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
      throw Stop{line_of_mark(mark),
                 "YAML syntax error: the parser makes no progress here (malformed document)"};
    }
  }
  void content(const YAML::Mark& mark, bool null) {
    tick(mark);
    ++events_in_document_;
    // A document holding just a null is what a trailing '---' or '...' leaves behind.
    if (documents_ > 1 && !has_extra_document_ && (!null || events_in_document_ > 1)) {
      has_extra_document_ = true;
      extra_document_line_ = line_of_mark(mark);
    }
  }
  void open(const YAML::Mark& mark) {
    content(mark, false);
    if (++depth_ > max_depth_) throw Stop{line_of_mark(mark), nested_too_deep(max_depth_)};
  }

  std::size_t budget_;
  int max_depth_;
  std::size_t events_ = 0;
  int depth_ = 0;
  int documents_ = 0;
  int events_in_document_ = 0;
  bool has_extra_document_ = false;
  int extra_document_line_ = 0;
};

Guarded refuse(int line, std::string message) {
  Guarded guarded;
  guarded.error = GuardError{line, std::move(message)};
  return guarded;
}

}  // namespace

Guarded load_guarded(std::string_view text, const GuardLimits& limits) {
  if (limits.estimate_from_text) {
    if (const NestingReport nesting = find_excess_nesting(text, limits.max_depth);
        nesting.depth > 0) {
      return refuse(nesting.line, nested_too_deep(limits.max_depth));
    }
  }
  try {
    EventCheck check(limits.events_per_byte * text.size() + 64, limits.max_depth);
    std::istringstream stream{std::string(text)};
    YAML::Parser parser(stream);
    while (parser.HandleNextDocument(check)) {
    }
    if (check.has_extra_document()) {
      return refuse(check.extra_document_line(),
                    "only one YAML document is allowed (a second one starts here)");
    }
    Guarded guarded;
    guarded.root = YAML::Load(std::string(text));
    return guarded;
  } catch (const EventCheck::Stop& stop) {
    return refuse(stop.line, stop.message);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own depth guard (it calls this "bad file"), should the checks miss any.
    return refuse(line_of_mark(e.mark), nested_too_deep(limits.max_depth));
  } catch (const YAML::Exception& e) {
    return refuse(line_of_mark(e.mark), fmt::format("YAML syntax error: {}", e.msg));
  }
}

}  // namespace glidepath::yaml
