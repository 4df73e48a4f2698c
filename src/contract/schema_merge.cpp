// Schemas, phase 2: a null alternative folded into nullable, allOf parts merged into the
// schema that lists them (with a note where they cannot be), nullable applied.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "contract/loader_internal.h"

namespace glidepath::contract::detail {
namespace {

// allOf inside allOf, and merges of merged properties, deeper than this stop merging (with
// a note): real documents nest a handful of levels.
constexpr int kMaxMergeDepth = 64;

template <typename T, typename Pick>
void intersect(std::optional<T>& into, const std::optional<T>& from, Pick pick) {
  if (!from) return;
  into = into ? pick(*into, *from) : *from;
}

}  // namespace

void Loader::tighten_min(std::optional<Bound>& bound, const Bound& other) {
  if (!bound || other.value > bound->value || (other.value == bound->value && other.exclusive)) {
    bound = other;
  }
}

void Loader::tighten_max(std::optional<Bound>& bound, const Bound& other) {
  if (!bound || other.value < bound->value || (other.value == bound->value && other.exclusive)) {
    bound = other;
  }
}

// Schemas, phase 2: null alternatives, allOf merges, nullable.
// `{type: "null"}` and nothing else: what 3.1 writes as the null side of `anyOf`.
bool Loader::is_only_null(SchemaRef ref) const {
  const Schema& schema = document_.schemas[ref.index];
  const SchemaWork& work = work_[ref.index];
  return schema.types == TypeSet::of(Type::null) && !schema.enum_values && !schema.const_value &&
         schema.properties.empty() && schema.one_of.empty() && schema.any_of.empty() &&
         !schema.not_schema.valid() && !schema.items.valid() && work.all_of.empty();
}

// anyOf/oneOf [X, {type: null}] is X or null: the same as X with `nullable: true`.
void Loader::fold_null_alternative(std::uint32_t index) {
  for (const bool one_of : {true, false}) {
    Schema& schema = document_.schemas[index];
    std::vector<SchemaRef>& alternatives = one_of ? schema.one_of : schema.any_of;
    if (alternatives.size() != 2) continue;
    const bool first_null = is_only_null(alternatives[0]);
    const bool second_null = is_only_null(alternatives[1]);
    if (first_null == second_null) continue;
    work_[index].all_of.push_back(alternatives[first_null ? 1 : 0]);
    work_[index].nullable = true;
    alternatives.clear();
  }
}

void Loader::finish_schema(std::uint32_t index, int depth) {
  if (work_[index].stage != SchemaWork::Stage::raw) return;
  work_[index].stage = SchemaWork::Stage::finishing;
  fold_null_alternative(index);
  const std::vector<SchemaRef> parts = work_[index].all_of;
  for (const SchemaRef part : parts) {
    if (part.index == index || work_[part.index].stage == SchemaWork::Stage::finishing) {
      note(index, "an allOf part refers back to the schema itself; it was not merged");
      continue;
    }
    if (depth >= kMaxMergeDepth) {
      note(index, fmt::format("allOf nested more than {} levels; the rest was not merged",
                              kMaxMergeDepth));
      break;
    }
    finish_schema(part.index, depth + 1);
    merge_into(index, part.index, depth + 1);
  }
  Schema& schema = document_.schemas[index];
  schema.all_of.insert(schema.all_of.end(), parts.begin(), parts.end());
  if (work_[index].nullable && !schema.types.empty()) schema.types.add(Type::null);
  work_[index].all_of.clear();
  work_[index].stage = SchemaWork::Stage::final;
}

void Loader::note(std::uint32_t index, std::string text) {
  auto& notes = document_.schemas[index].merge_notes;
  if (std::find(notes.begin(), notes.end(), text) == notes.end()) notes.push_back(std::move(text));
}

// A schema that is both `a` and `b` (for a property both allOf parts describe).
SchemaRef Loader::merged_pair(SchemaRef a, SchemaRef b, int depth, std::uint32_t owner) {
  if (a == b || !a.valid()) return b.valid() ? b : a;
  if (!b.valid()) return a;
  if (auto found = merged_.find({a.index, b.index}); found != merged_.end()) return found->second;
  if (depth >= kMaxMergeDepth || work_[a.index].stage == SchemaWork::Stage::finishing ||
      work_[b.index].stage == SchemaWork::Stage::finishing) {
    note(owner,
         "a property described by two allOf parts was too deep or recursive to merge; "
         "the first description is used");
    return a;
  }
  finish_schema(a.index, depth + 1);
  finish_schema(b.index, depth + 1);
  const SchemaRef merged =
      allocate(Cursor{0, "", sources_[0].root});  // a merge has no place in the text
  Schema copy = document_.schemas[a.index];
  copy.ref_name.clear();
  copy.all_of = {a, b};
  document_.schemas[merged.index] = std::move(copy);
  work_[merged.index].stage = SchemaWork::Stage::final;
  merged_.emplace(std::make_pair(a.index, b.index), merged);
  merge_into(merged.index, b.index, depth + 1);
  return merged;
}

// Narrows schema `into` by the constraints of schema `from` (both allOf parts).
void Loader::merge_into(std::uint32_t into_index, std::uint32_t from_index, int depth) {
  const Schema from = document_.schemas[from_index];  // a copy: merges may grow the arena
  Schema into = document_.schemas[into_index];
  std::vector<std::string> notes;

  if (into.types.empty()) {
    into.types = from.types;
  } else if (!from.types.empty()) {
    TypeSet common;
    for (const Type type : {Type::null, Type::boolean, Type::integer, Type::number, Type::string,
                            Type::array, Type::object}) {
      if (into.types.has(type) && from.types.has(type)) common.add(type);
    }
    // Every integer is a number: integer and number have integer in common.
    if ((into.types.has(Type::integer) && from.types.has(Type::number)) ||
        (into.types.has(Type::number) && from.types.has(Type::integer))) {
      common.add(Type::integer);
    }
    if (common.empty()) {
      notes.push_back(fmt::format("allOf: types {} and {} have nothing in common; kept {}",
                                  into.types.to_string(), from.types.to_string(),
                                  into.types.to_string()));
    } else {
      into.types = common;
    }
  }
  if (into.format.empty()) {
    into.format = from.format;
  } else if (!from.format.empty() && from.format != into.format) {
    notes.push_back(fmt::format("allOf: formats '{}' and '{}' differ; kept '{}'", into.format,
                                from.format, into.format));
  }
  if (from.enum_values) {
    if (!into.enum_values) {
      into.enum_values = from.enum_values;
    } else {
      std::vector<std::string> common;
      for (const std::string& value : *into.enum_values) {
        if (std::find(from.enum_values->begin(), from.enum_values->end(), value) !=
            from.enum_values->end()) {
          common.push_back(value);
        }
      }
      if (common.empty()) notes.push_back("allOf: the enums have no value in common");
      into.enum_values = std::move(common);
    }
  }
  if (from.const_value && into.const_value && *from.const_value != *into.const_value) {
    notes.push_back("allOf: two different const values; kept the first");
  } else if (!into.const_value) {
    into.const_value = from.const_value;
  }
  if (!into.default_value) into.default_value = from.default_value;
  if (from.minimum) tighten_min(into.minimum, *from.minimum);
  if (from.maximum) tighten_max(into.maximum, *from.maximum);
  if (from.multiple_of && into.multiple_of && *from.multiple_of != *into.multiple_of) {
    const double big = std::max(*from.multiple_of, *into.multiple_of);
    const double small = std::min(*from.multiple_of, *into.multiple_of);
    if (std::fmod(big, small) == 0) {
      into.multiple_of = big;
    } else {
      notes.push_back("allOf: two multipleOf values that do not divide; kept the first");
    }
  } else if (!into.multiple_of) {
    into.multiple_of = from.multiple_of;
  }
  const auto larger = [](std::uint64_t x, std::uint64_t y) { return std::max(x, y); };
  const auto smaller = [](std::uint64_t x, std::uint64_t y) { return std::min(x, y); };
  intersect(into.min_length, from.min_length, larger);
  intersect(into.max_length, from.max_length, smaller);
  intersect(into.min_items, from.min_items, larger);
  intersect(into.max_items, from.max_items, smaller);
  intersect(into.min_properties, from.min_properties, larger);
  intersect(into.max_properties, from.max_properties, smaller);
  if (from.pattern && into.pattern && *from.pattern != *into.pattern) {
    notes.push_back("allOf: two different patterns; kept the first");
  } else if (!into.pattern) {
    into.pattern = from.pattern;
  }
  into.unique_items = into.unique_items || from.unique_items;
  into.read_only = into.read_only || from.read_only;
  into.write_only = into.write_only || from.write_only;
  into.deprecated = into.deprecated || from.deprecated;
  if (into.discriminator.empty()) into.discriminator = from.discriminator;
  into.required.insert(from.required.begin(), from.required.end());

  for (const auto& [name, ref] : from.properties) {
    auto [existing, added] = into.properties.emplace(name, ref);
    if (!added && existing->second != ref) {
      const SchemaRef mine = existing->second;
      existing->second = merged_pair(mine, ref, depth, into_index);
    }
  }
  // additionalProperties: false wins; two schemas are both applied.
  if (from.additional == AdditionalProperties::denied) {
    into.additional = AdditionalProperties::denied;
    into.additional_schema = SchemaRef{};
  } else if (from.additional == AdditionalProperties::schema) {
    if (into.additional == AdditionalProperties::schema) {
      into.additional_schema =
          merged_pair(into.additional_schema, from.additional_schema, depth, into_index);
    } else if (into.additional != AdditionalProperties::denied) {
      into.additional = AdditionalProperties::schema;
      into.additional_schema = from.additional_schema;
    }
  } else if (from.additional == AdditionalProperties::allowed &&
             into.additional == AdditionalProperties::absent) {
    into.additional = AdditionalProperties::allowed;
  }
  if (into.items.valid() && from.items.valid()) {
    into.items = merged_pair(into.items, from.items, depth, into_index);
  } else if (!into.items.valid()) {
    into.items = from.items;
  }
  const auto keep_alternatives = [&](std::vector<SchemaRef>& mine,
                                     const std::vector<SchemaRef>& theirs, std::string_view what) {
    if (theirs.empty() || mine == theirs) return;
    if (mine.empty()) {
      mine = theirs;
    } else {
      notes.push_back(fmt::format("allOf: two parts have {}; only the first is compared", what));
    }
  };
  keep_alternatives(into.one_of, from.one_of, "oneOf");
  keep_alternatives(into.any_of, from.any_of, "anyOf");
  if (into.not_schema.valid() && from.not_schema.valid() && into.not_schema != from.not_schema) {
    notes.push_back("allOf: two parts have `not`; only the first is compared");
  } else if (!into.not_schema.valid()) {
    into.not_schema = from.not_schema;
  }
  for (const std::string& text : from.merge_notes)
    notes.push_back(text);

  // merged_pair may have grown the arena: write back by index.
  into.merge_notes = std::move(document_.schemas[into_index].merge_notes);
  document_.schemas[into_index] = std::move(into);
  for (std::string& text : notes)
    note(into_index, std::move(text));
}

}  // namespace glidepath::contract::detail
