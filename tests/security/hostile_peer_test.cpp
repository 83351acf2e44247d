// Hostile peers against an agent, through a real signaling server and real DataChannels on
// 127.0.0.1: a registered client that announced no key flooding the agent with offers and
// connect requests. The agent must allocate nothing for it and keep serving its real peers.
#include <gtest/gtest.h>

#include <filesystem>

#include "mesh/agent_test_access.hpp"
#include "mesh/mesh_fixture.hpp"
#include "signaling/signaling_fixture.hpp"

namespace ifmesh::test {
namespace {

using json = nlohmann::json;

std::size_t openDescriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    ++n;
  return n;
}

// `from` sends one message to `to`, whose inbox was empty: it arrives.
void expectDelivers(Agent& from, const std::string& to, Inbox& inbox) {
  IFMessage m;
  m.payload = {{"n", 1}};
  from.send(to, m);
  EXPECT_TRUE(waitFor([&] { return inbox.size() == 1; }, 10s));
}

TEST(HostilePeer, OffersFromAKeylessIdAllocateNothing) {
  auto server = startSignaling();
  WitnessEvents log;
  Agent victim(meshAgentConfig("victim", *server, log.witness));
  victim.connectToSignaling();
  ASSERT_TRUE(victim.waitRegistered(5s));

  // Registered without a public key, as a browser page may; then 300 offers and connect
  // requests, each a new connection attempt.
  signaling::test::RawSocket attacker(*server);
  attacker.ws.write(
      boost::asio::buffer(json{{"type", "register"}, {"agent_id", "keyless"}}.dump()));
  ASSERT_EQ(attacker.read().value("type", ""), "registered");
  std::this_thread::sleep_for(200ms);  // every thread and socket of the victim is up
  const std::size_t before = openDescriptors();
  const std::string sdp =
      "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP "
      "webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\na=ice-pwd:"
      "abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 "
      "00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:"
      "00:00:00\r\na=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\n";
  for (int i = 1; i <= 300; ++i) {
    json offer = {{"type", "offer"}, {"to", "victim"}, {"sid", i}};
    offer["offer"] = {{"type", "offer"}, {"sdp", sdp}};
    attacker.ws.write(boost::asio::buffer(
        (i % 3 == 0 ? json{{"type", "connect-request"}, {"to", "victim"}} : offer).dump()));
    if (i % 100 == 0) std::this_thread::sleep_for(150ms);  // under the server's rate limit
  }
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(openDescriptors(), before) << "descriptors allocated for a keyless peer";
  EXPECT_EQ(victim.peerState("keyless"), std::nullopt);
  EXPECT_EQ(log.count("link_refused"), 1u);  // witnessed once, not once per offer

  // The victim still links with a real peer and delivers its messages.
  Agent friendly(meshAgentConfig("friendly", *server));
  Inbox inbox;
  inbox.attach(victim);
  friendly.connectToSignaling();
  ASSERT_TRUE(friendly.waitRegistered(5s));
  friendly.connect("victim");
  ASSERT_TRUE(waitFor([&] { return friendly.peerState("victim") == PeerState::Connected; }));
  expectDelivers(friendly, "victim", inbox);
}

// A linked peer asks the victim to forward messages to names no agent holds: the victim refuses
// (witnessed) instead of opening a connection toward each invented name, and keeps serving.
TEST(HostilePeer, ARelayForwardsOnlyTowardKnownAgents) {
  auto server = startSignaling();
  WitnessEvents log;
  Agent victim(meshAgentConfig("victim", *server, log.witness));
  Agent mallory(meshAgentConfig("mallory", *server));
  Inbox inbox;
  inbox.attach(victim);
  for (Agent* a : {&victim, &mallory}) a->connectToSignaling();
  for (Agent* a : {&victim, &mallory}) ASSERT_TRUE(a->waitRegistered(5s));
  mallory.connect("victim");
  ASSERT_TRUE(waitFor([&] { return mallory.peerState("victim") == PeerState::Connected; }));

  for (int i = 0; i < 50; ++i) {
    IFMessage m;
    m.id = "invented-" + std::to_string(i);
    m.source = "mallory";
    m.destination = "nobody-" + std::to_string(i);
    m.timestamp = isoTimestampNow();
    m.payload = {{"n", i}};
    detail::AgentTestAccess::inject(mallory, "victim", m, 1);
  }
  ASSERT_TRUE(waitFor(
      [&] { return log.count("victim", "ifmessage_rejected", "unknown destination") == 50; }));
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(victim.peerState("nobody-" + std::to_string(i)), std::nullopt);

  expectDelivers(mallory, "victim", inbox);
}

}  // namespace
}  // namespace ifmesh::test
