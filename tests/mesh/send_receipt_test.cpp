// Agent::sendAsync's receipt between two real agents: `acknowledged` completes once the peer has
// the message, promptly for a lone message (its frame asks for the ack), and a message sent
// with send() (nobody waits for its ack) is still delivered exactly once; a message too large
// for the peer's channel fails with MessageTooLarge and the link goes on.
#include <gtest/gtest.h>

#include <atomic>

#include "ifmesh/error.hpp"
#include "mesh/mesh_fixture.hpp"

namespace ifmesh::test {
namespace {

TEST(SendReceipt, ALoneMessageIsAcknowledgedPromptly) {
  auto server = startSignaling();
  Agent alice(meshAgentConfig("alice", *server)), bob(meshAgentConfig("bob", *server));
  Inbox inbox;
  inbox.attach(bob);
  ASSERT_TRUE(registerAndLink(alice, bob));

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

// bob takes channel messages of at most 64 KiB, alice sends up to 256 KiB: a 100 KB message
// reaches the channel, which refuses it; the receipt says so and the messages after it arrive.
TEST(SendReceipt, AMessageTooLargeForThePeersChannelFailsAndTheLinkGoesOn) {
  auto server = startSignaling();
  auto bobConfig = meshAgentConfig("bob", *server);
  bobConfig.maxMessageBytes = 64 * 1024;
  Agent alice(meshAgentConfig("alice", *server)), bob(bobConfig);
  Inbox inbox;
  inbox.attach(bob);
  std::atomic<int> undeliverable{0};
  alice.onUndeliverable([&](const IFMessage&, const std::string&) { ++undeliverable; });
  ASSERT_TRUE(registerAndLink(alice, bob));

  IFMessage big = numbered(1);
  big.payload["text"] = std::string(100 * 1000, 'x');
  auto receipt = alice.sendAsync("bob", big);
  ASSERT_EQ(receipt.acknowledged.wait_for(5s), std::future_status::ready);
  try {
    receipt.acknowledged.get();
    FAIL() << "a message bob's channel cannot take was acknowledged";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::MessageTooLarge) << e.what();
  }
  EXPECT_EQ(undeliverable.load(), 1);
  for (int n = 2; n < 50; ++n) alice.send("bob", numbered(n));
  auto last = alice.sendAsync("bob", numbered(50));
  ASSERT_EQ(last.acknowledged.wait_for(5s), std::future_status::ready);
  last.acknowledged.get();
  ASSERT_TRUE(waitFor([&] { return inbox.size() == 49; }));
  EXPECT_EQ(inbox.numbers().front(), 2);
  EXPECT_EQ(alice.unacknowledged("bob"), 0u);
}

}  // namespace
}  // namespace ifmesh::test
