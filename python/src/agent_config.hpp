#pragma once
// AgentConfig from the dict the Python package builds (ifmesh/_config.py names its keys).
#include <pybind11/pybind11.h>

#include "ifmesh/agent.hpp"

namespace ifmesh::python {

// Throws ifmesh::Error(InvalidArgument) naming the key that is wrong.
AgentConfig agentConfigFrom(const pybind11::dict& options);

}  // namespace ifmesh::python
