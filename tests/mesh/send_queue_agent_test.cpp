// Bounded send queues on real agents: messages wait for a peer that has not started yet, so the
// queue fills deterministically; each policy is checked, then the peer starts and everything
// accepted arrives exactly once, in order.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <numeric>
#include <optional>
#include <thread>

#include "ifmesh/error.hpp"
#include "mesh/mesh_fixture.hpp"

namespace ifmesh {
namespace {

using namespace test;

std::vector<int> range(int from, int to) {
  std::vector<int> v(static_cast<std::size_t>(to - from));
  std::iota(v.begin(), v.end(), from);
  return v;
}

TEST(AgentSendQueue, FailPolicyThrowsQueueFullAndDeliversWhatItAccepted) {
  auto server = startSignaling();
  auto ac = meshAgentConfig("a", *server);
  ac.bandwidth.queue.maxMessages = 20;
  Agent a(ac);
  a.connectToSignaling();
  ASSERT_TRUE(a.waitRegistered(5s));
  for (int i = 0; i < 20; ++i) a.send("b", numbered(i));  // b does not exist yet
  try {
    a.send("b", numbered(20));
    FAIL() << "the 21st message was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::QueueFull);
    EXPECT_NE(std::string(e.what()).find("queue"), std::string::npos) << e.what();
  }
  EXPECT_EQ(a.unacknowledged("b"), 20u);
  EXPECT_EQ(a.getBandwidthStats().rejectedMessages, 1u);

  Agent b(meshAgentConfig("b", *server));
  Inbox inbox;
  inbox.attach(b);
  b.connectToSignaling();
  ASSERT_TRUE(waitFor([&] { return inbox.size() >= 20; }));
  ASSERT_TRUE(waitFor([&] { return a.unacknowledged("b") == 0; }));
  std::this_thread::sleep_for(200ms);  // nothing more arrives
  EXPECT_EQ(inbox.numbers(), range(0, 20));
  a.send("b", numbered(20));  // room again
  ASSERT_TRUE(waitFor([&] { return inbox.size() == 21; }));
}

TEST(AgentSendQueue, DropOldestDropsOnlyDroppableAndReportsEachDrop) {
  auto server = startSignaling();
  auto witness = std::make_shared<Witness>();
  std::mutex mutex;
  std::vector<std::string> droppedEvents;
  witness->addSink(std::make_shared<CallbackWitnessSink>([&](const WitnessEvent& e) {
    if (e.event != "ifmessage_dropped") return;
    std::lock_guard lock(mutex);
    droppedEvents.push_back(e.metadata["message_id"].get<std::string>());
  }));
  auto ac = meshAgentConfig("a", *server);
  ac.witness = witness;
  ac.bandwidth.queue.maxMessages = 10;
  ac.bandwidth.queue.policy = QueuePolicy::DropOldest;
  Agent a(ac);
  std::vector<std::pair<int, std::string>> undeliverable;
  std::vector<std::string> undeliverableIds;
  a.onUndeliverable([&](const IFMessage& m, const std::string& reason) {
    std::lock_guard lock(mutex);
    undeliverable.emplace_back(m.payload["n"].get<int>(), reason);
    undeliverableIds.push_back(m.id);
  });
  a.connectToSignaling();
  ASSERT_TRUE(a.waitRegistered(5s));
  for (int i = 0; i < 5; ++i) a.send("b", numbered(i));                                  // kept
  for (int i = 5; i < 25; ++i) a.send("b", numbered(i, MessagePriority::Normal, true));  // 5..24
  for (int i = 25; i < 30; ++i) a.send("b", numbered(i));  // each drops the oldest droppable
  // Only non-droppable messages are left: the next one fails like Fail would.
  try {
    a.send("b", numbered(30, MessagePriority::Normal, true));
    FAIL() << "accepted with nothing droppable queued";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::QueueFull);
  }
  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(undeliverable.size(), 20u);
    for (std::size_t i = 0; i < undeliverable.size(); ++i) {
      EXPECT_EQ(undeliverable[i].first, static_cast<int>(i) + 5);  // oldest first
      EXPECT_EQ(undeliverable[i].second, "dropped: queue full");
    }
    EXPECT_EQ(droppedEvents, undeliverableIds);
  }
  EXPECT_EQ(a.getBandwidthStats().droppedMessages, 20u);

  Agent b(meshAgentConfig("b", *server));
  Inbox inbox;
  inbox.attach(b);
  b.connectToSignaling();
  ASSERT_TRUE(waitFor([&] { return inbox.size() >= 10; }));
  ASSERT_TRUE(waitFor([&] { return a.unacknowledged("b") == 0; }));
  std::this_thread::sleep_for(200ms);
  auto expected = range(0, 5);
  for (int i = 25; i < 30; ++i) expected.push_back(i);
  EXPECT_EQ(inbox.numbers(), expected);
  std::lock_guard lock(mutex);
  EXPECT_EQ(undeliverable.size(), 20u);  // nothing else went missing
}

TEST(AgentSendQueue, BlockWaitsForRoomThenProceedsAndTimesOut) {
  auto server = startSignaling();
  auto blocking = meshAgentConfig("a", *server);
  blocking.bandwidth.queue.maxMessages = 10;
  blocking.bandwidth.queue.policy = QueuePolicy::Block;
  blocking.bandwidth.queue.blockTimeout = 30s;
  auto impatient = meshAgentConfig("c", *server);
  impatient.bandwidth.queue = blocking.bandwidth.queue;
  impatient.bandwidth.queue.blockTimeout = 300ms;
  Agent a(blocking), c(impatient);
  a.connectToSignaling();
  c.connectToSignaling();
  ASSERT_TRUE(a.waitRegistered(5s) && c.waitRegistered(5s));

  // A full queue under Block: a user thread waits out the timeout, then QueueFull.
  for (int i = 0; i < 10; ++i) c.send("b", numbered(i));
  auto start = std::chrono::steady_clock::now();
  try {
    c.send("b", numbered(10));
    FAIL() << "accepted beyond the bound";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::QueueFull);
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, 280ms);
  // On the agent's own I/O thread Block does not wait: it fails at once.
  std::promise<std::pair<bool, std::chrono::steady_clock::duration>> onLoop;
  c.post([&] {
    auto t0 = std::chrono::steady_clock::now();
    bool full = false;
    try {
      c.send("b", numbered(10));
    } catch (const Error& e) {
      full = e.code() == Errc::QueueFull;
    }
    onLoop.set_value({full, std::chrono::steady_clock::now() - t0});
  });
  auto [full, took] = onLoop.get_future().get();
  EXPECT_TRUE(full);
  EXPECT_LT(took, 100ms);

  // A sender blocked on a full queue proceeds once the peer starts acknowledging.
  std::atomic<int> accepted{0};
  std::thread sender([&] {
    for (int i = 0; i < 40; ++i) {
      a.send("b", numbered(i));
      ++accepted;
    }
  });
  ASSERT_TRUE(waitFor([&] { return accepted == 10; }, 5s));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(accepted.load(), 10);  // blocked, not failed

  Agent b(meshAgentConfig("b", *server));
  Inbox inbox;
  inbox.attach(b);
  b.connectToSignaling();
  sender.join();
  EXPECT_EQ(accepted.load(), 40);
  ASSERT_TRUE(waitFor([&] { return inbox.size() >= 50; }));
  ASSERT_TRUE(waitFor([&] { return a.unacknowledged("b") == 0 && c.unacknowledged("b") == 0; }));
  std::this_thread::sleep_for(200ms);
  std::lock_guard lock(inbox.mutex);
  std::vector<int> fromA, fromC;
  for (const auto& m : inbox.messages)
    (m.source == "a" ? fromA : fromC).push_back(m.payload["n"].get<int>());
  EXPECT_EQ(fromA, range(0, 40));
  EXPECT_EQ(fromC, range(0, 10));
}

TEST(AgentSendQueue, CloseEndsASendBlockedOnAFullQueue) {
  auto server = startSignaling();
  auto config = meshAgentConfig("a", *server);
  config.bandwidth.queue.maxMessages = 4;
  config.bandwidth.queue.policy = QueuePolicy::Block;
  config.bandwidth.queue.blockTimeout = 30s;
  Agent a(config);
  a.connectToSignaling();
  ASSERT_TRUE(a.waitRegistered(5s));
  for (int i = 0; i < 4; ++i) a.send("b", numbered(i));  // held for b, which never starts

  std::promise<std::optional<Errc>> outcome;
  std::thread sender([&] {
    try {
      a.send("b", numbered(4));
      outcome.set_value(std::nullopt);
    } catch (const Error& e) {
      outcome.set_value(e.code());
    }
  });
  auto result = outcome.get_future();
  EXPECT_EQ(result.wait_for(300ms), std::future_status::timeout);  // blocked
  auto closedAt = std::chrono::steady_clock::now();
  a.close();
  ASSERT_EQ(result.wait_for(20s), std::future_status::ready);
  EXPECT_LT(std::chrono::steady_clock::now() - closedAt, 5s);  // not the 30 s timeout
  EXPECT_EQ(result.get(), Errc::InvalidState);
  sender.join();

  try {
    a.send("b", numbered(5));
    FAIL() << "a closed agent accepted a message";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::InvalidState);
  }
  a.close();  // idempotent
}

}  // namespace
}  // namespace ifmesh
