#pragma once
// Parses JSON text into an nlohmann::json value: the same values, and the same texts refused,
// as nlohmann::json::parse(text, nullptr, false) (RFC 8259, strict UTF-8, no comments, the last
// of duplicate keys wins, integers as int64/uint64 when they fit and double otherwise, a number
// that overflows a double refused). Faster where messages spend their time: a string's plain
// text is copied in runs instead of one byte at a time through a token buffer.
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ifmesh::detail::json {

// At the opening quote of a JSON string at `p`: appends its text, unescaped, to `out` and moves
// `p` past the closing quote. False (`p` somewhere inside) for a string that is not JSON (strict
// UTF-8, no control byte, no lone surrogate).
bool readString(const char*& p, const char* end, std::string& out);

// The value, or a discarded value (is_discarded()) for text that is not JSON. Text nested
// deeper than maxDepth arrays/objects is handed to nlohmann's parser, which takes any depth.
nlohmann::json parse(std::string_view text, std::size_t maxDepth = 512);

// As parse(), in one pass, for text that must not nest deeper than maxDepth: such text is
// refused (tooDeep, and a discarded value) rather than parsed. depth: the deepest nesting of a
// value read (1 for a flat object or array, 0 for a scalar).
struct Bounded {
  nlohmann::json value;
  bool tooDeep = false;
  std::size_t depth = 0;
};
// Where parseBounded keeps a member's value as its text: every member named `name` of an object
// that is the value of a member named `parent`, at any depth. That text is checked as the rest
// (json_validate.hpp) and stored as a string value holding it byte for byte, unparsed.
struct RawMember {
  std::string_view parent;
  std::string_view name;
};
Bounded parseBounded(std::string_view text, std::size_t maxDepth, const RawMember* raw = nullptr);

}  // namespace ifmesh::detail::json
