// MessageStamper: what an agent writes into the messages it originates.
#include "mesh/message_stamper.hpp"

#include <gtest/gtest.h>

#include "ifmesh/error.hpp"
#include "ifmesh/witness.hpp"

namespace ifmesh::detail {
namespace {

AgentConfig config(MessageSignatures signatures) {
  AgentConfig c;
  c.agentId = "me";
  c.identity.messageSignatures = signatures;
  return c;
}

IFMessage normal() {
  IFMessage m;
  m.payload = {{"hello", "world"}};
  return m;
}

TEST(MessageStamper, FillsTheEnvelopeAndSigns) {
  auto identity = AgentIdentity::generate();
  MessageStamper stamper(config(MessageSignatures::Always), identity, 42);
  IFMessage m = normal();
  m.source = "someone else";
  m.signature = "stale";
  stamper.stamp(m, "peer", false);
  EXPECT_EQ(m.source, "me");
  EXPECT_EQ(m.destination, "peer");
  EXPECT_FALSE(m.id.empty());
  EXPECT_FALSE(m.timestamp.empty());
  EXPECT_EQ(m.incarnation, 42u);
  EXPECT_EQ(m.sequence, 1u);
  EXPECT_TRUE(verifyMessage(m, *PublicKey::parse(identity.publicKey())));
}

TEST(MessageStamper, KeepsTheCallersIdAndTimestampWhenInRange) {
  auto identity = AgentIdentity::generate();
  MessageStamper stamper(config(MessageSignatures::Always), identity, 1);
  IFMessage m = normal();
  m.id = "mine";
  m.timestamp = isoTimestampNow();
  auto timestamp = m.timestamp;
  stamper.stamp(m, "peer", false);
  EXPECT_EQ(m.id, "mine");
  EXPECT_EQ(m.timestamp, timestamp);
  for (const char* bad : {"2001-01-01T00:00:00Z", "yesterday", "9999-01-01T00:00:00.000Z"}) {
    IFMessage old = normal();
    old.timestamp = bad;
    EXPECT_THROW(stamper.stamp(old, "peer", false), Error) << bad;
  }
}

TEST(MessageStamper, NumbersEachLaneAndUsesANumberOnlyOnceSent) {
  auto identity = AgentIdentity::generate();
  MessageStamper stamper(config(MessageSignatures::Relayed), identity, 1);
  IFMessage a = normal();
  stamper.stamp(a, "peer", false);
  EXPECT_EQ(a.sequence, 1u);
  IFMessage again = normal();
  stamper.stamp(again, "peer", false);  // `a` was refused: its number is free
  EXPECT_EQ(again.sequence, 1u);
  stamper.sent(again);
  IFMessage b = normal();
  stamper.stamp(b, "peer", false);
  EXPECT_EQ(b.sequence, 2u);
  IFMessage urgent = normal();
  urgent.priority = MessagePriority::High;
  stamper.stamp(urgent, "peer", false);
  EXPECT_EQ(urgent.sequence, 1u);  // its own lane
  IFMessage elsewhere = normal();
  stamper.stamp(elsewhere, "other", false);
  EXPECT_EQ(elsewhere.sequence, 1u);
}

TEST(MessageStamper, RelayedSignaturesSignOnlyWhatGoesThroughOthers) {
  auto identity = AgentIdentity::generate();
  MessageStamper stamper(config(MessageSignatures::Relayed), identity, 1);
  IFMessage direct = normal();
  direct.signature = "stale";
  stamper.stamp(direct, "peer", false);
  EXPECT_TRUE(direct.signature.empty());
  IFMessage relayed = normal();
  stamper.stamp(relayed, "far", true);
  EXPECT_TRUE(verifyMessage(relayed, *PublicKey::parse(identity.publicKey())));
}

TEST(MessageStamper, RefusesAPayloadThatCannotBeSigned) {
  auto identity = AgentIdentity::generate();
  MessageStamper stamper(config(MessageSignatures::Always), identity, 1);
  IFMessage m = normal();
  m.payload = {{"text", std::string("\xff\xfe not UTF-8")}};
  try {
    stamper.stamp(m, "peer", false);
    FAIL() << "stamped a payload that cannot be serialized";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::InvalidArgument);
  }
}

}  // namespace
}  // namespace ifmesh::detail
