// A mesh forming while agents keep joining: each directory change must leave the attempts in
// flight alone (they used to be torn down and restarted on every join).
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <vector>

#include "ifmesh/error.hpp"
#include "ifmesh/witness.hpp"
#include "mesh_fixture.hpp"

namespace ifmesh::test {
namespace {

TEST(MeshFormation, JoiningAgentsDoNotRestartConnectionsInFlight) {
  auto server = startSignaling();
  constexpr int kAgents = 12;
  std::atomic<int> failedAttempts{0};
  auto witness = std::make_shared<Witness>();
  witness->addSink(std::make_shared<CallbackWitnessSink>([&](const WitnessEvent& e) {
    if (e.event == "reconnection_attempt_failed") ++failedAttempts;
  }));
  std::vector<std::unique_ptr<Agent>> agents;
  for (int i = 0; i < kAgents; ++i) {
    auto c = meshAgentConfig("f" + std::to_string(100 + i), *server);
    c.topology = Topology::FullMesh;
    c.healing.attemptTimeout = 10s;
    c.witness = witness;
    agents.push_back(std::make_unique<Agent>(c));
    agents.back()->connectToSignaling();
    std::this_thread::sleep_for(5ms);  // joins overlap the attempts already under way
  }
  for (auto& a : agents)
    ASSERT_TRUE(waitFor([&] { return a->peers().size() == kAgents - 1; }, 60s))
        << a->id() << " has " << a->peers().size() << " links";
  // Every pair's connection was made once by each side, plus one per witnessed failed attempt.
  std::size_t attempts = 0;
  for (auto& a : agents)
    for (auto& b : agents)
      if (a != b) attempts += a->connectionAttempts(b->id());
  std::size_t pairs = kAgents * (kAgents - 1) / 2;
  EXPECT_LE(attempts, 2 * pairs + 2 * static_cast<std::size_t>(failedAttempts.load()));
  EXPECT_GE(attempts, 2 * pairs);
}

// The offers beyond maxConnectingPeers wait for a free slot and still all happen.
TEST(MeshFormation, OneOfferInFlightAtATimeStillFormsTheMesh) {
  auto server = startSignaling();
  constexpr int kAgents = 7;
  std::vector<std::unique_ptr<Agent>> agents;
  for (int i = 0; i < kAgents; ++i) {
    auto c = meshAgentConfig("s" + std::to_string(100 + i), *server);
    c.topology = Topology::FullMesh;
    c.maxConnectingPeers = 1;
    agents.push_back(std::make_unique<Agent>(c));
    agents.back()->connectToSignaling();
  }
  for (auto& a : agents)
    ASSERT_TRUE(waitFor([&] { return a->peers().size() == kAgents - 1; }, 60s))
        << a->id() << " has " << a->peers().size() << " links";
}

TEST(MeshFormation, ZeroConnectingPeersIsRejected) {
  auto server = startSignaling();
  auto c = meshAgentConfig("z", *server);
  c.maxConnectingPeers = 0;
  EXPECT_THROW(Agent{c}, Error);
}

}  // namespace
}  // namespace ifmesh::test
