#pragma once
// Alice's link session on a connection to bob, with bob scripted: his frames are made here and
// fed in, signed with his key, rather than coming from a session of his own.
#include <memory>
#include <optional>

#include "ifmesh/identity.hpp"
#include "mesh/link_auth.hpp"
#include "mesh/link_codec.hpp"
#include "mesh/link_session.hpp"

namespace ifmesh::detail::link::test {

struct ScriptedPeer {
  static constexpr std::uint64_t kAliceIncarnation = 7, kBobIncarnation = 9;

  AgentIdentity alice = AgentIdentity::generate();
  AgentIdentity bob = AgentIdentity::generate();
  std::optional<PublicKey> bobKey = PublicKey::parse(bob.publicKey());
  std::unique_ptr<Session> session;  // alice's
  Clock::time_point now{};

  // Alice's configuration: her ids, incarnation and bob's key; the rest as a test sets it.
  SessionConfig aliceConfig() {
    SessionConfig c;
    c.ownId = "alice";
    c.peerId = "bob";
    c.incarnation = kAliceIncarnation;
    c.peerKey = [this] { return &*bobKey; };
    return c;
  }

  // Alice's session with `config`, taking every message it is handed.
  void start(SessionConfig config) {
    session = std::make_unique<Session>(std::move(config), [](IFMessage&&, int) { return true; });
  }

  // Alice's connection to bob, her hello signed; a test sets the rest and opens it.
  Connection connection() const {
    Connection c;
    c.localFingerprint = "AA:01";
    c.remoteFingerprint = "BB:02";
    c.helloSignature =
        alice.sign(helloSigningInput("alice", kAliceIncarnation, c.localFingerprint, "bob"));
    return c;
  }

  void open() { session->open(connection()); }

  // Bob's hello, as his session would say it; a test sets what it announces and feeds it in.
  Hello bobsHello() const {
    Hello h;
    h.incarnation = kBobIncarnation;
    h.fingerprint = "BB:02";
    h.signature = bob.sign(helloSigningInput("bob", kBobIncarnation, h.fingerprint, "alice"));
    return h;
  }
};

}  // namespace ifmesh::detail::link::test
