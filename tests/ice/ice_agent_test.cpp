// The ICE agent (src/ice/ice_agent.hpp): two agents driven against each other through an
// in-memory network on a fake clock, each behind its own DatagramDemux as on a shared socket.
// Both ends agree on one pair with regular and aggressive nomination, after a role conflict, and
// with a peer-reflexive remote; checks are paced, retransmit through loss and fail after their
// schedule; consent is lost at its timeout and not before; forged and misrouted responses change
// nothing; a flood of candidates keeps state bounded.
#include "ice/ice_agent.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <set>

#include "ice/datagram_demux.hpp"
#include "ice_addresses.hpp"

namespace ifmesh::ice {
namespace {

using namespace std::chrono_literals;

const IceCredentials kAlice{"aUfrag", "alice-password-0123456789", "bUfrag",
                            "bob-password-0123456789ab"};
const IceCredentials kBob{"bUfrag", "bob-password-0123456789ab", "aUfrag",
                          "alice-password-0123456789"};
const Clock::time_point kStart = Clock::time_point{} + 1h;
constexpr ConnectionId kConnection = 7;

StunAddress v4(std::uint8_t host, std::uint16_t port) {
  return test::ipv4(10, 0, 0, host, port);
}

Candidate host(StunAddress address, std::uint16_t localPreference, std::string foundation) {
  Candidate c;
  c.address = c.base = address;
  c.priority = candidatePriority(CandidateType::Host, localPreference);
  c.foundation = std::move(foundation);
  return c;
}

// Transaction ids from a counter, the first byte naming the agent: deterministic and unique.
std::function<TransactionId()> countingIds(std::uint8_t agent) {
  auto counter = std::make_shared<std::uint64_t>(0);
  return [agent, counter] {
    TransactionId id{};
    id[0] = agent;
    const std::uint64_t n = ++*counter;
    for (int i = 0; i < 8; ++i) id[4 + i] = static_cast<std::uint8_t>(n >> (8 * i));
    return id;
  };
}

IceAgentConfig config(IceRole role, const IceCredentials& credentials, std::uint64_t tieBreaker,
                      std::uint8_t agent) {
  IceAgentConfig c;
  c.role = role;
  c.credentials = credentials;
  c.tieBreaker = tieBreaker;
  c.random01 = [] { return 0.5; };
  c.transactionId = countingIds(agent);
  return c;
}

struct TimedEvent {
  Clock::time_point at;
  IceEvent event;
};

template <typename E>
std::vector<std::pair<Clock::time_point, E>> eventsOf(const std::vector<TimedEvent>& events) {
  std::vector<std::pair<Clock::time_point, E>> out;
  for (const auto& e : events)
    if (const auto* x = std::get_if<E>(&e.event)) out.emplace_back(e.at, *x);
  return out;
}

// One end of the network: an agent behind a demux that routes its datagrams, and what it
// reported.
struct End {
  End(IceAgentConfig c, const std::string& localUfrag) : agent(std::move(c)) {
    demux.add(kConnection, localUfrag, 0);
  }
  IceAgent agent;
  DatagramDemux demux;
  std::vector<TimedEvent> events;
  std::set<TransactionId> open;  // started and not yet ended
};

// Carries each end's datagrams to the other at once (no latency), unless `drop` says otherwise,
// and moves a fake clock from deadline to deadline.
class Network {
 public:
  Network(End& a, End& b) : a_(a), b_(b) {}

  Clock::time_point now = kStart;
  std::function<bool(bool fromA, const IceTransmit&)> drop = [](bool, const IceTransmit&) {
    return false;
  };
  std::size_t dropped = 0;

  // Delivers until neither end has anything to send.
  void deliver() {
    for (int round = 0; round < 1000; ++round) {
      collect(a_);
      collect(b_);
      auto fromA = a_.agent.takeTransmits();
      auto fromB = b_.agent.takeTransmits();
      if (fromA.empty() && fromB.empty()) return;
      for (const auto& t : fromA) carry(true, t);
      for (const auto& t : fromB) carry(false, t);
    }
    ADD_FAILURE() << "datagrams kept coming";
  }

  // Delivers, then moves the clock to the earliest deadline (not past `until`) and ticks both.
  // False when nothing is due before `until` (the clock then stands at `until`).
  bool step(Clock::time_point until) {
    deliver();
    std::optional<Clock::time_point> next;
    for (End* e : {&a_, &b_})
      if (auto d = e->agent.nextDeadline(); d && (!next || *d < *next)) next = d;
    if (!next || *next > until) {
      now = std::max(now, until);
      return false;
    }
    now = std::max(now, *next);
    a_.agent.tick(now);
    b_.agent.tick(now);
    deliver();
    return true;
  }

  // Steps until `done` holds or `limit` has passed; whether `done` holds.
  template <typename Done>
  bool runUntil(Done done, Clock::duration limit) {
    const auto end = now + limit;
    while (!done())
      if (!step(end)) return done();
    return true;
  }
  void runFor(Clock::duration span) {
    const auto end = now + span;
    while (step(end)) {
    }
  }

 private:
  void collect(End& e) {
    for (auto& event : e.agent.takeEvents()) {
      if (const auto* s = std::get_if<TransactionStarted>(&event)) {
        EXPECT_TRUE(e.open.insert(s->id).second) << "a transaction started twice";
        e.demux.expectResponse(s->id, kConnection);
      } else if (const auto* f = std::get_if<TransactionEnded>(&event)) {
        EXPECT_EQ(e.open.erase(f->id), 1u) << "a transaction ended that never started";
        e.demux.forgetResponse(f->id);
      }
      e.events.push_back({now, std::move(event)});
    }
  }

  void carry(bool fromA, const IceTransmit& t) {
    if (drop(fromA, t)) {
      ++dropped;
      return;
    }
    End& to = fromA ? b_ : a_;
    auto routed = to.demux.classify(t.bytes, t.from);
    // Responses to transactions the sender forgot are the demux's to drop.
    if (routed.kind == Demuxed::Kind::Dropped) return;
    ASSERT_EQ(routed.connection, kConnection);
    ASSERT_TRUE(routed.stun);
    to.agent.onStun(now, t.to, t.from, routed.payload, *routed.stun);
  }

  End& a_;
  End& b_;
};

// Alice has two host candidates, Bob one; `trickle` sends each end's to the other.
struct Pairing {
  const Candidate a1 = host(v4(1, 1000), 65535, "a1");
  const Candidate a2 = host(v4(1, 1001), 60000, "a2");
  const Candidate b1 = host(v4(2, 2000), 65535, "b1");

  void gather(End& alice, End& bob) const {
    alice.agent.addLocal(a1);
    alice.agent.addLocal(a2);
    bob.agent.addLocal(b1);
    alice.agent.localCandidatesComplete();
    bob.agent.localCandidatesComplete();
  }
  void trickleToAlice(End& alice) const {
    alice.agent.addRemote(b1);
    alice.agent.remoteCandidatesComplete();
  }
  void trickleToBob(End& bob) const {
    bob.agent.addRemote(a1);
    bob.agent.addRemote(a2);
    bob.agent.remoteCandidatesComplete();
  }
};

bool bothSelected(const End& a, const End& b) {
  return a.agent.selectedPair() && b.agent.selectedPair();
}

// Both ends name the same pair, seen from either side.
void expectSamePair(const End& a, const End& b) {
  ASSERT_TRUE(a.agent.selectedPair());
  ASSERT_TRUE(b.agent.selectedPair());
  const auto pa = *a.agent.selectedPair(), pb = *b.agent.selectedPair();
  EXPECT_EQ(pa.local, pb.remote);
  EXPECT_EQ(pa.remote, pb.local);
  EXPECT_EQ(a.agent.state(), IceAgentState::Connected);
  EXPECT_EQ(b.agent.state(), IceAgentState::Connected);
}

void selectsOnePair(CheckList::Nomination nomination) {
  Pairing p;
  auto ca = config(IceRole::Controlling, kAlice, 2, 'a');
  auto cb = config(IceRole::Controlled, kBob, 1, 'b');
  ca.nomination = cb.nomination = nomination;
  End alice(ca, kAlice.localUfrag), bob(cb, kBob.localUfrag);
  Network net(alice, bob);
  p.gather(alice, bob);
  p.trickleToAlice(alice);
  p.trickleToBob(bob);
  ASSERT_TRUE(net.runUntil([&] { return bothSelected(alice, bob); }, 10s));
  expectSamePair(alice, bob);
  // The best pair: Alice's first host candidate and Bob's.
  EXPECT_EQ(alice.agent.selectedPair()->local, p.a1.address);
  EXPECT_EQ(alice.agent.selectedPair()->localBase, p.a1.address);
  EXPECT_EQ(alice.agent.selectedPair()->remote, p.b1.address);
  EXPECT_LT(net.now - kStart, 1s);  // no timer waited on, nothing lost
  // Checks started at most once per Ta.
  const auto started = eventsOf<TransactionStarted>(alice.events);
  ASSERT_FALSE(started.empty());
  for (std::size_t i = 1; i < started.size(); ++i)
    EXPECT_GE(started[i].first - started[i - 1].first, 50ms);
  // Selected once, roles kept; the checks still running end, and then only consent requests
  // are in flight.
  net.runFor(30s);
  EXPECT_EQ(eventsOf<PairSelected>(alice.events).size(), 1u);
  EXPECT_EQ(eventsOf<PairSelected>(bob.events).size(), 1u);
  EXPECT_TRUE(eventsOf<RoleSwitched>(alice.events).empty());
  EXPECT_TRUE(eventsOf<RoleSwitched>(bob.events).empty());
  EXPECT_EQ(alice.agent.role(), IceRole::Controlling);
  EXPECT_EQ(alice.agent.checksInFlight(), 0u);
  EXPECT_LE(alice.open.size(), 1u);
  expectSamePair(alice, bob);
}

TEST(IceAgent, BothEndsSelectOnePairWithRegularNomination) {
  selectsOnePair(CheckList::Nomination::Regular);
}

TEST(IceAgent, BothEndsSelectOnePairWithAggressiveNomination) {
  selectsOnePair(CheckList::Nomination::Aggressive);
}

TEST(IceAgent, RegularNominationStopsWaitingForASlowBetterPair) {
  // Bob's better candidate never answers: its pair stays in progress for its whole
  // retransmission schedule, and the timer nominates the valid worse pair meanwhile.
  Pairing p;
  const Candidate bBlackHole = host(v4(3, 3000), 65535, "b0");
  const Candidate bWorse = host(v4(2, 2000), 100, "b1");
  End alice(config(IceRole::Controlling, kAlice, 2, 'a'), kAlice.localUfrag);
  End bob(config(IceRole::Controlled, kBob, 1, 'b'), kBob.localUfrag);
  Network net(alice, bob);
  net.drop = [&](bool, const IceTransmit& t) {
    return t.to == bBlackHole.address || t.from == bBlackHole.address;
  };
  alice.agent.addLocal(p.a1);
  bob.agent.addLocal(bBlackHole);
  bob.agent.addLocal(bWorse);
  alice.agent.addRemote(bBlackHole);
  alice.agent.addRemote(bWorse);
  bob.agent.addRemote(p.a1);
  ASSERT_TRUE(net.runUntil([&] { return bothSelected(alice, bob); }, 10s));
  expectSamePair(alice, bob);
  EXPECT_EQ(alice.agent.selectedPair()->remote, bWorse.address);
  // About nominationWait (1 s) after the worse pair became valid, long before the better
  // pair's check gives up (after some 20 s).
  EXPECT_GE(net.now - kStart, 1s);
  EXPECT_LT(net.now - kStart, 2s);
}

TEST(IceAgent, ARoleConflictLeavesExactlyOneControllingEnd) {
  for (const bool aliceWins : {true, false}) {
    SCOPED_TRACE(aliceWins ? "Alice's tie-breaker is larger" : "Bob's tie-breaker is larger");
    Pairing p;
    End alice(config(IceRole::Controlling, kAlice, aliceWins ? 9 : 3, 'a'), kAlice.localUfrag);
    End bob(config(IceRole::Controlling, kBob, aliceWins ? 3 : 9, 'b'), kBob.localUfrag);
    Network net(alice, bob);
    p.gather(alice, bob);
    p.trickleToAlice(alice);
    p.trickleToBob(bob);
    ASSERT_TRUE(net.runUntil([&] { return bothSelected(alice, bob); }, 10s));
    expectSamePair(alice, bob);
    End& winner = aliceWins ? alice : bob;
    End& loser = aliceWins ? bob : alice;
    EXPECT_EQ(winner.agent.role(), IceRole::Controlling);
    EXPECT_EQ(loser.agent.role(), IceRole::Controlled);
    EXPECT_TRUE(eventsOf<RoleSwitched>(winner.events).empty());
    const auto switched = eventsOf<RoleSwitched>(loser.events);
    ASSERT_EQ(switched.size(), 1u);
    EXPECT_EQ(switched[0].second.role, IceRole::Controlled);
  }
}

TEST(IceAgent, TheControlledEndLearnsAPeerReflexiveRemoteFromTheIncomingCheck) {
  Pairing p;
  End alice(config(IceRole::Controlling, kAlice, 2, 'a'), kAlice.localUfrag);
  End bob(config(IceRole::Controlled, kBob, 1, 'b'), kBob.localUfrag);
  Network net(alice, bob);
  alice.agent.addLocal(p.a1);
  bob.agent.addLocal(p.b1);
  p.trickleToAlice(alice);  // Alice's candidate never reaches Bob
  ASSERT_TRUE(net.runUntil([&] { return bothSelected(alice, bob); }, 10s));
  expectSamePair(alice, bob);
  EXPECT_EQ(bob.agent.selectedPair()->remote, p.a1.address);
  ASSERT_EQ(bob.agent.checkList().remotes().size(), 1u);
  EXPECT_EQ(bob.agent.checkList().remotes()[0].type, CandidateType::PeerReflexive);
}

TEST(IceAgent, ChecksRetransmitThroughLoss) {
  // A third of the datagrams lost, at random but the same on every run (mt19937's sequence is
  // fixed by the standard), for several seeds.
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Pairing p;
    End alice(config(IceRole::Controlling, kAlice, 2, 'a'), kAlice.localUfrag);
    End bob(config(IceRole::Controlled, kBob, 1, 'b'), kBob.localUfrag);
    Network net(alice, bob);
    std::mt19937 random(seed);
    net.drop = [&](bool, const IceTransmit&) { return random() % 3 == 0; };
    p.gather(alice, bob);
    p.trickleToAlice(alice);
    p.trickleToBob(bob);
    ASSERT_TRUE(net.runUntil([&] { return bothSelected(alice, bob); }, 30s));
    expectSamePair(alice, bob);
    EXPECT_GT(net.dropped, 0u);
    EXPECT_TRUE(eventsOf<IceFailed>(alice.events).empty());
    EXPECT_TRUE(eventsOf<IceFailed>(bob.events).empty());
  }
}

TEST(IceAgent, FailsAfterTheRetransmissionScheduleWhenNothingGetsThrough) {
  Pairing p;
  End alice(config(IceRole::Controlling, kAlice, 2, 'a'), kAlice.localUfrag);
  End bob(config(IceRole::Controlled, kBob, 1, 'b'), kBob.localUfrag);
  Network net(alice, bob);
  net.drop = [](bool, const IceTransmit&) { return true; };
  p.gather(alice, bob);
  p.trickleToAlice(alice);
  p.trickleToBob(bob);
  ASSERT_TRUE(net.runUntil(
      [&] {
        return alice.agent.state() == IceAgentState::Failed &&
               bob.agent.state() == IceAgentState::Failed;
      },
      60s));
  // 7 sends 250 ms apart and doubling, then 4 s for the last: 19.75 s per check; Alice's second
  // check started one Ta after her first.
  const RetransmitPolicy policy;
  const auto schedule = policy.initialRto * 63 + policy.lastWait;
  ASSERT_EQ(schedule, 19750ms);
  for (End* e : {&alice, &bob}) {
    const auto failed = eventsOf<IceFailed>(e->events);
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_GE(failed[0].first - kStart, schedule);
    EXPECT_LE(failed[0].first - kStart, schedule + 50ms);
    EXPECT_TRUE(eventsOf<PairSelected>(e->events).empty());
    EXPECT_EQ(e->agent.checksInFlight(), 0u);
    EXPECT_TRUE(e->open.empty());
    EXPECT_FALSE(e->agent.nextDeadline());
  }
  // Each check went out 7 times.
  const auto started = eventsOf<TransactionStarted>(alice.events).size();
  EXPECT_EQ(started, 2u);
  EXPECT_EQ(net.dropped, 7 * (started + eventsOf<TransactionStarted>(bob.events).size()));

  // Failed, Alice still answers Bob's checks: his view of the network may differ.
  BindingCheck late(kBob, IceRole::Controlled, 1, 1, false, TransactionId{42});
  alice.agent.onStun(net.now, p.a1.address, p.b1.address, late.request(),
                     *parseStun(late.request()));
  const auto answers = alice.agent.takeTransmits();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].from, p.a1.address);
  EXPECT_EQ(answers[0].to, p.b1.address);
  EXPECT_EQ(parseStun(answers[0].bytes)->message.messageClass, StunClass::Success);
  EXPECT_EQ(alice.agent.state(), IceAgentState::Failed);
}

TEST(IceAgent, ConsentIsLostAtItsTimeoutAfterOneDirectionGoesDark) {
  Pairing p;
  End alice(config(IceRole::Controlling, kAlice, 2, 'a'), kAlice.localUfrag);
  End bob(config(IceRole::Controlled, kBob, 1, 'b'), kBob.localUfrag);
  Network net(alice, bob);
  p.gather(alice, bob);
  p.trickleToAlice(alice);
  p.trickleToBob(bob);
  ASSERT_TRUE(net.runUntil([&] { return bothSelected(alice, bob); }, 10s));
  // Consent requests and their answers keep the pair alive well past the timeout.
  const auto firstExpiry = *alice.agent.consentExpiresAt();
  net.runFor(60s);
  EXPECT_EQ(alice.agent.state(), IceAgentState::Connected);
  EXPECT_EQ(bob.agent.state(), IceAgentState::Connected);
  EXPECT_GT(*alice.agent.consentExpiresAt(), firstExpiry + 50s);
  EXPECT_TRUE(eventsOf<ConsentLost>(alice.events).empty());

  // Bob's datagrams stop reaching Alice: her requests go unanswered.
  const auto dark = net.now;
  const auto expiry = *alice.agent.consentExpiresAt();
  EXPECT_GT(expiry, dark + 30s - 6s - 1s);  // renewed within the last (jittered) interval
  EXPECT_LE(expiry, dark + 30s);
  net.drop = [](bool fromAlice, const IceTransmit&) { return !fromAlice; };
  ASSERT_TRUE(net.runUntil([&] { return alice.agent.state() != IceAgentState::Connected; }, 60s));
  EXPECT_EQ(alice.agent.state(), IceAgentState::Disconnected);
  const auto lost = eventsOf<ConsentLost>(alice.events);
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].first, expiry);  // not a moment before
  EXPECT_TRUE(alice.open.empty());
  EXPECT_FALSE(alice.agent.nextDeadline());
  // Bob's own requests never reach Alice either: he loses consent too, on his own clock.
  ASSERT_TRUE(net.runUntil([&] { return bob.agent.state() != IceAgentState::Connected; }, 60s));
  EXPECT_EQ(bob.agent.state(), IceAgentState::Disconnected);
}

// What a stray datagram must not change.
struct Snapshot {
  std::vector<PairState> pairs;
  std::size_t locals, remotes, inFlight;
  std::optional<Clock::time_point> deadline;
  IceAgentState state;
  IceRole role;
  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(const IceAgent& agent) {
  Snapshot s{{},
             agent.checkList().locals().size(),
             agent.checkList().remotes().size(),
             agent.checksInFlight(),
             agent.nextDeadline(),
             agent.state(),
             agent.role()};
  for (const auto& pair : agent.checkList().pairs()) s.pairs.push_back(pair.state);
  return s;
}

// A success response to `request` saying it came from `mapped`, protected with `password`.
std::vector<std::uint8_t> successResponse(const TransactionId& request, const StunAddress& mapped,
                                          std::string_view password) {
  StunMessage m;
  m.messageClass = StunClass::Success;
  m.transactionId = request;
  m.add(stun_attribute::kXorMappedAddress, encodeXorAddress(mapped, request));
  return serializeStun(m, stunBytes(password), true);
}

TEST(IceAgent, ForgedMisroutedAndUnknownResponsesChangeNothing) {
  Pairing p;
  IceAgent alice(config(IceRole::Controlling, kAlice, 2, 'a'));
  alice.addLocal(p.a1);
  alice.addRemote(p.b1);
  alice.tick(kStart);
  auto sent = alice.takeTransmits();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].from, p.a1.address);
  EXPECT_EQ(sent[0].to, p.b1.address);
  const TransactionId id = parseStun(sent[0].bytes)->message.transactionId;
  alice.takeEvents();
  const auto before = snapshot(alice);
  const auto at = kStart + 10ms;
  auto feed = [&](const StunAddress& base, const StunAddress& source,
                  const std::vector<std::uint8_t>& datagram) {
    auto parsed = parseStun(datagram);
    ASSERT_TRUE(parsed);
    alice.onStun(at, base, source, datagram, *parsed);
  };
  auto expectUnchanged = [&](const char* what) {
    SCOPED_TRACE(what);
    EXPECT_EQ(snapshot(alice), before);
    EXPECT_TRUE(alice.takeEvents().empty());
    EXPECT_TRUE(alice.takeTransmits().empty());
  };

  feed(p.a1.address, p.b1.address, successResponse(id, p.a1.address, "wrong-password"));
  expectUnchanged("a response with a bad MESSAGE-INTEGRITY");
  const auto genuine = successResponse(id, p.a1.address, kBob.localPassword);
  feed(p.a1.address, v4(2, 2001), genuine);
  expectUnchanged("a response from another address than the request went to");
  feed(p.a2.address, p.b1.address, genuine);
  expectUnchanged("a response arriving at another base");
  TransactionId other = id;
  other[11] ^= 0xff;
  feed(p.a1.address, p.b1.address, successResponse(other, p.a1.address, kBob.localPassword));
  expectUnchanged("a response to no transaction in flight");

  // A request with a bad MESSAGE-INTEGRITY teaches nothing (it gets a 401, nothing else).
  IceCredentials forger = kBob;
  forger.remotePassword = "not-alices-password-000";
  BindingCheck forged(forger, IceRole::Controlled, 1, 1, true, TransactionId{9});
  feed(p.a1.address, v4(66, 6666), forged.request());
  EXPECT_EQ(snapshot(alice), before);
  EXPECT_TRUE(alice.takeEvents().empty());
  auto answers = alice.takeTransmits();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(parseStun(answers[0].bytes)->message.messageClass, StunClass::Error);

  // The genuine response from where the request went ends the check.
  feed(p.a1.address, p.b1.address, genuine);
  EXPECT_EQ(alice.checksInFlight(), 0u);
  EXPECT_TRUE(alice.checkList().pairs()[0].valid);
  const auto events = alice.takeEvents();
  ASSERT_FALSE(events.empty());
  ASSERT_TRUE(std::holds_alternative<TransactionEnded>(events[0]));
  EXPECT_EQ(std::get<TransactionEnded>(events[0]).id, id);
}

TEST(IceAgent, TenThousandTrickledCandidatesKeepStateBounded) {
  auto c = config(IceRole::Controlling, kAlice, 2, 'a');
  c.maxChecksInFlight = 8;
  IceAgent alice(c);
  alice.addLocal(host(v4(1, 1000), 65535, "a1"));
  std::size_t accepted = 0;
  for (int i = 0; i < 10000; ++i) {
    const auto address = test::ipv4(10, 1, static_cast<std::uint8_t>(i / 256),
                                    static_cast<std::uint8_t>(i % 256), 4000);
    accepted += alice.addRemote(host(address, static_cast<std::uint16_t>(i), std::to_string(i)));
  }
  EXPECT_EQ(accepted, c.maxRemoteCandidates);
  EXPECT_EQ(alice.candidatesRefused(), 10000 - c.maxRemoteCandidates);
  EXPECT_EQ(alice.checkList().remotes().size(), c.maxRemoteCandidates);
  EXPECT_LE(alice.checkList().pairs().size(), c.maxLocalCandidates * c.maxRemoteCandidates);

  // No answers come: checks pile up only to the limit.
  auto now = kStart;
  std::size_t mostInFlight = 0;
  for (int i = 0; i < 2000; ++i) {
    const auto next = alice.nextDeadline();
    if (!next) break;
    now = std::max(now, *next);
    alice.tick(now);
    alice.takeTransmits();
    alice.takeEvents();
    mostInFlight = std::max(mostInFlight, alice.checksInFlight());
  }
  EXPECT_EQ(mostInFlight, c.maxChecksInFlight);

  // Checks from ten thousand addresses: the peer knows the password, but the candidates they
  // would teach stay within the limit, and beyond it they go unanswered.
  IceAgent bob(config(IceRole::Controlled, kBob, 1, 'b'));
  bob.addLocal(host(v4(2, 2000), 65535, "b1"));
  std::size_t answered = 0;
  for (int i = 0; i < 10000; ++i) {
    TransactionId id{};
    id[0] = static_cast<std::uint8_t>(i >> 8);
    id[1] = static_cast<std::uint8_t>(i);
    BindingCheck check(kAlice, IceRole::Controlling, 2, 1, false, id);
    const auto source = test::ipv4(10, 1, static_cast<std::uint8_t>(i / 256),
                                   static_cast<std::uint8_t>(i % 256), 4000);
    bob.onStun(kStart, v4(2, 2000), source, check.request(), *parseStun(check.request()));
    answered += bob.takeTransmits().size();
    bob.takeEvents();
  }
  EXPECT_EQ(answered, c.maxRemoteCandidates);
  EXPECT_EQ(bob.checkList().remotes().size(), c.maxRemoteCandidates);
  EXPECT_EQ(bob.candidatesRefused(), 10000 - c.maxRemoteCandidates);
}

TEST(IceAgent, ASuccessThatWouldTeachALocalCandidateBeyondTheLimitCountsAsAFailure) {
  Pairing p;
  auto c = config(IceRole::Controlling, kAlice, 2, 'a');
  c.maxLocalCandidates = 1;
  IceAgent alice(c);
  alice.addLocal(p.a1);
  EXPECT_FALSE(alice.addLocal(p.a2));
  alice.localCandidatesComplete();
  alice.addRemote(p.b1);
  alice.remoteCandidatesComplete();
  alice.tick(kStart);
  const auto sent = alice.takeTransmits();
  ASSERT_EQ(sent.size(), 1u);
  const TransactionId id = parseStun(sent[0].bytes)->message.transactionId;
  // Bob saw the check come from a NAT's address: a peer-reflexive candidate Alice has no room
  // for.
  const auto response = successResponse(id, test::ipv4(192, 0, 2, 1, 5555), kBob.localPassword);
  alice.onStun(kStart + 10ms, p.a1.address, p.b1.address, response, *parseStun(response));
  EXPECT_EQ(alice.checkList().locals().size(), 1u);
  EXPECT_EQ(alice.checkList().pairs()[0].state, PairState::Failed);
  EXPECT_EQ(alice.candidatesRefused(), 2u);
  alice.tick(kStart + 10ms);
  EXPECT_EQ(alice.state(), IceAgentState::Failed);
}

TEST(IceAgent, NeedsARandomSourceAndTransactionIds) {
  auto c = config(IceRole::Controlling, kAlice, 2, 'a');
  c.transactionId = nullptr;
  EXPECT_THROW(IceAgent{c}, std::invalid_argument);
  c = config(IceRole::Controlling, kAlice, 2, 'a');
  c.random01 = nullptr;
  EXPECT_THROW(IceAgent{c}, std::invalid_argument);
}

}  // namespace
}  // namespace ifmesh::ice
