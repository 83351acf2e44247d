#pragma once
// Next hops over the graph every agent derives from the directory (topology.hpp): for a partial
// mesh or hub-and-spoke, the first step of a shortest path; for a full or manual mesh, the
// destination itself. One breadth-first search, kept until the directory changes. Sans-IO.
#include <map>
#include <set>
#include <string>

#include "ifmesh/agent.hpp"

namespace ifmesh::detail {

class MeshRoutes {
 public:
  MeshRoutes(Topology topology, std::string self, std::size_t partialMeshK, std::string hubId)
      : topology_(topology), self_(std::move(self)), k_(partialMeshK), hub_(std::move(hubId)) {}

  void directoryChanged() { routes_.clear(); }
  // The neighbour to hand a message for `destination` to, given the directory (without us).
  // The destination itself when no path through the graph is known.
  std::string nextHop(const std::string& destination, const std::set<std::string>& directory);

 private:
  void compute(const std::set<std::string>& directory);

  Topology topology_;
  std::string self_;
  std::size_t k_;
  std::string hub_;
  std::map<std::string, std::string> routes_;  // destination -> next hop; empty = recompute
};

}  // namespace ifmesh::detail
