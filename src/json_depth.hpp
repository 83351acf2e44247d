#pragma once
// Nesting limits for JSON from peers and files. nlohmann::json parses iteratively, but copying
// and dumping a value recurse once per level: a few hundred KiB of "[[[[..." overflow the stack.
// So text is measured before it is parsed.
#include <algorithm>
#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "json/json_scan.hpp"

namespace ifmesh::detail {

// Deepest IFMessage (payload included) accepted from text; far beyond any real message.
constexpr std::size_t kMaxJsonDepth = 100;

// The deepest array/object nesting of JSON text, counting brackets outside strings only; stops
// at cap + 1. Exact for valid JSON; for invalid JSON the parser rejects the text anyway.
inline std::size_t jsonNestingDepth(std::string_view text, std::size_t cap) {
  std::size_t depth = 0, deepest = 0;
  bool inString = false, escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    // A string's plain text holds no bracket: skipped eight bytes at a time.
    if (inString && !escaped) i += json::plainRun(text.data() + i, text.size() - i);
    if (i == text.size()) break;
    const char c = text[i];
    if (inString) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
    } else if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > cap) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

// The same measure of a value already parsed or built: what jsonNestingDepth gives for its JSON
// text, found from the value's containers instead of every byte of its text; stops at cap + 1.
inline std::size_t valueNestingDepth(const nlohmann::json& value, std::size_t cap) {
  if (!value.is_structured()) return 0;
  std::size_t deepest = 1;
  if (cap == 0) return deepest;
  for (const auto& member : value) {
    deepest = std::max(deepest, 1 + valueNestingDepth(member, cap - 1));
    if (deepest > cap) return deepest;
  }
  return deepest;
}

}  // namespace ifmesh::detail
