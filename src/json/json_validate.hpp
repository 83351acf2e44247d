#pragma once
// Checks JSON text without building a value: the texts parse() accepts (json_reader.hpp) and
// the nesting depth it would report, at a fraction of its cost. For text that is passed on as
// it is (a payload spliced into a link frame, handed to another runtime) but must be JSON.
#include <cstddef>
#include <string_view>

namespace ifmesh::detail::json {

struct Scan {
  const char* end = nullptr;  // just after the value; null when it is not JSON
  bool tooDeep = false;       // refused for nesting deeper than maxDepth
  std::size_t depth = 0;      // the deepest array/object nesting, counting the enclosing ones
};

// The JSON value that starts exactly at `p` (no whitespace before it), inside `depth`
// enclosing arrays/objects: checked as parse() checks it (strict UTF-8, escapes, numbers that
// fit a double) and refused when it nests deeper than maxDepth in all.
Scan scanValue(const char* p, const char* end, std::size_t depth, std::size_t maxDepth);

struct Checked {
  bool ok = false;
  bool tooDeep = false;
  std::size_t depth = 0;  // the deepest array/object nesting (0 for a scalar)
};

// Whether `text` is one JSON value with nothing but JSON whitespace around it, nested at most
// maxDepth deep. Stricter than parse() in two corners that only matter for whole documents: no
// byte order mark, nothing after a NUL byte.
Checked check(std::string_view text, std::size_t maxDepth);

}  // namespace ifmesh::detail::json
