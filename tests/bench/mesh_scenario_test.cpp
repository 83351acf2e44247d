// The agent-mesh scenario end to end on loopback, small: every figure the report needs, and the
// SCTP stack's cost per round trip read from usrsctp's own counters.
#include <gtest/gtest.h>

#include "bench/mesh_scenario.hpp"

namespace ifmesh::bench {
namespace {

using namespace std::chrono_literals;

TEST(MeshScenario, ThreeAgentsEchoAndCountTheirPackets) {
  MeshOptions o;
  o.scenario = "mesh3";
  o.agents = 3;
  o.duration = 500ms;
  o.floorDuration = 300ms;
  ScenarioResult r = runMeshScenario(o);

  const auto& mesh = r.extra["mesh"];
  EXPECT_EQ(mesh["connections"].get<std::size_t>(), 3u);
  EXPECT_GT(r.echoRoundTripsPerS, 0);
  ASSERT_FALSE(r.rttSamplesUs.empty());
  EXPECT_GT(r.rttUs.p50, 0);
  // Every round trip is a ping and a pong, each at least one DATA chunk of its own, and every
  // DATA chunk is acknowledged by a SACK, alone or riding on a reply.
  const auto& sctp = mesh["sctp_per_round_trip"];
  EXPECT_GE(sctp["data_chunks"].get<double>(), 2.0);
  EXPECT_GT(sctp["sacks"].get<double>(), 0.0);
  EXPECT_GE(sctp["retransmitted_chunks"].get<double>(), 0.0);
  bool noted = false;
  for (const auto& note : r.notes) noted = noted || note.rfind("per round trip:", 0) == 0;
  EXPECT_TRUE(noted) << "the block should print the packets per round trip";

  // The same echo over plain UDP sockets on the links the mesh formed: two per connection.
  const auto& floor = mesh["udp_floor"];
  EXPECT_EQ(floor["sockets"].get<std::size_t>(), 6u);
  EXPECT_GT(floor["round_trips_per_s"].get<double>(), 0);
  EXPECT_GT(floor["payload_bytes"].get<std::size_t>(), 100u);
  EXPECT_GT(r.floorUs.samples, 0u);
  EXPECT_GT(r.floorUs.p50, 0);
}

}  // namespace
}  // namespace ifmesh::bench
