// Diff rules for what one schema admits: its type, format, null, enum values and limits
// (minimum, maxLength, pattern...), read by direction: narrowing a request breaks, widening
// a response does.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "contract/diff_context.h"

namespace glidepath::contract::detail {
namespace {

std::string number_text(double value) {
  return fmt::format("{}", value);
}

std::string bound_text(const Bound& bound) {
  const std::string value = bound.text.empty() ? number_text(bound.value) : bound.text;
  return bound.exclusive ? value + " (exclusive)" : value;
}

bool overlaps(TypeSet a, TypeSet b) {
  for (const Type type :
       {Type::boolean, Type::integer, Type::number, Type::string, Type::array, Type::object}) {
    if (a.has(type) && b.has(type)) return true;
  }
  return (a.has(Type::integer) && b.has(Type::number)) ||
         (a.has(Type::number) && b.has(Type::integer));
}

std::string type_text(TypeSet types, const std::string& format) {
  std::string text = types.empty() ? "any type" : types.to_string();
  if (!format.empty()) text += " (" + format + ")";
  return text;
}

// Format changes that only widen what a value may be.
bool format_widened(const std::string& from, const std::string& to) {
  return (from == "int32" && to == "int64") || (from == "float" && to == "double");
}

// The enum of a schema, with `const` read as a one-value enum.
std::optional<std::set<std::string>> enum_set(const Schema& schema) {
  if (schema.enum_values) {
    return std::set<std::string>(schema.enum_values->begin(), schema.enum_values->end());
  }
  if (schema.const_value) return std::set<std::string>{*schema.const_value};
  return std::nullopt;
}

}  // namespace

// Reports a change of type; false when the types no longer overlap, so that comparing
// the rest would only describe the same change again.
bool Differ::compare_types(const Schema& b, const Schema& r, const std::string& path) {
  // Two sets of alternatives without types of their own: the alternatives speak.
  if (b.types.empty() && r.types.empty() && !(b.one_of.empty() && b.any_of.empty()) &&
      !(r.one_of.empty() && r.any_of.empty())) {
    return true;
  }
  const TypeSet before = without_null(effective_types(base_, b, 0));
  const TypeSet after = without_null(effective_types(revision_, r, 0));
  const std::string from = type_text(before, b.format);
  const std::string to = type_text(after, r.format);
  if (before == after) {
    compare_format(b, r, path);
    return true;
  }
  const bool overlapping = before.empty() || after.empty() || overlaps(before, after);
  if (request()) {
    const bool widened = after.empty() || (!before.empty() && covers(after, before));
    if (widened) {
      add(rule("request-type-widened"), at_property(path),
          fmt::format("{} accepts more types: {} instead of {}.", subject(path), to, from));
    } else {
      add(walk_.parameter ? rule("request-parameter-type-changed") : rule("request-type-changed"),
          at_property(path),
          fmt::format("{} changed type from {} to {}: values clients sent before are refused.",
                      subject(path), from, to));
    }
  } else {
    const bool narrowed = before.empty() || (!after.empty() && covers(before, after));
    if (narrowed) {
      add(rule("response-type-narrowed"), at_property(path),
          fmt::format("{} returns fewer types: {} instead of {}.", subject(path), to, from));
    } else {
      add(rule("response-type-changed"), at_property(path),
          fmt::format("{} changed type from {} to {}: clients may receive values they do not "
                      "expect.",
                      subject(path), from, to));
    }
  }
  return overlapping;
}

void Differ::compare_format(const Schema& b, const Schema& r, const std::string& path) {
  if (b.format == r.format) return;
  const std::string from = b.format.empty() ? "none" : "'" + b.format + "'";
  const std::string to = r.format.empty() ? "none" : "'" + r.format + "'";
  if (request()) {
    const bool looser = r.format.empty() || format_widened(b.format, r.format);
    const Rule id =
        walk_.parameter ? rule("request-parameter-format-changed") : rule("request-format-changed");
    add(id, looser ? Level::info : id.level, at_property(path),
        fmt::format("{} changed format from {} to {}{}.", subject(path), from, to,
                    looser ? "" : ": values clients sent before may be refused"));
  } else {
    const bool narrower = b.format.empty();
    const Rule id = rule("response-format-changed");
    add(id, narrower ? Level::info : id.level, at_property(path),
        fmt::format("{} changed format from {} to {}{}.", subject(path), from, to,
                    narrower ? "" : ": clients may not parse the values they receive"));
  }
}

void Differ::compare_nullable(const Schema& b, const Schema& r, const std::string& path) {
  // An empty type set already allows null; the type rule speaks for it.
  if (b.types.empty() || r.types.empty()) return;
  const bool before = b.types.has(Type::null);
  const bool after = r.types.has(Type::null);
  if (before == after) return;
  if (request()) {
    if (before) {
      add(rule("request-became-not-nullable"), at_property(path),
          fmt::format("{} no longer accepts null: clients sending null are refused.",
                      subject(path)));
    } else {
      add(rule("request-type-widened"), at_property(path),
          fmt::format("{} now also accepts null.", subject(path)));
    }
  } else if (after) {
    add(rule("response-became-nullable"), at_property(path),
        fmt::format("{} may now be null: clients that expect a value may fail.", subject(path)));
  } else {
    add(rule("response-type-narrowed"), at_property(path),
        fmt::format("{} is no longer null.", subject(path)));
  }
}

void Differ::compare_enum(const Schema& b, const Schema& r, const std::string& path) {
  const std::optional<std::set<std::string>> before = enum_set(b);
  const std::optional<std::set<std::string>> after = enum_set(r);
  if (!before && !after) return;
  const bool parameter = walk_.parameter;
  if (before && after) {
    for (const std::string& value : *before) {
      if (after->count(value) != 0) continue;
      if (request()) {
        add(parameter ? rule("request-parameter-enum-value-removed")
                      : rule("request-enum-value-removed"),
            at_property(path),
            fmt::format("{} no longer accepts the value {}.", subject(path), value));
      } else {
        add(rule("response-enum-value-removed"), at_property(path),
            fmt::format("{} no longer returns the value {}.", subject(path), value));
      }
    }
    for (const std::string& value : *after) {
      if (before->count(value) != 0) continue;
      if (request()) {
        add(rule("request-enum-value-added"), at_property(path),
            fmt::format("{} also accepts the value {}.", subject(path), value));
      } else {
        add(rule("response-enum-value-added"), at_property(path),
            fmt::format("{} may now carry the value {}, which clients may not know.", subject(path),
                        value));
      }
    }
    return;
  }
  if (after) {
    if (!request()) return;  // a response limited to listed values only narrows
    std::vector<std::string> values(after->begin(), after->end());
    add(parameter ? rule("request-parameter-became-enum") : rule("request-became-enum"),
        at_property(path),
        fmt::format("{} now accepts only the values {}.", subject(path), join(values, ", ")));
    return;
  }
  if (request()) {
    add(parameter ? rule("request-parameter-constraint-loosened")
                  : rule("request-constraint-loosened"),
        at_property(path),
        fmt::format("{} is no longer limited to a list of values.", subject(path)));
  } else {
    add(rule("response-enum-value-added"), at_property(path),
        fmt::format("{} is no longer limited to a list of values: clients may receive values "
                    "they do not know.",
                    subject(path)));
  }
}

// min/max/length/pattern/items limits; only a request's matter (a response that
// returns a narrower range of values breaks no client).
void Differ::compare_constraints(const Schema& b, const Schema& r, const std::string& path) {
  const Rule tightened = walk_.parameter ? rule("request-parameter-constraint-tightened")
                                         : rule("request-constraint-tightened");
  const Rule loosened = walk_.parameter ? rule("request-parameter-constraint-loosened")
                                        : rule("request-constraint-loosened");
  const auto report = [&](bool tighter, std::string_view keyword, const std::string& from,
                          const std::string& to) {
    if (tighter) {
      add(tightened, at_property(path),
          fmt::format("{} has a stricter {} ({} instead of {}): values accepted before may be "
                      "refused.",
                      subject(path), keyword, to, from));
    } else {
      add(loosened, at_property(path),
          fmt::format("{} has a looser {} ({} instead of {}).", subject(path), keyword, to, from));
    }
  };
  const auto bound = [&](const std::optional<Bound>& before, const std::optional<Bound>& after,
                         std::string_view keyword, bool lower) {
    if (before == after) return;
    const std::string from = before ? bound_text(*before) : "none";
    const std::string to = after ? bound_text(*after) : "none";
    if (!before || !after) {
      report(static_cast<bool>(after), keyword, from, to);
      return;
    }
    bool tighter = false;
    if (before->value == after->value) {
      tighter = after->exclusive;
    } else {
      tighter = lower ? after->value > before->value : after->value < before->value;
    }
    report(tighter, keyword, from, to);
  };
  bound(b.minimum, r.minimum, "minimum", true);
  bound(b.maximum, r.maximum, "maximum", false);
  const auto count = [&](const std::optional<std::uint64_t>& before,
                         const std::optional<std::uint64_t>& after, std::string_view keyword,
                         bool lower) {
    const std::uint64_t none = lower ? 0 : std::numeric_limits<std::uint64_t>::max();
    const std::uint64_t from = before.value_or(none);
    const std::uint64_t to = after.value_or(none);
    if (from == to) return;
    report(lower ? to > from : to < from, keyword, before ? std::to_string(*before) : "none",
           after ? std::to_string(*after) : "none");
  };
  count(b.min_length, r.min_length, "minLength", true);
  count(b.max_length, r.max_length, "maxLength", false);
  count(b.min_items, r.min_items, "minItems", true);
  count(b.max_items, r.max_items, "maxItems", false);
  count(b.min_properties, r.min_properties, "minProperties", true);
  count(b.max_properties, r.max_properties, "maxProperties", false);
  if (b.multiple_of != r.multiple_of) {
    const auto divides = [](double divisor, double value) {
      const double quotient = value / divisor;
      return std::abs(quotient - std::round(quotient)) < 1e-9;
    };
    // Looser only when every old multiple is a new one.
    const bool looser =
        !r.multiple_of || (b.multiple_of && divides(*r.multiple_of, *b.multiple_of));
    report(!looser, "multipleOf", b.multiple_of ? number_text(*b.multiple_of) : "none",
           r.multiple_of ? number_text(*r.multiple_of) : "none");
  }
  if (!b.unique_items && r.unique_items) report(true, "uniqueItems", "false", "true");
  if (b.unique_items && !r.unique_items) report(false, "uniqueItems", "true", "false");
  if (b.pattern != r.pattern) {
    if (!b.pattern) {
      add(tightened, at_property(path),
          fmt::format("{} must now match the pattern '{}': values accepted before may be "
                      "refused.",
                      subject(path), *r.pattern));
    } else if (!r.pattern) {
      add(loosened, at_property(path),
          fmt::format("{} no longer has to match the pattern '{}'.", subject(path), *b.pattern));
    } else {
      // Whether one regular expression accepts less than another is not decidable in
      // general: a warning, not a verdict.
      add(walk_.parameter ? rule("request-parameter-pattern-changed")
                          : rule("request-pattern-changed"),
          at_property(path),
          fmt::format("{} must now match the pattern '{}' instead of '{}': values accepted "
                      "before may be refused.",
                      subject(path), *r.pattern, *b.pattern));
    }
  }
}

}  // namespace glidepath::contract::detail
