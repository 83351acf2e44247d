// The ICE checklist (src/ice/check_list.hpp): priorities as RFC 8445 computes them, pairs and
// their states, the order of checks, peer-reflexive candidates, triggered checks, nomination
// both ways, role conflicts, failure, and two checklists driven against each other.
#include "ice/check_list.hpp"

#include <gtest/gtest.h>

#include "ice_addresses.hpp"

namespace ifmesh::ice {
namespace {

StunAddress v4(std::uint8_t last, std::uint16_t port) {
  return test::ipv4(10, 0, 0, last, port);
}

StunAddress v6(std::uint16_t port) {
  return test::ipv6Loopback(port);
}

Candidate host(StunAddress address, std::uint16_t localPreference, std::string foundation) {
  Candidate c;
  c.address = c.base = address;
  c.priority = candidatePriority(CandidateType::Host, localPreference);
  c.foundation = std::move(foundation);
  return c;
}

TEST(IceCheckList, PrioritiesFollowRfc8445) {
  // The highest host priority, the one every browser gives its first host candidate.
  EXPECT_EQ(candidatePriority(CandidateType::Host, 65535), 2130706431u);
  EXPECT_EQ(candidatePriority(CandidateType::Relayed, 0, 1), 255u);
  EXPECT_GT(candidatePriority(CandidateType::PeerReflexive, 0),
            candidatePriority(CandidateType::ServerReflexive, 65535));
  // 2^32 * min + 2 * max + (G > D), the same number seen from either side.
  EXPECT_EQ(pairPriority(10, 20), (std::uint64_t{10} << 32) + 40);
  EXPECT_EQ(pairPriority(20, 10), (std::uint64_t{10} << 32) + 41);
  auto c = host(v4(1, 1000), 100, "h");
  EXPECT_EQ(peerReflexivePriority(c), candidatePriority(CandidateType::PeerReflexive, 100));
}

TEST(IceCheckList, PairsFormPerAddressFamilyAndServerReflexiveCandidatesLeaveThemToTheirBase) {
  CheckList list(IceRole::Controlling);
  list.addLocal(host(v4(1, 1000), 65535, "h4"));
  list.addLocal(host(v6(1001), 65534, "h6"));
  Candidate srflx = host(v4(9, 5000), 0, "s");
  srflx.type = CandidateType::ServerReflexive;
  srflx.base = v4(1, 1000);
  list.addLocal(srflx);
  list.addRemote(host(v4(2, 2000), 65535, "r4"));
  list.addRemote(host(v6(2001), 65535, "r6"));
  ASSERT_EQ(list.pairs().size(), 2u);
  for (const auto& p : list.pairs())
    EXPECT_EQ(list.locals()[p.local].address.ipv6, list.remotes()[p.remote].address.ipv6);
  // The same candidate again makes nothing new.
  list.addRemote(host(v4(2, 2000), 65535, "r4"));
  list.addLocal(host(v4(1, 1000), 65535, "h4"));
  EXPECT_EQ(list.pairs().size(), 2u);
}

TEST(IceCheckList, OnePairPerFoundationIsCheckedAndItsSuccessUnfreezesTheOthers) {
  CheckList list(IceRole::Controlling);
  list.addLocal(host(v4(1, 1000), 65535, "h"));
  list.addRemote(host(v4(2, 2000), 65535, "r"));
  list.addRemote(host(v4(2, 2001), 65534, "r"));  // same foundation
  list.addRemote(host(v4(3, 3000), 100, "q"));
  ASSERT_EQ(list.pairs().size(), 3u);
  EXPECT_EQ(list.pairs()[0].state, PairState::Waiting);
  EXPECT_EQ(list.pairs()[1].state, PairState::Frozen);
  EXPECT_EQ(list.pairs()[2].state, PairState::Waiting);
  // Highest priority first.
  auto first = list.nextCheck();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->pair, 0u);
  EXPECT_FALSE(first->nominate);  // regular nomination: not before a pair is valid
  EXPECT_EQ(list.nextCheck()->pair, 2u);
  EXPECT_FALSE(list.nextCheck());  // pair 1 stays frozen while its foundation is checked
  list.checkFailed(2);
  list.checkSucceeded(0, v4(1, 1000), false);
  EXPECT_EQ(list.pairs()[1].state, PairState::Waiting);
  EXPECT_TRUE(list.pairs()[0].valid);
}

TEST(IceCheckList, ACheckSeenFromAnotherAddressMakesAPeerReflexiveLocalCandidate) {
  CheckList list(IceRole::Controlling);
  list.addLocal(host(v4(1, 1000), 65535, "h"));
  list.addRemote(host(v4(2, 2000), 65535, "r"));
  ASSERT_EQ(list.nextCheck()->pair, 0u);
  list.checkSucceeded(0, v4(7, 7000), false);  // through a NAT
  ASSERT_EQ(list.locals().size(), 2u);
  const auto& prflx = list.locals()[1];
  EXPECT_EQ(prflx.type, CandidateType::PeerReflexive);
  EXPECT_EQ(prflx.address, v4(7, 7000));
  EXPECT_EQ(prflx.base, v4(1, 1000));
  ASSERT_EQ(list.pairs().size(), 2u);
  EXPECT_TRUE(list.pairs()[1].valid);
  EXPECT_FALSE(list.pairs()[0].valid);
  // Regular nomination goes over the valid pair.
  auto nominating = list.nextCheck();
  ASSERT_TRUE(nominating);
  EXPECT_EQ(nominating->pair, 1u);
  EXPECT_TRUE(nominating->nominate);
  list.checkSucceeded(1, v4(7, 7000), true);
  EXPECT_EQ(list.state(), CheckListState::Completed);
  EXPECT_EQ(list.selected(), 1u);
}

TEST(IceCheckList, ARequestFromAnUnknownAddressIsAPeerReflexiveRemoteCheckedAtOnce) {
  CheckList list(IceRole::Controlled);
  list.addLocal(host(v4(1, 1000), 65535, "h"));
  list.addRemote(host(v4(2, 2000), 65535, "r"));
  const std::uint32_t prio = candidatePriority(CandidateType::PeerReflexive, 65535);
  auto pair = list.onRequest(v4(1, 1000), v4(8, 8000), prio, false);
  ASSERT_TRUE(pair);
  ASSERT_EQ(list.remotes().size(), 2u);
  EXPECT_EQ(list.remotes()[1].type, CandidateType::PeerReflexive);
  EXPECT_EQ(list.remotes()[1].priority, prio);
  // The triggered check goes before the ordinary one of higher priority.
  EXPECT_EQ(list.nextCheck()->pair, *pair);
  // A request at an address that is no local base is not ours.
  EXPECT_FALSE(list.onRequest(v4(99, 1), v4(8, 8000), prio, false));
  // The candidate trickled in later takes the peer-reflexive one's place.
  list.addRemote(host(v4(8, 8000), 1, "late"));
  EXPECT_EQ(list.remotes().size(), 2u);
  EXPECT_EQ(list.remotes()[1].type, CandidateType::Host);
}

TEST(IceCheckList, TheControlledAgentSelectsThePairTheControllingOneNominates) {
  CheckList list(IceRole::Controlled);
  list.addLocal(host(v4(1, 1000), 65535, "h"));
  list.addRemote(host(v4(2, 2000), 65535, "r"));
  list.addRemote(host(v4(3, 3000), 60000, "q"));
  // USE-CANDIDATE on a pair whose own check is in progress: selected when that succeeds.
  auto first = list.nextCheck();
  ASSERT_EQ(first->pair, 0u);
  list.onRequest(v4(1, 1000), v4(2, 2000), 1, true);
  EXPECT_EQ(list.state(), CheckListState::Running);
  list.checkSucceeded(0, v4(1, 1000), false);
  EXPECT_EQ(list.state(), CheckListState::Completed);
  EXPECT_EQ(list.selected(), 0u);
  EXPECT_FALSE(list.nextCheck());

  // USE-CANDIDATE on a pair that already succeeded: selected at once.
  CheckList other(IceRole::Controlled);
  other.addLocal(host(v4(1, 1000), 65535, "h"));
  other.addRemote(host(v4(2, 2000), 65535, "r"));
  other.nextCheck();
  other.checkSucceeded(0, v4(1, 1000), false);
  EXPECT_EQ(other.state(), CheckListState::Running);
  other.onRequest(v4(1, 1000), v4(2, 2000), 1, true);
  EXPECT_EQ(other.selected(), 0u);
}

TEST(IceCheckList, AggressiveNominationSelectsTheFirstPairToSucceed) {
  CheckList list(IceRole::Controlling, CheckList::Nomination::Aggressive);
  list.addLocal(host(v4(1, 1000), 65535, "h"));
  list.addRemote(host(v4(2, 2000), 65535, "r"));
  list.addRemote(host(v4(3, 3000), 100, "q"));
  auto a = list.nextCheck(), b = list.nextCheck();
  EXPECT_TRUE(a->nominate && b->nominate);
  list.checkSucceeded(b->pair, v4(1, 1000), true);
  EXPECT_EQ(list.selected(), b->pair);
  EXPECT_EQ(list.state(), CheckListState::Completed);
}

TEST(IceCheckList, RegularNominationWaitsForABetterPairUnlessTold) {
  CheckList list(IceRole::Controlling);
  list.addLocal(host(v4(1, 1000), 65535, "h"));
  list.addRemote(host(v4(2, 2000), 65535, "r"));
  list.addRemote(host(v4(3, 3000), 100, "q"));
  auto best = list.nextCheck(), worse = list.nextCheck();
  list.checkSucceeded(worse->pair, v4(1, 1000), false);
  EXPECT_FALSE(list.nextCheck());  // the better pair is still in progress
  ASSERT_TRUE(list.nominateBestValid());
  auto nominating = list.nextCheck();
  EXPECT_EQ(nominating->pair, worse->pair);
  EXPECT_TRUE(nominating->nominate);
  list.checkFailed(best->pair);
  list.checkSucceeded(worse->pair, v4(1, 1000), true);
  EXPECT_EQ(list.selected(), worse->pair);
}

TEST(IceCheckList, ARoleConflictSwitchesRolesReordersAndChecksAgain) {
  CheckList list(IceRole::Controlling);
  list.addLocal(host(v4(1, 1000), 65535, "h"));
  Candidate remote = host(v4(2, 2000), 1, "r");
  list.addRemote(remote);
  const auto before = list.pairs()[0].priority;
  auto check = list.nextCheck();
  list.checkRoleConflict(check->pair);
  EXPECT_EQ(list.role(), IceRole::Controlled);
  EXPECT_NE(list.pairs()[0].priority, before);
  EXPECT_EQ(list.pairs()[0].priority, pairPriority(remote.priority, list.locals()[0].priority));
  auto again = list.nextCheck();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->pair, check->pair);
  EXPECT_FALSE(again->nominate);
}

TEST(IceCheckList, FailsOnceEveryPairFailedAndNoCandidateIsToCome) {
  for (bool remoteEndsFirst : {true, false}) {
    SCOPED_TRACE(remoteEndsFirst ? "remote end first" : "local end first");
    CheckList list(IceRole::Controlling);
    list.addLocal(host(v4(1, 1000), 65535, "h"));
    list.addRemote(host(v4(2, 2000), 65535, "r"));
    list.nextCheck();
    list.checkFailed(0);
    EXPECT_EQ(list.state(), CheckListState::Running);  // more may trickle in
    if (remoteEndsFirst)
      list.remoteCandidatesComplete();
    else
      list.localCandidatesComplete();
    // A candidate may still come from the other side (a STUN server's answer, say).
    EXPECT_EQ(list.state(), CheckListState::Running);
    if (remoteEndsFirst)
      list.localCandidatesComplete();
    else
      list.remoteCandidatesComplete();
    EXPECT_EQ(list.state(), CheckListState::Failed);
  }
}

TEST(IceCheckList, NoPairYetIsNoFailureWhileThisEndStillGathers) {
  // The peer's candidates and their end arrive before this end gathered anything (the offer's
  // end-of-candidates overtakes the answer): no pair, yet nothing has failed.
  CheckList list(IceRole::Controlled);
  list.addRemote(host(v4(2, 2000), 65535, "r"));
  list.remoteCandidatesComplete();
  EXPECT_EQ(list.state(), CheckListState::Running);
  list.addLocal(host(v4(1, 1000), 65535, "h"));
  EXPECT_EQ(list.pairs().size(), 1u);
  list.localCandidatesComplete();
  EXPECT_EQ(list.state(), CheckListState::Running);
}

TEST(IceCheckList, KeepsAtMostMaxPairsDroppingTheLowestPriorityOnes) {
  CheckList list(IceRole::Controlling, CheckList::Nomination::Regular, 3);
  list.addLocal(host(v4(1, 1000), 65535, "h"));
  for (std::uint8_t i = 0; i < 6; ++i)
    list.addRemote(host(v4(10 + i, 2000), static_cast<std::uint16_t>(1000 * (i + 1)),
                        "r" + std::to_string(i)));
  std::vector<std::size_t> checked;
  while (auto next = list.nextCheck()) checked.push_back(next->pair);
  // The three best remotes (local preferences 6000, 5000, 4000), best first.
  ASSERT_EQ(checked.size(), 3u);
  EXPECT_EQ(list.remotes()[list.pairs()[checked[0]].remote].address, v4(15, 2000));
  EXPECT_EQ(list.remotes()[list.pairs()[checked[2]].remote].address, v4(13, 2000));
}

// Two checklists and the checks between them, without sockets: each check is a request the
// other side accepts (onRequest) and a success response carrying the source address.
TEST(IceCheckList, TwoAgentsAgreeOnOnePairThroughChecksAlone) {
  CheckList a(IceRole::Controlling), b(IceRole::Controlled);
  const auto aHost = host(v4(1, 1000), 65535, "a"), aSecond = host(v4(1, 1001), 60000, "a2");
  const auto bHost = host(v4(2, 2000), 65535, "b");
  a.addLocal(aHost);
  a.addLocal(aSecond);
  b.addLocal(bHost);
  a.addRemote(bHost);  // b's candidates trickle to a; a's reach b only through its checks
  for (int round = 0; round < 20; ++round) {
    if (auto c = a.nextCheck()) {
      const auto& p = a.pairs()[c->pair];
      const auto from = a.locals()[p.local].base, to = a.remotes()[p.remote].address;
      b.onRequest(to, from, peerReflexivePriority(a.locals()[p.local]), c->nominate);
      a.checkSucceeded(c->pair, from, c->nominate);
    }
    if (auto c = b.nextCheck()) {
      const auto& p = b.pairs()[c->pair];
      const auto from = b.locals()[p.local].base, to = b.remotes()[p.remote].address;
      a.onRequest(to, from, peerReflexivePriority(b.locals()[p.local]), false);
      b.checkSucceeded(c->pair, from, false);
    }
    if (a.selected() && b.selected()) break;
  }
  ASSERT_TRUE(a.selected());
  ASSERT_TRUE(b.selected());
  const auto& pa = a.pairs()[*a.selected()];
  const auto& pb = b.pairs()[*b.selected()];
  EXPECT_EQ(a.locals()[pa.local].address, b.remotes()[pb.remote].address);
  EXPECT_EQ(a.remotes()[pa.remote].address, b.locals()[pb.local].address);
  // The better of a's two host candidates.
  EXPECT_EQ(a.locals()[pa.local].address, aHost.address);
  EXPECT_EQ(a.state(), CheckListState::Completed);
  EXPECT_EQ(b.state(), CheckListState::Completed);
}

}  // namespace
}  // namespace ifmesh::ice
