#include "mesh/mesh_routes.hpp"

#include <deque>
#include <vector>

#include "mesh/topology.hpp"

namespace ifmesh::detail {

std::string MeshRoutes::nextHop(const std::string& destination,
                                const std::set<std::string>& directory) {
  if (topology_ != Topology::PartialMesh && topology_ != Topology::HubAndSpoke) return destination;
  if (!directory.count(destination)) return destination;
  if (routes_.empty()) compute(directory);
  auto it = routes_.find(destination);
  return it == routes_.end() ? destination : it->second;
}

void MeshRoutes::compute(const std::set<std::string>& directory) {
  std::vector<std::string> all(directory.begin(), directory.end());
  all.push_back(self_);
  std::deque<std::string> queue;
  for (const auto& n : mesh::neighbours(topology_, self_, all, k_, hub_)) {
    routes_[n] = n;
    queue.push_back(n);
  }
  while (!queue.empty()) {
    std::string node = queue.front();
    queue.pop_front();
    for (const auto& n : mesh::neighbours(topology_, node, all, k_, hub_)) {
      if (n == self_ || routes_.count(n)) continue;
      routes_[n] = routes_[node];
      queue.push_back(n);
    }
  }
}

}  // namespace ifmesh::detail
