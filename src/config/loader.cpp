#include "config/loader.h"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <cerrno>
#include <exception>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>

#include "config/readers.h"
#include "config/yaml_reader.h"

namespace glidepath::config {
namespace {

using detail::Diagnostics;
using detail::MapView;
using detail::Reader;

// ---------------------------------------------------------------------------------------
// Nesting guard. yaml-cpp's parser recurses once per nesting level. Its own guard (0.7
// stops at 500 levels, with the message "bad file") keeps the stack safe but says nothing
// useful, and the next yaml-cpp may differ; this scan bounds the depth from the text
// alone, before parsing. It over-estimates rather than under-estimates: two levels per
// open indentation (a mapping and a compact sequence under it), one per "- " / "? " / ": "
// indicator opening a line, one per open flow bracket; quoted scalars, comments and block
// scalars do not count. Should it ever under-estimate, yaml-cpp's guard still holds.

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
// Parse check. yaml-cpp 0.7 answers some malformed input with an endless stream of empty
// documents (fuzz_config found ",- services\n-'mname[*'m"), so YAML::LoadAll would never
// return. A first pass through the event parser builds nothing and gives up after more
// events than the text could hold (a YAML event needs at least a byte or two of text);
// it also finds a second, non-empty document, which a config file must not have.

class ParseCheck final : public YAML::EventHandler {
 public:
  struct Exhausted {
    int line = 0;
  };

  explicit ParseCheck(size_t budget) : budget_(budget) {}

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
    content(mark, false);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    content(mark, false);
  }
  void OnMapEnd() override {}

 private:
  void tick(const YAML::Mark& mark) {
    if (++events_ > budget_) throw Exhausted{mark.line >= 0 ? mark.line + 1 : 0};
  }
  void content(const YAML::Mark& mark, bool null) {
    tick(mark);
    ++events_in_document_;
    // A document holding just a null is what a trailing '---' or '...' leaves behind.
    if (documents_ > 1 && !has_extra_document_ && (!null || events_in_document_ > 1)) {
      has_extra_document_ = true;
      extra_document_line_ = mark.line >= 0 ? mark.line + 1 : 0;
    }
  }

  size_t budget_;
  size_t events_ = 0;
  int documents_ = 0;
  int events_in_document_ = 0;
  bool has_extra_document_ = false;
  int extra_document_line_ = 0;
};

// ---------------------------------------------------------------------------------------
// Top-level sections.

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

GatewayConfig read_gateway(Reader& reader, const YAML::Node& node, const std::string& path) {
  GatewayConfig gateway;
  MapView view(reader, node, path,
               {"listen", "workers", "header_timeout", "request_timeout", "idle_timeout",
                "connect_timeout", "max_header_bytes", "max_body_bytes"});
  if (const auto n = view.get("listen")) {
    if (auto listen = reader.host_port(*n, view.path("listen"), true)) gateway.listen = *listen;
  }
  if (const auto n = view.get("workers")) {
    if (auto workers = reader.integer(*n, view.path("workers"), 0, 1024)) {
      gateway.workers = static_cast<int>(*workers);
    }
  }
  const std::pair<std::string_view, core::Duration GatewayConfig::*> timeouts[] = {
      {"header_timeout", &GatewayConfig::header_timeout},
      {"request_timeout", &GatewayConfig::request_timeout},
      {"idle_timeout", &GatewayConfig::idle_timeout},
      {"connect_timeout", &GatewayConfig::connect_timeout},
  };
  for (const auto& [key, field] : timeouts) {
    const auto n = view.get(key);
    if (!n) continue;
    if (auto timeout = reader.duration(*n, view.path(key))) {
      if (timeout->count() <= 0) {
        reader.error(view.path(key), *n, "must be positive");
      } else {
        gateway.*field = *timeout;
      }
    }
  }
  // Room for a request line and a handful of headers; less would refuse ordinary requests.
  if (const auto n = view.get("max_header_bytes")) {
    if (auto bytes = reader.byte_size(*n, view.path("max_header_bytes"), 1024)) {
      gateway.max_header_bytes = *bytes;
    }
  }
  if (const auto n = view.get("max_body_bytes")) {
    if (auto bytes = reader.byte_size(*n, view.path("max_body_bytes"), 1)) {
      gateway.max_body_bytes = *bytes;
    }
  }
  return gateway;
}

AdminConfig read_admin(Reader& reader, const YAML::Node& node, const std::string& path) {
  AdminConfig admin;
  MapView view(reader, node, path, {"listen", "token"});
  if (const auto n = view.get("listen")) {
    if (auto listen = reader.host_port(*n, view.path("listen"), true)) admin.listen = *listen;
  }
  if (const auto n = view.get("token")) {
    if (auto token = reader.string(*n, view.path("token"))) admin.token = *token;
  }
  if (admin.token.empty() && !is_loopback(admin.listen.host)) {
    const auto n = view.get("listen");
    reader.warning(view.path("listen"), n ? *n : node,
                   fmt::format("the admin API listens on {} without a token: anyone who can reach "
                               "it can deploy and roll back (set admin.token)",
                               core::format_host_port(admin.listen)));
  }
  return admin;
}

StoreConfig read_store(Reader& reader, const YAML::Node& node, const std::string& path) {
  StoreConfig store;
  auto text = reader.string(node, path, "sqlite:PATH or a postgres:// URL");
  if (!text) return store;
  const std::string_view value = detail::trim(*text);
  const auto starts_with = [&](std::string_view prefix) {
    return value.substr(0, prefix.size()) == prefix;
  };
  if (starts_with("sqlite:")) {
    std::string_view file = value.substr(7);
    // sqlite:///var/lib/glidepath.db is the URL spelling of /var/lib/glidepath.db.
    if (file.substr(0, 2) == "//") file.remove_prefix(2);
    if (file.empty()) {
      reader.error(path, node, "sqlite: needs a file path, e.g. sqlite:glidepath.db");
      return store;
    }
    store.kind = StoreKind::sqlite;
    store.sqlite_path = std::string(file);
    return store;
  }
  for (std::string_view scheme : {"postgres://", "postgresql://"}) {
    if (!starts_with(scheme)) continue;
    if (value.size() == scheme.size()) {
      reader.error(path, node, "a postgres URL needs a host, e.g. postgres://user@host:5432/db");
      return store;
    }
    store.kind = StoreKind::postgres;
    store.postgres_url = std::string(value);
    return store;
  }
  std::string message = fmt::format(
      "must be sqlite:PATH or a postgres://user@host:5432/db URL; got '{}'", value.substr(0, 80));
  if (!value.empty() && value.find(':') == std::string_view::npos) {
    message += fmt::format(" (did you mean 'sqlite:{}'?)", value.substr(0, 80));
  }
  reader.error(path, node, std::move(message));
  return store;
}

std::vector<ServiceConfig> read_services(Reader& reader, const MapView& root,
                                         const detail::LoadContext& context) {
  std::vector<ServiceConfig> services;
  const auto node = root.get("services");
  if (!node) {
    reader.error("services", 0, "at least one service is required");
    return services;
  }
  auto items = reader.list(*node, "services");
  if (!items) return services;
  if (items->empty()) {
    reader.error("services", *node, "at least one service is required");
    return services;
  }
  for (size_t i = 0; i < items->size(); ++i) {
    services.push_back(
        read_service(reader, (*items)[i], detail::index_path("services", i), context));
  }
  check_services(reader, services, *items, "services");
  return services;
}

void read_document(std::string_view text, const EnvLookup& env, const detail::LoadContext& context,
                   Diagnostics& diagnostics, Config& config) {
  if (text.size() > kMaxConfigBytes) {
    diagnostics.error("", 0,
                      fmt::format("the config is larger than {} bytes; that is more than any "
                                  "config needs",
                                  kMaxConfigBytes));
    return;
  }
  if (const NestingReport nesting = find_excess_nesting(text, kMaxNestingDepth);
      nesting.depth > 0) {
    diagnostics.error("", nesting.line,
                      fmt::format("nested more than {} levels deep", kMaxNestingDepth));
    return;
  }
  // First a pass that only counts parse events, then the real load of the first document.
  ParseCheck check(4 * text.size() + 64);
  YAML::Node root;
  try {
    std::istringstream stream{std::string(text)};
    YAML::Parser parser(stream);
    while (parser.HandleNextDocument(check)) {
    }
    if (check.has_extra_document()) {
      diagnostics.error("", check.extra_document_line(),
                        "only one YAML document is allowed (a second one starts here)");
      return;
    }
    root = YAML::Load(std::string(text));
  } catch (const ParseCheck::Exhausted& e) {
    diagnostics.error("", e.line,
                      "YAML syntax error: the parser makes no progress here (malformed document)");
    return;
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own depth guard (it calls this "bad file"), for nesting the scan missed.
    const int line = e.mark.line >= 0 ? e.mark.line + 1 : 0;
    diagnostics.error("", line, fmt::format("nested more than {} levels deep", kMaxNestingDepth));
    return;
  } catch (const YAML::Exception& e) {
    const int line = e.mark.line >= 0 ? e.mark.line + 1 : 0;
    diagnostics.error("", line, fmt::format("YAML syntax error: {}", e.msg));
    return;
  }
  // An empty file is an empty mapping: every section defaults, and services is missing.
  if (!root.IsDefined() || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  Reader reader(env, diagnostics);
  if (!root.IsMap()) {
    reader.error("", root,
                 fmt::format("expected a mapping with gateway, admin, store and services at the "
                             "top level, got {}",
                             detail::describe_node(root)));
    return;
  }
  MapView view(reader, root, "", {"gateway", "admin", "store", "services"});
  if (const auto n = view.get("gateway")) config.gateway = read_gateway(reader, *n, "gateway");
  if (const auto n = view.get("admin")) config.admin = read_admin(reader, *n, "admin");
  if (const auto n = view.get("store")) config.store = read_store(reader, *n, "store");
  config.services = read_services(reader, view, context);

  if (config.admin.listen == config.gateway.listen && config.admin.listen.port != 0) {
    reader.error("admin.listen", view.get("admin") ? detail::line_of(*view.get("admin")) : 0,
                 fmt::format("must differ from gateway.listen ({})",
                             core::format_host_port(config.gateway.listen)));
  }
}

LoadResult load(std::string_view text, const EnvLookup& env, const detail::LoadContext& context) {
  Diagnostics diagnostics;
  auto config = std::make_shared<Config>();
  // Nothing below is meant to throw; this is the last line so that no input, and no
  // surprise from yaml-cpp, escapes as an exception (the loader's promise).
  try {
    read_document(text, env, context, diagnostics, *config);
  } catch (const std::exception& e) {
    diagnostics.error("", 0, fmt::format("internal error while reading the config: {}", e.what()));
  } catch (...) {
    diagnostics.error("", 0, "internal error while reading the config");
  }
  LoadResult result;
  result.warnings = diagnostics.take_warnings();
  if (diagnostics.has_errors()) {
    result.errors = diagnostics.take_errors();
  } else {
    result.config = std::move(config);
  }
  return result;
}

}  // namespace

LoadResult load_config(std::string_view yaml_text, const EnvLookup& env) {
  return load(yaml_text, env, detail::LoadContext{});
}

LoadResult load_config_file(const std::string& path, const EnvLookup& env) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    LoadResult result;
    result.errors.push_back({"", fmt::format("cannot read {}: it is a directory", path), 0});
    return result;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult result;
    result.errors.push_back({"",
                             fmt::format("cannot read {}: {}", path,
                                         std::error_code(errno, std::generic_category()).message()),
                             0});
    return result;
  }
  std::string text;
  char buffer[64 * 1024];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxConfigBytes) break;  // load() reports the size
  }
  if (in.bad()) {
    LoadResult result;
    result.errors.push_back({"", fmt::format("cannot read {}", path), 0});
    return result;
  }
  detail::LoadContext context;
  const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  context.base_dir = (ec ? std::filesystem::path(path) : absolute).parent_path();
  return load(text, env, context);
}

std::string format_error(const ConfigError& error, std::string_view file) {
  std::string out(file);
  if (error.line > 0) out += fmt::format(":{}", error.line);
  out += ": ";
  if (!error.path.empty()) {
    out += error.path;
    out += ": ";
  }
  out += error.message;
  return out;
}

}  // namespace glidepath::config
