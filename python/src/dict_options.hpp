#pragma once
// Reading options from the dict the Python side passes to a native constructor: a key that is
// missing or None leaves the default, a value of the wrong type is Error(InvalidArgument) naming
// the key.
#include <pybind11/pybind11.h>

#include <string>

#include "ifmesh/error.hpp"

namespace ifmesh::python {

// Sets `out` from d[key] when the key is there and not None; true when it did.
template <typename T>
bool take(const pybind11::dict& d, const char* key, T& out) {
  if (!d.contains(key) || d[key].is_none()) return false;
  try {
    out = d[key].cast<T>();
  } catch (const pybind11::cast_error&) {
    throw Error(Errc::InvalidArgument, std::string("option '") + key + "' has the wrong type");
  }
  return true;
}

}  // namespace ifmesh::python
