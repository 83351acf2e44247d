#pragma once
// The delivery session of one agent link (docs/link-protocol.md), sans-IO: lanes, link sequence
// numbers, acks, resends, duplicates, the hello and its proof, incarnations and batching. Time
// and received bytes come in; channel messages to send and events come out. It outlives the
// connections it runs over: open() and close() mark each one.
//
// Threading: none of its own. One thread calls it; `deliver` and the functions of
// SessionConfig run inside the call that needs them. `deliver` may call enqueue() (a reply
// carries the ack of the message it answers).
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "ifmesh/bandwidth.hpp"
#include "ifmesh/identity.hpp"
#include "ifmesh/ifmessage.hpp"
#include "ifmesh/witness.hpp"
#include "mesh/link_codec.hpp"
#include "mesh/link_output.hpp"
#include "mesh/link_session_config.hpp"
#include "mesh/link_witness_heads.hpp"
#include "mesh/send_queue.hpp"

namespace ifmesh::detail::link {

using Clock = std::chrono::steady_clock;

// The counters a state store keeps for a link (see resume()).
struct Counters {
  std::uint64_t peerIncarnation = 0;
  std::array<std::uint64_t, kLanes> acknowledged{};  // ours, by the peer
  std::array<std::uint64_t, kLanes> delivered{};     // the peer's, to us
  bool operator==(const Counters&) const = default;
};

// Events, in the order they happened.
struct Authenticated {};  // the peer's first hello on this connection proved who it is
struct AuthFailed {       // it did not: drop the connection, nothing on it is used
  std::string reason;
};
struct Rejected {  // a frame or message that was not used
  std::string reason;
  std::string messageId;
};
struct Released {  // acknowledged messages forgotten: the queue has room again
  std::size_t messages;
  std::vector<std::uint64_t> keys;  // their outbox keys (with SessionConfig::persist)
};
struct PeerRestarted {  // a new incarnation: both directions renumbered from 1
  std::size_t unacknowledged, waiting;
  std::uint64_t deliveredFromOld;
};
// The peer process acknowledges less in a lane than it did before: `lost` messages it had
// acknowledged are gone from its state, and ours. The lane is numbered on from its count.
struct PeerLostState {
  int lane;
  std::uint64_t lost;
};
struct BatchSent {
  std::size_t frames;
};
struct Compressed {
  std::size_t before, after;
};
struct PeerWhead {  // the peer showed its witness head, and its signature verifies
  Whead head;
};
// A waiting message whose frame is larger than the connection's channel takes (a peer with a
// lower max-message-size than our own limit): taken from the queue unsent, never to be sent.
struct TooLarge {
  IFMessage message;
  std::uint64_t key;  // its outbox key (with SessionConfig::persist)
  std::string reason;
};
using Event = std::variant<Authenticated, AuthFailed, Rejected, Released, PeerRestarted,
                           PeerLostState, BatchSent, Compressed, PeerWhead, TooLarge>;

// What a connection brings to the session when it opens.
struct Connection {
  std::string localFingerprint;   // our DTLS certificate's, as the hello carries it
  std::string helloSignature;     // ours over helloSigningInput for this connection
  std::string remoteFingerprint;  // what the DTLS handshake of this connection verifies
  // Whether the channel holds enough that Normal/Low messages should wait, given `pending`
  // bytes of output not yet taken by the caller.
  std::function<bool(std::size_t pending)> channelFull;
  // The largest message the channel takes (the smaller max-message-size of the two ends; 0: no
  // limit). Batches stay within it; a frame beyond it is never sent (TooLarge).
  std::size_t maxChannelMessage = 0;
};

class Session {
 public:
  // deliver(message, hops): hand a received message on; false holds it back (left
  // unacknowledged, resent by the peer after our next hello; see resumeReceiving).
  using Deliver = std::function<bool(IFMessage&&, int hops)>;
  Session(SessionConfig config, Deliver deliver);
  // Its parts hold on to its config and to itself.
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Connection lifecycle.
  // Says hello at once: our hello precedes everything else we send on a connection.
  void open(Connection connection);
  void close();
  bool isOpen() const { return open_; }
  // The peer's hello has been accepted on this connection: messages flow.
  bool ready() const { return open_ && authenticated_; }

  // A channel message from the peer.
  void receive(Clock::time_point now, std::string_view text);
  void receiveBinary(Clock::time_point now, std::span<const std::byte> bytes);

  struct Enqueued {
    bool taken = true;
    std::vector<IFMessage> dropped;  // DropOldest made room by dropping these
    std::vector<std::uint64_t> droppedKeys;
  };
  // Queues a message (hops: agents that forwarded it so far). Throws Error(MessageTooLarge),
  // Error(InvalidArgument) for one too deep, Error(QueueFull) when a local message (hops 0)
  // does not fit and the policy cannot make room. A forwarded message that does not fit is not
  // taken.
  // `acked` (may be empty) is told when the peer acknowledges the message, or Error(Undeliverable)
  // when it is dropped or taken.
  Enqueued enqueue(Clock::time_point now, const IFMessage& message, int hops,
                   AckNotice acked = nullptr);
  // Sends what waits: Control/High always, Normal/Low until the channel is full.
  void pump(Clock::time_point now);
  // Timers: acks and batches due by now go out.
  void tick(Clock::time_point now);
  std::optional<Clock::time_point> nextDeadline() const;
  // A message held back by deliver can be taken now: ask the peer to resend (a hello).
  void resumeReceiving();
  // The agent is closing the link: what waits in a batch goes out, then an acknowledgement of
  // every delivery not yet acknowledged (a process that replaces this one is not handed them
  // again), then the witness head once more if the log grew since the last one shown and the
  // peer will take it (wheadMinGap since the last), so the peer's record of the log reaches the
  // close.
  void closing(Clock::time_point now);
  // Everything held, for reporting undeliverable (outbox keys appended to `keys`).
  std::vector<IFMessage> takeAll(const std::string& reason,
                                 std::vector<std::uint64_t>* keys = nullptr);

  // Durable state. counters(): what a store keeps after each call; resume(): a new session
  // continues from stored counters and outbox (messages in the order they were queued).
  Counters counters() const;
  struct Stored {
    IFMessage message;
    int hops = 0;
    std::uint64_t key = 0;
  };
  void resume(const Counters& counters, std::vector<Stored> messages);
  // What one commit of the state store holds: the delivered counts it stored (counting the
  // messages of peer process `peerIncarnation`) and the messages queued before it.
  struct CommitPoint {
    std::uint64_t peerIncarnation = 0;
    std::array<std::uint64_t, kLanes> delivered{};
    std::uint64_t queued = 0;  // the queue's arrival order at the commit
  };
  // Everything queued and delivered so far.
  CommitPoint commitPoint() const;
  // Everything queued so far, with the delivery counters as `stored` holds them (a commit made
  // while the session is inside a delivery does not hold that delivery yet).
  CommitPoint commitPoint(const Counters& stored) const;
  // A commit is durable: the messages queued before it may be sent, and what it counts as
  // delivered may be acknowledged (durableAcks). A commit that counts another peer process's
  // messages says nothing about this one's.
  void committed(Clock::time_point now, const CommitPoint& point);

  // Batching (MEDIUM/LOW: frames leave together once per delay) and compression (LOW; only
  // toward a peer whose hello on this connection says it reads zstd).
  void setBatchDelay(std::chrono::milliseconds delay) { output_.setBatchDelay(delay); }
  // Until endCoalescing(), frames queued without a batch delay wait to leave together
  // (FrameOutput::setCoalesce); endCoalescing sends them, and what else may go now.
  void beginCoalescing() { output_.setCoalesce(true); }
  void endCoalescing(Clock::time_point now);
  void setCompression(bool enabled, std::size_t threshold, int level) {
    output_.setCompression(enabled, threshold, level);
  }

  std::vector<Outgoing> takeOutput() { return output_.take(); }
  std::vector<Event> takeEvents();

  std::size_t unacknowledged() const { return queue_.messages(); }
  std::size_t queuedBytes() const { return queue_.bytes(); }
  // Bytes not yet in the channel: waiting in the lanes and in the batch.
  std::size_t backlogBytes() const { return queue_.waitingBytes() + output_.batchBytes(); }
  std::size_t waitingMessages() const { return queue_.waitingMessages(); }
  // At most half full, so a forward held back for it may be retried.
  bool hasRoomToForward() const;
  std::uint64_t peerIncarnation() const { return peerIncarnation_; }

 private:
  void handle(Clock::time_point now, Frame& frame);
  void onHello(Clock::time_point now, const Hello& hello);
  void onMsg(Clock::time_point now, Msg& msg);
  void onWhead(Clock::time_point now, const Whead& head);
  void sendWhead(Clock::time_point now, bool urgent = false);
  void sendWaiting(Clock::time_point now);  // pump() without its own coalescing
  void sendHello();
  void transmit(Clock::time_point now, std::string frame, bool urgent);
  void resendSent(Clock::time_point now);
  // Takes the lane's next waiting message out unsent (TooLarge) when its frame exceeds what the
  // channel takes.
  bool tooLargeForChannel(int lane);
  void peerRestarted(std::uint64_t incarnation);
  void peerLostState(const Hello& hello);
  void renumber(int lane, std::uint64_t after);
  void acknowledged(int lane, std::uint64_t seq);
  // What may be acknowledged of a lane: everything delivered, or with durableAcks what of it
  // is durable.
  std::uint64_t ackable(int lane) const {
    return config_.durableAcks ? received_[lane].durable : received_[lane].delivered;
  }
  std::uint64_t takeAck(int lane);
  void scheduleAck(Clock::time_point now);
  // urgent: every ack leaves at once, not in a batch (at the close).
  void sendAcks(Clock::time_point now, bool urgent = false);
  template <typename E, typename... Args>
  void event(Args&&... args) {
    events_.emplace_back(std::in_place_type<E>, std::forward<Args>(args)...);
  }

  SessionConfig config_;
  Deliver deliver_;

  // Per connection.
  bool open_ = false;
  Connection connection_;
  bool authenticated_ = false;  // the peer's first hello proved who it is
  bool refused_ = false;

  // Across connections.
  SendQueue queue_;
  struct Received {
    std::uint64_t delivered = 0;  // last link sequence delivered from the peer
    std::uint64_t durable = 0;    // of which durable (durableAcks)
    std::uint64_t ackSent = 0;
    std::optional<std::uint64_t> resyncRequestedAt;  // a hello asked for a resend from here
    std::uint64_t ackRequestedUpTo = 0;  // the last sequence whose sender asked for a prompt ack
  };
  std::array<Received, kLanes> received_;
  std::uint64_t peerIncarnation_ = 0;  // the peer process received_ counts from; 0: none yet
  std::optional<Clock::time_point> ackDue_;

  WitnessHeads heads_;  // ours shown to the peer, and the peer's
  FrameOutput output_;  // batching and compression of what we send
  std::vector<Event> events_;
};

}  // namespace ifmesh::detail::link
