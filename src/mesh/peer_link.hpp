#pragma once
// One peer of an agent: the current PeerConnection and its channel, the delivery session that
// outlives reconnections (link_session.hpp; protocol: docs/link-protocol.md), and the healing
// state. Loop thread only.
#include <array>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ifmesh/agent.hpp"
#include "ifmesh/rtc/peer_connection.hpp"
#include "mesh/attempt_slot.hpp"
#include "mesh/link_delivery.hpp"
#include "mesh/link_healing.hpp"
#include "rtc/io_loop.hpp"

namespace ifmesh::detail {

class LinkHost;
class LinkConnection;

// How long a link reads on after the peer's bye when the connection's close does not arrive.
inline constexpr std::chrono::milliseconds kByeDrain{2000};

class PeerLink : public std::enable_shared_from_this<PeerLink> {
 public:
  PeerLink(LinkHost& agent, std::string peerId);
  ~PeerLink();

  const std::string& peerId() const { return peerId_; }
  PeerState state() const { return state_; }
  bool isOfferer() const;  // the lower id offers
  // Messages accepted for this peer and not yet acknowledged (waiting or sent).
  std::size_t unacknowledged() const { return delivery_.unacknowledged(); }
  std::size_t queuedBytes() const { return delivery_.queuedBytes(); }
  std::size_t connectionsCreated() const { return connectionsCreated_; }
  bool connected() const { return state_ == PeerState::Connected; }
  // The peer said bye and nothing started the link since: a new process of that id that
  // registers or asks for a connection is linked again.
  bool stoppedByPeer() const { return intentional_ && peerSaidBye_; }
  // Bytes queued in the open channel, in the batch and waiting in the agent, or nothing when
  // there is no open channel.
  std::optional<std::size_t> bufferedAmount() const;

  // Connection management.
  void start();          // begin connecting (offerer: offer now; answerer: ask the peer to offer)
  void resumeAttempt();  // an attempt slot this link waited for is free
  void handleOffer(std::uint64_t sid, const std::string& sdp);
  void handleAnswer(std::uint64_t sid, const std::string& sdp);
  void handleCandidate(std::uint64_t sid, const std::string& candidate, const std::string& mid);
  void handleConnectRequest();
  void handleBye();
  void disconnect();  // intentional, tells the peer
  void drop();        // abrupt, heals

  // Delivery.
  // Queues a message on this hop (hops: how many agents forwarded it so far). Throws
  // MessageTooLarge, or QueueFull when a local message (hops 0) finds the queue at its bound
  // and the policy cannot make room. A forwarded message (hops > 0) that does not fit is not
  // taken: false, and the caller leaves it with the neighbour that sent it (backpressure).
  // Delivered to the neighbour exactly once, in order within its priority, across
  // reconnections.
  bool enqueue(const IFMessage& message, int hops);
  // Whether this hop's queue is at most half full, so a forward held back for it may be retried.
  bool hasRoomToForward() const { return delivery_.hasRoomToForward(); }
  // A frame of this peer was held back because the next hop's queue was full; the hop has room
  // again: ask the peer to resend what we have not delivered (a hello).
  void resumeReceiving() { delivery_.resumeReceiving(); }
  // The agent is stopping: the peer is shown the witness log's head once more.
  void closing() { delivery_.closing(); }
  void failAll(const std::string& reason);
  // Moves waiting messages into the channel: Control/High always, Normal/Low while the channel
  // holds less than its budget (channel_budget.hpp), at most the high-water mark.
  void pump() { delivery_.pump(); }

 private:
  void offer();
  void createConnection(bool relay, std::uint64_t sid);
  void onChannelOpen();
  void onTransportDown(std::string why);
  // The peer's first hello did not prove its identity: the connection is dropped unused.
  void refuse(const std::string& reason);
  void setState(PeerState next);
  void attempt();
  void armAttemptTimer();
  void attemptTimedOut();
  void stop(const char* reason);  // intentional: no healing
  // After the peer's bye: what its connection still carries is read until the transport closes.
  void endByeDrain();
  void attemptFailed(const std::string& why);
  // What healing decided after a failure: a retry (Reconnecting), or giving up (why).
  void healed(const std::optional<std::string>& givenUp);
  void closeConnection();

  void openDelivery();  // once per connection, when the channel opens or first speaks
  void onChannelText(const std::string& text);
  void onChannelBinary(std::span<const std::byte> data);

  LinkHost& agent_;
  std::string peerId_;
  PeerState state_ = PeerState::Connecting;
  std::unique_ptr<LinkConnection> connection_;
  std::uint64_t sid_ = 0;  // signaling session of the current connection attempt
  int authFailures_ = 0;   // consecutive refused connections
  bool intentional_ = false;
  bool peerSaidBye_ = false;  // intentional_ came from the peer's bye, not from this side

  LinkDelivery delivery_;

  LinkHealing healing_;
  rtc::IoLoop::Timer attemptTimer_;
  rtc::IoLoop::Timer byeDrain_;  // active while reading on after the peer's bye
  std::size_t connectionsCreated_ = 0;
  AttemptSlot attemptSlot_;  // an offer of ours is in flight (the agent's budget)
};

}  // namespace ifmesh::detail
