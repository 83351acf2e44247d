#pragma once
// An ifmesh agent: registers with a signaling server, keeps DataChannel links to its peers, and
// exchanges IFMessages with at-least-once transport and exactly-once, in-order delivery per
// (source, destination) across reconnections.
#include <chrono>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ifmesh/bandwidth.hpp"
#include "ifmesh/export.hpp"
#include "ifmesh/ifmessage.hpp"
#include "ifmesh/rtc/configuration.hpp"
#include "ifmesh/witness.hpp"

namespace ifmesh {

namespace detail {
class AgentCore;
}  // namespace detail

struct HealingConfig {
  std::chrono::milliseconds initialDelay{1000};
  double multiplier = 2.0;
  std::chrono::milliseconds maxDelay{60000};
  double jitter = 0.2;  // +/- 20 %
  int maxRetries = 10;
  // Direct attempts before falling back to TURN (AgentConfig::turnServers); 0: every attempt
  // this agent offers goes through TURN, relay candidates only.
  int turnAfterFailures = 3;
  std::chrono::milliseconds attemptTimeout{10000};
};

enum class Topology { FullMesh, PartialMesh, HubAndSpoke, Manual };

// Which IFMessages carry an Ed25519 signature by their source (docs/identity.md).
enum class MessageSignatures {
  // Messages a relay forwards. One that reaches its destination over the source's own link
  // needs none: that link is already bound to the source's key (the signed hello), and DTLS
  // protects what it carries. The same guarantees, without per-message crypto on direct links.
  Relayed,
  Always,  // every message, also on direct links (about 90 us of CPU per message end to end)
};

// Authenticated agents (docs/identity.md). Every agent has an Ed25519 key whose public half it
// announces at registration; every link proves, in its first frame, that the peer holds the key
// the directory gives for its id and that its DTLS certificate is the one this connection
// verified.
struct IdentityConfig {
  // PEM Ed25519 private key, created (mode 0600) when the file does not exist. Empty: a fresh key
  // for every Agent object.
  std::string keyFile;
  // Which messages we sign, and which we require a valid signature on (a forwarded one always,
  // a direct one only with Always). A signature that is present is always checked. Every
  // message by default; Relayed trades the per-message proof on direct links for ~6x throughput.
  MessageSignatures messageSignatures = MessageSignatures::Always;
  // A delivered message's timestamp must be within this much of the receiver's clock.
  std::chrono::milliseconds maxClockSkew{120000};
};

// Where an agent keeps its delivery state (docs/durability.md). Without a directory it lives in
// memory: exactly once across reconnections and restarts of the peer, but what this process
// holds is gone when it dies.
struct StateConfig {
  // A directory (created when missing, mode 0700) only this agent uses. With it, send() returns
  // once the message is durable; a process that dies and starts again with the same directory
  // resumes: same incarnation, what was not acknowledged is sent again, and nothing delivered
  // before is delivered again to it by the mesh. Its Ed25519 key lives there too
  // (identity.pem) unless identity.keyFile names one.
  std::string directory;
  // Every commit is flushed to the disk (fsync): the state survives the machine losing power.
  // false: it survives the process being killed, not the machine.
  bool syncToDisk = true;
};

struct AgentConfig {
  std::string agentId;
  std::string signalingUrl;  // ws://127.0.0.1:8443
  std::string authToken;     // when the server requires one
  // wss:// only: the CA (PEM) the server's certificate must chain to; empty: the system's CAs.
  std::string signalingCaFile;
  std::vector<IceServer> iceServers;   // STUN (and TURN used only for fallback unless forced)
  std::vector<IceServer> turnServers;  // relay fallback after turnAfterFailures direct attempts
  std::vector<std::string> localAddresses;  // ICE gathering allowlist (tests: 127.0.0.1)
  // The links' ICE by ifmesh's own agent on the I/O thread's shared UDP socket
  // (RtcConfiguration::sharedIceSocket): at mesh100 twice the round trips per second of libnice
  // at half the CPU per round trip (docs/WEBRTC-PERFORMANCE.md). STUN servers are asked from the
  // shared socket too; links through a TURN server use libnice either way. false: libnice, a
  // socket per link.
  bool sharedIceSocket = true;
  std::shared_ptr<Witness> witness;  // optional audit trail, its logs signed with our identity
  HealingConfig healing;
  Topology topology = Topology::Manual;
  std::size_t partialMeshK = 0;  // 0: the original design's default k for the mesh size
  std::string hubId;             // for HubAndSpoke
  std::size_t maxMessageBytes = 256 * 1024;
  // Received messages carry their payload as JSON text in IFMessage::payloadJson, checked but
  // not parsed, and `payload` null: for a host that hands payloads on as text (the Python
  // binding), which spares building a tree and serializing it again per message.
  bool payloadAsText = false;
  // Offers this agent has in flight at once; further links wait their turn. Forming a large mesh
  // all at once overloads the I/O threads until ICE and DTLS time out and every attempt fails;
  // a bounded number of handshakes each finish fast.
  std::size_t maxConnectingPeers = 8;
  BandwidthConfig bandwidth;  // validated by the constructor
  IdentityConfig identity;    // a bad key file makes the constructor throw Error(InvalidArgument)
  StateConfig state;          // a store that cannot be opened makes the constructor throw Error(Io)
};

// What Agent::waitRegistered found: registered, or why not. It tests as `registered`
// (`if (agent.waitRegistered(5s))`).
struct RegistrationResult {
  bool registered = false;
  // Empty when registered; else the server's refusal (duplicate_id, unauthorized, bad_agent_id,
  // bad_public_key, server_full; docs/signaling-protocol.md), a failed connection (unreachable,
  // tls_error), or "timeout".
  std::string code;
  std::string message;  // the server's or the socket's words, for a person
  explicit operator bool() const noexcept { return registered; }
};

enum class PeerState { Connecting, Connected, Reconnecting, Unreachable, Disconnected };

// Where an accepted message is (Agent::sendAsync).
struct SendReceipt {
  std::uint64_t sequence = 0;  // as Agent::send returns it
  // Ready once the message is durable (at once without a state store); Error(Io) when the
  // store failed.
  std::shared_future<void> durable;
  // Ready once the next hop acknowledged the message: over a direct link its destination, which
  // delivered it (with a state store: durably). Error(Undeliverable) when it is reported
  // through onUndeliverable instead.
  std::shared_future<void> acknowledged;
};
// The outcomes of a message Agent::sendAsync accepted, told to callbacks instead of futures, so
// that no thread has to wait on them. Each set callback is called once with the message's
// sequence number, on the agent's I/O thread after the work at hand (it may call into the agent;
// like every callback of the agent it must not throw), and `error` null on success:
// - durable: the message is durable (without a state store: at once), or Error(Io) when the
//   store failed;
// - acknowledged: the next hop acknowledged the message, or Error(Undeliverable) when it is
//   reported through onUndeliverable instead. When it is unset the message does not ask its
//   peer for a prompt acknowledgement.
// A callback still uncalled when the agent is destroyed is destroyed uncalled.
struct SendCallbacks {
  using Outcome = std::function<void(std::uint64_t sequence, std::exception_ptr error)>;
  Outcome durable;
  Outcome acknowledged;
};
IFMESH_API const char* toString(PeerState s) noexcept;

class IFMESH_API Agent {
 public:
  explicit Agent(AgentConfig config);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  const std::string& id() const;
  void connectToSignaling();
  // Stops the agent as its destructor does: shows connected peers the witness head, says bye to
  // them, closes every link and the signaling connection, and commits the state store. A send
  // waiting for queue room under QueuePolicy::Block stops waiting; it and every later send or
  // connect throw Error(InvalidState). Idempotent, any thread but the agent's own I/O thread; the
  // Agent object must still outlive every call into it.
  void close();
  // Waits until the agent is registered with the signaling server, and returns early with the
  // reason when it cannot be:
  // - the server refused the registration (its code): the agent does not ask again on this
  //   connection, so this is returned at once until a later connection registers;
  // - before the agent's first registration, a connection attempt failed (unreachable,
  //   tls_error): the agent keeps retrying in the background. Each failure ends one wait: the
  //   one under way, or the next call when it came while nobody waited, so a caller may wait
  //   again and hear of the next attempt;
  // - the timeout passed: "timeout", its message naming the last error if there was one. After
  //   a registration, lost connections are being healed, so failed reconnections do not end
  //   the wait.
  // Any thread but the agent's own I/O thread (where its callbacks run).
  RegistrationResult waitRegistered(std::chrono::milliseconds timeout) const;
  // Registered with the signaling server right now (false while it is unreachable).
  bool isRegistered() const;

  void connect(const std::string& peerId);
  void disconnect(const std::string& peerId);  // intentional: no healing
  // Abruptly drops the transport to a peer, as a network failure would; healing takes over.
  void dropConnection(const std::string& peerId);

  // Accepts the message (assigning source, destination, id, timestamp, sequence number,
  // incarnation and signature) and returns its sequence number (per destination and priority).
  // A timestamp given by the caller must be ISO 8601 UTC within identity.maxClockSkew of now,
  // else Error(InvalidArgument). Throws
  // ifmesh::Error(MessageTooLarge) for an oversize message, Error(InvalidArgument) for a payload
  // nested deeper than 100 levels, Error(QueueFull) when the peer's send queue is at its bound
  // and config.bandwidth.queue.policy cannot make room (Block: after waiting blockTimeout; from
  // the agent's own I/O thread Block does not wait).
  // An accepted message is delivered exactly once, or reported through onUndeliverable (which
  // includes a droppable message dropped under QueuePolicy::DropOldest).
  // With config.state.directory, send returns once the message is durable (Error(Io) when the
  // store failed); called on the agent's own I/O thread it cannot wait, and the message is
  // durable when the thread's current work is done.
  std::uint64_t send(const std::string& peerId, IFMessage message);
  // As send, without waiting for the message to be durable: the receipt says when it is, and
  // when it was acknowledged. Many sendAsync calls share one commit of the state store. The
  // message asks its peer for a prompt acknowledgement (about a round trip after it left, where
  // send's messages are acknowledged on the peer's next message back, after 64 messages or 5 s).
  SendReceipt sendAsync(const std::string& peerId, IFMessage message);
  // As sendAsync, with the outcomes told to `callbacks`; returns the message's sequence number.
  // When it throws, neither callback is called.
  std::uint64_t sendAsync(const std::string& peerId, IFMessage message, SendCallbacks callbacks);
  // The sequence number of the last message accepted for `peerId` in a priority lane (0: none
  // yet). With a state store it survives restarts: a producer resumes where it stopped.
  std::uint64_t lastSequence(const std::string& peerId, MessagePriority priority) const;
  void broadcast(const IFMessage& message);
  // Runs fn on this agent's I/O thread (where its callbacks run) and returns at once. Calls made
  // from there (send, peers ...) run inline: a caller with many sends to make hands them over in
  // one go instead of waiting for the I/O thread once per call. The messages fn sends to one
  // peer leave together when it returns, in as few channel messages as fit (Control and High
  // ones at once, as always).
  void post(std::function<void()> fn);

  void onMessage(std::function<void(const IFMessage&)> cb);
  void onPeerState(std::function<void(const std::string&, PeerState)> cb);
  void onUndeliverable(std::function<void(const IFMessage&, const std::string& reason)> cb);
  // The signaling server refused a request of ours, or could not be reached. `code` is the
  // server's (duplicate_id, unauthorized, bad_agent_id, server_full, unknown_peer, rate_limited,
  // ...; see docs/signaling-protocol.md) or, for the connection itself, "unreachable" or
  // "tls_error". The agent keeps retrying the connection with backoff either way; whether to go
  // on is the caller's decision.
  void onSignalingError(
      std::function<void(const std::string& code, const std::string& message)> cb);

  std::vector<std::string> peers() const;  // currently connected
  std::optional<PeerState> peerState(const std::string& peerId) const;
  std::size_t unacknowledged(const std::string& peerId) const;
  // PeerConnections made for this peer so far: one per offer we sent or answered. More than one
  // means retries (each also witnessed) or the peer starting over.
  std::size_t connectionAttempts(const std::string& peerId) const;

  // Commits of the state store so far, and the fdatasync calls that made them survive power
  // loss (one per group of commits; 0 without syncToDisk or without a store).
  std::uint64_t stateCommits() const;
  std::uint64_t stateSyncs() const;

  QualityMode getQualityMode() const;
  BandwidthStats getBandwidthStats() const;
  void onQualityChange(std::function<void(QualityMode from, QualityMode to)> cb);

 private:
  std::shared_ptr<detail::AgentCore> core_;
};

}  // namespace ifmesh
