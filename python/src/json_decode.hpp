#pragma once
// JSON text as Python values, built straight from the text: the payload of every message a
// Python agent receives. The values are json.loads's: objects as dicts (the last of duplicate
// keys wins), arrays as lists, integers as int of any size, other numbers as float, strings as
// str. Stricter than json.loads where the agent is (no NaN or Infinity, strict UTF-8, no lone
// surrogate escape). Caller holds the GIL.
#include <cstddef>
#include <string_view>

#include <pybind11/pybind11.h>

namespace ifmesh::python {

// Throws pybind11::value_error for text that is not one JSON value (with JSON whitespace around
// it) or that nests deeper than maxDepth.
pybind11::object decodeJson(std::string_view text, std::size_t maxDepth);

}  // namespace ifmesh::python
