#pragma once
// Registers NativePeerConnection and NativeDataChannel (native_peer_connection.hpp) in the
// module; ifmesh/rtc.py gives them their asyncio API.
#include <pybind11/pybind11.h>

namespace ifmesh::python {

void bindRtc(pybind11::module_& m);

}  // namespace ifmesh::python
