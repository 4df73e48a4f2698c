// The schema walk: a pair of schemas compared once per place, equal pairs cut short,
// recursion bounded; properties, items, additionalProperties and oneOf/anyOf
// alternatives. What one schema admits is in diff_values.cpp.
#include <fmt/format.h>

#include <algorithm>

#include "contract/compare.h"
#include "contract/diff_context.h"

namespace glidepath::contract::detail {
namespace {

// Past this many schema pairs visited under one operation the walk stops descending: a
// guard against documents whose schema graph fans out exponentially (every path through a
// DAG is a place of its own). Real documents stay far below it.
constexpr std::size_t kMaxSchemaVisits = 200'000;
// And past this depth (distinct pairs nested in each other; the loader bounds real
// nesting long before): keeps the recursion off the end of the stack.
constexpr std::size_t kMaxSchemaDepth = 256;
// Effective types of nested alternatives are looked up this deep and this wide, no more.
constexpr int kMaxAlternativeDepth = 8;
constexpr int kMaxAlternativeLookups = 256;

std::string child_path(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

}  // namespace

// Structural equality, remembered: the same pair of shared schemas is met under many
// operations, and an equal pair ends the walk there. On top of equivalent(), which
// compares oneOf/anyOf as sets of values (so [Cat, Rabbit] equals [Cat] when the two
// happen to have the same shape), alternatives must also match one to one, by shape and
// $ref name: removing a named alternative is a change to the contract.
bool Differ::same(SchemaRef b, SchemaRef r) {
  const std::uint64_t key = pair_key(b, r);
  const auto found = same_.find(key);
  if (found != same_.end()) return found->second;
  std::set<std::uint64_t> seen;
  const bool equal = equivalent_pair(b, r) && alternatives_alike(b, r, seen);
  same_.emplace(key, equal);
  return equal;
}

std::uint64_t Differ::pair_key(SchemaRef b, SchemaRef r) {
  return (std::uint64_t{b.index} << 32U) | r.index;
}

bool Differ::equivalent_pair(SchemaRef b, SchemaRef r) {
  const std::uint64_t key = pair_key(b, r);
  const auto found = equivalent_.find(key);
  if (found != equivalent_.end()) return found->second;
  const bool equal = equivalent(base_, b, revision_, r);
  equivalent_.emplace(key, equal);
  return equal;
}

// For two equivalent schemas: whether every oneOf/anyOf below them pairs its
// alternatives one to one (equivalent, with the same $ref name).
bool Differ::alternatives_alike(SchemaRef b, SchemaRef r, std::set<std::uint64_t>& seen) {
  if (!b.valid() || !r.valid()) return b.valid() == r.valid();
  if (b.index >= base_.schemas.size() || r.index >= revision_.schemas.size()) return false;
  if (!seen.insert(pair_key(b, r)).second || seen.size() > kMaxSchemaVisits) return true;
  const Schema& x = base_.schemas[b.index];
  const Schema& y = revision_.schemas[r.index];
  for (const bool one_of : {true, false}) {
    const std::vector<SchemaRef>& xs = one_of ? x.one_of : x.any_of;
    const std::vector<SchemaRef>& ys = one_of ? y.one_of : y.any_of;
    if (xs.size() != ys.size()) return false;
    std::vector<bool> taken(ys.size(), false);
    for (const SchemaRef alternative : xs) {
      const std::string& name = ref_name(base_, alternative);
      bool paired = false;
      for (std::size_t j = 0; j < ys.size() && !paired; ++j) {
        if (taken[j] || ref_name(revision_, ys[j]) != name) continue;
        if (!equivalent_pair(alternative, ys[j])) continue;
        if (!alternatives_alike(alternative, ys[j], seen)) return false;
        taken[j] = paired = true;
      }
      if (!paired) return false;
    }
  }
  // equivalent() guarantees the same property names.
  for (auto xi = x.properties.begin(), yi = y.properties.begin();
       xi != x.properties.end() && yi != y.properties.end(); ++xi, ++yi) {
    if (!alternatives_alike(xi->second, yi->second, seen)) return false;
  }
  return alternatives_alike(x.items, y.items, seen) &&
         alternatives_alike(x.additional_schema, y.additional_schema, seen) &&
         alternatives_alike(x.not_schema, y.not_schema, seen);
}

const std::string& Differ::ref_name(const Document& document, SchemaRef ref) {
  static const std::string kNone;
  if (!ref.valid() || ref.index >= document.schemas.size()) return kNone;
  return document.schemas[ref.index].ref_name;
}

void Differ::compare_schema(SchemaRef b, SchemaRef r, const std::string& path) {
  // No schema on a side says nothing about the values: nothing to compare.
  if (!b.valid() || !r.valid()) return;
  if (b.index >= base_.schemas.size() || r.index >= revision_.schemas.size()) return;
  if (same(b, r)) return;
  // A pair already being compared further up this path is a cycle: what it changes is
  // reported there.
  const std::pair<std::uint32_t, std::uint32_t> pair{b.index, r.index};
  if (std::find(stack_.begin(), stack_.end(), pair) != stack_.end()) return;
  if (++visits_ > kMaxSchemaVisits || stack_.size() >= kMaxSchemaDepth) return;
  stack_.push_back(pair);
  compare_fields(base_.schemas[b.index], revision_.schemas[r.index], path);
  stack_.pop_back();
}

// The types a schema's values may have, looking through oneOf/anyOf alternatives when
// the schema itself names none. Empty means "any".
TypeSet Differ::effective_types(const Document& document, const Schema& schema, int depth) const {
  int budget = kMaxAlternativeLookups;
  return effective_types(document, schema, depth, budget);
}

TypeSet Differ::effective_types(const Document& document, const Schema& schema, int depth,
                                int& budget) const {
  if (!schema.types.empty() || depth >= kMaxAlternativeDepth) return schema.types;
  // Out of budget: "any type", which the type rule reads as no constraint.
  if (--budget < 0) return TypeSet();
  const std::vector<SchemaRef>& alternatives =
      !schema.one_of.empty() ? schema.one_of : schema.any_of;
  if (alternatives.empty()) return schema.types;
  TypeSet types;
  for (const SchemaRef alternative : alternatives) {
    if (!alternative.valid() || alternative.index >= document.schemas.size()) return TypeSet();
    const TypeSet more =
        effective_types(document, document.schemas[alternative.index], depth + 1, budget);
    if (without_null(more).empty()) return TypeSet();
    for (const Type type : {Type::null, Type::boolean, Type::integer, Type::number, Type::string,
                            Type::array, Type::object}) {
      if (more.has(type)) types.add(type);
    }
  }
  return types;
}

bool Differ::has_own_shape(const Schema& schema) {
  return !schema.types.empty() || !schema.properties.empty() || schema.items.valid() ||
         schema.enum_values || schema.const_value;
}

void Differ::compare_fields(const Schema& b, const Schema& r, const std::string& path) {
  // A schema that became a oneOf/anyOf of alternatives (or stopped being one) compares
  // as a set of one alternative against the set.
  if (b.one_of.empty() && b.any_of.empty() && !(r.one_of.empty() && r.any_of.empty()) &&
      !has_own_shape(r)) {
    const bool one_of = !r.one_of.empty();
    compare_alternatives({SchemaRef{stack_.back().first}}, one_of ? r.one_of : r.any_of,
                         one_of ? "oneOf" : "anyOf", path);
    return;
  }
  if (r.one_of.empty() && r.any_of.empty() && !(b.one_of.empty() && b.any_of.empty()) &&
      !has_own_shape(b)) {
    const bool one_of = !b.one_of.empty();
    compare_alternatives(one_of ? b.one_of : b.any_of, {SchemaRef{stack_.back().second}},
                         one_of ? "oneOf" : "anyOf", path);
    return;
  }
  if (!compare_types(b, r, path)) return;
  compare_nullable(b, r, path);
  compare_enum(b, r, path);
  if (request()) compare_constraints(b, r, path);
  compare_properties(b, r, path);
  if (request() && b.additional != AdditionalProperties::denied &&
      r.additional == AdditionalProperties::denied) {
    add(rule("request-additional-properties-denied"), at_property(path),
        fmt::format("{} no longer accepts properties it does not list: clients sending "
                    "extra ones are refused.",
                    subject(path)));
  }
  if (b.additional == AdditionalProperties::schema &&
      r.additional == AdditionalProperties::schema) {
    compare_schema(b.additional_schema, r.additional_schema, path + "<additionalProperties>");
  }
  compare_schema(b.items, r.items, path + "[]");
  if (!b.one_of.empty() || !r.one_of.empty()) {
    compare_alternatives(b.one_of, r.one_of, "oneOf", path);
  }
  if (!b.any_of.empty() || !r.any_of.empty()) {
    compare_alternatives(b.any_of, r.any_of, "anyOf", path);
  }
}

const Schema* Differ::property_schema(const Document& document, const Schema& object,
                                      const std::string& name) const {
  const auto found = object.properties.find(name);
  if (found == object.properties.end() || !found->second.valid() ||
      found->second.index >= document.schemas.size()) {
    return nullptr;
  }
  return &document.schemas[found->second.index];
}

void Differ::compare_properties(const Schema& b, const Schema& r, const std::string& path) {
  if (b.properties.empty() && r.properties.empty() && b.required == r.required) return;
  std::set<std::string> names;
  for (const auto& entry : b.properties)
    names.insert(entry.first);
  for (const auto& entry : r.properties)
    names.insert(entry.first);
  names.insert(b.required.begin(), b.required.end());
  names.insert(r.required.begin(), r.required.end());
  for (const std::string& name : names) {
    const bool in_base = b.properties.count(name) != 0 || b.required.count(name) != 0;
    const bool in_revision = r.properties.count(name) != 0 || r.required.count(name) != 0;
    const Schema* before = property_schema(base_, b, name);
    const Schema* after = property_schema(revision_, r, name);
    const std::string child = child_path(path, name);
    if (request()) {
      compare_request_property(b, r, name, child, in_base, in_revision, before, after);
    } else {
      compare_response_property(b, r, name, child, in_base, in_revision, before, after);
    }
  }
}

void Differ::compare_request_property(const Schema& b, const Schema& r, const std::string& name,
                                      const std::string& child, bool in_base, bool in_revision,
                                      const Schema* before, const Schema* after) {
  const bool required_before = in_base && required_in_request(base_, b, name);
  const bool required_after = in_revision && required_in_request(revision_, r, name);
  // readOnly: the server ignores it in a request; clients need not send it.
  const bool read_only_before = before != nullptr && before->read_only;
  const bool read_only_after = after != nullptr && after->read_only;
  if (!in_base && in_revision) {
    if (required_after) {
      const std::string with_default =
          after != nullptr && after->default_value
              ? fmt::format(" (its default {} does not help: old clients do not send it)",
                            *after->default_value)
              : "";
      add(rule("request-property-added-required"), at_property(child),
          fmt::format("{} was added as required{}: clients that do not send it are refused.",
                      subject(child), with_default));
    } else if (!read_only_after) {
      add(rule("request-property-added-optional"), at_property(child),
          fmt::format("{} was added as optional.", subject(child)));
    }
    return;
  }
  if (in_base && !in_revision) {
    if (!read_only_before) {
      add(rule("request-property-removed"), at_property(child),
          fmt::format("{} was removed: clients still sending it may be refused, or its "
                      "value ignored.",
                      subject(child)));
    }
    return;
  }
  if (!required_before && required_after) {
    const std::string with_default =
        after != nullptr && after->default_value
            ? fmt::format(" (it has a default, {}, but old clients may omit it)",
                          *after->default_value)
            : "";
    add(rule("request-property-became-required"), at_property(child),
        fmt::format("{} became required{}: clients that do not send it are refused.",
                    subject(child), with_default));
  } else if (required_before && !required_after) {
    add(rule("request-property-became-optional"), at_property(child),
        fmt::format("{} became optional.", subject(child)));
  }
  if (read_only_before && read_only_after) return;
  compare_schema(property_ref(b, name), property_ref(r, name), child);
}

void Differ::compare_response_property(const Schema& b, const Schema& r, const std::string& name,
                                       const std::string& child, bool in_base, bool in_revision,
                                       const Schema* before, const Schema* after) {
  const bool required_before = in_base && required_in_response(base_, b, name);
  const bool required_after = in_revision && required_in_response(revision_, r, name);
  // writeOnly: never returned, so clients never relied on it.
  const bool write_only_before = before != nullptr && before->write_only;
  const bool write_only_after = after != nullptr && after->write_only;
  if (!in_base && in_revision) {
    if (!write_only_after) {
      add(rule("response-property-added"), at_property(child),
          fmt::format("{} was added.", subject(child)));
    }
    return;
  }
  if (in_base && !in_revision) {
    if (write_only_before) return;
    if (required_before) {
      add(rule("response-property-removed"), at_property(child),
          fmt::format("{} was removed: clients reading it find nothing.", subject(child)));
    } else {
      add(rule("response-property-removed"), Level::warning, at_property(child),
          fmt::format("{} (optional) was removed: clients reading it find nothing.",
                      subject(child)));
    }
    return;
  }
  if (required_before && !required_after) {
    add(rule("response-property-became-optional"), at_property(child),
        fmt::format("{} is no longer always present{}: clients that rely on it may fail.",
                    subject(child), write_only_after ? " (it became writeOnly)" : ""));
  } else if (!required_before && required_after) {
    add(rule("response-property-became-required"), at_property(child),
        fmt::format("{} is now always present.", subject(child)));
  }
  if (write_only_before && write_only_after) return;
  compare_schema(property_ref(b, name), property_ref(r, name), child);
}

SchemaRef Differ::property_ref(const Schema& object, const std::string& name) {
  const auto found = object.properties.find(name);
  return found == object.properties.end() ? SchemaRef{} : found->second;
}

std::string Differ::alternative_name(const Document& document, SchemaRef ref,
                                     std::size_t index) const {
  if (ref.valid() && ref.index < document.schemas.size() &&
      !document.schemas[ref.index].ref_name.empty()) {
    return "'" + document.schemas[ref.index].ref_name + "'";
  }
  return fmt::format("#{}", index + 1);
}

// oneOf/anyOf as sets: equal alternatives match; of the rest, those with the same $ref
// name (or a lone pair) are the same alternative changed and compared in depth.
void Differ::compare_alternatives(const std::vector<SchemaRef>& before,
                                  const std::vector<SchemaRef>& after, std::string_view keyword,
                                  const std::string& path) {
  std::vector<bool> matched_before(before.size(), false);
  std::vector<bool> matched_after(after.size(), false);
  // Unchanged alternatives first (by shape and name, then by shape alone), then the
  // ones changed in place (the same $ref name).
  for (const int pass : {0, 1}) {
    for (std::size_t i = 0; i < before.size(); ++i) {
      for (std::size_t j = 0; j < after.size() && !matched_before[i]; ++j) {
        if (matched_after[j] || !before[i].valid() || !after[j].valid()) continue;
        if (pass == 0 && ref_name(base_, before[i]) != ref_name(revision_, after[j])) continue;
        if (same(before[i], after[j])) matched_before[i] = matched_after[j] = true;
      }
    }
  }
  const std::string child = path + "<" + std::string(keyword) + ">";
  for (std::size_t i = 0; i < before.size(); ++i) {
    if (matched_before[i]) continue;
    const std::string& name = ref_name(base_, before[i]);
    if (name.empty()) continue;
    for (std::size_t j = 0; j < after.size(); ++j) {
      if (matched_after[j] || ref_name(revision_, after[j]) != name) continue;
      matched_before[i] = matched_after[j] = true;
      compare_schema(before[i], after[j], child);
      break;
    }
  }
  const auto unmatched = [](const std::vector<bool>& matched) {
    return static_cast<std::size_t>(std::count(matched.begin(), matched.end(), false));
  };
  if (unmatched(matched_before) == 1 && unmatched(matched_after) == 1) {
    const std::size_t i = static_cast<std::size_t>(
        std::find(matched_before.begin(), matched_before.end(), false) - matched_before.begin());
    const std::size_t j = static_cast<std::size_t>(
        std::find(matched_after.begin(), matched_after.end(), false) - matched_after.begin());
    matched_before[i] = matched_after[j] = true;
    compare_schema(before[i], after[j], child);
  }
  for (std::size_t i = 0; i < before.size(); ++i) {
    if (matched_before[i] || !request()) continue;
    add(rule("request-alternative-removed"), at_property(path),
        fmt::format("{} no longer accepts the {} alternative {}: clients sending it are "
                    "refused.",
                    subject(path), keyword, alternative_name(base_, before[i], i)));
  }
  for (std::size_t j = 0; j < after.size(); ++j) {
    if (matched_after[j]) continue;
    if (request()) {
      add(rule("request-alternative-added"), at_property(path),
          fmt::format("{} also accepts the {} alternative {}.", subject(path), keyword,
                      alternative_name(revision_, after[j], j)));
    } else {
      add(rule("response-alternative-added"), at_property(path),
          fmt::format("{} may now be the {} alternative {}, which clients may not know.",
                      subject(path), keyword, alternative_name(revision_, after[j], j)));
    }
  }
}

}  // namespace glidepath::contract::detail
