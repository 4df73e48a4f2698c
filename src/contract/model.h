// The normalised model of an API contract (SPEC section 6): what `glidepath diff` compares.
// OpenAPI 3.0, 3.1 and Swagger 2.0 documents all load into this one shape
// (contract/loader.h), so the diff rules are written once, against meaning rather than
// spelling.
//
// Normalisation decisions, and why:
//
// - Spelling that does not change the contract is erased. Path templates get a key with
//   every parameter name replaced by "{}" (OpenAPI 3.1 4.8.8.2: "/a/{id}" and "/a/{name}"
//   are the same path), so renaming a path parameter is not a change. 3.0's
//   `nullable: true` and 3.1's `type: [x, "null"]` (and `anyOf: [X, {type: "null"}]`) all
//   put `null` in the type set. 3.0's boolean `exclusiveMinimum` and 3.1's numeric one both
//   become a Bound with an `exclusive` flag. Swagger 2.0's body and formData parameters
//   become a request body, its lifted parameter keywords a Schema, its `schema` + `produces`
//   a response content map. Enum, const and default values are kept as canonical JSON text
//   (sorted keys, `1.0` == `1`), so YAML and JSON spellings compare equal.
//
// - `allOf` is merged into the schema that holds it: properties united, `required`
//   united, bounds intersected (the tighter wins), types intersected. What a client must
//   send or may receive is the conjunction, and comparing conjunctions part by part would
//   report a change when a schema is merely refactored into a base and an extension. A
//   merge that cannot be expressed (two different patterns, disjoint types) keeps the
//   first part's value and records a note in `Schema::merge_notes`, so the diff can say
//   it compared an approximation. `oneOf`/`anyOf` are kept as lists of alternatives (the
//   diff compares them as sets), `not` is kept as it is.
//
// - Schemas form a graph that may be cyclic (a Category with child Categories). They live
//   in one arena per Document (`Document::schemas`), and every edge is a SchemaRef, an
//   index into that arena: cycles are indexes, not owning pointers, so a Document is a
//   plain value (copyable, no leaks, no reference counts). A schema reached through the
//   same `$ref` target is one node however many places use it.
//
// - Equality is structural (`equivalent()` in contract/compare.h): two schemas are equal
//   when every field but the informational ones (`ref_name`, `all_of`, `merge_notes`,
//   titles and descriptions, which are not loaded at all) is equal and their subschemas
//   are equivalent, with cycles compared coinductively. So moving a schema inline <->
//   `$ref` with the same content is not a change, and `enum` / `required` / `oneOf`
//   compare as sets.
//
// - readOnly / writeOnly are kept as flags; required_in_request() / required_in_response()
//   apply their meaning (a required readOnly property need not be sent).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace glidepath::contract {

// Where the document came from; the model is the same for all three.
enum class SourceKind { swagger2, openapi30, openapi31 };
std::string_view to_string(SourceKind kind);

// An index into Document::schemas. A default-constructed SchemaRef refers to nothing
// ("no schema given"), which is not the same as an empty schema (anything goes).
struct SchemaRef {
  static constexpr std::uint32_t kNone = UINT32_MAX;
  std::uint32_t index = kNone;

  bool valid() const { return index != kNone; }
  friend bool operator==(SchemaRef, SchemaRef) = default;
  friend auto operator<=>(SchemaRef, SchemaRef) = default;
};

// JSON Schema's primitive types as a set. An empty set means "no type constraint".
enum class Type : std::uint8_t {
  null = 1U << 0U,
  boolean = 1U << 1U,
  integer = 1U << 2U,
  number = 1U << 3U,
  string = 1U << 4U,
  array = 1U << 5U,
  object = 1U << 6U,
};

class TypeSet {
 public:
  TypeSet() = default;
  static TypeSet of(Type type) { return TypeSet(static_cast<std::uint8_t>(type)); }

  bool empty() const { return bits_ == 0; }
  bool has(Type type) const { return (bits_ & static_cast<std::uint8_t>(type)) != 0; }
  void add(Type type) {
    bits_ = static_cast<std::uint8_t>(bits_ | static_cast<std::uint8_t>(type));
  }
  void remove(Type type) {
    bits_ = static_cast<std::uint8_t>(bits_ & ~static_cast<std::uint8_t>(type));
  }
  std::uint8_t bits() const { return bits_; }
  // "string", "integer|null": in the fixed order of Type.
  std::string to_string() const;

  friend bool operator==(TypeSet, TypeSet) = default;

 private:
  explicit TypeSet(std::uint8_t bits) : bits_(bits) {}
  std::uint8_t bits_ = 0;
};

// "integer" -> Type::integer; nullopt for anything else.
std::optional<Type> type_from_name(std::string_view name);

// minimum / maximum, with 3.0's boolean and 3.1's numeric exclusive forms folded in.
struct Bound {
  double value = 0;
  bool exclusive = false;
  std::string text;  // the number as written (for messages); not part of equality

  friend bool operator==(const Bound& a, const Bound& b) {
    return a.value == b.value && a.exclusive == b.exclusive;
  }
};

enum class AdditionalProperties {
  absent,   // not given: JSON Schema's default, anything allowed
  allowed,  // `true`
  denied,   // `false`
  schema,   // a schema every extra property must match (Schema::additional_schema)
};

struct Schema {
  TypeSet types;
  std::string format;
  // Canonical JSON text of each value, in document order (compare as sets).
  std::optional<std::vector<std::string>> enum_values;
  std::optional<std::string> const_value;
  std::optional<std::string> default_value;

  std::optional<Bound> minimum;
  std::optional<Bound> maximum;
  std::optional<double> multiple_of;
  std::optional<std::uint64_t> min_length;
  std::optional<std::uint64_t> max_length;
  std::optional<std::string> pattern;
  std::optional<std::uint64_t> min_items;
  std::optional<std::uint64_t> max_items;
  bool unique_items = false;
  std::optional<std::uint64_t> min_properties;
  std::optional<std::uint64_t> max_properties;

  std::map<std::string, SchemaRef> properties;
  std::set<std::string> required;
  AdditionalProperties additional = AdditionalProperties::absent;
  SchemaRef additional_schema;  // when additional == schema
  SchemaRef items;              // invalid when not given

  bool read_only = false;
  bool write_only = false;
  bool deprecated = false;
  std::string discriminator;  // the discriminator's propertyName, if any

  std::vector<SchemaRef> one_of;
  std::vector<SchemaRef> any_of;
  SchemaRef not_schema;

  // Informational only, never part of equality:
  std::string ref_name;                  // "Order" when reached through a $ref to it
  std::vector<SchemaRef> all_of;         // the parts merged into this schema
  std::vector<std::string> merge_notes;  // what an allOf merge could not express
};

// Media type ("application/json", lower-cased type/subtype) -> schema.
using Content = std::map<std::string, SchemaRef>;

struct Parameter {
  std::string name;  // as written; header names compare case-insensitively
  std::string in;    // "path", "query", "header" or "cookie"
  bool required = false;
  bool deprecated = false;
  SchemaRef schema;  // invalid when the parameter uses `content` instead
  Content content;   // 3.x parameters described by a media type
  std::optional<std::string> style;
  std::optional<bool> explode;
};

struct RequestBody {
  bool required = false;
  Content content;
};

struct Header {
  bool required = false;
  bool deprecated = false;
  SchemaRef schema;
  Content content;
};

struct Response {
  Content content;
  std::map<std::string, Header> headers;  // keyed by lower-cased name (RFC 9110 5.1)
};

// One security requirement alternative: scheme name -> scopes. An empty map is the
// "{}" alternative, which makes authentication optional.
using SecurityRequirement = std::map<std::string, std::set<std::string>>;

struct SecurityScheme {
  std::string type;    // apiKey, http, oauth2, openIdConnect, mutualTLS
  std::string scheme;  // for http: basic, bearer...
  std::string in;      // for apiKey
  std::string name;    // for apiKey
};

struct Operation {
  std::string method;    // "GET"
  std::string path;      // "/orders/{id}" as written
  std::string path_key;  // "/orders/{}"
  std::string operation_id;
  bool deprecated = false;
  std::optional<std::string> sunset;  // x-sunset as written
  // Path-level parameters merged with the operation's (which win by name and place),
  // ordered by (in, name).
  std::vector<Parameter> parameters;
  std::optional<RequestBody> request_body;
  // "200", "2XX", "default" -> response.
  std::map<std::string, Response> responses;
  // The effective requirement: the operation's `security` if it has one, else the
  // document's. Any one alternative satisfies it; empty means no authentication.
  std::vector<SecurityRequirement> security;

  // "GET /orders/{}": what identifies the operation across two documents.
  std::string key() const { return method + " " + path_key; }
};

struct Document {
  SourceKind source = SourceKind::openapi30;
  std::string title;
  std::string version;
  // Swagger 2.0's basePath, or the path of the first server URL (informational: paths are
  // kept as written, without it).
  std::string base_path;
  // Ordered by key().
  std::vector<Operation> operations;
  std::map<std::string, SecurityScheme> security_schemes;
  // Every schema of the document; SchemaRef indexes into it.
  std::vector<Schema> schemas;

  const Schema& schema(SchemaRef ref) const { return schemas.at(ref.index); }
  // The operation with this method (upper-case) and path (as written or as a key), or null.
  const Operation* find(std::string_view method, std::string_view path) const;
};

// Whether a client must send / may rely on receiving `property` of `object`: `required`
// read through readOnly (not sent in requests) and writeOnly (not returned in responses),
// OpenAPI 3.0 4.7.25.
bool required_in_request(const Document& document, const Schema& object,
                         const std::string& property);
bool required_in_response(const Document& document, const Schema& object,
                          const std::string& property);

// "/orders/{id}/items/{n}" -> "/orders/{}/items/{}".
std::string path_key(std::string_view path);

}  // namespace glidepath::contract
