#include "access/operations.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <optional>
#include <sstream>

#include "yaml/untrusted.h"

namespace glidepath::access {
namespace {

// ---------------------------------------------------------------------------------------
// Methods and folding.

// RFC 9110 9.3 and PATCH (RFC 5789). Methods are case-sensitive (RFC 9110 9.1): "get" is
// not GET.
constexpr std::array<std::string_view, 9> kMethods = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? s[i] != '-' : !is_hex(s[i])) return false;
  }
  return true;
}

// The rules of fold_path's header comment.
bool is_id_like(std::string_view s) {
  if (s.empty()) return false;
  if (std::all_of(s.begin(), s.end(), is_digit)) return true;
  if (is_uuid(s)) return true;
  if (s.size() >= 16 && std::all_of(s.begin(), s.end(), is_hex)) return true;
  if (s.size() < 20) return false;
  size_t digits = 0;
  size_t letters = 0;
  size_t lower_run = 0;
  size_t longest_lower_run = 0;
  for (const char c : s) {
    if (is_digit(c)) {
      ++digits;
    } else if (is_letter(c)) {
      ++letters;
    } else if (c != '_' && c != '-') {
      return false;
    }
    lower_run = c >= 'a' && c <= 'z' ? lower_run + 1 : 0;
    longest_lower_run = std::max(longest_lower_run, lower_run);
  }
  // A long lower-case run is a word ("customer_subscriptions_v2"), unless digits are
  // common enough for a random token (a quarter of base32 text is digits).
  return digits > 0 && letters > 0 && (longest_lower_run <= 8 || digits * 4 >= s.size());
}

// The path of a request target without its query; an empty path is "/" (RFC 9110 4.2.3).
std::string_view path_only(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  return path.empty() ? std::string_view("/") : path;
}

// ---------------------------------------------------------------------------------------
// Reading the document: yaml/untrusted.h guards yaml-cpp against deep nesting and runaway
// documents. Aliases are not expanded by yaml-cpp (an alias shares its anchor's node), and nothing
// below walks the tree recursively, so a "billion laughs" document costs no more than its
// text.

// A spec is bigger than a config (large public APIs publish a few megabytes of JSON), but
// not this big.
constexpr size_t kMaxSpecBytes = 32 * 1024 * 1024;
// Path templates longer than this are refused, which bounds match()'s recursion.
constexpr size_t kMaxTemplateSegments = 128;
// Errors reported at once; one more entry says there were more.
constexpr size_t kMaxErrors = 20;

using yaml::at_line;
using yaml::child;
using yaml::describe;
using yaml::line_of;

core::Result<YAML::Node> parse_document(std::string_view text) {
  if (text.size() > kMaxSpecBytes) {
    return core::fail(fmt::format("the document is larger than {} bytes", kMaxSpecBytes));
  }
  return yaml::parse_untrusted(text);
}

// Swagger 2.0's basePath.
core::Result<std::string> swagger_base_path(const YAML::Node& base) {
  if (base.IsNull()) return std::string();
  if (!base.IsScalar()) {
    return core::fail(
        at_line(line_of(base), fmt::format("basePath: expected a path, got {}", describe(base))));
  }
  return base.Scalar();
}

// servers[0].url with each {variable} at its default (OpenAPI 3 "Server Variable Object").
core::Result<std::string> server_url(const YAML::Node& server) {
  if (!server.IsMap()) {
    return core::fail(at_line(
        line_of(server), fmt::format("servers[0]: expected a mapping, got {}", describe(server))));
  }
  const std::optional<YAML::Node> url_node = child(server, "url");
  if (!url_node || !url_node->IsScalar()) {
    return core::fail(at_line(line_of(server), "servers[0].url: expected a URL"));
  }
  const std::string& url = url_node->Scalar();
  const std::optional<YAML::Node> variables = child(server, "variables");
  std::string resolved;
  size_t pos = 0;
  while (pos < url.size()) {
    const size_t open = url.find('{', pos);
    const size_t close = open == std::string::npos ? open : url.find('}', open);
    if (close == std::string::npos) {
      resolved.append(url, pos);
      break;
    }
    resolved.append(url, pos, open - pos);
    const std::string name = url.substr(open + 1, close - open - 1);
    std::optional<YAML::Node> fallback;
    if (variables) {
      if (const auto variable = child(*variables, name)) fallback = child(*variable, "default");
    }
    if (!fallback || !fallback->IsScalar()) {
      return core::fail(at_line(
          line_of(*url_node),
          fmt::format("servers[0].url: the variable {{{}}} has no default in servers[0].variables",
                      name)));
    }
    resolved += fallback->Scalar();
    pos = close + 1;
  }
  return resolved;
}

// The path of a server URL: "https://api.example.com/v1" → "/v1", "/v1/" → "/v1",
// "https://api.example.com" → "". A relative URL without a leading '/' ("v1") is taken
// from the root.
std::string url_path(std::string_view url) {
  const size_t scheme_end = url.find("://");
  const size_t first_slash = url.find('/');
  if (scheme_end != std::string_view::npos && scheme_end < first_slash) {
    url.remove_prefix(scheme_end + 3);
    const size_t path = url.find_first_of("/?#");
    url = path == std::string_view::npos ? std::string_view() : url.substr(path);
  } else if (url.starts_with("//")) {  // a network-path reference (RFC 3986 4.2)
    url.remove_prefix(2);
    const size_t path = url.find_first_of("/?#");
    url = path == std::string_view::npos ? std::string_view() : url.substr(path);
  }
  url = url.substr(0, url.find_first_of("?#"));
  std::string path;
  if (!url.empty() && url.front() != '/') path = "/";
  path.append(url);
  while (!path.empty() && path.back() == '/')
    path.pop_back();
  return path;
}

// "/orders/{id}" → its segments, the text after each '/'.
std::vector<OperationMatcher::Segment> split_template(std::string_view key) {
  std::vector<OperationMatcher::Segment> segments;
  std::string_view rest = key.substr(1);
  while (true) {
    const size_t slash = rest.find('/');
    const std::string_view text = rest.substr(0, slash);
    OperationMatcher::Segment segment;
    const size_t open = text.find('{');
    const size_t close = text.rfind('}');
    if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
      segment.templated = true;
      segment.prefix = text.substr(0, open);
      segment.suffix = text.substr(close + 1);
    } else {
      segment.literal = text;
    }
    segments.push_back(std::move(segment));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return segments;
}

bool is_partial(const OperationMatcher::Segment& segment) {
  return segment.templated && (!segment.prefix.empty() || !segment.suffix.empty());
}

// Whether a request segment fills a templated segment: the literal parts match and the
// variable part is not empty.
bool fills(std::string_view segment, std::string_view prefix, std::string_view suffix) {
  return segment.size() > prefix.size() + suffix.size() && segment.starts_with(prefix) &&
         segment.ends_with(suffix);
}

}  // namespace

std::string_view canonical_method(std::string_view method) {
  for (const std::string_view known : kMethods) {
    if (method == known) return known;
  }
  return "OTHER";
}

void fold_path(std::string_view path, std::string& out) {
  out.clear();
  std::string_view rest = path_only(path);
  while (true) {
    const size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    out.append(is_id_like(segment) ? std::string_view("{id}") : segment);
    if (slash == std::string_view::npos) break;
    out.push_back('/');
    rest.remove_prefix(slash + 1);
  }
}

// ---------------------------------------------------------------------------------------
// OperationMatcher

core::Result<std::shared_ptr<const OperationMatcher>> OperationMatcher::from_text(
    std::string_view text) {
  core::Result<YAML::Node> parsed = parse_document(text);
  if (!parsed) return core::fail(parsed.error().message);
  try {
    const YAML::Node& root = *parsed;
    if (!root.IsMap()) {
      return core::fail(at_line(
          line_of(root),
          fmt::format("expected an OpenAPI or Swagger document (a mapping with `paths`), got {}",
                      describe(root))));
    }
    auto matcher = std::make_shared<OperationMatcher>();

    // The base path: Swagger 2.0's basePath, or OpenAPI 3's first server.
    const std::optional<YAML::Node> swagger = child(root, "swagger");
    const std::optional<YAML::Node> openapi = child(root, "openapi");
    const std::optional<YAML::Node> base = child(root, "basePath");
    const std::optional<YAML::Node> servers = child(root, "servers");
    std::string base_url;
    if (base && (swagger || !openapi)) {
      core::Result<std::string> path = swagger_base_path(*base);
      if (!path) return core::fail(path.error().message);
      base_url = *std::move(path);
    } else if (servers && !servers->IsNull() && (openapi || !swagger)) {
      if (!servers->IsSequence()) {
        return core::fail(at_line(line_of(*servers), fmt::format("servers: expected a list, got {}",
                                                                 describe(*servers))));
      }
      if (servers->size() > 0) {
        core::Result<std::string> url = server_url((*servers)[0]);
        if (!url) return core::fail(url.error().message);
        base_url = *std::move(url);
      }
    }
    matcher->base_path_ = url_path(base_url);

    const std::optional<YAML::Node> paths = child(root, "paths");
    if (!paths) {
      return core::fail(at_line(line_of(root), "no `paths`: expected a mapping of path templates"));
    }
    if (!paths->IsMap()) {
      return core::fail(at_line(
          line_of(*paths),
          fmt::format("paths: expected a mapping of path templates, got {}", describe(*paths))));
    }
    std::vector<std::string> errors;
    const auto error = [&errors](int line, std::string message) {
      if (errors.size() < kMaxErrors) errors.push_back(at_line(line, message));
    };
    size_t error_count = 0;
    for (const auto& entry : *paths) {
      const YAML::Node& key = entry.first;
      const YAML::Node& item = entry.second;
      if (!key.IsScalar()) {
        ++error_count;
        error(line_of(key), fmt::format("paths: a key must be a path, got {}", describe(key)));
        continue;
      }
      const std::string& path = key.Scalar();
      if (path.starts_with("x-")) continue;  // a specification extension, not a path
      if (!path.starts_with('/')) {
        ++error_count;
        error(line_of(key), fmt::format("paths: '{}' does not start with '/'", path));
        continue;
      }
      if (!item.IsMap() && !item.IsNull()) {
        ++error_count;
        error(line_of(item), fmt::format("paths.{}: expected a path item (a mapping), got {}", path,
                                         describe(item)));
        continue;
      }
      Template entry_template{path, split_template(path)};
      if (entry_template.segments.size() > kMaxTemplateSegments) {
        ++error_count;
        error(line_of(key), fmt::format("paths: '{}...' has more than {} segments",
                                        path.substr(0, 40), kMaxTemplateSegments));
        continue;
      }
      if (error_count == 0) matcher->add_template(std::move(entry_template));
    }
    if (error_count > 0) {
      std::string message;
      for (const std::string& each : errors) {
        if (!message.empty()) message += "; ";
        message += each;
      }
      if (error_count > errors.size()) {
        message += fmt::format("; and {} more", error_count - errors.size());
      }
      return core::fail(std::move(message));
    }
    return std::shared_ptr<const OperationMatcher>(std::move(matcher));
  } catch (const YAML::Exception& e) {
    return core::fail(at_line(e.mark.line >= 0 ? e.mark.line + 1 : 0,
                              fmt::format("unexpected document: {}", e.msg)));
  } catch (const std::exception& e) {
    return core::fail(fmt::format("cannot read the document: {}", e.what()));
  }
}

core::Result<std::shared_ptr<const OperationMatcher>> OperationMatcher::from_file(
    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::fail(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  // Read in chunks and stop one byte past the limit: from_text refuses the rest.
  std::string text;
  std::array<char, 64 * 1024> chunk{};
  while (text.size() <= kMaxSpecBytes && in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    text.append(chunk.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return core::fail(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  auto matcher = from_text(text);
  if (!matcher) return core::fail(fmt::format("{}: {}", path, matcher.error().message));
  return matcher;
}

void OperationMatcher::add_template(Template entry) {
  if (trie_.empty()) trie_.emplace_back();
  uint32_t node = 0;
  for (const Segment& segment : entry.segments) {
    node = child_for(node, segment);
  }
  TrieNode& end = trie_[node];
  if (end.terminal >= 0) {
    // An equal template ("/a/{x}" after "/a/{y}") keeps the first; a repeated key is dropped.
    if (templates_[static_cast<size_t>(end.terminal)].text == entry.text) return;
  } else {
    end.terminal = static_cast<int32_t>(templates_.size());
  }
  templates_.push_back(std::move(entry));
}

uint32_t OperationMatcher::child_for(uint32_t node, const Segment& segment) {
  const auto next = static_cast<uint32_t>(trie_.size());
  if (!segment.templated) {
    auto& literals = trie_[node].literals;
    const auto at = std::lower_bound(literals.begin(), literals.end(), segment.literal,
                                     [](const std::pair<std::string, uint32_t>& a,
                                        const std::string& b) { return a.first < b; });
    if (at != literals.end() && at->first == segment.literal) return at->second;
    literals.emplace(at, segment.literal, next);
    trie_.emplace_back();
    return next;
  }
  if (!is_partial(segment)) {
    if (trie_[node].wildcard != 0) return trie_[node].wildcard;
    trie_[node].wildcard = next;
    trie_.emplace_back();
    return next;
  }
  // More literal characters first; equals in document order.
  const size_t literal_size = segment.prefix.size() + segment.suffix.size();
  auto& partials = trie_[node].partials;
  auto at = partials.begin();
  for (; at != partials.end(); ++at) {
    const TrieNode& other = trie_[*at];
    if (other.prefix == segment.prefix && other.suffix == segment.suffix) return *at;
    if (other.prefix.size() + other.suffix.size() < literal_size) break;
  }
  partials.insert(at, next);
  TrieNode created;
  created.prefix = segment.prefix;
  created.suffix = segment.suffix;
  trie_.push_back(std::move(created));
  return next;
}

const std::string* OperationMatcher::match(std::string_view path) const {
  if (trie_.empty()) return nullptr;
  path = path_only(path);
  // Only a whole-segment prefix is the base path: "/v1/orders" and "/v1", not "/v10".
  if (!base_path_.empty() && path.starts_with(base_path_) &&
      (path.size() == base_path_.size() || path[base_path_.size()] == '/')) {
    path.remove_prefix(base_path_.size());
    if (path.empty()) path = "/";
  }
  if (path.front() != '/') return nullptr;
  return match_below(0, path.substr(1));
}

const std::string* OperationMatcher::match_below(uint32_t node_index, std::string_view rest) const {
  const TrieNode& node = trie_[node_index];
  const size_t slash = rest.find('/');
  const std::string_view segment = rest.substr(0, slash);
  const bool last = slash == std::string_view::npos;
  const std::string_view after = last ? std::string_view() : rest.substr(slash + 1);
  const auto descend = [&](uint32_t child_index) -> const std::string* {
    if (!last) return match_below(child_index, after);
    const int32_t terminal = trie_[child_index].terminal;
    return terminal >= 0 ? &templates_[static_cast<size_t>(terminal)].text : nullptr;
  };

  const auto literal = std::lower_bound(
      node.literals.begin(), node.literals.end(), segment,
      [](const std::pair<std::string, uint32_t>& a, std::string_view b) { return a.first < b; });
  if (literal != node.literals.end() && literal->first == segment) {
    if (const std::string* found = descend(literal->second)) return found;
  }
  for (const uint32_t partial : node.partials) {
    if (!fills(segment, trie_[partial].prefix, trie_[partial].suffix)) continue;
    if (const std::string* found = descend(partial)) return found;
  }
  if (node.wildcard != 0 && !segment.empty()) return descend(node.wildcard);
  return nullptr;
}

void operation_of(std::string_view method, std::string_view path, const OperationMatcher* matcher,
                  std::string& scratch, std::string& out) {
  out.clear();
  out.append(canonical_method(method));
  out.push_back(' ');
  if (const std::string* matched = matcher != nullptr ? matcher->match(path) : nullptr) {
    out.append(*matched);
    return;
  }
  fold_path(path, scratch);
  out.append(scratch);
}

}  // namespace glidepath::access
