// Agent::sendAsync's receipt between two real agents: `acknowledged` completes once the peer has
// the message, promptly for a lone message (its frame asks for the ack), and a message sent
// with send() (nobody waits for its ack) is still delivered exactly once.
#include <gtest/gtest.h>

#include "mesh/mesh_fixture.hpp"

namespace ifmesh::test {
namespace {

TEST(SendReceipt, ALoneMessageIsAcknowledgedPromptly) {
  auto server = startSignaling();
  Agent alice(meshAgentConfig("alice", *server)), bob(meshAgentConfig("bob", *server));
  Inbox inbox;
  inbox.attach(bob);
  alice.connectToSignaling();
  bob.connectToSignaling();
  ASSERT_TRUE(alice.waitRegistered(5s));
  ASSERT_TRUE(bob.waitRegistered(5s));
  alice.connect("bob");
  ASSERT_TRUE(waitFor([&] { return alice.peers().size() == 1; }));

  alice.send("bob", numbered(0));  // nobody waits for this one's ack
  ASSERT_TRUE(waitFor([&] { return inbox.size() == 1; }));
  for (int n = 1; n <= 5; ++n) {
    auto t0 = std::chrono::steady_clock::now();
    auto receipt = alice.sendAsync("bob", numbered(n));
    // Without the request the ack would wait for 64 messages or 5 s: bob never answers.
    ASSERT_EQ(receipt.acknowledged.wait_for(2s), std::future_status::ready) << "message " << n;
    receipt.acknowledged.get();
    auto took = std::chrono::steady_clock::now() - t0;
    std::printf("message %d acknowledged after %.2f ms\n", n,
                std::chrono::duration<double, std::milli>(took).count());
  }
  EXPECT_EQ(alice.unacknowledged("bob"), 0u);
  EXPECT_EQ(inbox.numbers(), (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

}  // namespace
}  // namespace ifmesh::test
