#pragma once
// Which peers an agent links to. Every agent computes the same graph from the same directory, so
// the graph needs no coordination; the lower id of each pair makes the offer (no glare).
#include <string>
#include <vector>

#include "ifmesh/agent.hpp"

namespace ifmesh::mesh {

// The original design's k: N-1 for N <= 10, else min(max(3, ceil(2 ln N)), min(30, N-1)).
std::size_t defaultPartialMeshK(std::size_t agents);

// Neighbours of `self` among `all` (which includes self). Partial mesh: a circulant graph on the
// sorted ids (each agent links to the k/2 next on each side of the ring), connected by
// construction.
std::vector<std::string> neighbours(Topology topology, const std::string& self,
                                    std::vector<std::string> all, std::size_t k,
                                    const std::string& hub);

}  // namespace ifmesh::mesh
