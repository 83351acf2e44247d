#pragma once
// One peer of an agent: the current PeerConnection and its "if-agent-messaging" channel, plus the
// delivery session that outlives reconnections (sequence numbers, unacknowledged messages, the
// last sequence delivered) and the healing state. Loop thread only.
//
// Channel frames (JSON text): {"t":"hello","recv":N} announces the last sequence delivered from
// the peer; {"t":"msg","m":IFMessage}; {"t":"ack","seq":N} is cumulative. After every (re)connect
// each side says hello, then resends what the other has not delivered, in order; duplicates are
// dropped by sequence number.
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ifmesh/agent.hpp"
#include "ifmesh/rtc/peer_connection.hpp"
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
  std::size_t unacknowledged() const { return unacked_.size(); }
  bool connected() const { return state_ == PeerState::Connected; }
  // Bytes queued in the open channel, or nothing when there is no open channel.
  std::optional<std::size_t> bufferedAmount() const;

  // Connection management.
  void start();  // begin connecting (offerer: offer now; answerer: ask the peer to offer)
  void handleOffer(std::uint64_t sid, const std::string& sdp);
  void handleAnswer(std::uint64_t sid, const std::string& sdp);
  void handleCandidate(std::uint64_t sid, const std::string& candidate, const std::string& mid);
  void handleConnectRequest();
  void handleBye();
  void disconnect();  // intentional, tells the peer
  void drop();        // abrupt, heals

  // Delivery.
  // Queues a message on this hop (hops: how many agents forwarded it so far). Throws
  // MessageTooLarge. Delivered to the neighbour exactly once, in order, across reconnections.
  void enqueue(const IFMessage& message, int hops);
  void failAll(const std::string& reason);

 private:
  void offer();
  void releaseCandidates();
  void createConnection(bool relay, std::uint64_t sid = 0);
  void wireConnection();
  void onChannelOpen();
  void onChannelFrame(const std::string& text);
  void handleFrame(nlohmann::json& frame);
  void sendNow(const std::string& text);
  void flushBatch();
  void onTransportDown(const std::string& why);
  void transmit(const std::string& frame);
  void sendHello();
  void resendUnacked();
  void scheduleAck();
  void setState(PeerState next);
  void scheduleReconnect();
  void attempt();
  void attemptTimedOut();
  void closeConnection();

  AgentCore& agent_;
  std::string peerId_;
  PeerState state_ = PeerState::Connecting;
  std::unique_ptr<PeerConnection> pc_;
  std::shared_ptr<DataChannel> channel_;
  std::uint64_t sid_ = 0;  // signaling session of the current connection attempt
  bool peerHelloSeen_ = false;
  bool descriptionSent_ = false;
  std::vector<nlohmann::json> heldCandidates_;
  bool intentional_ = false;
  bool everConnected_ = false;

  // Delivery session (link sequence numbers of this hop).
  std::uint64_t nextSeq_ = 1;
  struct Pending {
    std::uint64_t seq;
    std::string frame;
    IFMessage message;
  };
  std::deque<Pending> unacked_;
  std::uint64_t delivered_ = 0;  // last sequence delivered from the peer
  std::uint64_t ackSent_ = 0;
  std::optional<std::uint64_t> resyncRequestedAt_;
  rtc::IoLoop::Timer ackTimer_;
  static constexpr std::size_t kMaxBatchBytes = 64 * 1024;
  std::vector<std::string> batch_;
  std::size_t batchBytes_ = 0;
  rtc::IoLoop::Timer batchTimer_;

  // Healing.
  int failedAttempts_ = 0;
  bool useRelay_ = false;
  std::chrono::steady_clock::time_point downSince_;
  rtc::IoLoop::Timer reconnectTimer_;
  rtc::IoLoop::Timer attemptTimer_;
};

}  // namespace ifmesh::detail
