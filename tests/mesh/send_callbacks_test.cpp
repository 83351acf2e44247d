// Agent::sendAsync with SendCallbacks between two real agents: each callback is called once, on
// the agent's I/O thread, with its message's sequence number; durable (no state store) comes at
// once, acknowledged once the peer has the message; a callback may send again from inside; a
// message the peer's channel refuses is told MessageTooLarge; a send the agent refuses throws
// and calls neither callback.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "ifmesh/error.hpp"
#include "mesh/mesh_fixture.hpp"

namespace ifmesh::test {
namespace {

std::thread::id ioThreadOf(Agent& agent) {
  std::promise<std::thread::id> id;
  agent.post([&] { id.set_value(std::this_thread::get_id()); });
  return id.get_future().get();
}

struct Outcome {
  std::uint64_t sequence = 0;
  bool ok = false;
  std::thread::id thread;
  int calls = 0;
};

// What the callbacks of one kind were told, by message number.
struct Told {
  std::mutex mutex;
  std::map<int, Outcome> byMessage;
  SendCallbacks::Outcome callback(int n) {
    return [this, n](std::uint64_t sequence, std::exception_ptr error) {
      std::lock_guard lock(mutex);
      auto& o = byMessage[n];
      o.sequence = sequence;
      o.ok = !error;
      o.thread = std::this_thread::get_id();
      ++o.calls;
    };
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return byMessage.size();
  }
};

TEST(SendCallbacks, EachMessageIsToldOnceOnTheIoThreadWithItsSequenceNumber) {
  auto server = startSignaling();
  Agent alice(meshAgentConfig("alice", *server)), bob(meshAgentConfig("bob", *server));
  Inbox inbox;
  inbox.attach(bob);
  ASSERT_TRUE(registerAndLink(alice, bob));
  const auto io = ioThreadOf(alice);

  Told durable, acked;
  std::map<int, std::uint64_t> returned;
  constexpr int kMessages = 300;
  for (int n = 0; n < kMessages; ++n)
    returned[n] = alice.sendAsync("bob", numbered(n), {durable.callback(n), acked.callback(n)});
  ASSERT_TRUE(waitFor([&] { return acked.size() == kMessages; }, 10s));
  ASSERT_TRUE(waitFor([&] { return inbox.size() == kMessages; }));
  std::this_thread::sleep_for(100ms);  // a second call would come by now
  for (auto* told : {&durable, &acked}) {
    std::lock_guard lock(told->mutex);
    ASSERT_EQ(told->byMessage.size(), static_cast<std::size_t>(kMessages));
    for (const auto& [n, o] : told->byMessage) {
      EXPECT_EQ(o.calls, 1) << "message " << n;
      EXPECT_TRUE(o.ok) << "message " << n;
      EXPECT_EQ(o.sequence, returned[n]) << "message " << n;
      EXPECT_EQ(o.thread, io) << "message " << n;
    }
  }
  EXPECT_EQ(returned[kMessages - 1], returned[0] + kMessages - 1);
  EXPECT_EQ(alice.unacknowledged("bob"), 0u);
}

// Each acknowledgement sends the next message from inside its callback: the agent is not in
// the middle of its link's processing when a callback runs.
TEST(SendCallbacks, ACallbackMaySendTheNextMessage) {
  auto server = startSignaling();
  Agent alice(meshAgentConfig("alice", *server)), bob(meshAgentConfig("bob", *server));
  Inbox inbox;
  inbox.attach(bob);
  ASSERT_TRUE(registerAndLink(alice, bob));

  constexpr int kChain = 50;
  std::atomic<int> acknowledged{0};
  std::function<void(int)> sendFrom = [&](int n) {
    SendCallbacks c;
    c.acknowledged = [&, n](std::uint64_t, std::exception_ptr error) {
      if (error) return;
      ++acknowledged;
      if (n + 1 < kChain) sendFrom(n + 1);
    };
    alice.sendAsync("bob", numbered(n), std::move(c));
  };
  sendFrom(0);
  ASSERT_TRUE(waitFor([&] { return acknowledged.load() == kChain; }, 10s));
  ASSERT_TRUE(waitFor([&] { return inbox.size() == kChain; }));
  std::vector<int> expected(kChain);
  for (int n = 0; n < kChain; ++n) expected[n] = n;
  EXPECT_EQ(inbox.numbers(), expected);
}

// bob takes channel messages of at most 64 KiB: a 100 KB message is told MessageTooLarge and the
// link goes on. A message over alice's own limit is refused by sendAsync itself, which throws
// and tells nobody.
TEST(SendCallbacks, AFailureIsToldAndARefusalThrowsWithoutACall) {
  auto server = startSignaling();
  auto aliceConfig = meshAgentConfig("alice", *server);
  aliceConfig.maxMessageBytes = 256 * 1024;
  auto bobConfig = meshAgentConfig("bob", *server);
  bobConfig.maxMessageBytes = 64 * 1024;
  Agent alice(aliceConfig), bob(bobConfig);
  Inbox inbox;
  inbox.attach(bob);
  ASSERT_TRUE(registerAndLink(alice, bob));

  std::atomic<int> calls{0};
  IFMessage huge = numbered(0);
  huge.payload["text"] = std::string(300 * 1000, 'x');
  auto counted = [&](std::uint64_t, std::exception_ptr) { ++calls; };
  try {
    alice.sendAsync("bob", huge, {counted, counted});
    FAIL() << "a message over alice's own limit was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::MessageTooLarge) << e.what();
  }

  std::promise<std::exception_ptr> told;
  IFMessage big = numbered(1);
  big.payload["text"] = std::string(100 * 1000, 'x');
  SendCallbacks c;
  c.acknowledged = [&](std::uint64_t, std::exception_ptr error) { told.set_value(error); };
  alice.sendAsync("bob", big, std::move(c));
  auto f = told.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  auto error = f.get();
  ASSERT_TRUE(error);
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::MessageTooLarge) << e.what();
  }

  std::promise<void> last;
  SendCallbacks l;
  l.acknowledged = [&](std::uint64_t, std::exception_ptr e) {
    if (!e) last.set_value();
  };
  alice.sendAsync("bob", numbered(2), std::move(l));
  ASSERT_EQ(last.get_future().wait_for(5s), std::future_status::ready);
  ASSERT_TRUE(waitFor([&] { return inbox.size() == 1; }));
  EXPECT_EQ(inbox.numbers(), std::vector<int>{2});
  EXPECT_EQ(calls.load(), 0);
}

}  // namespace
}  // namespace ifmesh::test
