// What the commands share for human output: colour, widths, lenient JSON reads, and the
// usage-error exit (SPEC section 1: colour only on a TTY; exit 2 for a usage error).
#pragma once

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace glidepath::cli {

// ANSI SGR sequences (ECMA-48 8.3.117).
inline constexpr const char* kReset = "\x1b[0m";
inline constexpr const char* kBold = "\x1b[1m";
inline constexpr const char* kDim = "\x1b[2m";
inline constexpr const char* kRed = "\x1b[31m";
inline constexpr const char* kGreen = "\x1b[32m";
inline constexpr const char* kYellow = "\x1b[33m";
inline constexpr const char* kCyan = "\x1b[36m";

// `text` in `sgr` when `color`, else as it is (also when empty).
std::string paint(const std::string& text, const char* sgr, bool color);

// Columns a line takes: UTF-8 code points, colour sequences excluded (every character
// the commands print is one column wide).
size_t display_columns(std::string_view s);

// j[key] when it is a string, else `fallback`: output shows what it can of an object
// from any server version.
std::string json_text(const nlohmann::json& j, const char* key, std::string fallback = "");

// The SGR to show a data cell in (nullptr: plain), by row (1 = the first data row),
// column and text.
using CellStyle = std::function<const char*(size_t row, size_t column, const std::string& cell)>;
// Prints `rows` as left-aligned columns two spaces apart, the first row (headings) bold
// on a colour terminal. Not cut to the terminal's width: a table is printed once, and a
// wrapped row loses less than a cut one.
void print_table(const std::vector<std::vector<std::string>>& rows, bool color,
                 const CellStyle& style = {});

// Prints "error: <message>" on stderr and returns kUsage (2).
int usage_error(const std::string& message);

}  // namespace glidepath::cli
