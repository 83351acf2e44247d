// A server-reflexive query (src/ice/server_reflexive_query.hpp): the request and its
// retransmissions, the server's answer taken only from the server, errors and silence.
#include "ice/server_reflexive_query.hpp"

#include <gtest/gtest.h>

#include "ice/ice_addresses.hpp"

namespace ifmesh::ice {
namespace {

using namespace std::chrono_literals;
using Clock = ServerReflexiveQuery::Clock;
using test::ipv4;

const TransactionId kTransaction{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

StunMessage success(const TransactionId& transaction, const StunAddress& mapped) {
  StunMessage m;
  m.messageClass = StunClass::Success;
  m.transactionId = transaction;
  m.add(stun_attribute::kXorMappedAddress, encodeXorAddress(mapped, transaction));
  return m;
}

TEST(IceServerReflexiveQuery, SendsABindingRequestThenRetransmitsAndGivesUp) {
  const auto server = ipv4(192, 0, 2, 1, 3478);
  ServerReflexiveQuery query(server, kTransaction);
  const Clock::time_point t0{};
  auto first = query.poll(t0);
  ASSERT_TRUE(first);
  auto parsed = parseStun(*first);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->message.method, stun_method::kBinding);
  EXPECT_EQ(parsed->message.messageClass, StunClass::Request);
  EXPECT_EQ(parsed->message.transactionId, kTransaction);
  EXPECT_TRUE(parsed->fingerprint);
  EXPECT_FALSE(parsed->integrityOffset);  // a STUN server has no credentials of ours

  std::vector<Clock::duration> sentAt{0ms};
  for (auto t = t0; t < t0 + 10s; t += 1ms) {
    if (query.poll(t)) sentAt.push_back(t - t0);
    if (query.state() != ServerReflexiveQuery::State::Pending) {
      EXPECT_EQ(t - t0, 3750ms);
      break;
    }
  }
  EXPECT_EQ(sentAt, (std::vector<Clock::duration>{0ms, 250ms, 750ms, 1750ms}));
  EXPECT_EQ(query.state(), ServerReflexiveQuery::State::Failed);
  EXPECT_EQ(query.failure(), "no answer from the STUN server");
  EXPECT_FALSE(query.deadline());
  EXPECT_FALSE(query.poll(t0 + 20s));
}

TEST(IceServerReflexiveQuery, TakesTheMappedAddressFromTheServerOnly) {
  const auto server = ipv4(192, 0, 2, 1, 3478);
  const auto mapped = ipv4(198, 51, 100, 7, 40000);
  ServerReflexiveQuery query(server, kTransaction);
  const Clock::time_point t0{};
  // Nothing counts before the request left.
  EXPECT_FALSE(query.onMessage(server, success(kTransaction, mapped)));
  ASSERT_TRUE(query.poll(t0));
  EXPECT_EQ(query.deadline(), t0 + 250ms);

  // From another address, for another transaction, or a request: not the answer.
  EXPECT_FALSE(query.onMessage(ipv4(192, 0, 2, 1, 3479), success(kTransaction, mapped)));
  EXPECT_FALSE(query.onMessage(ipv4(192, 0, 2, 66, 3478), success(kTransaction, mapped)));
  auto other = kTransaction;
  other[11] ^= 1;
  EXPECT_FALSE(query.onMessage(server, success(other, mapped)));
  auto request = success(kTransaction, mapped);
  request.messageClass = StunClass::Request;
  EXPECT_FALSE(query.onMessage(server, request));
  EXPECT_EQ(query.state(), ServerReflexiveQuery::State::Pending);

  EXPECT_TRUE(query.onMessage(server, success(kTransaction, mapped)));
  EXPECT_EQ(query.state(), ServerReflexiveQuery::State::Succeeded);
  EXPECT_EQ(query.mapped(), mapped);
  EXPECT_FALSE(query.deadline());
  EXPECT_FALSE(query.poll(t0 + 1s));
  // A late duplicate changes nothing.
  EXPECT_FALSE(query.onMessage(server, success(kTransaction, ipv4(203, 0, 113, 1, 1))));
  EXPECT_EQ(query.mapped(), mapped);
}

TEST(IceServerReflexiveQuery, AnErrorResponseOrAnUnusableAnswerEndsIt) {
  const auto server = ipv4(192, 0, 2, 1, 3478);
  {
    ServerReflexiveQuery query(server, kTransaction);
    ASSERT_TRUE(query.poll(Clock::time_point{}));
    StunMessage error;
    error.messageClass = StunClass::Error;
    error.transactionId = kTransaction;
    error.add(stun_attribute::kErrorCode, encodeErrorCode(420, "Unknown\x01 Attribute"));
    EXPECT_TRUE(query.onMessage(server, error));
    EXPECT_EQ(query.state(), ServerReflexiveQuery::State::Failed);
    EXPECT_EQ(query.failure(), "the STUN server refused the request: 420 Unknown? Attribute");
  }
  // No XOR-MAPPED-ADDRESS, an IPv6 one to an IPv4 question, port 0.
  std::vector<StunMessage> unusable(3);
  unusable[0].messageClass = StunClass::Success;
  unusable[0].transactionId = kTransaction;
  unusable[1] = success(kTransaction, test::ipv6Loopback(5000));
  unusable[2] = success(kTransaction, ipv4(198, 51, 100, 7, 0));
  for (const auto& answer : unusable) {
    ServerReflexiveQuery query(server, kTransaction);
    ASSERT_TRUE(query.poll(Clock::time_point{}));
    EXPECT_TRUE(query.onMessage(server, answer));
    EXPECT_EQ(query.state(), ServerReflexiveQuery::State::Failed);
    EXPECT_FALSE(query.mapped());
  }
}

}  // namespace
}  // namespace ifmesh::ice
