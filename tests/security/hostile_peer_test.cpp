// Hostile peers against an agent, through a real signaling server and real DataChannels on
// 127.0.0.1: a registered client that announced no key flooding the agent with offers and
// connect requests, and linked peers speaking the link protocol by hand (RawLinkPeer) with lies
// in it. The agent must allocate nothing for them, refuse what they lie about and keep serving
// its real peers.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "mesh/mesh_fixture.hpp"
#include "signaling/signaling_fixture.hpp"
#include "support/raw_link_peer.hpp"

namespace ifmesh::test {
namespace {

using json = nlohmann::json;

std::size_t openDescriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    ++n;
  return n;
}

// `from` sends one message to `to`, whose messages land in `inbox`: it arrives.
void expectDelivers(Agent& from, const std::string& to, Inbox& inbox) {
  const std::size_t before = inbox.size();
  from.send(to, numbered(1));
  EXPECT_TRUE(waitFor([&] { return inbox.size() == before + 1; }, 10s));
}

// The same from a raw peer: a proper message of its own, signed, on its link to `to`.
void expectDelivers(RawLinkPeer& from, const std::string& to, Inbox& inbox) {
  const std::size_t before = inbox.size();
  from.send(from.message(to, numbered(1)));
  EXPECT_TRUE(waitFor([&] { return inbox.size() == before + 1; }, 10s));
}

// Registers `peer` and `agent` (already connected to signaling) and links them.
bool linkRaw(RawLinkPeer& peer, Agent& agent) {
  peer.connectToSignaling();
  if (!peer.waitRegistered(5s) || !agent.waitRegistered(5s)) return false;
  peer.connect(agent.id());
  return waitFor(
      [&] { return peer.isOpen() && agent.peerState(peer.id()) == PeerState::Connected; });
}

// A witnessed victim and mallory, a raw peer, registered with one server; link() has mallory
// link to the victim. The victim's messages land in `inbox`.
struct VictimAndMallory {
  std::unique_ptr<signaling::Server> server = startSignaling();
  WitnessEvents log;
  Agent victim{meshAgentConfig("victim", *server, log.witness)};
  RawLinkPeer mallory{rawPeerConfig("mallory", *server)};
  Inbox inbox;

  bool link() {
    inbox.attach(victim);
    victim.connectToSignaling();
    return linkRaw(mallory, victim);
  }
};

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
  VictimAndMallory t;
  ASSERT_TRUE(t.link());
  auto& [server, log, victim, mallory, inbox] = t;

  for (int i = 0; i < 50; ++i) {
    IFMessage m;
    m.id = "invented-" + std::to_string(i);
    m.source = "mallory";
    m.destination = "nobody-" + std::to_string(i);
    m.timestamp = isoTimestampNow();
    m.payload = {{"n", i}};
    mallory.send(m, 1);  // as if forwarded
  }
  ASSERT_TRUE(waitFor(
      [&] { return log.count("victim", "ifmessage_rejected", "unknown destination") == 50; }));
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(victim.peerState("nobody-" + std::to_string(i)), std::nullopt);

  expectDelivers(mallory, "victim", inbox);
}

// A linked peer pours messages for another agent into a relay faster than the relay's link to
// that agent drains. The relay's queue toward the destination stays at its bound: what does not
// fit is left unacknowledged with the sender (backpressure), never dropped, so every message
// still arrives exactly once and in order.
TEST(HostilePeer, AForwardFloodStaysWithinTheRelaysQueueBound) {
  auto server = startSignaling();
  WitnessEvents log;
  AgentConfig relayConfig = meshAgentConfig("relay", *server, log.witness);
  // Above the 64 messages after which a receiver acknowledges at once.
  relayConfig.bandwidth.queue.maxMessages = 100;
  Agent relay(relayConfig);
  RawLinkPeer mallory(rawPeerConfig("mallory", *server));
  Agent dest(meshAgentConfig("dest", *server));
  Inbox inbox;
  inbox.attach(dest);
  for (Agent* a : {&relay, &dest}) a->connectToSignaling();
  ASSERT_TRUE(dest.waitRegistered(5s));
  ASSERT_TRUE(linkRaw(mallory, relay));
  relay.connect("dest");
  ASSERT_TRUE(waitFor([&] { return relay.peerState("dest") == PeerState::Connected; }));

  constexpr int kMessages = 3000;
  // Unacknowledged messages mallory keeps in flight, as an agent's channel high-water mark
  // would: well above what the relay may queue, so the flood meets the bound, yet not so many
  // that each resend the relay asks for repeats the whole flood.
  constexpr std::size_t kInFlight = 256;
  const std::string filler(1000, 'x');
  std::atomic<bool> flooding{true};
  std::size_t mostQueued = 0;
  std::thread watch([&] {
    while (flooding) {
      mostQueued = std::max(mostQueued, relay.unacknowledged("dest"));
      std::this_thread::sleep_for(1ms);
    }
  });
  bool all = true;
  for (int i = 1; i <= kMessages && all; ++i) {
    all = waitFor([&] { return mallory.unacknowledged() < kInFlight; });
    IFMessage m;
    m.payload = {{"n", i}, {"fill", filler}};
    mallory.send(mallory.message("dest", m), 1);  // as if forwarded
  }
  all = all && waitFor([&] { return inbox.size() >= kMessages; }, 60s);
  flooding = false;
  watch.join();
  ASSERT_TRUE(all) << inbox.size() << " of " << kMessages << " arrived";
  std::this_thread::sleep_for(200ms);  // a duplicate would arrive by now
  std::lock_guard lock(inbox.mutex);
  ASSERT_EQ(inbox.messages.size(), static_cast<std::size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) EXPECT_EQ(inbox.messages[i].payload["n"], i + 1);
  EXPECT_LE(mostQueued, 100u);
  EXPECT_GE(log.count("forward_held"), 1u) << "the flood never met the bound";
}

// The sender's directory may learn of a new agent before the relay's does: a message forwarded
// toward it waits for the relay's directory (up to a grace period) instead of being refused.
TEST(HostilePeer, AForwardToAnAgentThatJustJoinedWaitsForTheDirectory) {
  auto server = startSignaling();
  WitnessEvents log;
  Agent relay(meshAgentConfig("relay", *server, log.witness));
  RawLinkPeer sender(rawPeerConfig("sender", *server));
  relay.connectToSignaling();
  ASSERT_TRUE(linkRaw(sender, relay));

  Agent late(meshAgentConfig("late", *server));
  Inbox inbox;
  inbox.attach(late);
  sender.send(sender.message("late", numbered(1)), 1);  // as if forwarded
  ASSERT_TRUE(waitFor([&] { return log.count("forward_held") == 1; }));
  late.connectToSignaling();
  ASSERT_TRUE(late.waitRegistered(5s));
  ASSERT_TRUE(waitFor([&] { return inbox.size() == 1; }, 10s));
  EXPECT_EQ(log.count("relay", "ifmessage_rejected", "unknown destination"), 0u);
}

// A linked peer speaks the link protocol badly on purpose: frames that do not parse, lie about
// their fields, nest without end, ack what was never sent, or claim impossible hop counts. The
// victim rejects each (witnessed), stays linked, and delivers the next proper message.
TEST(HostilePeer, HostileLinkFramesAreRejectedAndTheLinkKeepsWorking) {
  VictimAndMallory t;
  ASSERT_TRUE(t.link());
  auto& [server, log, victim, mallory, inbox] = t;
  expectDelivers(mallory, "victim", inbox);

  // Well formed, but claims to come from another agent and carries no signature.
  IFMessage forged = signedMessage(mallory.identity(), "mallory", "victim", 99, {{"n", 99}},
                                   mallory.incarnation());
  forged.source = "someone-else";
  forged.signature.clear();
  const std::string m = toJson(forged).dump();
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::vector<std::string> frames = {
      "not json",
      "{}",
      R"({"t":"msg"})",
      R"({"t":"msg","s":"one","m":)" + m + "}",
      R"({"t":"msg","s":0,"m":)" + m + "}",
      R"({"t":"msg","s":99999999999999999999,"m":)" + m + "}",
      R"({"t":"msg","s":2,"h":18446744073709551615,"m":)" + m + "}",
      R"({"t":"msg","s":2,"l":99,"m":)" + m + "}",
      R"({"t":"msg","s":2,"m":{"id":7}})",
      R"({"t":"ack","seq":18446744073709551615})",
      R"({"t":"ack","seq":1,"l":-1})",
      R"({"t":"hello","recv":"x"})",
      R"({"t":"hello","recv":0,"lanes":[1,2,3,4,5,6,7,8,9]})",
      R"({"t":"nonsense"})",
      deep,
      "{\"t\":\"msg\",\"s\":2,\"m\":" + deep + "}",
      std::string("\xff\xfe\x00", 3),
  };
  for (const auto& f : frames) mallory.sendText(f);
  ASSERT_TRUE(waitFor([&] { return log.count("ifmessage_rejected") >= 10; }));
  EXPECT_EQ(victim.peerState("mallory"), PeerState::Connected);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(inbox.size(), 1u) << "a hostile frame was delivered";
  // The link still carries the victim's messages, and the victim serves other peers.
  victim.send("mallory", numbered(1));
  EXPECT_TRUE(waitFor([&] { return mallory.messages().size() == 1; }, 10s));
  Agent friendly(meshAgentConfig("friendly", *server));
  friendly.connectToSignaling();
  ASSERT_TRUE(friendly.waitRegistered(5s));
  friendly.connect("victim");
  ASSERT_TRUE(waitFor([&] { return friendly.peerState("victim") == PeerState::Connected; }));
  IFMessage hi;
  hi.payload = {{"n", 2}};
  friendly.send("victim", hi);
  EXPECT_TRUE(waitFor([&] { return inbox.size() == 2; }, 10s));
}

// Token holders register and leave under ever new ids, each announcing a key. The victim forgets
// the keys of agents gone for longer than its clock-skew window (their messages are stale by
// then), so churn does not grow its memory, and it keeps serving. What it knows shows in what it
// takes: a linked peer relays messages signed with the churning ids' key, delivered while the
// victim knows the key and refused as from an unknown key once it forgot it.
TEST(HostilePeer, RegistrationChurnLeavesNoKeysBehind) {
  auto server = startSignaling();
  WitnessEvents log;
  AgentConfig config = meshAgentConfig("victim", *server, log.witness);
  config.identity.maxClockSkew = 1s;
  Agent victim(config);
  Inbox inbox;
  inbox.attach(victim);
  victim.connectToSignaling();
  RawLinkPeer mallory(rawPeerConfig("mallory", *server));
  ASSERT_TRUE(linkRaw(mallory, victim));
  const AgentIdentity churnIdentity = AgentIdentity::generate();
  const std::string key = churnIdentity.publicKey();
  constexpr int kChurn = 200;
  for (int i = 0; i < kChurn; ++i) {
    signaling::test::RawSocket churn(*server);
    churn.ws.write(boost::asio::buffer(json{
        {"type", "register"},
        {"agent_id", "churn-" + std::to_string(i)},
        {"public_key", key}}.dump()));
    ASSERT_EQ(churn.read().value("type", ""), "registered");
  }
  ASSERT_TRUE(waitFor([&] { return server->agentCount() == 2; }));
  // One message from each churned id (their `sequence`-th), forwarded by mallory.
  auto relayFromChurn = [&](std::uint64_t sequence) {
    for (int i = 0; i < kChurn; ++i)
      mallory.send(signedMessage(churnIdentity, "churn-" + std::to_string(i), "victim", sequence,
                                 {{"n", i}}),
                   1);
  };
  auto unknownKey = [&] { return log.count("victim", "ifmessage_rejected", "unknown_source_key"); };
  relayFromChurn(1);
  ASSERT_TRUE(waitFor([&] { return inbox.size() + unknownKey() == kChurn; }));
  EXPECT_GE(inbox.size(), 150u);  // learnt, most not yet forgotten
  std::this_thread::sleep_for(1100ms);
  // The next arrival sweeps what aged out. Its offer follows its arrival on the victim's
  // signaling connection: once linked, the victim has swept.
  Agent friendly(meshAgentConfig("friendly", *server));
  friendly.connectToSignaling();
  ASSERT_TRUE(friendly.waitRegistered(5s));
  friendly.connect("victim");
  ASSERT_TRUE(waitFor([&] { return friendly.peerState("victim") == PeerState::Connected; }));
  const std::size_t delivered = inbox.size();
  const std::size_t refused = unknownKey();
  relayFromChurn(2);
  ASSERT_TRUE(waitFor([&] { return unknownKey() == refused + kChurn; }))
      << unknownKey() - refused << " of " << kChurn << " churned keys forgotten";
  EXPECT_EQ(inbox.size(), delivered);
  expectDelivers(friendly, "victim", inbox);
  expectDelivers(mallory, "victim", inbox);  // the keys of agents still here are kept
}

}  // namespace
}  // namespace ifmesh::test
