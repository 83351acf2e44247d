// The signaling server as its own process (`ifmesh signal`), SIGKILLed by its PID while a mesh
// carries traffic, then started again on the same port. Links already up do not need it: traffic
// keeps flowing, every message exactly once. The agents re-register with the new server by
// themselves, and an agent joining afterwards links to all of them through it.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "bench/process.hpp"
#include "mesh_fixture.hpp"

namespace ifmesh::test {
namespace {

std::uint16_t freeTcpPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::unique_ptr<bench::ChildProcess> startServerProcess(std::uint16_t port) {
  auto server = std::make_unique<bench::ChildProcess>(std::vector<std::string>{
      IFMESH_CLI_PATH, "signal", "--address", "127.0.0.1", "--port", std::to_string(port)});
  EXPECT_NE(server->waitForLine("signaling server on", 10s), "") << "the server did not start";
  return server;
}

AgentConfig configFor(const std::string& id, std::uint16_t port) {
  AgentConfig c;
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
  auto port = freeTcpPort();
  auto server = startServerProcess(port);
  constexpr int kAgents = 3;
  std::vector<std::unique_ptr<Agent>> agents;
  std::vector<std::unique_ptr<Inbox>> inboxes;
  for (int i = 0; i < kAgents; ++i) {
    agents.push_back(std::make_unique<Agent>(configFor("k" + std::to_string(i), port)));
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
  late.reset();
  agents.clear();
}

}  // namespace
}  // namespace ifmesh::test
