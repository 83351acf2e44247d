#include "mesh/topology.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace ifmesh::mesh {

std::size_t defaultPartialMeshK(std::size_t agents) {
  if (agents <= 1) return 0;
  if (agents <= 10) return agents - 1;
  auto k = static_cast<std::size_t>(std::ceil(2 * std::log(static_cast<double>(agents))));
  return std::min(std::max<std::size_t>(3, k), std::min<std::size_t>(30, agents - 1));
}

std::vector<std::string> neighbours(Topology topology, const std::string& self,
                                    std::vector<std::string> all, std::size_t k,
                                    const std::string& hub) {
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  auto me = std::find(all.begin(), all.end(), self);
  if (me == all.end()) all.push_back(self), std::sort(all.begin(), all.end());
  std::vector<std::string> out;
  switch (topology) {
    case Topology::Manual:
      return out;
    case Topology::FullMesh:
      for (const auto& id : all)
        if (id != self) out.push_back(id);
      return out;
    case Topology::HubAndSpoke:
      if (self == hub) return neighbours(Topology::FullMesh, self, all, k, hub);
      if (std::find(all.begin(), all.end(), hub) != all.end()) out.push_back(hub);
      return out;
    case Topology::PartialMesh: {
      std::size_t n = all.size();
      if (k == 0) k = defaultPartialMeshK(n);
      if (k >= n - 1) return neighbours(Topology::FullMesh, self, all, k, hub);
      auto index = static_cast<std::size_t>(std::find(all.begin(), all.end(), self) - all.begin());
      std::set<std::string> chosen;
      // k/2 on each side of the ring (k odd: one extra ahead). Symmetric, so both ends agree.
      std::size_t ahead = (k + 1) / 2, behind = k / 2;
      for (std::size_t d = 1; d <= ahead; ++d) chosen.insert(all[(index + d) % n]);
      for (std::size_t d = 1; d <= behind; ++d) chosen.insert(all[(index + n - d) % n]);
      // With k odd the "extra ahead" link is only seen from one end; the other end adds it back.
      if (k % 2 == 1)
        for (std::size_t d = ahead; d <= ahead; ++d) chosen.insert(all[(index + n - d) % n]);
      chosen.erase(self);
      return {chosen.begin(), chosen.end()};
    }
  }
  return out;
}

}  // namespace ifmesh::mesh
