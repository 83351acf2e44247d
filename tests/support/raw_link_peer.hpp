#pragma once
// A peer that speaks the agent link protocol (docs/link-protocol.md) by hand, for tests that
// play an attacker or a misbehaving relay against a real ifmesh::Agent. It registers with the
// signaling server under its own id and Ed25519 key, sets up a real PeerConnection to one agent
// through signaling as an agent would, and says a signed hello on every connection. After that
// the test decides what goes on the channel: any text, msg frames with any hops, lane and link
// sequence, acks and hellos; and it sees every frame that comes back.
//
// It is no agent: it links to one agent only (any other that tries to link to it is told "bye"
// so that it stops), never forwards, never acknowledges on its own (its hellos carry what it
// took), and does not handle the agent restarting. What it does do, as the protocol asks of a
// sender: messages given to send() are numbered per lane from 1, kept until acknowledged and
// resent after every hello of the agent.
//
// Threads: one worker of its own runs every signaling and connection event and every send, in
// order; the methods may be called from any thread.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ifmesh/identity.hpp"
#include "ifmesh/ifmessage.hpp"
#include "ifmesh/signaling.hpp"
#include "mesh/link_codec.hpp"

namespace ifmesh::test {

// A message from `source` to `destination` with the given end-to-end sequence number and
// incarnation, id and timestamp fresh, signed by `identity` as the source's Agent::send would.
IFMessage signedMessage(const AgentIdentity& identity, const std::string& source,
                        const std::string& destination, std::uint64_t sequence,
                        nlohmann::json payload, std::uint64_t incarnation = 1);

struct RawLinkPeerConfig {
  std::string id;
  std::string signalingUrl;  // ws://127.0.0.1:port
  // The key announced at registration and signing hellos and messages; generated when absent.
  std::optional<AgentIdentity> identity;
  // Non-empty: the DTLS fingerprint the hellos claim (and sign) instead of our certificate's.
  std::string helloFingerprint;
  std::vector<std::string> localAddresses = {"127.0.0.1"};
};

// A peer of `server` (ws:// on 127.0.0.1) with a fresh key.
inline RawLinkPeerConfig rawPeerConfig(const std::string& id, const signaling::Server& server) {
  RawLinkPeerConfig c;
  c.id = id;
  c.signalingUrl = "ws://127.0.0.1:" + std::to_string(server.port());
  return c;
}

class RawLinkPeer {
 public:
  explicit RawLinkPeer(RawLinkPeerConfig config);
  ~RawLinkPeer();
  RawLinkPeer(const RawLinkPeer&) = delete;
  RawLinkPeer& operator=(const RawLinkPeer&) = delete;

  const std::string& id() const;
  const AgentIdentity& identity() const;
  std::uint64_t incarnation() const;  // random, non-zero, below 2^53, as an agent's

  void connectToSignaling();
  bool waitRegistered(std::chrono::milliseconds timeout) const;
  // Links to `agentId`: offers when our id is lower, else asks the agent to offer
  // ("connect-request"). A later offer from the agent, or its connect-request when we offer,
  // starts a new connection, as an agent's would.
  void connect(const std::string& agentId);
  bool waitOpen(std::chrono::milliseconds timeout) const;
  // Gives up the current connection without closing it, as a process that died would (no DTLS
  // close, no SCTP ABORT): it stays up, silent, until this peer is destroyed. connect() then
  // starts a new one, as the process's successor would.
  void abandon();
  bool isOpen() const;

  // The next message of ours to `destination`, as Agent::send would make it: id and timestamp
  // filled in when empty, our id as source, the next end-to-end sequence of its lane, our
  // incarnation, signed.
  IFMessage message(const std::string& destination, IFMessage m = {});

  // Queues `m` as a msg frame with hop count `hops` in `lane` (default: its priority's) under the
  // lane's next link sequence, sent at once when the channel is open, kept until acknowledged and
  // resent after every hello of the agent. Returns the link sequence.
  std::uint64_t send(const IFMessage& m, int hops = 0, std::optional<int> lane = std::nullopt);
  // Exactly as given, once, and never resent: a link sequence of our own choosing (the lane's
  // counter does not move), a lie about the hops, or an ack riding along.
  void sendMsg(const detail::link::Msg& msg);
  void sendAck(int lane, std::uint64_t seq);
  // Another hello (as sent at every connection's start): the agent resends what we have not
  // taken.
  void sendHello();
  // Any text channel message, as it is.
  void sendText(std::string text);

  // Every frame the agent sent us so far, decoded (batches split, compressed messages opened).
  std::vector<detail::link::Frame> frames() const;
  // The agent's messages taken in order (each link sequence once).
  std::vector<IFMessage> messages() const;
  std::size_t hellosReceived() const;
  // The highest link sequence of `lane` the agent acknowledged.
  std::uint64_t acknowledged(int lane = static_cast<int>(MessagePriority::Normal)) const;
  // Messages given to send() and not yet acknowledged.
  std::size_t unacknowledged() const;
  std::size_t connections() const;  // channels opened so far

 private:
  struct Core;
  std::shared_ptr<Core> core_;
};

}  // namespace ifmesh::test
