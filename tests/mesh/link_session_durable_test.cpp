// A link session with a state store (SessionConfig::persist / durableAcks), sans-IO: a queued
// message leaves only once committed() says its outbox entry is durable; a delivery is
// acknowledged only once it is durable; and a session resumed from stored counters and outbox
// (a restarted process) sends its messages with the link sequences they had, so the peer takes
// none of them twice.
#include <gtest/gtest.h>

#include <map>

#include "mesh/link_auth.hpp"
#include "mesh/link_codec.hpp"
#include "mesh/link_session.hpp"

namespace ifmesh::detail::link {
namespace {

// One side of the link: its session, what it delivered, and its store (outbox and counters).
struct Side {
  std::string id, peer;
  std::uint64_t incarnation;
  AgentIdentity identity;
  std::optional<PublicKey> peerKey;
  std::unique_ptr<Session> session;
  std::vector<std::uint64_t> delivered;  // payload "n" in delivery order
  // The store: outbox entries by key, and the counters of the last commit.
  std::map<std::uint64_t, std::pair<IFMessage, int>> outbox;
  std::uint64_t nextKey = 1;
  Counters committedCounters;
  std::uint64_t lost = 0;  // messages the peer acknowledged and then lost from its store

  Side(std::string self, std::string other, std::uint64_t inc)
      : id(std::move(self)),
        peer(std::move(other)),
        incarnation(inc),
        identity(AgentIdentity::generate()) {}

  // A new process with this side's store.
  void start() {
    SessionConfig c;
    c.ownId = id;
    c.peerId = peer;
    c.incarnation = incarnation;
    c.peerKey = [this] { return peerKey ? &*peerKey : nullptr; };
    c.durableAcks = true;
    c.persist = [this](const IFMessage& m, const std::string&, int hops) {
      outbox[nextKey] = {m, hops};
      return nextKey++;
    };
    session = std::make_unique<Session>(std::move(c), [this](IFMessage&& m, int) {
      delivered.push_back(m.payload.at("n").get<std::uint64_t>());
      return true;
    });
    std::vector<Session::Stored> stored;
    for (auto& [key, entry] : outbox) stored.push_back({entry.first, entry.second, key});
    session->resume(committedCounters, std::move(stored));
  }

  // The store commits: counters as of now, acknowledged outbox entries gone.
  void commit(Clock::time_point now) { finishCommit(now, startCommit()); }

  // A commit written now and durable later (a disk sync): what it holds, then the news that it
  // is durable.
  struct Commit {
    Counters counters;
    Session::CommitPoint point;
  };
  Commit startCommit() const { return {session->counters(), session->commitPoint()}; }
  void finishCommit(Clock::time_point now, const Commit& c) {
    committedCounters = c.counters;
    session->committed(now, c.point);
  }

  void forget(const std::vector<Event>& events) {
    for (const auto& e : events) {
      if (auto* r = std::get_if<Released>(&e))
        for (auto key : r->keys) outbox.erase(key);
      if (auto* l = std::get_if<PeerLostState>(&e)) lost += l->lost;
    }
  }

  void open() {
    Connection c;
    c.localFingerprint = "FP:" + id;
    c.remoteFingerprint = "FP:" + peer;
    c.helloSignature = identity.sign(helloSigningInput(id, incarnation, c.localFingerprint, peer));
    session->open(std::move(c));
  }

  void send(Clock::time_point now, std::uint64_t n) {
    IFMessage m;
    m.id = "m" + std::to_string(n);
    m.source = id;
    m.destination = peer;
    m.payload = {{"n", n}};
    session->enqueue(now, m, 0);
  }
};

struct Link {
  Side a{"alice", "bob", 11}, b{"bob", "alice", 22};
  Clock::time_point now{};
  std::size_t msgFramesToB = 0;

  Link() {
    a.peerKey = PublicKey::parse(b.identity.publicKey());
    b.peerKey = PublicKey::parse(a.identity.publicKey());
    a.start();
    b.start();
  }

  void connect() {
    a.open();
    b.open();
    exchange();
  }

  // Alice accepts messages first..last and commits them; the link carries what follows.
  void sendCommitted(std::uint64_t first, std::uint64_t last) {
    for (std::uint64_t n = first; n <= last; ++n) a.send(now, n);
    a.commit(now);
    exchange();
  }

  // Carries output both ways until neither side has anything to say.
  void exchange() {
    for (int round = 0; round < 100; ++round) {
      auto toB = a.session->takeOutput();
      auto toA = b.session->takeOutput();
      if (toB.empty() && toA.empty()) break;
      for (auto& o : toB) {
        for (auto& f : decode(o.bytes)) msgFramesToB += std::holds_alternative<Msg>(f) ? 1 : 0;
        b.session->receive(now, o.bytes);
      }
      for (auto& o : toA) a.session->receive(now, o.bytes);
      a.forget(a.session->takeEvents());
      b.forget(b.session->takeEvents());
    }
  }
};

TEST(LinkSessionDurable, AMessageLeavesOnlyOnceItIsDurable) {
  Link l;
  l.connect();
  l.a.send(l.now, 1);
  l.exchange();
  EXPECT_EQ(l.msgFramesToB, 0u) << "sent before its outbox entry was committed";
  EXPECT_EQ(l.a.outbox.size(), 1u);
  l.a.commit(l.now);
  l.exchange();
  EXPECT_EQ(l.b.delivered, std::vector<std::uint64_t>{1});
}

TEST(LinkSessionDurable, ADeliveryIsAcknowledgedOnlyOnceItIsDurable) {
  Link l;
  l.connect();
  l.sendCommitted(1, 100);
  ASSERT_EQ(l.b.delivered.size(), 100u);
  EXPECT_EQ(l.a.outbox.size(), 100u) << "acknowledged before bob committed";
  l.b.commit(l.now);  // 100 owed >= ackEvery: the ack goes at once
  l.exchange();
  EXPECT_EQ(l.a.outbox.size(), 0u);
}

TEST(LinkSessionDurable, RestartedReceiverAndSenderTakeNothingTwice) {
  Link l;
  l.connect();
  l.sendCommitted(1, 50);
  l.b.commit(l.now);  // bob: 1..50 durable
  // More arrive at bob, and alice queues more that she commits but bob never gets.
  l.sendCommitted(51, 80);
  ASSERT_EQ(l.b.delivered.size(), 80u);
  for (std::uint64_t n = 81; n <= 90; ++n) l.a.send(l.now, n);
  l.a.commit(l.now);
  // Both processes die: alice with 81..90 never sent, bob with 51..80 delivered but not
  // committed. Their stores resume.
  l.a.start();
  l.b.delivered.clear();
  l.b.start();
  l.connect();
  l.b.commit(l.now);
  l.exchange();
  // Bob's handler sees 51..80 again (their delivery was not durable), then 81..90, in order,
  // and nothing of 1..50.
  std::vector<std::uint64_t> expected;
  for (std::uint64_t n = 51; n <= 90; ++n) expected.push_back(n);
  EXPECT_EQ(l.b.delivered, expected);
  l.b.commit(l.now);
  l.exchange();
  // Alice restarts again after everything was acknowledged: nothing is resent.
  l.b.delivered.clear();
  l.a.start();
  l.connect();
  l.exchange();
  EXPECT_TRUE(l.b.delivered.empty());
  EXPECT_TRUE(l.a.outbox.empty()) << l.a.outbox.size() << " outbox entries left";
}

TEST(LinkSessionDurable, AMessageQueuedDuringACommitWaitsForTheNext) {
  Link l;
  l.connect();
  l.a.send(l.now, 1);
  auto first = l.a.startCommit();
  l.a.send(l.now, 2);  // its outbox entry is not in the commit being synced
  l.a.finishCommit(l.now, first);
  l.exchange();
  EXPECT_EQ(l.b.delivered, std::vector<std::uint64_t>{1})
      << "a message left before its outbox entry was durable";
  l.a.commit(l.now);
  l.exchange();
  EXPECT_EQ(l.b.delivered, (std::vector<std::uint64_t>{1, 2}));
}

TEST(LinkSessionDurable, ADeliveryDuringACommitIsAcknowledgedOnlyByTheNext) {
  Link l;
  l.connect();
  l.sendCommitted(1, 100);
  auto first = l.b.startCommit();  // bob's commit of 1..100, synced while more arrive
  l.sendCommitted(101, 200);
  ASSERT_EQ(l.b.delivered.size(), 200u);
  l.b.finishCommit(l.now, first);
  l.exchange();
  EXPECT_EQ(l.a.outbox.size(), 100u) << "deliveries after bob's commit were acknowledged by it";
  // Bob dies before the next commit: his store says 100. Alice still holds 101..200 and sends
  // them again; nothing waits for a message she forgot.
  l.b.delivered.clear();
  l.b.start();
  l.connect();
  l.b.commit(l.now);
  l.exchange();
  ASSERT_EQ(l.b.delivered.size(), 100u);
  EXPECT_EQ(l.b.delivered.front(), 101u);
  EXPECT_EQ(l.b.delivered.back(), 200u);
  l.b.commit(l.now);
  l.exchange();
  EXPECT_TRUE(l.a.outbox.empty()) << l.a.outbox.size() << " outbox entries left";
}

TEST(LinkSessionDurable, ACommitCountingAnEarlierPeerProcessAcknowledgesNothing) {
  Link l;
  l.connect();
  l.sendCommitted(1, 10);
  auto old = l.b.startCommit();  // counts alice's first process's messages 1..10
  // Alice restarts with a new incarnation and a fresh store: her messages count from 1 again.
  l.a.outbox.clear();
  l.a.committedCounters = {};
  l.a.incarnation = 12;
  l.a.start();
  l.connect();
  l.sendCommitted(101, 105);
  ASSERT_EQ(l.b.delivered.size(), 15u);
  // Acks owed go alone after the ack delay.
  auto ackDelayPasses = [&] {
    l.now += std::chrono::seconds(6);
    l.b.session->tick(l.now);
    l.exchange();
  };
  l.b.finishCommit(l.now, old);
  ackDelayPasses();
  EXPECT_EQ(l.a.outbox.size(), 5u) << "acknowledged by a commit that does not hold them";
  l.b.commit(l.now);
  ackDelayPasses();
  EXPECT_TRUE(l.a.outbox.empty());
}

TEST(LinkSessionDurable, APeerThatLostAcknowledgedStateIsReportedAndTheLaneGoesOn) {
  Link l;
  l.connect();
  l.sendCommitted(1, 100);  // 100 owed: bob acknowledges them as soon as they are durable
  l.b.commit(l.now);
  l.exchange();
  const Counters copy = l.b.committedCounters;  // a copy of bob's store, counting 100
  l.sendCommitted(101, 200);
  l.b.commit(l.now);
  l.exchange();
  ASSERT_TRUE(l.a.outbox.empty());
  // Bob's store is put back from the copy: the same process to alice, counting 100 of her
  // messages where it had acknowledged 200. Messages 101..200 are gone from both sides.
  l.b.committedCounters = copy;
  l.b.delivered.clear();
  l.b.start();
  l.connect();
  EXPECT_EQ(l.a.lost, 100u);
  // The lane goes on: alice numbers on from bob's count, and bob takes what follows.
  l.sendCommitted(201, 210);
  std::vector<std::uint64_t> expected;
  for (std::uint64_t n = 201; n <= 210; ++n) expected.push_back(n);
  EXPECT_EQ(l.b.delivered, expected);
  l.b.commit(l.now);
  l.now += std::chrono::seconds(6);
  l.b.session->tick(l.now);
  l.exchange();
  EXPECT_TRUE(l.a.outbox.empty()) << l.a.outbox.size() << " outbox entries left";
}

}  // namespace
}  // namespace ifmesh::detail::link
