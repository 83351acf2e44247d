// PeerSignal: a link's relayed signaling message, read from hostile JSON.
#include "mesh/peer_signal.hpp"

#include <gtest/gtest.h>

namespace ifmesh::detail {
namespace {

using Kind = PeerSignal::Kind;
using nlohmann::json;

TEST(PeerSignal, ReadsEachTypeALinkUses) {
  // Unsigned numbers, as nlohmann::json reads "sid":7 off the wire.
  auto offer = PeerSignal::parse("offer", {{"sid", 7u}, {"offer", {{"sdp", "v=0"}}}});
  ASSERT_TRUE(offer);
  EXPECT_EQ(offer->kind, Kind::Offer);
  EXPECT_TRUE(offer->wellFormed);
  EXPECT_TRUE(offer->createsLink());
  EXPECT_EQ(offer->sid, 7u);
  EXPECT_EQ(offer->sdp, "v=0");
  EXPECT_STREQ(offer->type(), "offer");

  auto answer = PeerSignal::parse("answer", {{"sid", 8u}, {"answer", {{"sdp", "v=1"}}}});
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->kind, Kind::Answer);
  EXPECT_FALSE(answer->createsLink());
  EXPECT_EQ(answer->sdp, "v=1");

  auto candidate = PeerSignal::parse(
      "ice-candidate",
      {{"sid", 9u}, {"candidate", {{"candidate", "candidate:1"}, {"sdpMid", "0"}}}});
  ASSERT_TRUE(candidate);
  EXPECT_EQ(candidate->kind, Kind::Candidate);
  EXPECT_EQ(candidate->sid, 9u);
  EXPECT_EQ(candidate->candidate, "candidate:1");
  EXPECT_EQ(candidate->mid, "0");
  EXPECT_STREQ(candidate->type(), "ice-candidate");

  auto request = PeerSignal::parse("connect-request", json::object());
  ASSERT_TRUE(request);
  EXPECT_EQ(request->kind, Kind::ConnectRequest);
  EXPECT_TRUE(request->createsLink());
  EXPECT_STREQ(request->type(), "connect-request");

  auto bye = PeerSignal::parse("bye", json::object());
  ASSERT_TRUE(bye);
  EXPECT_EQ(bye->kind, Kind::Bye);
  EXPECT_FALSE(bye->createsLink());
}

TEST(PeerSignal, IgnoresTypesThatAreNotALinks) {
  for (const char* type : {"", "register", "Offer", "agent-joined", "offer "})
    EXPECT_FALSE(PeerSignal::parse(type, {{"offer", {{"sdp", "v=0"}}}})) << type;
}

TEST(PeerSignal, FieldsOfTheWrongTypeReadAsEmpty) {
  auto offer = PeerSignal::parse("offer", {{"sid", -1}, {"offer", {{"sdp", 12}}}});
  ASSERT_TRUE(offer);
  EXPECT_TRUE(offer->wellFormed);
  EXPECT_EQ(offer->sid, 0u);
  EXPECT_EQ(offer->sdp, "");
  auto candidate =
      PeerSignal::parse("ice-candidate", {{"sid", "9"}, {"candidate", {{"sdpMid", nullptr}}}});
  ASSERT_TRUE(candidate);
  EXPECT_EQ(candidate->sid, 0u);
  EXPECT_EQ(candidate->candidate, "");
  EXPECT_EQ(candidate->mid, "");
  EXPECT_EQ(PeerSignal::parse("answer", {{"sid", 1.5}, {"answer", json::object()}})->sid, 0u);
}

TEST(PeerSignal, ABodyWithoutItsObjectIsNotWellFormed) {
  for (const auto& [type, body] : {std::pair<const char*, json>{"offer", {{"offer", "v=0"}}},
                                   {"answer", json::object()},
                                   {"ice-candidate", {{"candidate", json::array()}}}}) {
    auto s = PeerSignal::parse(type, body);
    ASSERT_TRUE(s) << type;
    EXPECT_FALSE(s->wellFormed) << type;
  }
  // The whole message of another shape than an object.
  for (const json& odd : {json(), json::array({1, 2}), json("offer"), json(3)}) {
    auto s = PeerSignal::parse("offer", odd);
    ASSERT_TRUE(s);
    EXPECT_FALSE(s->wellFormed);
    EXPECT_EQ(s->sid, 0u);
  }
}

}  // namespace
}  // namespace ifmesh::detail
