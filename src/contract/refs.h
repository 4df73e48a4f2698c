// Internal to the contract loader: where a node is (a source and a JSON pointer into it),
// the unit every message and every $ref resolution (refs.cpp) works with.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace glidepath::contract::detail {

struct Cursor {
  std::size_t source = 0;  // index into Loader::sources_
  std::string pointer;     // JSON pointer within that source ("" is the root)
  YAML::Node node;
  int depth = 0;  // tokens in pointer

  Cursor(std::size_t source_index, std::string json_pointer, const YAML::Node& value)
      : source(source_index), pointer(std::move(json_pointer)), node(value) {}
  Cursor(const Cursor&) = default;
  // YAML::Node's assignment writes through to the tree it refers to; a Cursor must only
  // ever rebind, so assignment resets the node instead.
  Cursor& operator=(const Cursor& other) {
    if (this == &other) return *this;
    source = other.source;
    pointer = other.pointer;
    node.reset(other.node);
    depth = other.depth;
    return *this;
  }

  Cursor at(std::string_view key, const YAML::Node& value) const;
  Cursor at(std::size_t index, const YAML::Node& value) const;
  Cursor deeper(std::string child_pointer, const YAML::Node& value) const;
  std::optional<Cursor> field(std::string_view key) const;
};

struct Source {
  std::string name;                // as shown in messages: "" for the main text
  std::filesystem::path path;      // empty for the main text
  std::filesystem::path base_dir;  // what its relative refs resolve against
  YAML::Node root;
};

}  // namespace glidepath::contract::detail
