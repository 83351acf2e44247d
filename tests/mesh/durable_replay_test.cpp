// The replay window and the sequence numbers are part of the durable state: a signed message
// that a destination took before it restarted is a replay after the restart too, whoever brings
// it back (here a relay); a sender that restarts numbers on after what it accepted.
#include <gtest/gtest.h>

#include <filesystem>

#include "ifmesh/error.hpp"
#include "mesh/mesh_fixture.hpp"
#include "support/raw_link_peer.hpp"

namespace ifmesh::test {
namespace {

TEST(DurableReplay, AReplayToARestartedDestinationIsRejected) {
  TempDir dir("ifmesh-durable-replay");
  auto server = startSignaling();
  WitnessEvents events;
  Inbox inbox;
  auto startBob = [&] {
    auto c = meshAgentConfig("bob", *server);
    c.witness = events.witness;
    c.state.directory = (dir.path / "bob").string();
    auto bob = std::make_unique<Agent>(c);
    inbox.attach(*bob);
    bob->connectToSignaling();
    EXPECT_TRUE(bob->waitRegistered(5s));
    return bob;
  };
  auto bob = startBob();
  RawLinkPeer alice(rawPeerConfig("alice", *server));
  alice.connectToSignaling();
  ASSERT_TRUE(alice.waitRegistered(5s));
  alice.connect("bob");
  ASSERT_TRUE(alice.waitOpen(10s));
  alice.send(alice.message("bob", numbered(1)));
  ASSERT_TRUE(waitFor([&] { return inbox.size() == 1; }));
  IFMessage captured = inbox.messages.back();

  bob.reset();  // stops, its state committed
  bob = startBob();
  RawLinkPeer mallory(rawPeerConfig("mallory", *server));
  mallory.connectToSignaling();
  ASSERT_TRUE(mallory.waitRegistered(5s));
  mallory.connect("bob");
  ASSERT_TRUE(mallory.waitOpen(10s));
  mallory.send(captured, 1);  // "forwarded" by mallory
  EXPECT_TRUE(waitFor([&] { return events.count("bob", "ifmessage_rejected", "replay") == 1; }));
  EXPECT_TRUE(waitFor([&] { return mallory.unacknowledged() == 0; }));
  EXPECT_EQ(inbox.size(), 1u) << "the replay was delivered";

  bob.reset();
}

// A refused send uses no sequence number, on disk either: a restarted sender numbers on after
// the last message it accepted.
TEST(DurableStamps, ARefusedSendLeavesNoNumberBehind) {
  TempDir dir("ifmesh-durable-stamps");
  auto server = startSignaling();
  auto c = meshAgentConfig("a", *server);
  c.state.directory = dir.path.string();
  c.bandwidth.queue.maxMessages = 3;
  {
    Agent a(c);
    for (int i = 0; i < 3; ++i) a.send("b", numbered(i));  // b does not exist: they stay queued
    EXPECT_THROW(a.send("b", numbered(3)), Error);
    EXPECT_EQ(a.lastSequence("b", MessagePriority::Normal), 3u);
  }  // stops, its state committed
  Agent again(c);
  EXPECT_EQ(again.lastSequence("b", MessagePriority::Normal), 3u)
      << "the refused message's number was kept";
}

// A broadcast that reached nobody still returns: it waits for a commit, which it asks for.
TEST(DurableBroadcast, ToNoPeerReturns) {
  TempDir dir("ifmesh-durable-broadcast");
  auto server = startSignaling();
  auto c = meshAgentConfig("lonely", *server);
  c.state.directory = dir.path.string();
  {
    Agent agent(c);
    agent.broadcast(numbered(1));
  }
}

}  // namespace
}  // namespace ifmesh::test
