// The acknowledgement request of a msg frame ("r", docs/link-protocol.md section 7), sans-IO: a
// message somebody waits for (queued with an `acked` promise) asks for a prompt ack, and the
// receiver owes it at once instead of after 5 s; messages that arrive together share one ack;
// a message nobody waits for is acknowledged at the receiver's own pace.
#include <gtest/gtest.h>

#include <future>

#include "mesh/link_auth.hpp"
#include "mesh/link_codec.hpp"
#include "mesh/link_session.hpp"

namespace ifmesh::detail::link {
namespace {

struct Side {
  std::string id, peer;
  std::uint64_t incarnation;
  AgentIdentity identity = AgentIdentity::generate();
  std::optional<PublicKey> peerKey;
  std::unique_ptr<Session> session;
  std::size_t delivered = 0;

  Side(std::string self, std::string other, std::uint64_t inc)
      : id(std::move(self)), peer(std::move(other)), incarnation(inc) {}

  void start(bool durable) {
    SessionConfig c;
    c.ownId = id;
    c.peerId = peer;
    c.incarnation = incarnation;
    c.peerKey = [this] { return peerKey ? &*peerKey : nullptr; };
    if (durable) {
      c.durableAcks = true;
      c.persist = [n = std::uint64_t{0}](const IFMessage&, const std::string&, int) mutable {
        return ++n;
      };
    }
    session = std::make_unique<Session>(std::move(c), [this](IFMessage&&, int) {
      ++delivered;
      return true;
    });
  }

  void open() {
    Connection c;
    c.localFingerprint = "FP:" + id;
    c.remoteFingerprint = "FP:" + peer;
    c.helloSignature = identity.sign(helloSigningInput(id, incarnation, c.localFingerprint, peer));
    session->open(std::move(c));
  }

  std::shared_future<void> send(Clock::time_point now, bool awaited,
                                MessagePriority priority = MessagePriority::Normal) {
    IFMessage m;
    m.id = newMessageId();
    m.source = id;
    m.destination = peer;
    m.priority = priority;
    m.payload = {{"n", 1}};
    std::shared_ptr<std::promise<void>> acked;
    std::shared_future<void> done;
    if (awaited) {
      acked = std::make_shared<std::promise<void>>();
      done = acked->get_future().share();
    }
    session->enqueue(now, m, 0, acked ? detail::noticeFor(acked) : nullptr);
    return done;
  }
};

struct Link {
  Side a{"alice", "bob", 1}, b{"bob", "alice", 2};
  Clock::time_point now{};
  std::vector<Msg> msgsToB;
  std::size_t acksToA = 0;

  explicit Link(bool durable = false) {
    a.peerKey = PublicKey::parse(b.identity.publicKey());
    b.peerKey = PublicKey::parse(a.identity.publicKey());
    a.start(durable);
    b.start(durable);
    a.open();
    b.open();
    exchange();
    msgsToB.clear();
    acksToA = 0;
  }

  void exchange() {
    for (int round = 0; round < 100; ++round) {
      auto toB = a.session->takeOutput();
      auto toA = b.session->takeOutput();
      if (toB.empty() && toA.empty()) break;
      for (auto& o : toB) {
        for (auto& f : decode(o.bytes))
          if (auto* m = std::get_if<Msg>(&f)) msgsToB.push_back(std::move(*m));
        b.session->receive(now, o.bytes);
      }
      for (auto& o : toA) {
        for (auto& f : decode(o.bytes)) acksToA += std::holds_alternative<Ack>(f) ? 1 : 0;
        a.session->receive(now, o.bytes);
      }
    }
  }

  // The receiver's timer fires when it is due (as LinkDelivery runs it).
  void tickDue() {
    if (auto due = b.session->nextDeadline(); due && *due <= now) b.session->tick(now);
    exchange();
  }
};

bool ready(const std::shared_future<void>& f) {
  return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

TEST(LinkSessionAckRequest, AnAwaitedMessageIsAcknowledgedAtOnce) {
  Link l;
  auto acked = l.a.send(l.now, true);
  l.exchange();
  ASSERT_EQ(l.msgsToB.size(), 1u);
  EXPECT_TRUE(l.msgsToB[0].ackRequested);
  EXPECT_EQ(l.b.delivered, 1u);
  ASSERT_TRUE(l.b.session->nextDeadline());
  EXPECT_EQ(*l.b.session->nextDeadline(), l.now) << "the ack waits instead of going at once";
  EXPECT_FALSE(ready(acked));
  l.tickDue();
  EXPECT_EQ(l.acksToA, 1u);
  EXPECT_TRUE(ready(acked));
  EXPECT_EQ(l.a.session->unacknowledged(), 0u);
}

TEST(LinkSessionAckRequest, AMessageNobodyWaitsForIsAcknowledgedLater) {
  Link l;
  l.a.send(l.now, false);
  l.exchange();
  ASSERT_EQ(l.msgsToB.size(), 1u);
  EXPECT_FALSE(l.msgsToB[0].ackRequested);
  ASSERT_TRUE(l.b.session->nextDeadline());
  EXPECT_EQ(*l.b.session->nextDeadline(), l.now + std::chrono::seconds(5));
  l.tickDue();
  EXPECT_EQ(l.acksToA, 0u);
  EXPECT_EQ(l.a.session->unacknowledged(), 1u);
}

TEST(LinkSessionAckRequest, MessagesThatArriveTogetherShareOneAck) {
  Link l;
  std::vector<std::shared_future<void>> acked;
  for (int i = 0; i < 20; ++i) acked.push_back(l.a.send(l.now, true));
  l.exchange();
  ASSERT_EQ(l.b.delivered, 20u);
  l.tickDue();
  EXPECT_EQ(l.acksToA, 1u);
  for (const auto& f : acked) EXPECT_TRUE(ready(f));
}

TEST(LinkSessionAckRequest, AReplyCarriesTheRequestedAck) {
  Link l;
  auto acked = l.a.send(l.now, true);
  l.exchange();
  l.b.send(l.now, false);  // the application answers in the same turn
  l.exchange();
  EXPECT_TRUE(ready(acked));
  EXPECT_EQ(l.acksToA, 0u) << "an ack frame went although the reply carried the ack";
  EXPECT_FALSE(l.b.session->nextDeadline()) << "an ack is still owed";
}

TEST(LinkSessionAckRequest, EachLaneIsAcknowledged) {
  Link l;
  auto high = l.a.send(l.now, true, MessagePriority::High);
  auto low = l.a.send(l.now, true, MessagePriority::Low);
  l.exchange();
  l.tickDue();
  EXPECT_TRUE(ready(high));
  EXPECT_TRUE(ready(low));
}

TEST(LinkSessionAckRequest, WithAStoreTheAckWaitsForTheCommitOnly) {
  Link l(true);
  auto acked = l.a.send(l.now, true);
  l.a.session->committed(
      l.now, l.a.session->commitPoint());  // alice's outbox entry is durable: the message leaves
  l.exchange();
  ASSERT_EQ(l.b.delivered, 1u);
  l.tickDue();
  EXPECT_EQ(l.acksToA, 0u) << "acknowledged before bob's delivery was durable";
  l.b.session->committed(l.now, l.b.session->commitPoint());
  l.tickDue();
  EXPECT_EQ(l.acksToA, 1u);
  EXPECT_TRUE(ready(acked));
}

}  // namespace
}  // namespace ifmesh::detail::link
