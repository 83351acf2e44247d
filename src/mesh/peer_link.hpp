#pragma once
// One peer of an agent: the current PeerConnection and its "if-agent-messaging" channel, plus the
// delivery session that outlives reconnections (sequence numbers, unacknowledged messages, the
// last sequence delivered) and the healing state. Loop thread only.
//
// Channel frames (JSON text):
// {"t":"hello","recv":N,"lanes":[N0,N1,N2,N3],"inc":I,"peer":P,"fp":F,"sig":S}
// announces the last link sequence delivered from the peer in each priority lane ("recv": the
// Normal lane's; P: the peer's incarnation those counts refer to, 0 if none yet; I: our own);
// F and S bind the connection to our identity (link_auth.hpp): a connection whose first hello
// does not verify is refused (witness "peer_auth_failed") and nothing on it is used;
// {"t":"msg","s":N,"h":hops,"l":lane,"a":A,"m":IFMessage} ("l" omitted for Normal; "a", when
// present, acknowledges the peer's lane up to A, so a reply carries the ack and no ack frame is
// needed); {"t":"ack","seq":N,"l":lane} is cumulative per lane. After every (re)connect each side
// says hello before anything else, then resends what the other has not delivered, in order per
// lane; duplicates are dropped by sequence number. A hello with a new incarnation means the peer is
// a new process that forgot the link: both directions number every lane from 1 again, and what it
// had not acknowledged is resent to it. Peers without "inc" are never taken for restarted. A
// receiver may also leave a message unacknowledged and drop what follows it in the lane (a relay
// whose queue toward the next hop is full): the sender keeps them and resends them after the
// receiver's next hello, which the receiver sends once it can take them. A lane's
// link sequence is assigned when a message leaves its queue, so Control/High messages overtake
// waiting Normal/Low ones without gaps in any lane. In LOW mode large channel messages go out
// zstd-compressed (binary, see frame_compression.hpp).
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
#include "mesh/channel_budget.hpp"
#include "mesh/send_queue.hpp"
#include "rtc/io_loop.hpp"

namespace ifmesh::detail {

class AgentCore;

struct AgentTestAccess;

class PeerLink : public std::enable_shared_from_this<PeerLink> {
 public:
  PeerLink(AgentCore& agent, std::string peerId);
  ~PeerLink();

  const std::string& peerId() const { return peerId_; }
  PeerState state() const { return state_; }
  bool isOfferer() const;  // the lower id offers
  // Messages accepted for this peer and not yet acknowledged (waiting or sent).
  std::size_t unacknowledged() const { return queue_.messages(); }
  std::size_t queuedBytes() const { return queue_.bytes(); }
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
  // holds less than its budget (channel_budget.hpp), at most the high-water mark.
  void pump();

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
  void onTransportDown(std::string why);
  void transmit(const std::string& frame, bool urgent = false);
  void onBinaryFrame(std::span<const std::byte> data);
  void sendHello();
  // The peer's first hello did not prove its identity: the connection is dropped unused.
  void refuse(const char* reason);
  void peerRestarted(std::uint64_t incarnation);
  void resendSent();
  void scheduleAck();
  // The lane's pending acknowledgement, to ride on a message frame; 0 when there is none.
  std::uint64_t takeAck(int lane);
  void sendAcks();
  void acknowledged(int lane, std::uint64_t seq);
  std::vector<IFMessage> makeRoom(const IFMessage& message, std::size_t bytes);
  void setState(PeerState next);
  void scheduleReconnect();
  void attempt();
  void attemptTimedOut();
  void releaseAttemptSlot();
  void attemptFailed(const std::string& why);
  // After a failed attempt: back off and retry, or give up after healing.maxRetries.
  void retryOrGiveUp(const std::string& givingUpReason);
  void closeConnection();
  friend struct AgentTestAccess;  // hostile-peer tests put raw frames on the channel

  AgentCore& agent_;
  std::string peerId_;
  PeerState state_ = PeerState::Connecting;
  std::unique_ptr<PeerConnection> pc_;
  std::shared_ptr<DataChannel> channel_;
  std::uint64_t sid_ = 0;  // signaling session of the current connection attempt
  bool peerHelloSeen_ = false;
  bool helloSent_ = false;  // on the current connection
  bool descriptionSent_ = false;
  // Identity binding of the current connection.
  std::string remoteFingerprint_;  // from the remote description: what DTLS verifies
  bool peerAuthenticated_ = false;
  bool refused_ = false;
  std::string helloFingerprint_, helloSignature_;  // ours, signed once per connection
  int authFailures_ = 0;                           // consecutive refused connections
  std::vector<nlohmann::json> heldCandidates_;
  bool intentional_ = false;
  bool everConnected_ = false;

  // Delivery session (link sequence numbers of this hop, one series per priority lane).
  SendQueue queue_;
  struct Received {
    std::uint64_t delivered = 0;  // last link sequence delivered from the peer
    std::uint64_t ackSent = 0;
    std::optional<std::uint64_t> resyncRequestedAt;
  };
  std::array<Received, kMessagePriorities> received_;
  std::uint64_t peerIncarnation_ = 0;  // the peer process received_ counts from; 0: none yet
  rtc::IoLoop::Timer ackTimer_;
  static constexpr std::size_t kMaxBatchBytes = 64 * 1024;
  std::vector<std::string> batch_;
  std::size_t batchBytes_ = 0;
  rtc::IoLoop::Timer batchTimer_;
  ChannelBudget budget_;  // how much of the backlog the channel and SCTP may hold

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
