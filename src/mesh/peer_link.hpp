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
#include "mesh/link_session.hpp"
#include "rtc/io_loop.hpp"

namespace ifmesh::detail {

class AgentCore;

class PeerLink : public std::enable_shared_from_this<PeerLink> {
 public:
  PeerLink(AgentCore& agent, std::string peerId);
  ~PeerLink();

  const std::string& peerId() const { return peerId_; }
  PeerState state() const { return state_; }
  bool isOfferer() const;  // the lower id offers
  // Messages accepted for this peer and not yet acknowledged (waiting or sent).
  std::size_t unacknowledged() const { return session_.unacknowledged(); }
  std::size_t queuedBytes() const { return session_.queuedBytes(); }
  std::size_t connectionsCreated() const { return connectionsCreated_; }
  bool connected() const { return state_ == PeerState::Connected; }
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
  bool hasRoomToForward() const;
  // A frame of this peer was held back because the next hop's queue was full; the hop has room
  // again: ask the peer to resend what we have not delivered (a hello).
  void resumeReceiving();
  void failAll(const std::string& reason);
  // Moves waiting messages into the channel: Control/High always, Normal/Low while the channel
  // holds less than the high-water mark.
  void pump();

 private:
  void offer();
  void releaseCandidates();
  void createConnection(bool relay, std::uint64_t sid = 0);
  void wireConnection();
  void onChannelOpen();
  void onTransportDown(std::string why);
  // The peer's first hello did not prove its identity: the connection is dropped unused.
  void refuse(const std::string& reason);
  void setState(PeerState next);
  void scheduleReconnect();
  void attempt();
  void attemptTimedOut();
  void releaseAttemptSlot();
  void attemptFailed(const std::string& why);
  // After a failed attempt: back off and retry, or give up after healing.maxRetries.
  void retryOrGiveUp(const std::string& givingUpReason);
  void closeConnection();

  // Between the channel and the session.
  link::SessionConfig sessionConfig() const;
  void configureSession();  // batching and compression for the current quality mode
  void openSession();       // once per connection, when the channel opens or first speaks
  void onChannelText(const std::string& text);
  void onChannelBinary(std::span<const std::byte> data);
  // Sends what the session produced and acts on its events.
  void drive();
  void armSessionTimer();

  AgentCore& agent_;
  std::string peerId_;
  PeerState state_ = PeerState::Connecting;
  std::unique_ptr<PeerConnection> pc_;
  std::shared_ptr<DataChannel> channel_;
  std::uint64_t sid_ = 0;  // signaling session of the current connection attempt
  bool descriptionSent_ = false;
  std::string remoteFingerprint_;  // from the remote description: what DTLS verifies
  int authFailures_ = 0;           // consecutive refused connections
  std::vector<nlohmann::json> heldCandidates_;
  bool intentional_ = false;
  bool everConnected_ = false;

  link::Session session_;
  rtc::IoLoop::Timer sessionTimer_;
  std::optional<std::chrono::steady_clock::time_point> sessionTimerDue_;

  // Healing.
  int failedAttempts_ = 0;
  bool useRelay_ = false;
  std::chrono::steady_clock::time_point downSince_;
  rtc::IoLoop::Timer reconnectTimer_;
  rtc::IoLoop::Timer attemptTimer_;
  std::size_t connectionsCreated_ = 0;
  bool holdsAttemptSlot_ = false;  // an offer of ours is in flight (AgentCore's budget)
  bool waitingForAttemptSlot_ = false;
};

}  // namespace ifmesh::detail
