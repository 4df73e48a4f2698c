#include "cli/text_output.h"

#include <fmt/format.h>

#include <algorithm>

#include "cli/commands.h"

namespace glidepath::cli {

std::string paint(const std::string& text, const char* sgr, bool color) {
  if (!color || text.empty()) return text;
  return fmt::format("{}{}{}", sgr, text, kReset);
}

size_t display_columns(std::string_view s) {
  size_t columns = 0;
  bool in_escape = false;
  for (unsigned char c : s) {
    if (c == 0x1b) {
      in_escape = true;
      continue;
    }
    if (in_escape) {
      if (c >= 0x40 && c <= 0x7E && c != '[') in_escape = false;
      continue;
    }
    columns += (c & 0xC0) != 0x80;
  }
  return columns;
}

std::string json_text(const nlohmann::json& j, const char* key, std::string fallback) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

void print_table(const std::vector<std::vector<std::string>>& rows, bool color,
                 const CellStyle& style) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], display_columns(row[i]));
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (size_t i = 0; i < rows[r].size(); ++i) {
      const std::string& cell = rows[r][i];
      const char* sgr = r == 0 ? kBold : style ? style(r, i, cell) : nullptr;
      line += sgr != nullptr ? paint(cell, sgr, color) : cell;
      if (i + 1 < rows[r].size()) line += std::string(widths[i] - display_columns(cell) + 2, ' ');
    }
    fmt::print("{}\n", line);
  }
}

int usage_error(const std::string& message) {
  fmt::print(stderr, "error: {}\n", message);
  return kUsage;
}

}  // namespace glidepath::cli
