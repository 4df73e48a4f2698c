#include "contract/compare.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <utility>
#include <vector>

namespace glidepath::contract {
namespace {

// Past these the comparison answers "different": the safe answer for a diff, which then
// reports a change rather than hiding one. Real documents stay far below both.
constexpr std::size_t kMaxSteps = 1'000'000;
constexpr int kMaxDepth = 1000;

template <typename T>
bool same_as_sets(const std::vector<T>& a, const std::vector<T>& b) {
  return std::set<T>(a.begin(), a.end()) == std::set<T>(b.begin(), b.end());
}

// Coinductive equivalence: a pair under comparison is assumed equal while its
// subschemas are compared, so a cycle closes on the assumption instead of looping. Set
// matching (oneOf, anyOf) tries alternatives; a failed try takes back every assumption it
// made, since those may rest on the pair that failed. A "different" answer never rests on
// an assumption (assumptions only ever say "equal"), so it is remembered for good.
class Comparer {
 public:
  Comparer(const Document& a, const Document& b) : a_(a), b_(b) {}

  bool same(SchemaRef x, SchemaRef y) {
    if (!x.valid() || !y.valid()) return x.valid() == y.valid();
    if (x.index >= a_.schemas.size() || y.index >= b_.schemas.size()) return false;
    const std::pair<std::uint32_t, std::uint32_t> pair{x.index, y.index};
    if (assumed_.count(pair) != 0) return true;
    if (different_.count(pair) != 0) return false;
    if (++steps_ > kMaxSteps || depth_ >= kMaxDepth) return false;
    assumed_.insert(pair);
    added_.push_back(pair);
    ++depth_;
    const bool equal = same_fields(a_.schemas[x.index], b_.schemas[y.index]);
    --depth_;
    if (!equal) different_.insert(pair);
    return equal;
  }

 private:
  bool attempt(SchemaRef x, SchemaRef y) {
    const std::size_t mark = added_.size();
    if (same(x, y)) return true;
    while (added_.size() > mark) {
      assumed_.erase(added_.back());
      added_.pop_back();
    }
    return false;
  }

  // Every alternative on one side has an equivalent on the other.
  bool same_alternatives(const std::vector<SchemaRef>& xs, const std::vector<SchemaRef>& ys) {
    for (const SchemaRef x : xs) {
      if (std::none_of(ys.begin(), ys.end(), [&](SchemaRef y) { return attempt(x, y); })) {
        return false;
      }
    }
    for (const SchemaRef y : ys) {
      if (std::none_of(xs.begin(), xs.end(), [&](SchemaRef x) { return attempt(x, y); })) {
        return false;
      }
    }
    return true;
  }

  bool same_fields(const Schema& x, const Schema& y) {
    const bool enums_equal = x.enum_values.has_value() == y.enum_values.has_value() &&
                             (!x.enum_values || same_as_sets(*x.enum_values, *y.enum_values));
    if (!(x.types == y.types && x.format == y.format && enums_equal &&
          x.const_value == y.const_value && x.default_value == y.default_value &&
          x.minimum == y.minimum && x.maximum == y.maximum && x.multiple_of == y.multiple_of &&
          x.min_length == y.min_length && x.max_length == y.max_length && x.pattern == y.pattern &&
          x.min_items == y.min_items && x.max_items == y.max_items &&
          x.unique_items == y.unique_items && x.min_properties == y.min_properties &&
          x.max_properties == y.max_properties && x.required == y.required &&
          x.additional == y.additional && x.read_only == y.read_only &&
          x.write_only == y.write_only && x.deprecated == y.deprecated &&
          x.discriminator == y.discriminator && x.properties.size() == y.properties.size())) {
      return false;
    }
    for (auto xi = x.properties.begin(), yi = y.properties.begin(); xi != x.properties.end();
         ++xi, ++yi) {
      if (xi->first != yi->first) return false;
    }
    for (auto xi = x.properties.begin(), yi = y.properties.begin(); xi != x.properties.end();
         ++xi, ++yi) {
      if (!same(xi->second, yi->second)) return false;
    }
    return same(x.items, y.items) && same(x.additional_schema, y.additional_schema) &&
           same(x.not_schema, y.not_schema) && same_alternatives(x.one_of, y.one_of) &&
           same_alternatives(x.any_of, y.any_of);
  }

  const Document& a_;
  const Document& b_;
  std::set<std::pair<std::uint32_t, std::uint32_t>> assumed_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> added_;
  std::set<std::pair<std::uint32_t, std::uint32_t>> different_;
  std::size_t steps_ = 0;
  int depth_ = 0;
};

}  // namespace

bool equivalent(const Document& a, SchemaRef a_ref, const Document& b, SchemaRef b_ref) {
  return Comparer(a, b).same(a_ref, b_ref);
}

}  // namespace glidepath::contract
