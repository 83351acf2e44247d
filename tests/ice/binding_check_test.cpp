// ICE connectivity checks between two agents' sides, sans-IO: a check and its answer, the
// nomination flag, forged and unauthenticated responses ignored, requests for another session or
// with a bad integrity refused, role conflicts resolved by the tie-breakers both ways, and the
// retransmission schedule to its timeout.
#include <gtest/gtest.h>

#include "ice/binding_check.hpp"
#include "ice_addresses.hpp"

namespace ifmesh::ice {
namespace {

const IceCredentials kAlice{"aUfrag", "alice-password-0123456789", "bUfrag",
                            "bob-password-0123456789ab"};
const IceCredentials kBob{"bUfrag", "bob-password-0123456789ab", "aUfrag",
                          "alice-password-0123456789"};
const TransactionId kTransaction{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

StunAddress aliceAddress() {
  return test::ipv4(127, 0, 0, 1, 40001);
}

ParsedStun read(const std::vector<std::uint8_t>& datagram) {
  auto parsed = parseStun(datagram);
  EXPECT_TRUE(parsed);
  return parsed.value_or(ParsedStun{});
}

// The answerer's side of `check`'s request, sent from aliceAddress().
BindingAnswer answer(const BindingCheck& check, const IceCredentials& answerer, IceRole role,
                     std::uint64_t tieBreaker) {
  return answerBindingRequest(check.request(), read(check.request()), answerer, role, tieBreaker,
                              aliceAddress());
}

TEST(BindingCheck, ACheckAndItsAnswerAgreeOnTheMappedAddressAndNomination) {
  BindingCheck check(kAlice, IceRole::Controlling, 10, 0x6e0001ff, true, kTransaction);
  auto reply = answer(check, kBob, IceRole::Controlled, 5);
  ASSERT_TRUE(reply.accepted) << reply.refusal;
  EXPECT_EQ(reply.priority, 0x6e0001ffu);
  EXPECT_TRUE(reply.useCandidate);
  EXPECT_FALSE(reply.switchRoleTo);
  ASSERT_FALSE(reply.response.empty());
  EXPECT_TRUE(check.onResponse(reply.response, read(reply.response)));
  ASSERT_TRUE(check.outcome());
  auto* ok = std::get_if<CheckSucceeded>(&*check.outcome());
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->mapped, aliceAddress());
  EXPECT_FALSE(check.nextDeadline());

  // A controlled agent's check carries no USE-CANDIDATE, even when asked.
  BindingCheck controlled(kAlice, IceRole::Controlled, 10, 1, true, kTransaction);
  auto a2 = answer(controlled, kBob, IceRole::Controlling, 5);
  ASSERT_TRUE(a2.accepted) << a2.refusal;
  EXPECT_FALSE(a2.useCandidate);
}

TEST(BindingCheck, ResponsesNotProtectedWithThePeersPasswordAreIgnored) {
  BindingCheck check(kAlice, IceRole::Controlling, 10, 1, false, kTransaction);
  check.start(Clock::time_point{});
  // Answered by somebody with another password (a forgery of the same transaction).
  IceCredentials mallory = kBob;
  mallory.localPassword = "mallory-password-000000000";
  auto forged = answer(check, mallory, IceRole::Controlled, 5);
  EXPECT_FALSE(forged.accepted);
  EXPECT_EQ(forged.refusal, "bad MESSAGE-INTEGRITY");
  ASSERT_FALSE(forged.response.empty());  // a 401, unprotected
  EXPECT_FALSE(check.onResponse(forged.response, read(forged.response)));
  EXPECT_FALSE(check.outcome());
  // A response to another transaction.
  BindingCheck other(kAlice, IceRole::Controlling, 10, 1, false, {9, 9, 9});
  auto reply = answer(other, kBob, IceRole::Controlled, 5);
  EXPECT_FALSE(check.onResponse(reply.response, read(reply.response)));
  EXPECT_FALSE(check.outcome());
  EXPECT_TRUE(check.nextDeadline());
}

TEST(BindingCheck, RequestsForAnotherSessionOrWithoutAFingerprintAreRefused) {
  BindingCheck check(kAlice, IceRole::Controlling, 10, 1, false, kTransaction);
  IceCredentials otherSession = kBob;
  otherSession.remoteUfrag = "zUfrag";
  auto reply = answer(check, otherSession, IceRole::Controlled, 5);
  EXPECT_FALSE(reply.accepted);
  EXPECT_EQ(reply.refusal, "USERNAME of another session");
  auto error = read(reply.response);
  EXPECT_EQ(error.message.messageClass, StunClass::Error);
  EXPECT_EQ(decodeErrorCode(error.message.find(stun_attribute::kErrorCode)->value)->code, 401);

  // The same request without its FINGERPRINT: dropped, no answer.
  StunMessage bare = read(check.request()).message;
  const auto noFingerprint = serializeStun(bare, stunBytes(kBob.localPassword), false);
  auto dropped = answerBindingRequest(noFingerprint, read(noFingerprint), kBob, IceRole::Controlled,
                                      5, aliceAddress());
  EXPECT_FALSE(dropped.accepted);
  EXPECT_TRUE(dropped.response.empty());
  EXPECT_EQ(dropped.refusal, "no FINGERPRINT");
}

TEST(BindingCheck, RoleConflictsGoToTheLargerTieBreaker) {
  struct Case {
    IceRole checker, answerer;
    std::uint64_t checkerTie, answererTie;
    bool conflictResponse;              // the answerer keeps its role and answers 487
    std::optional<IceRole> switchedTo;  // or switches and accepts
  };
  for (const auto& c : std::vector<Case>{
           {IceRole::Controlling, IceRole::Controlling, 10, 20, true, std::nullopt},
           {IceRole::Controlling, IceRole::Controlling, 20, 10, false, IceRole::Controlled},
           {IceRole::Controlled, IceRole::Controlled, 10, 20, false, IceRole::Controlling},
           {IceRole::Controlled, IceRole::Controlled, 20, 10, true, std::nullopt}}) {
    BindingCheck check(kAlice, c.checker, c.checkerTie, 1, false, kTransaction);
    auto reply = answer(check, kBob, c.answerer, c.answererTie);
    EXPECT_EQ(reply.accepted, !c.conflictResponse);
    EXPECT_EQ(reply.switchRoleTo, c.switchedTo);
    ASSERT_TRUE(check.onResponse(reply.response, read(reply.response)));
    if (c.conflictResponse)
      EXPECT_TRUE(std::holds_alternative<CheckRoleConflict>(*check.outcome()));
    else
      EXPECT_TRUE(std::holds_alternative<CheckSucceeded>(*check.outcome()));
  }
}

TEST(BindingCheck, RetransmitsWithDoublingWaitsThenTimesOut) {
  RetransmitPolicy policy;
  policy.initialRto = std::chrono::milliseconds(100);
  policy.maxTransmissions = 4;
  policy.lastWait = std::chrono::milliseconds(800);
  BindingCheck check(kAlice, IceRole::Controlling, 10, 1, false, kTransaction, policy);
  const Clock::time_point t0{};
  using std::chrono::milliseconds;
  EXPECT_EQ(check.start(t0), t0 + milliseconds(100));
  EXPECT_FALSE(check.poll(t0 + milliseconds(99)));
  // Sends at 0, 100, 300, 700; fails 800 after the last.
  for (auto [at, next] : std::vector<std::pair<int, int>>{{100, 300}, {300, 700}, {700, 1500}}) {
    EXPECT_TRUE(check.poll(t0 + milliseconds(at))) << at;
    EXPECT_EQ(check.nextDeadline(), t0 + milliseconds(next)) << at;
  }
  EXPECT_EQ(check.transmissions(), 4);
  EXPECT_FALSE(check.poll(t0 + milliseconds(1499)));
  EXPECT_FALSE(check.outcome());
  EXPECT_FALSE(check.poll(t0 + milliseconds(1500)));
  ASSERT_TRUE(check.outcome());
  auto* failed = std::get_if<CheckFailed>(&*check.outcome());
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->reason, "timeout");
  EXPECT_FALSE(check.nextDeadline());
}

}  // namespace
}  // namespace ifmesh::ice
