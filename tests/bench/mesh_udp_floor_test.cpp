// The mesh scenarios' UDP floor: the same all-pairs echo over plain loopback sockets, every
// round trip a real datagram each way.
#include "bench/mesh_udp_floor.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace ifmesh::bench {
namespace {

using namespace std::chrono_literals;

MeshFloorOptions fullMesh(std::size_t agents) {
  MeshFloorOptions o;
  o.agents = agents;
  for (std::size_t a = 0; a < agents; ++a)
    for (std::size_t b = a + 1; b < agents; ++b) o.links.emplace_back(a, b);
  o.duration = 300ms;
  return o;
}

TEST(MeshUdpFloor, FullMeshEchoesOverEveryLink) {
  MeshFloorResult r = measureMeshUdpFloor(fullMesh(6));
  EXPECT_GT(r.roundTripsPerS, 0);
  ASSERT_FALSE(r.rttUs.empty());
  for (double rtt : r.rttUs) EXPECT_GT(rtt, 0);
  EXPECT_GT(r.cpuUsPerRoundTrip, 0);
  EXPECT_EQ(r.sendErrors, 0u);
}

TEST(MeshUdpFloor, HubAndSpokeOnTheThreadsItIsGiven) {
  MeshFloorOptions o;
  o.agents = 5;
  for (std::size_t spoke = 1; spoke < 5; ++spoke) o.links.emplace_back(0, spoke);
  o.threads = 3;
  o.threadOf = {2, 0, 1, 0, 1};
  o.window = 8;
  o.duration = 300ms;
  MeshFloorResult r = measureMeshUdpFloor(o);
  EXPECT_GT(r.roundTripsPerS, 0);
  EXPECT_FALSE(r.rttUs.empty());
}

TEST(MeshUdpFloor, AnAgentWithoutLinksSendsNothing) {
  MeshFloorOptions o = fullMesh(2);
  o.links.clear();
  o.duration = 100ms;
  EXPECT_TRUE(measureMeshUdpFloor(o).rttUs.empty());
}

TEST(MeshUdpFloor, RejectsLinksToUnknownAgentsOrItself) {
  MeshFloorOptions o = fullMesh(3);
  o.links.emplace_back(1, 3);
  EXPECT_THROW(measureMeshUdpFloor(o), std::invalid_argument);
  o = fullMesh(3);
  o.links.emplace_back(2, 2);
  EXPECT_THROW(measureMeshUdpFloor(o), std::invalid_argument);
  o = fullMesh(3);
  o.threadOf = {0, 1};
  EXPECT_THROW(measureMeshUdpFloor(o), std::invalid_argument);
}

}  // namespace
}  // namespace ifmesh::bench
