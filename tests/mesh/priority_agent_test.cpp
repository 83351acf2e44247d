// Priorities on real agents: a High message sent after 5,000 queued Normal ones overtakes most of
// them, and every message of every priority still arrives exactly once, in order per priority.
#include <gtest/gtest.h>

#include <future>
#include <iostream>
#include <map>

#include "mesh/mesh_fixture.hpp"

namespace ifmesh {
namespace {

using namespace test;

void connectPair(Agent& a, Agent& b) {
  a.connectToSignaling();
  b.connectToSignaling();
  ASSERT_TRUE(a.waitRegistered(5s) && b.waitRegistered(5s));
  a.connect(b.id());
  ASSERT_TRUE(waitFor([&] { return !a.peers().empty() && !b.peers().empty(); }));
}

TEST(AgentPriority, HighAndControlOvertakeAFloodExactlyOnce) {
  auto server = startSignaling();
  Agent a(meshAgentConfig("a", *server)), b(meshAgentConfig("b", *server));
  Inbox inbox;
  inbox.attach(b);
  connectPair(a, b);

  constexpr int kFlood = 5000;
  std::string blob(2048, 'f');
  std::promise<void> queued;
  // All on the agent's thread, so the whole flood is queued before the urgent messages exist.
  a.post([&] {
    for (int i = 0; i < kFlood; ++i) {
      IFMessage m = numbered(i);
      m.payload["blob"] = blob;
      a.send("b", m);
    }
    a.send("b", numbered(-2, MessagePriority::Low));
    a.send("b", numbered(-1, MessagePriority::High));
    a.send("b", numbered(-3, MessagePriority::Control));
    queued.set_value();
  });
  queued.get_future().get();
  ASSERT_TRUE(waitFor([&] { return inbox.size() >= kFlood + 3; }, 60s));
  ASSERT_TRUE(waitFor([&] { return a.unacknowledged("b") == 0; }));
  std::this_thread::sleep_for(200ms);

  std::lock_guard lock(inbox.mutex);
  ASSERT_EQ(inbox.messages.size(), static_cast<std::size_t>(kFlood + 3));
  std::vector<int> normal;
  int normalBeforeHigh = -1, normalBeforeControl = -1, normalBeforeLow = -1;
  for (const auto& m : inbox.messages) {
    int n = m.payload["n"].get<int>();
    if (n == -1) normalBeforeHigh = static_cast<int>(normal.size());
    if (n == -3) normalBeforeControl = static_cast<int>(normal.size());
    if (n == -2) normalBeforeLow = static_cast<int>(normal.size());
    if (n >= 0) {
      EXPECT_EQ(m.priority, MessagePriority::Normal);
      EXPECT_EQ(m.sequence, static_cast<std::uint64_t>(n) + 1);
      normal.push_back(n);
    }
  }
  for (int i = 0; i < kFlood; ++i) ASSERT_EQ(normal[i], i) << "normal lane out of order";
  // Only what already sat in the channel (the high-water mark) goes before the urgent ones.
  EXPECT_LT(normalBeforeHigh, kFlood / 2) << "High waited behind the flood";
  EXPECT_LT(normalBeforeControl, kFlood / 2) << "Control waited behind the flood";
  EXPECT_EQ(normalBeforeLow, kFlood) << "Low went ahead of Normal";
  RecordProperty("normal_before_high", normalBeforeHigh);
  std::cout << "[ info ] High arrived after " << normalBeforeHigh << " of " << kFlood
            << " Normal messages; Control after " << normalBeforeControl << "\n";
}

TEST(AgentPriority, EachPriorityHasItsOwnSequenceAndSurvivesReconnect) {
  auto server = startSignaling();
  Agent a(meshAgentConfig("a", *server)), b(meshAgentConfig("b", *server));
  Inbox inbox;
  inbox.attach(b);
  connectPair(a, b);
  constexpr int kPer = 300;
  std::map<MessagePriority, std::uint64_t> lastSeq;
  for (int i = 0; i < kPer; ++i) {
    for (int p = 0; p < kMessagePriorities; ++p) {
      auto prio = static_cast<MessagePriority>(p);
      EXPECT_EQ(a.send("b", numbered(i * 10 + p, prio)), static_cast<std::uint64_t>(i) + 1);
    }
    if (i == kPer / 2) a.dropConnection("b");  // resends across the reconnection
  }
  ASSERT_TRUE(waitFor([&] { return inbox.size() >= kPer * kMessagePriorities; }, 60s));
  ASSERT_TRUE(waitFor([&] { return a.unacknowledged("b") == 0; }, 30s));
  std::this_thread::sleep_for(300ms);
  std::lock_guard lock(inbox.mutex);
  ASSERT_EQ(inbox.messages.size(), static_cast<std::size_t>(kPer * kMessagePriorities));
  std::map<MessagePriority, std::vector<int>> lanes;
  for (const auto& m : inbox.messages) {
    int n = m.payload["n"].get<int>();
    EXPECT_EQ(static_cast<int>(m.priority), n % 10);
    EXPECT_EQ(m.sequence, static_cast<std::uint64_t>(n / 10) + 1);
    lanes[m.priority].push_back(n / 10);
  }
  for (auto& [prio, ns] : lanes) {
    ASSERT_EQ(ns.size(), static_cast<std::size_t>(kPer)) << toString(prio);
    for (int i = 0; i < kPer; ++i) EXPECT_EQ(ns[i], i) << toString(prio);
  }
}

}  // namespace
}  // namespace ifmesh
