// Agents through a real signaling server and real DataChannels on 127.0.0.1.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "ifmesh/error.hpp"
#include "mesh/mesh_fixture.hpp"

namespace ifmesh {
namespace {

using namespace test;

// The healing these tests were tuned with: slower attempts than quickHealing's (3 s, backoff up to
// 500 ms) and the library's 10 retries.
HealingConfig agentHealing() {
  HealingConfig h;
  h.initialDelay = 50ms;
  h.maxDelay = 500ms;
  h.attemptTimeout = 3s;
  return h;
}

// These tests poll every 5 ms, not the fixture's 2 ms: each poll is a round trip to an agent's
// I/O thread, and the 20-agent meshes were tuned with that load.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 20s) {
  return waitFor(std::move(pred), timeout, 5ms);
}

TEST(Agent, TwoAgentsExchangeIFMessagesWithWitnessEvents) {
  auto server = startSignaling();
  auto witness = std::make_shared<Witness>();
  std::mutex m;
  std::vector<std::string> events;
  witness->addSink(std::make_shared<CallbackWitnessSink>([&](const WitnessEvent& e) {
    std::lock_guard lock(m);
    events.push_back(e.event);
  }));
  Inbox ra, rb;
  Agent a(meshAgentConfig("agent-a", *server, witness, agentHealing())),
      b(meshAgentConfig("agent-b", *server, witness, agentHealing()));
  ra.attach(a);
  rb.attach(b);
  a.connectToSignaling();
  b.connectToSignaling();
  ASSERT_TRUE(a.waitRegistered(5s));
  ASSERT_TRUE(b.waitRegistered(5s));
  a.connect("agent-b");
  ASSERT_TRUE(eventually([&] { return a.peers() == std::vector<std::string>{"agent-b"}; }));
  auto seq = a.send("agent-b", numbered(1));
  EXPECT_EQ(seq, 1u);
  b.send("agent-a", numbered(2));
  ASSERT_TRUE(eventually([&] { return rb.size() == 1 && ra.size() == 1; }));
  const IFMessage& got = rb.messages[0];
  EXPECT_EQ(got.source, "agent-a");
  EXPECT_EQ(got.destination, "agent-b");
  EXPECT_EQ(got.version, "2.1");
  EXPECT_EQ(got.sequence, 1u);
  EXPECT_EQ(got.payload["n"], 1);
  EXPECT_FALSE(got.id.empty());
  EXPECT_EQ(got.timestamp.back(), 'Z');
  ASSERT_TRUE(eventually([&] { return a.unacknowledged("agent-b") == 0; }));
  std::lock_guard lock(m);
  for (const char* e : {"peer_connected", "ifmessage_sent", "ifmessage_received"})
    EXPECT_NE(std::find(events.begin(), events.end(), e), events.end()) << e;
}

// A sink that can be switched on: while it is off, the agents build no per-message events.
class SwitchedSink : public WitnessSink {
 public:
  void record(const WitnessEvent& e) override {
    std::lock_guard lock(mutex);
    events.push_back(e.event);
  }
  bool wantsEvents() const override { return on; }
  std::size_t count(const std::string& name) {
    std::lock_guard lock(mutex);
    return static_cast<std::size_t>(std::count(events.begin(), events.end(), name));
  }
  std::atomic<bool> on{false};
  std::mutex mutex;
  std::vector<std::string> events;
};

TEST(Agent, MessageEventsAreBuiltOnlyWhileASinkWantsThem) {
  auto server = startSignaling();
  auto witness = std::make_shared<Witness>();
  auto sink = std::make_shared<SwitchedSink>();
  witness->addSink(sink);
  Inbox rb;
  Agent a(meshAgentConfig("agent-a", *server, witness, agentHealing())),
      b(meshAgentConfig("agent-b", *server, witness, agentHealing()));
  rb.attach(b);
  a.connectToSignaling();
  b.connectToSignaling();
  ASSERT_TRUE(a.waitRegistered(5s) && b.waitRegistered(5s));
  for (int i = 0; i < 5; ++i) a.send("agent-b", numbered(i));
  ASSERT_TRUE(eventually([&] { return rb.size() == 5; }));
  EXPECT_EQ(sink->count("ifmessage_sent"), 0u);
  EXPECT_EQ(sink->count("ifmessage_received"), 0u);
  EXPECT_GE(sink->count("peer_connected"), 1u);  // other events still reach the sink

  sink->on = true;
  for (int i = 5; i < 8; ++i) a.send("agent-b", numbered(i));
  ASSERT_TRUE(eventually([&] { return rb.size() == 8 && sink->count("ifmessage_received") == 3; }));
  EXPECT_EQ(sink->count("ifmessage_sent"), 3u);
}

TEST(Agent, OversizeMessageIsRejectedClearly) {
  auto server = startSignaling();
  Agent a(meshAgentConfig("a", *server, nullptr, agentHealing()));
  a.connectToSignaling();
  IFMessage big;
  big.payload = {{"blob", std::string(300 * 1024, 'x')}};
  try {
    a.send("b", big);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::MessageTooLarge);
  }
}

TEST(Agent, TenThousandMessagesArriveExactlyOnceInOrderAcrossADroppedConnection) {
  auto server = startSignaling();
  auto witness = std::make_shared<Witness>();
  std::atomic<int> reconnected{0};
  witness->addSink(std::make_shared<CallbackWitnessSink>([&](const WitnessEvent& e) {
    if (e.event == "peer_reconnected_successfully") ++reconnected;
    if (getenv("IFMESH_TRACE") && e.event.rfind("ifmessage", 0) != 0)
      fprintf(stderr, "%s %s->%s %s\n", e.event.c_str(), e.agentId.c_str(), e.peerId.c_str(),
              e.metadata.dump().c_str());
  }));
  Agent a(meshAgentConfig("a", *server, witness, agentHealing())),
      b(meshAgentConfig("b", *server, witness, agentHealing()));
  std::mutex mutex;
  std::vector<std::uint64_t> seqs;
  std::vector<int> payloads;
  b.onMessage([&](const IFMessage& m) {
    std::lock_guard lock(mutex);
    seqs.push_back(m.sequence);
    payloads.push_back(m.payload["n"].get<int>());
  });
  a.connectToSignaling();
  b.connectToSignaling();
  ASSERT_TRUE(a.waitRegistered(5s) && b.waitRegistered(5s));
  a.connect("b");
  ASSERT_TRUE(eventually([&] { return !a.peers().empty(); }));
  constexpr int kCount = 10000;
  for (int i = 0; i < kCount; ++i) {
    a.send("b", numbered(i));
    if (i == kCount / 3) a.dropConnection("b");      // our side's sockets go away
    if (i == 2 * kCount / 3) b.dropConnection("a");  // and the other side's
  }
  ASSERT_TRUE(eventually(
      [&] {
        std::lock_guard lock(mutex);
        return seqs.size() >= kCount;
      },
      60s))
      << "delivered " << seqs.size() << " unacked " << a.unacknowledged("b") << " a->b "
      << toString(*a.peerState("b")) << " b->a " << toString(*b.peerState("a"));
  std::this_thread::sleep_for(200ms);  // any duplicate would show up now
  std::lock_guard lock(mutex);
  ASSERT_EQ(seqs.size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) {
    ASSERT_EQ(seqs[i], static_cast<std::uint64_t>(i + 1));
    ASSERT_EQ(payloads[i], i);
  }
  EXPECT_GE(reconnected.load(), 1);
  EXPECT_TRUE(eventually([&] { return a.unacknowledged("b") == 0; }));
}

TEST(Agent, MeshReformsAfterTheSignalingServerRestarts) {
  auto server = startSignaling();
  std::uint16_t port = server->port();
  Agent a(meshAgentConfig("a", *server, nullptr, agentHealing())),
      b(meshAgentConfig("b", *server, nullptr, agentHealing()));
  Inbox rb;
  rb.attach(b);
  a.connectToSignaling();
  b.connectToSignaling();
  ASSERT_TRUE(a.waitRegistered(5s) && b.waitRegistered(5s));
  a.connect("b");
  ASSERT_TRUE(eventually([&] { return !a.peers().empty(); }));
  server->stop();
  server.reset();
  server = startSignaling(port);
  ASSERT_TRUE(eventually([&] { return a.waitRegistered(1ms) && b.waitRegistered(1ms); }));
  // The connection is dropped while signaling was away: it can only heal through the new server.
  a.dropConnection("b");
  a.send("b", numbered(7));
  ASSERT_TRUE(eventually([&] { return rb.size() == 1; }));
  EXPECT_EQ(rb.messages[0].payload["n"], 7);
}

// A peer that closes (saying bye) and comes back as a new process under the same id is linked
// again, in a full mesh and when it asks by hand, whichever side offers.
void aPeerThatSaidByeIsLinkedAgainWhenItReturns(const std::string& stays,
                                                const std::string& returns, Topology topology) {
  auto server = startSignaling();
  auto config = [&](const std::string& id) {
    auto c = meshAgentConfig(id, *server, nullptr, agentHealing());
    c.topology = topology;
    return c;
  };
  Agent a(config(stays));
  Inbox ra;
  ra.attach(a);
  a.connectToSignaling();
  ASSERT_TRUE(a.waitRegistered(5s));
  for (int round = 1; round <= 2; ++round) {
    Agent b(config(returns));
    Inbox rb;
    rb.attach(b);
    b.connectToSignaling();
    ASSERT_TRUE(b.waitRegistered(5s));
    if (topology == Topology::Manual) b.connect(stays);
    ASSERT_TRUE(eventually([&] { return b.peers() == std::vector<std::string>{stays}; }, 10s))
        << "round " << round;
    a.send(returns, numbered(round));
    b.send(stays, numbered(round));
    ASSERT_TRUE(eventually(
        [&] { return rb.size() == 1 && ra.size() == static_cast<std::size_t>(round); }, 10s))
        << "round " << round << ": " << rb.size() << " at " << returns << ", " << ra.size()
        << " at " << stays;
    EXPECT_EQ(rb.messages[0].payload["n"], round);
  }  // b closes: its bye reaches a
}

TEST(Agent, APeerThatSaidByeIsLinkedAgainWhenItReturnsAsTheAnswerer) {
  aPeerThatSaidByeIsLinkedAgainWhenItReturns("a-stays", "b-returns", Topology::FullMesh);
}

TEST(Agent, APeerThatSaidByeIsLinkedAgainWhenItReturnsAsTheOfferer) {
  aPeerThatSaidByeIsLinkedAgainWhenItReturns("b-stays", "a-returns", Topology::FullMesh);
}

TEST(Agent, APeerThatSaidByeAndAsksAgainIsLinkedAgain) {
  aPeerThatSaidByeIsLinkedAgainWhenItReturns("a-stays", "b-returns", Topology::Manual);
}

// Twenty agents in the given topology; every agent sends to every other, and every message
// arrives exactly once, forwarded where the topology has no direct link.
void everyoneReachesEveryone(Topology topology, std::size_t k, std::size_t expectedLinksEach,
                             std::size_t expectedHubLinks) {
  auto server = startSignaling();
  constexpr int kAgents = 20;
  std::vector<std::unique_ptr<Agent>> agents;
  std::vector<std::unique_ptr<Inbox>> inboxes;
  for (int i = 0; i < kAgents; ++i) {
    auto c = meshAgentConfig("m" + std::to_string(100 + i), *server, nullptr, agentHealing());
    c.topology = topology;
    c.partialMeshK = k;
    c.hubId = "m100";
    agents.push_back(std::make_unique<Agent>(c));
    inboxes.push_back(std::make_unique<Inbox>());
    inboxes.back()->attach(*agents.back());
    agents.back()->connectToSignaling();
  }
  for (int i = 0; i < kAgents; ++i) {
    std::size_t expected = i == 0 && expectedHubLinks ? expectedHubLinks : expectedLinksEach;
    ASSERT_TRUE(eventually([&] { return agents[i]->peers().size() == expected; }, 60s))
        << agents[i]->id() << " has " << agents[i]->peers().size() << " links, expected "
        << expected;
  }
  for (int i = 0; i < kAgents; ++i)
    for (int j = 0; j < kAgents; ++j)
      if (i != j) agents[i]->send(agents[j]->id(), numbered(i));
  for (int i = 0; i < kAgents; ++i) {
    ASSERT_TRUE(eventually([&] { return inboxes[i]->size() >= kAgents - 1; }))
        << agents[i]->id() << " got " << inboxes[i]->size();
    std::this_thread::sleep_for(20ms);
    std::lock_guard lock(inboxes[i]->mutex);
    std::set<std::string> sources;
    for (const auto& m : inboxes[i]->messages) sources.insert(m.source);
    EXPECT_EQ(inboxes[i]->messages.size(), static_cast<std::size_t>(kAgents - 1));
    EXPECT_EQ(sources.size(), static_cast<std::size_t>(kAgents - 1));
  }
  // No agent linked more than its topology allows: the messages above were forwarded.
  for (int i = 1; i < kAgents; ++i) EXPECT_EQ(agents[i]->peers().size(), expectedLinksEach);
}

TEST(Agent, TwentyAgentFullMeshEveryoneReachesEveryone) {
  everyoneReachesEveryone(Topology::FullMesh, 0, 19, 0);
}

TEST(Agent, TwentyAgentPartialMeshForwardsSoEveryoneReachesEveryone) {
  everyoneReachesEveryone(Topology::PartialMesh, 4, 4, 0);
}

TEST(Agent, TwentyAgentHubAndSpokeForwardsThroughTheHub) {
  everyoneReachesEveryone(Topology::HubAndSpoke, 0, 1, 19);
}

TEST(Agent, UnreachablePeerIsReportedNotSilentlyDropped) {
  auto server = startSignaling();
  auto c = meshAgentConfig("lonely", *server, nullptr, agentHealing());
  c.healing.maxRetries = 2;
  c.healing.attemptTimeout = 300ms;
  c.healing.initialDelay = 20ms;
  Agent a(c);
  std::atomic<int> undeliverable{0};
  a.onUndeliverable([&](const IFMessage&, const std::string&) { ++undeliverable; });
  a.connectToSignaling();
  ASSERT_TRUE(a.waitRegistered(5s));
  for (int i = 0; i < 5; ++i) a.send("ghost", numbered(i));
  ASSERT_TRUE(eventually([&] { return undeliverable == 5; }));
  EXPECT_EQ(a.peerState("ghost"), PeerState::Unreachable);
}

}  // namespace
}  // namespace ifmesh
