#pragma once
// Python values as compact JSON text, written straight from the objects: the payload of every
// message a Python agent sends. The text is what json.dumps(value, separators=(",", ":"),
// ensure_ascii=False, allow_nan=False) writes, but for floats, which are written in their
// shortest round-trip form (1e+16 for 1e16; a float stays a float: 2.0, never 2). Caller holds
// the GIL.
#include <cstddef>
#include <string>

#include <pybind11/pybind11.h>

namespace ifmesh::python {

// Throws pybind11::type_error for a value JSON cannot hold (as json.dumps raises TypeError) and
// pybind11::value_error for a float that is not finite, a string with a lone surrogate, or
// containers nested deeper than maxDepth (which also stops a container that holds itself).
std::string encodeJson(pybind11::handle value, std::size_t maxDepth);

}  // namespace ifmesh::python
