// The signaling server as its own process (`ifmesh signal`), SIGKILLed by its PID while a mesh
// carries traffic, then started again on the same port. Links already up do not need it: traffic
// keeps flowing, every message exactly once. The agents re-register with the new server by
// themselves, and an agent joining afterwards links to all of them through it.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "bench/process.hpp"
#include "ifmesh/witness.hpp"
#include "mesh_fixture.hpp"

namespace ifmesh::test {
namespace {

// Port 0 picks a free port; the successor asks for the same one.
std::unique_ptr<bench::ChildProcess> startServerProcess(std::uint16_t& port) {
  auto server = std::make_unique<bench::ChildProcess>(std::vector<std::string>{
      IFMESH_CLI_PATH, "signal", "--address", "127.0.0.1", "--port", std::to_string(port)});
  auto line = server->waitForLine("signaling server on", 10s);
  EXPECT_NE(line, "") << "the server did not start";
  if (auto colon = line.rfind(':'); colon != std::string::npos)
    port = static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));
  return server;
}

AgentConfig configFor(const std::string& id, std::uint16_t port,
                      std::shared_ptr<Witness> witness = nullptr) {
  AgentConfig c;
  c.witness = std::move(witness);
  c.agentId = id;
  c.signalingUrl = "ws://127.0.0.1:" + std::to_string(port);
  c.localAddresses = {"127.0.0.1"};
  c.topology = Topology::FullMesh;
  c.healing.initialDelay = 50ms;
  c.healing.maxDelay = 300ms;
  c.healing.attemptTimeout = 3s;
  c.healing.maxRetries = 100;
  return c;
}

TEST(SignalingKill, MeshOutlivesAKilledServerAndGrowsThroughItsSuccessor) {
  std::uint16_t port = 0;
  auto server = startServerProcess(port);
  ASSERT_NE(port, 0);
  constexpr int kAgents = 3;
  // A restarted server must not cost a single working link.
  std::atomic<int> disconnects{0};
  auto witness = std::make_shared<Witness>();
  witness->addSink(std::make_shared<CallbackWitnessSink>([&](const WitnessEvent& e) {
    if (e.event == "peer_disconnected") ++disconnects;
  }));
  std::vector<std::unique_ptr<Agent>> agents;
  std::vector<std::unique_ptr<Inbox>> inboxes;
  for (int i = 0; i < kAgents; ++i) {
    agents.push_back(std::make_unique<Agent>(configFor("k" + std::to_string(i), port, witness)));
    inboxes.push_back(std::make_unique<Inbox>());
    inboxes.back()->attach(*agents.back());
    agents.back()->connectToSignaling();
  }
  for (auto& a : agents)
    ASSERT_TRUE(waitFor([&] { return a->peers().size() == kAgents - 1; }, 30s)) << a->id();

  server->kill();  // SIGKILL by PID: no close frames, the TCP connections just die
  ASSERT_TRUE(waitFor(
      [&] {
        for (auto& a : agents)
          if (a->isRegistered()) return false;
        return true;
      },
      20s))
      << "the agents did not notice the server was gone";

  // Peer-to-peer traffic does not go through the server.
  constexpr int kMessages = 200;
  for (int n = 0; n < kMessages; ++n) agents[0]->send("k1", numbered(n));
  ASSERT_TRUE(waitFor([&] { return inboxes[1]->size() == kMessages; }, 20s))
      << "k1 got " << inboxes[1]->size() << " of " << kMessages << " with the server dead";
  std::vector<int> expected(kMessages);
  for (int n = 0; n < kMessages; ++n) expected[n] = n;
  EXPECT_EQ(inboxes[1]->numbers(), expected);

  auto successor = startServerProcess(port);
  for (auto& a : agents) ASSERT_TRUE(a->waitRegistered(30s)) << a->id() << " did not re-register";
  for (auto& a : agents) EXPECT_EQ(a->peers().size(), static_cast<std::size_t>(kAgents - 1));

  // Joining now needs the new server for the offers and answers.
  auto late = std::make_unique<Agent>(configFor("k9", port));
  Inbox lateInbox;
  lateInbox.attach(*late);
  late->connectToSignaling();
  ASSERT_TRUE(waitFor([&] { return late->peers().size() == kAgents; }, 30s))
      << "the late agent linked to " << late->peers().size() << " of " << kAgents;
  for (auto& a : agents) a->send("k9", numbered(7));
  ASSERT_TRUE(waitFor([&] { return lateInbox.size() == kAgents; }, 20s));
  EXPECT_EQ(inboxes[1]->size(), static_cast<std::size_t>(kMessages));  // nothing twice
  EXPECT_EQ(disconnects.load(), 0) << "links were dropped while the server was away or back";
  late.reset();
  agents.clear();
}

}  // namespace
}  // namespace ifmesh::test
