#pragma once
// One connection attempt of a link: its PeerConnection and the link's pre-negotiated channel,
// and the offer, answer and candidates it exchanges through signaling, all tagged with the
// attempt's session id ("sid"). Loop thread only. Its events run inside the PeerConnection's
// callbacks; the owner re-posts what must not run there (tearing the connection down).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ifmesh/rtc/peer_connection.hpp"
#include "mesh/channel_budget.hpp"

namespace ifmesh::detail {

class LinkConnection {
 public:
  struct Events {
    std::function<void()> open;
    std::function<void(std::string reason)> down;  // failed, disconnected or closed
    std::function<void()> drained;                 // buffered amount fell below the threshold
    std::function<void(const std::string&)> text;
    std::function<void(std::span<const std::byte>)> binary;
  };
  // signal(type, body) sends a signaling message to the peer.
  using Signal = std::function<void(const char* type, nlohmann::json body)>;

  // sid: a fresh randomWireId for an offer of ours, the offerer's for an answer.
  LinkConnection(const RtcConfiguration& config, std::uint64_t sid, Signal signal, Events events,
                 std::size_t drainedThreshold);
  ~LinkConnection();  // detaches every callback first
  LinkConnection(const LinkConnection&) = delete;
  LinkConnection& operator=(const LinkConnection&) = delete;

  std::uint64_t sid() const { return sid_; }

  // Offerer: create and signal the offer. Answerer: apply the offer, signal the answer. Both
  // throw Error for a description that cannot be used.
  void offer();
  void answer(const std::string& offerSdp);
  void applyAnswer(const std::string& answerSdp);
  void addCandidate(const std::string& candidate, const std::string& mid);  // bad ones ignored

  bool isOpen() const { return channel_ && channel_->isOpen(); }
  std::size_t bufferedAmount() const { return channel_ ? channel_->bufferedAmount() : 0; }
  // The largest message the open channel takes: the smaller max-message-size of the two ends.
  std::size_t maxMessageSize() const { return channel_ ? channel_->maxMessageSize() : 0; }
  // Applies a link's budget to the channel (applyChannelBudget) and returns the channel's limit.
  std::size_t applyBudget(ChannelBudget& budget, std::size_t highWater);
  // Throws Error when the channel is closed.
  // urgent: past the send window (DataChannel::sendUrgent).
  void sendText(const std::string& text, bool urgent);
  void sendBinary(std::span<const std::byte> bytes, bool urgent);

  // What the DTLS handshake of this connection verifies (from the remote description), and ours.
  const std::string& remoteFingerprint() const { return remoteFingerprint_; }
  std::string localFingerprint() const { return pc_->localFingerprint(); }
  PeerConnectionStats stats() const { return pc_->stats(); }
  // Which path ICE chose (local_candidate_type, remote_candidate_type: host to host, say), for
  // the witness; empty before a pair is selected.
  nlohmann::json selectedPath() const;

 private:
  void releaseCandidates();

  std::uint64_t sid_;
  Signal signal_;
  std::unique_ptr<PeerConnection> pc_;
  std::shared_ptr<DataChannel> channel_;
  std::string remoteFingerprint_;
  bool descriptionSent_ = false;
  std::vector<nlohmann::json> heldCandidates_;
};

}  // namespace ifmesh::detail
