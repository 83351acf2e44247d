// A peer that offers a new connection while the agent still holds the old one (it restarted, or
// lost the connection first): the agent counts its connection as down from that offer, witnesses
// the disconnection, and reports the reconnection with the downtime since then.
#include <gtest/gtest.h>

#include "mesh/mesh_fixture.hpp"
#include "support/raw_link_peer.hpp"

namespace ifmesh::test {
namespace {

TEST(PeerReoffer, AnOfferWhileConnectedEndsTheOldConnectionAndTimesTheGap) {
  auto server = startSignaling();
  WitnessEvents events;
  auto c = meshAgentConfig("bob", *server);
  c.witness = events.witness;
  Agent bob(c);
  bob.connectToSignaling();
  ASSERT_TRUE(bob.waitRegistered(5s));
  RawLinkPeer alice(rawPeerConfig("alice", *server));  // the lower id: alice offers
  alice.connectToSignaling();
  ASSERT_TRUE(alice.waitRegistered(5s));
  alice.connect("bob");
  ASSERT_TRUE(alice.waitOpen(10s));
  ASSERT_TRUE(waitFor([&] { return bob.peerState("alice") == PeerState::Connected; }));
  ASSERT_EQ(events.count("peer_connected"), 1u);

  auto reoffered = std::chrono::steady_clock::now();
  alice.abandon();       // the old connection is never closed
  alice.connect("bob");  // and a new offer follows
  ASSERT_TRUE(waitFor([&] { return events.count("peer_reconnected_successfully") == 1; }));
  auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - reoffered);
  EXPECT_EQ(events.count("bob", "peer_disconnected", "peer offered a new connection"), 1u);
  std::lock_guard lock(events.mutex);
  for (const auto& e : events.all) {
    if (e.event != "peer_reconnected_successfully") continue;
    auto downtime = e.metadata.value("total_downtime_ms", std::int64_t{-1});
    EXPECT_GE(downtime, 0);
    EXPECT_LE(downtime, gap.count()) << "the downtime counts from before the new offer";
  }
}

}  // namespace
}  // namespace ifmesh::test
