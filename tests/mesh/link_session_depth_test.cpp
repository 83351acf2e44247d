// The nesting limit at the sender (docs/link-protocol.md: a receiver refuses a frame nested
// deeper than it takes, unacknowledged): a payload as deep as the receiver takes is sent and
// decodes there; one level deeper is refused at send with InvalidArgument, so it cannot stall
// the lane behind it.
#include <gtest/gtest.h>

#include "ifmesh/error.hpp"
#include "json_depth.hpp"
#include "mesh/link_auth.hpp"
#include "mesh/link_codec.hpp"
#include "mesh/link_session.hpp"

namespace ifmesh::detail::link {
namespace {

// A payload whose JSON text nests `levels` deep, objects and arrays by turns.
nlohmann::json nested(std::size_t levels) {
  nlohmann::json v = "leaf";
  for (std::size_t i = 0; i < levels; ++i)
    v = (i % 2) ? nlohmann::json{{"k", v}, {"s", "]]}}"}} : nlohmann::json::array({v, 1});
  return v;
}

TEST(LinkSessionDepth, TheDeepestMessageTheReceiverTakesIsSentAndOneLevelMoreIsRefused) {
  AgentIdentity identity = AgentIdentity::generate();
  SessionConfig c;
  c.ownId = "alice";
  c.peerId = "bob";
  c.incarnation = 1;
  c.peerKey = [] { return nullptr; };
  Session session(std::move(c), [](IFMessage&&, int) { return true; });
  Connection conn;
  conn.localFingerprint = "FP:alice";
  conn.remoteFingerprint = "FP:bob";
  conn.helloSignature = identity.sign(helloSigningInput("alice", 1, conn.localFingerprint, "bob"));
  session.open(std::move(conn));

  auto message = [](std::size_t payloadLevels) {
    IFMessage m;
    m.id = newMessageId();
    m.source = "alice";
    m.destination = "bob";
    m.payload = nested(payloadLevels);
    return m;
  };
  const Clock::time_point now{};
  // The message's text is one level above its payload.
  const auto deepest = message(kMaxJsonDepth - 1);
  ASSERT_EQ(jsonNestingDepth(serialize(deepest), kMaxJsonDepth + 10), kMaxJsonDepth);
  session.enqueue(now, deepest, 0, nullptr);
  // Its frame, as the receiver's codec reads it.
  std::size_t decoded = 0;
  for (auto& frame : decode(encodeMsg(1, 0, 2, 0, serialize(deepest))))
    if (auto* m = std::get_if<Msg>(&frame)) {
      EXPECT_EQ(m->message.payload, deepest.payload);
      ++decoded;
    }
  EXPECT_EQ(decoded, 1u);
  const auto queued = session.unacknowledged();
  EXPECT_EQ(queued, 1u);

  const auto tooDeep = message(kMaxJsonDepth);
  try {
    session.enqueue(now, tooDeep, 0, nullptr);
    FAIL() << "a message nested " << kMaxJsonDepth + 1 << " levels was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::InvalidArgument) << e.what();
  }
  EXPECT_EQ(session.unacknowledged(), queued);

  // The same payloads given as text are checked the same way, and text that is not one JSON
  // value is refused before it could spoil a frame.
  auto asText = [&](std::string payloadJson) {
    IFMessage m = message(0);
    m.payload = nullptr;
    m.payloadJson = std::move(payloadJson);
    return m;
  };
  auto refused = [&](const IFMessage& m) {
    try {
      session.enqueue(now, m, 0, nullptr);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::InvalidArgument) << e.what();
      return true;
    }
    return false;
  };
  EXPECT_FALSE(refused(asText(deepest.payload.dump())));
  EXPECT_EQ(session.unacknowledged(), queued + 1);
  EXPECT_TRUE(refused(asText(tooDeep.payload.dump())));
  for (std::string bad : {"{\"a\":1", "1 2", "[1,]", "\"\xff\"", " ", "{}x"})
    EXPECT_TRUE(refused(asText(bad))) << bad;
  EXPECT_EQ(session.unacknowledged(), queued + 1);
}

}  // namespace
}  // namespace ifmesh::detail::link
