// Agent::post between two real agents in HIGH quality (no batch delay): the messages one posted
// function sends to a peer leave together in one channel message, and arrive once each, in
// order; a message sent outside a post leaves alone.
#include <gtest/gtest.h>

#include <future>

#include "mesh/mesh_fixture.hpp"

namespace ifmesh::test {
namespace {

TEST(PostGathering, TheSendsOfOnePostShareAChannelMessage) {
  auto server = startSignaling();
  auto config = meshAgentConfig("alice", *server);
  config.bandwidth.enabled = false;  // HIGH throughout: no batch delay
  Agent alice(config), bob(meshAgentConfig("bob", *server));
  Inbox inbox;
  inbox.attach(bob);
  ASSERT_TRUE(registerAndLink(alice, bob));

  alice.send("bob", numbered(0));
  ASSERT_TRUE(waitFor([&] { return inbox.size() == 1; }));
  const auto before = alice.getBandwidthStats();
  EXPECT_EQ(before.batchesSent, 0u);

  constexpr int kMessages = 100;
  std::promise<void> posted;
  alice.post([&] {
    for (int n = 1; n <= kMessages; ++n) alice.send("bob", numbered(n));
    posted.set_value();
  });
  posted.get_future().get();
  ASSERT_TRUE(waitFor([&] { return inbox.size() == kMessages + 1; }));
  const auto after = alice.getBandwidthStats();
  EXPECT_EQ(after.batchesSent - before.batchesSent, 1u);
  EXPECT_EQ(after.messagesBatched - before.messagesBatched, static_cast<std::uint64_t>(kMessages));
  std::vector<int> expected(kMessages + 1);
  for (int n = 0; n <= kMessages; ++n) expected[n] = n;
  EXPECT_EQ(inbox.numbers(), expected);
}

}  // namespace
}  // namespace ifmesh::test
