// A link session without a batch delay (HIGH quality) sends the messages one pump() moves
// together: a channel that drained takes the backlog in as few channel messages as fit, while a
// lone message still leaves alone and at once. Between beginCoalescing() and endCoalescing() the
// messages of several enqueues wait to leave together; Control/High ones do not wait, and a
// MEDIUM/LOW batch keeps its delay. No sockets: the peer's hello is made here and fed in.
#include <gtest/gtest.h>

#include "mesh/scripted_peer.hpp"

namespace ifmesh::detail::link {
namespace {

struct Sender : test::ScriptedPeer {
  Sender() {
    start(aliceConfig());
    Connection c = connection();
    c.channelFull = [this](std::size_t) { return full; };
    session->open(std::move(c));
    session->receive(now, encode(bobsHello()));
    session->takeOutput();
    session->takeEvents();
  }

  void send(int n, MessagePriority priority = MessagePriority::Normal) {
    IFMessage m;
    m.source = "alice";
    m.destination = "bob";
    m.id = "m" + std::to_string(n);
    m.priority = priority;
    m.payload = {{"n", n}};
    session->enqueue(now, m, 0);
  }

  // The channel messages taken, each as the payload numbers of the msg frames it carries.
  std::vector<std::vector<int>> take() {
    std::vector<std::vector<int>> out;
    for (const auto& o : session->takeOutput()) {
      EXPECT_FALSE(o.binary);
      std::vector<int> numbers;
      for (const auto& f : decode(o.bytes))
        if (const auto* msg = std::get_if<Msg>(&f))
          numbers.push_back(msg->message.payload["n"].get<int>());
      if (!numbers.empty()) out.push_back(std::move(numbers));
    }
    return out;
  }

  bool full = false;
};

using Messages = std::vector<std::vector<int>>;

TEST(LinkSessionCoalesce, ALoneMessageLeavesAloneAndAtOnce) {
  Sender s;
  for (int n = 1; n <= 3; ++n) {
    s.send(n);
    EXPECT_EQ(s.take(), (Messages{{n}}));
  }
  EXPECT_FALSE(s.session->nextDeadline().has_value());
}

TEST(LinkSessionCoalesce, ADrainedChannelTakesTheBacklogTogether) {
  Sender s;
  s.full = true;
  for (int n = 1; n <= 10; ++n) s.send(n);
  EXPECT_TRUE(s.take().empty());
  s.full = false;
  s.session->pump(s.now);
  EXPECT_EQ(s.take(), (Messages{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}));
  EXPECT_FALSE(s.session->nextDeadline().has_value());
}

TEST(LinkSessionCoalesce, EnqueuesBetweenBeginAndEndLeaveTogether) {
  Sender s;
  s.session->beginCoalescing();
  for (int n = 1; n <= 5; ++n) s.send(n);
  EXPECT_TRUE(s.take().empty());
  s.session->endCoalescing(s.now);
  EXPECT_EQ(s.take(), (Messages{{1, 2, 3, 4, 5}}));
  // Coalescing ended: the next one leaves at once.
  s.send(6);
  EXPECT_EQ(s.take(), (Messages{{6}}));
}

TEST(LinkSessionCoalesce, HighPriorityDoesNotWaitForTheEnd) {
  Sender s;
  s.session->beginCoalescing();
  s.send(1);
  s.send(2, MessagePriority::High);
  EXPECT_EQ(s.take(), (Messages{{2}}));
  s.send(3);
  s.session->endCoalescing(s.now);
  EXPECT_EQ(s.take(), (Messages{{1, 3}}));
}

TEST(LinkSessionCoalesce, ABatchDelayIsKeptPastTheEnd) {
  Sender s;
  s.session->setBatchDelay(std::chrono::milliseconds(50));
  s.session->beginCoalescing();
  for (int n = 1; n <= 3; ++n) s.send(n);
  s.session->endCoalescing(s.now);
  EXPECT_TRUE(s.take().empty());
  s.now += std::chrono::milliseconds(50);
  s.session->tick(s.now);
  EXPECT_EQ(s.take(), (Messages{{1, 2, 3}}));
}

// 2,000 messages of about 1 KB gathered at once: every channel message stays within
// kMaxBatchBytes with its wrapper, and each message goes exactly once, in order.
TEST(LinkSessionCoalesce, AGatheredBacklogSplitsIntoBatchesThatFit) {
  Sender s;
  s.session->beginCoalescing();
  for (int n = 0; n < 2000; ++n) {
    IFMessage m;
    m.source = "alice";
    m.destination = "bob";
    m.id = "m" + std::to_string(n);
    m.payload = {{"n", n}, {"text", std::string(1000, 'x')}};
    s.session->enqueue(s.now, m, 0);
  }
  s.session->endCoalescing(s.now);
  int next = 0;
  std::size_t messages = 0;
  for (const auto& o : s.session->takeOutput()) {
    EXPECT_LE(o.bytes.size(), kMaxBatchBytes);
    ++messages;
    for (const auto& f : decode(o.bytes)) {
      if (const auto* msg = std::get_if<Msg>(&f)) {
        EXPECT_EQ(msg->message.payload["n"].get<int>(), next);
        ++next;
      }
    }
  }
  EXPECT_EQ(next, 2000);
  EXPECT_LT(messages, 2000u / 10);
}

}  // namespace
}  // namespace ifmesh::detail::link
