// Authenticated agents over real DataChannels on 127.0.0.1: forged, replayed, tampered and stale
// messages are rejected with a witness event and never delivered; a hello that does not bind the
// peer's key to its DTLS certificate gets the connection refused. The forgers, replayers and
// misbehaving relays are raw peers (RawLinkPeer) that speak the link protocol by hand.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <numeric>

#include "ifmesh/error.hpp"
#include "ifmesh/identity.hpp"
#include "mesh/mesh_fixture.hpp"
#include "support/raw_link_peer.hpp"

namespace ifmesh::test {
namespace {

// Who alice is in a Trio: an agent, or a raw peer with her key (for frames of her own link).
enum class Alice { Agent, RawPeer };

// alice, bob and mallory, all linked to bob; mallory is a raw peer, and so is alice with
// Alice::RawPeer. alice's key lives in a file the test can read. With MessageSignatures::Always
// even alice's direct messages to bob are signed, which gives the tests genuine signed messages
// to replay and tamper with.
struct Trio {
  TempDir dir{"ifmesh-id-agent"};
  std::string aliceKeyFile = (dir.path / "alice.pem").string();
  std::unique_ptr<signaling::Server> server = startSignaling();
  WitnessEvents events;
  Inbox inbox;                        // bob's
  std::unique_ptr<Agent> alice, bob;  // alice: with Alice::Agent
  std::unique_ptr<RawLinkPeer> rawAlice, mallory;

  explicit Trio(MessageSignatures mode = MessageSignatures::Relayed, Alice who = Alice::Agent) {
    auto config = [&](const std::string& id) {
      auto c = meshAgentConfig(id, *server);
      c.witness = events.witness;
      c.identity.messageSignatures = mode;
      return c;
    };
    if (who == Alice::Agent) {
      auto ac = config("alice");
      ac.identity.keyFile = aliceKeyFile;
      alice = std::make_unique<Agent>(ac);
    } else {
      auto rc = rawPeerConfig("alice", *server);
      rc.identity = AgentIdentity::loadOrCreate(aliceKeyFile);
      rawAlice = std::make_unique<RawLinkPeer>(rc);
    }
    bob = std::make_unique<Agent>(config("bob"));
    mallory = std::make_unique<RawLinkPeer>(rawPeerConfig("mallory", *server));
    inbox.attach(*bob);
    bob->connectToSignaling();
    EXPECT_TRUE(bob->waitRegistered(5s));
    if (alice) {
      alice->connectToSignaling();
      EXPECT_TRUE(alice->waitRegistered(5s));
      alice->connect("bob");
    }
    for (auto* raw : {rawAlice.get(), mallory.get()}) {
      if (!raw) continue;
      raw->connectToSignaling();
      EXPECT_TRUE(raw->waitRegistered(5s));
      raw->connect("bob");
    }
    EXPECT_TRUE(waitFor([&] {
      return bob->peers().size() == 2 && mallory->isOpen() && (!rawAlice || rawAlice->isOpen());
    }));
  }

  // A message from alice delivered to bob, as bob saw it (signature and all).
  IFMessage deliveredFromAlice(int n) {
    auto before = inbox.size();
    if (alice)
      alice->send("bob", numbered(n));
    else
      rawAlice->send(rawAlice->message("bob", numbered(n)));
    EXPECT_TRUE(waitFor([&] { return inbox.size() == before + 1; }));
    std::lock_guard lock(inbox.mutex);
    return inbox.messages.back();
  }

  // Sends `m` from `sender` as if `hops` agents had forwarded it and waits for bob to reject it
  // with `reason`, and to acknowledge it.
  void expectRejected(RawLinkPeer& sender, const IFMessage& m, int hops,
                      const std::string& reason) {
    auto before = events.count("bob", "ifmessage_rejected", reason);
    auto delivered = inbox.size();
    sender.send(m, hops);
    EXPECT_TRUE(waitFor([&] {
      return events.count("bob", "ifmessage_rejected", reason) == before + 1;
    })) << reason;
    EXPECT_TRUE(waitFor([&] { return sender.unacknowledged() == 0; }));  // link goes on
    EXPECT_EQ(inbox.size(), delivered) << reason;
  }
};

TEST(AuthenticatedAgents, SignedMessagesAreDeliveredWithTheirSignature) {
  Trio t(MessageSignatures::Always);
  auto got = t.deliveredFromAlice(1);
  EXPECT_EQ(got.signature.size(), 88u);
  EXPECT_NE(got.incarnation, 0u);
  auto aliceKey = *PublicKey::parse(AgentIdentity::loadPem(t.aliceKeyFile).publicKey());
  EXPECT_TRUE(verifyMessage(got, aliceKey));
}

TEST(AuthenticatedAgents, ForgedSourceIsRejected) {
  Trio t;
  t.deliveredFromAlice(1);
  // mallory claims to forward a message from alice, signed with a key that is not alice's...
  IFMessage forged = numbered(666);
  forged.id = newMessageId();
  forged.timestamp = isoTimestampNow();
  forged.source = "alice";
  forged.destination = "bob";
  forged.sequence = 100;
  signMessage(forged, AgentIdentity::generate());
  t.expectRejected(*t.mallory, forged, 1, "bad_signature");
  // ... or unsigned ...
  forged.signature.clear();
  t.expectRejected(*t.mallory, forged, 1, "missing_signature");
  // ... or from an agent nobody announced a key for.
  forged.source = "ghost";
  signMessage(forged, AgentIdentity::generate());
  t.expectRejected(*t.mallory, forged, 1, "unknown_source_key");
  // Without a claimed hop the link itself catches it (the existing check, kept).
  forged.source = "alice";
  t.mallory->send(forged, 0);
  EXPECT_TRUE(waitFor([&] {
    return t.events.count("bob", "ifmessage_rejected", "source does not match the sending peer") ==
           1;
  }));
  // alice is unaffected.
  EXPECT_EQ(t.deliveredFromAlice(2).payload["n"], 2);
  EXPECT_EQ(t.inbox.numbers(), (std::vector<int>{1, 2}));
}

TEST(AuthenticatedAgents, ReplayedMessageIsRejected) {
  Trio t(MessageSignatures::Always, Alice::RawPeer);
  auto captured = t.deliveredFromAlice(1);
  // The very frame again, from alice's own link and through mallory as a "relay".
  t.expectRejected(*t.rawAlice, captured, 0, "replay");
  t.expectRejected(*t.mallory, captured, 1, "replay");
  // An older-incarnation copy is no way around it either: its signature breaks.
  auto otherIncarnation = captured;
  otherIncarnation.incarnation ^= 2;
  t.expectRejected(*t.mallory, otherIncarnation, 1, "bad_signature");
  // Legitimate traffic continues, numbered after the replayed one.
  EXPECT_EQ(t.deliveredFromAlice(2).sequence, 2u);
  EXPECT_EQ(t.inbox.numbers(), (std::vector<int>{1, 2}));
}

TEST(AuthenticatedAgents, TamperedPayloadIsRejected) {
  Trio t(MessageSignatures::Always, Alice::RawPeer);
  auto captured = t.deliveredFromAlice(1);
  auto tampered = captured;
  tampered.sequence = 2;  // a fresh sequence, so only the signature can catch it
  tampered.payload["n"] = 1000000;
  t.expectRejected(*t.mallory, tampered, 1, "bad_signature");
  auto extra = captured;
  extra.sequence = 2;
  extra.payload["admin"] = true;
  t.expectRejected(*t.rawAlice, extra, 0, "bad_signature");
  EXPECT_EQ(t.deliveredFromAlice(2).sequence, 2u);  // sequence 2 was never taken
}

TEST(AuthenticatedAgents, StaleTimestampIsRejected) {
  Trio t;
  t.deliveredFromAlice(1);
  auto alice = AgentIdentity::loadPem(t.aliceKeyFile);  // correctly signed by alice herself
  for (auto offset : {-10min, 10min}) {
    IFMessage old = numbered(7);
    old.id = newMessageId();
    auto when = std::chrono::system_clock::now() + offset;
    auto secs = std::chrono::system_clock::to_time_t(when);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    old.timestamp = buf;
    old.source = "alice";
    old.destination = "bob";
    old.sequence = 50;
    signMessage(old, alice);
    t.expectRejected(*t.mallory, old, 1, "stale_timestamp");
    // Agent::send refuses such a timestamp up front.
    IFMessage m = numbered(8);
    m.timestamp = buf;
    EXPECT_THROW(t.alice->send("bob", m), Error);
  }
  IFMessage garbage = numbered(9);
  garbage.timestamp = "not a time";
  EXPECT_THROW(t.alice->send("bob", garbage), Error);
}

TEST(AuthenticatedAgents, HelloWithAnotherFingerprintGetsTheLinkRefused) {
  auto server = startSignaling();
  WitnessEvents events;
  Inbox inbox;
  auto bc = meshAgentConfig("bob", *server);
  bc.witness = events.witness;
  bc.healing.maxRetries = 3;
  Agent bob(bc);
  inbox.attach(bob);
  // alice signs a certificate that is not the one her DTLS handshake shows, as a
  // man-in-the-middle relaying her genuine hello over his own DTLS session would.
  auto ac = rawPeerConfig("alice", *server);
  ac.helloFingerprint = std::string(95, '0');
  RawLinkPeer alice(ac);
  alice.connectToSignaling();
  bob.connectToSignaling();
  ASSERT_TRUE(alice.waitRegistered(5s));
  ASSERT_TRUE(bob.waitRegistered(5s));
  alice.connect("bob");  // and offers again whenever bob asks for a new connection
  alice.send(alice.message("bob", numbered(1)));
  ASSERT_TRUE(waitFor(
      [&] { return events.count("bob", "peer_auth_failed", "fingerprint_mismatch") >= 1; }));
  // Refused on every attempt until bob gives alice up; nothing was ever delivered or acked.
  ASSERT_TRUE(waitFor([&] { return bob.peerState("alice") == PeerState::Unreachable; }));
  EXPECT_GE(events.count("bob", "peer_auth_failed", "fingerprint_mismatch"), 3u);
  EXPECT_GE(alice.connections(), 3u);
  EXPECT_EQ(inbox.size(), 0u);
  EXPECT_EQ(alice.unacknowledged(), 1u);
}

TEST(AuthenticatedAgents, BadKeyFileIsAClearConstructorError) {
  TempDir dir("ifmesh-id-agent");
  auto path = dir.path / "bad.pem";
  std::ofstream(path) << "not a key\n";
  auto server = startSignaling();
  auto c = meshAgentConfig("alice", *server);
  c.identity.keyFile = path.string();
  try {
    Agent a(c);
    ADD_FAILURE() << "constructed with a bad key file";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

TEST(AuthenticatedAgents, ResendsAfterAReconnectAreNotReplays) {
  Trio t;
  t.deliveredFromAlice(0);
  for (int n = 1; n <= 300; ++n) {
    t.alice->send("bob", numbered(n));
    if (n == 150) t.alice->dropConnection("bob");  // unacknowledged ones are resent later
  }
  ASSERT_TRUE(waitFor([&] { return t.inbox.size() == 301; }));
  ASSERT_TRUE(waitFor([&] { return t.alice->unacknowledged("bob") == 0; }));
  std::vector<int> expected(301);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(t.inbox.numbers(), expected);
  std::lock_guard lock(t.events.mutex);
  for (const auto& e : t.events.all) EXPECT_NE(e.event, "ifmessage_rejected") << e.metadata.dump();
}

// The default: a relay cannot forge, alter or replay what it forwards, and a direct message
// needs no signature because it arrives over the source's own authenticated link.
TEST(AuthenticatedAgents, EveryMessageIsSignedByDefault) {
  EXPECT_EQ(AgentConfig{}.identity.messageSignatures, MessageSignatures::Always);
  auto server = startSignaling();
  Agent alice(meshAgentConfig("alice", *server)), bob(meshAgentConfig("bob", *server));
  Inbox bobInbox;
  bobInbox.attach(bob);
  alice.connectToSignaling();
  bob.connectToSignaling();
  ASSERT_TRUE(alice.waitRegistered(5s) && bob.waitRegistered(5s));
  alice.send("bob", numbered(1));
  ASSERT_TRUE(waitFor([&] { return bobInbox.size() == 1; }));
  std::lock_guard lock(bobInbox.mutex);
  EXPECT_FALSE(bobInbox.messages[0].signature.empty());  // a direct message, signed all the same
}

TEST(AuthenticatedAgents, RelayedModeSignsForwardedMessagesEndToEnd) {
  auto server = startSignaling();
  WitnessEvents events;
  Inbox carolInbox, bobInbox;
  auto config = [&](const std::string& id) {
    auto c = meshAgentConfig(id, *server);
    c.witness = events.witness;
    c.identity.messageSignatures = MessageSignatures::Relayed;
    c.topology = Topology::HubAndSpoke;
    c.hubId = "bob";
    return c;
  };
  Agent alice(config("alice")), bob(config("bob")), carol(config("carol"));
  bobInbox.attach(bob);
  carolInbox.attach(carol);
  for (auto* a : {&alice, &bob, &carol}) {
    a->connectToSignaling();
    ASSERT_TRUE(a->waitRegistered(5s));
  }
  ASSERT_TRUE(waitFor([&] { return bob.peers().size() == 2; }));
  alice.send("bob", numbered(1));
  alice.send("carol", numbered(2));  // through the hub, bob
  ASSERT_TRUE(waitFor([&] { return bobInbox.size() == 1 && carolInbox.size() == 1; }));
  IFMessage relayed;
  {
    std::lock_guard lock(bobInbox.mutex);
    EXPECT_TRUE(bobInbox.messages[0].signature.empty());  // direct
  }
  {
    std::lock_guard lock(carolInbox.mutex);
    relayed = carolInbox.messages[0];
  }
  ASSERT_FALSE(relayed.signature.empty());
  auto rejected = [&](const std::string& reason) {
    return events.count("carol", "ifmessage_rejected", reason);
  };
  // A relay misbehaving: mallory, linked to carol, claims to forward what it replays, tampers
  // with or strips of its signature. (bob, the hub, links to every spoke; mallory tells it bye.)
  RawLinkPeer mallory(rawPeerConfig("mallory", *server));
  mallory.connectToSignaling();
  ASSERT_TRUE(mallory.waitRegistered(5s));
  mallory.connect("carol");
  ASSERT_TRUE(waitFor([&] { return mallory.isOpen(); }));
  mallory.send(relayed, 1);
  ASSERT_TRUE(waitFor([&] { return rejected("replay") == 1; }));
  auto tampered = relayed;
  tampered.sequence = 2;
  tampered.payload["n"] = 99;
  mallory.send(tampered, 1);
  ASSERT_TRUE(waitFor([&] { return rejected("bad_signature") == 1; }));
  auto stripped = relayed;
  stripped.sequence = 2;
  stripped.signature.clear();
  mallory.send(stripped, 1);
  ASSERT_TRUE(waitFor([&] { return rejected("missing_signature") == 1; }));
  alice.send("carol", numbered(3));
  ASSERT_TRUE(waitFor([&] { return carolInbox.size() == 2; }));
  EXPECT_EQ(carolInbox.numbers(), (std::vector<int>{2, 3}));
}

TEST(AuthenticatedAgents, UnsignablePayloadIsAClearSendError) {
  auto server = startSignaling();
  Agent a(meshAgentConfig("alice", *server));
  IFMessage m;
  m.payload = {{"text", std::string("\xff\xfe not UTF-8")}};
  try {
    a.send("bob", m);
    ADD_FAILURE() << "sent a payload that cannot be serialized";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("payload"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ifmesh::test
