#pragma once
// The state behind ifmesh::Agent. Everything runs on the ifmesh I/O loop: signaling callbacks and
// public calls are posted there, so links need no locks (see src/rtc/io_loop.hpp).
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>

#include "ifmesh/agent.hpp"
#include "ifmesh/bandwidth.hpp"
#include "ifmesh/identity.hpp"
#include "ifmesh/signaling.hpp"
#include "mesh/agent_bandwidth.hpp"
#include "mesh/forward_holds.hpp"
#include "mesh/key_directory.hpp"
#include "mesh/link_host.hpp"
#include "mesh/mesh_routes.hpp"
#include "mesh/peer_link.hpp"
#include "mesh/registration.hpp"
#include "mesh/replay_guard.hpp"
#include "rtc/callback_slot.hpp"
#include "rtc/io_loop.hpp"

namespace ifmesh::detail {

class AgentCore final : public LinkHost, public std::enable_shared_from_this<AgentCore> {
 public:
  explicit AgentCore(AgentConfig config);
  ~AgentCore();

  void start();  // connects to signaling
  void shutdown();
  rtc::IoLoop& loop() override { return loop_; }
  const AgentConfig& config() const { return config_; }
  const std::string& id() const override { return config_.agentId; }
  const LinkSettings& linkSettings() const override { return linkSettings_; }
  bool isShutdown() const { return shutdown_; }  // loop thread

  // Loop thread.
  std::shared_ptr<PeerLink> link(const std::string& peerId, bool create);
  void connect(const std::string& peerId);
  void disconnect(const std::string& peerId);
  void removeLink(const std::string& peerId);
  // Accepts a message (see Agent::send). With mayWait, a full queue under QueuePolicy::Block
  // returns nothing instead of throwing, so the user thread can wait for space and retry.
  std::optional<std::uint64_t> send(const std::string& peerId, IFMessage message,
                                    bool mayWait = false);
  void signal(const std::string& to, const std::string& type, nlohmann::json body) override;
  void witness(const char* event, const std::string& peerId, nlohmann::json metadata = {}) override;
  // Whether witness events go anywhere: per-message events (two JSON objects per message) are
  // not even built otherwise.
  bool witnessing() const override { return config_.witness != nullptr; }
  // A message taken off a link: delivered here, or forwarded one hop closer to its destination.
  // False: not taken now (the next hop's queue is full, or the destination is not in the
  // directory yet); the link leaves it unacknowledged and its sender keeps it until
  // resumeHeldForwards() asks it to resend.
  bool receive(const IFMessage& message, int hops, const std::string& fromPeer) override;
  void peerStateChanged(const std::string& peerId, PeerState state) override;
  void undeliverable(const IFMessage& message, const std::string& reason) override;
  std::mt19937& rng() override { return rng_; }
  // Connection attempt slots (config().maxConnectingPeers). False: `waiter` is queued and its
  // resumeAttempt() runs once a slot frees.
  bool takeAttemptSlot(const std::shared_ptr<PeerLink>& waiter) override;
  void releaseAttemptSlot() override;
  // Random per Agent object, so a restarted process is told apart from the one before it.
  std::uint64_t incarnation() const override { return incarnation_; }
  const AgentIdentity& identity() const override { return identity_; }
  // The key the directory announced for an agent, or null (loop thread).
  const PublicKey* peerKey(const std::string& agentId) const override;
  RtcConfiguration rtcConfig(bool relay) const override;
  std::chrono::milliseconds batchDelay() const override;
  void batchSent(std::size_t messages) override;
  void compressed(std::size_t before, std::size_t after) override;
  // A queued message dropped under QueuePolicy::DropOldest: reported, never silent.
  void dropped(const IFMessage& message, const std::string& peerId) override;

  // Send-queue space, for senders blocked under QueuePolicy::Block (any thread).
  void spaceFreed() override;  // loop thread: a queue shrank
  std::uint64_t spaceGeneration();
  // Waits until the generation moves past `seen` or the deadline passes; false on timeout.
  bool waitForSpace(std::uint64_t seen, std::chrono::steady_clock::time_point deadline);
  void sampleBandwidth();
  QualityMode qualityMode() override;
  BandwidthStats bandwidthStats();
  rtc::CallbackSlot<QualityMode, QualityMode> onQualityChange;

  Registration registration;
  rtc::CallbackSlot<const IFMessage&> onMessage;
  rtc::CallbackSlot<const std::string&, PeerState> onPeerState;
  rtc::CallbackSlot<const IFMessage&, const std::string&> onUndeliverable;
  rtc::CallbackSlot<const std::string&, const std::string&> onSignalingError;
  std::map<std::string, std::shared_ptr<PeerLink>> links;  // loop thread

 private:
  void startWaitingAttempts();
  void handleRelay(const std::string& from, const std::string& type, const nlohmann::json& msg);
  void handleDirectory(const std::vector<std::string>& agents);
  void learnKey(const std::string& agentId, const std::string& key);
  void agentJoined(const std::string& agentId);
  void agentLeft(const std::string& agentId);
  // Forgets the keys of agents that left more than identity.maxClockSkew ago and did not come
  // back (their messages are stale by then) and are not linked to us.
  void forgetDeparted(std::chrono::steady_clock::time_point now);
  void refuseKeyless(const std::string& from, const std::string& type);
  // nullptr when a message addressed to us may be delivered, else why not.
  const char* authenticate(const IFMessage& message, int hops);
  void formTopology();
  // False when a forwarded message does not fit the next hop's queue (see PeerLink::enqueue).
  bool route(const IFMessage& message, int hops);
  // Remembers that `upstream` waits for room on `nextHop` (empty: for its destination to join).
  void holdForward(const std::string& upstream, const std::string& nextHop,
                   const IFMessage& message);
  // Asks the upstreams whose wait is over to resend (directoryChanged: waits for a destination).
  void resumeHeldForwards(bool directoryChanged);
  void armHoldsTimer();
  std::string nextHop(const std::string& destination);

  AgentConfig config_;
  LinkSettings linkSettings_;
  AgentIdentity identity_;
  rtc::IoLoop& loop_;
  std::unique_ptr<signaling::Client> signaling_;
  std::set<std::string> directory_;
  MeshRoutes routes_;
  std::set<std::string> topologyLinks_;  // links the topology made (and may prune)
  std::mt19937 rng_;
  std::uint64_t incarnation_ = 0;
  bool shutdown_ = false;
  std::size_t attemptsInFlight_ = 0;
  std::deque<std::weak_ptr<PeerLink>> waitingAttempts_;
  AgentBandwidth bandwidth_;
  rtc::IoLoop::Timer bandwidthTimer_;
  KeyDirectory keys_;                     // announced keys, latest per agent id
  std::set<std::string> keylessRefused_;  // ids whose link was refused (witnessed once)
  // How long a forward toward an id missing from the directory waits for it to join.
  static constexpr std::chrono::milliseconds kUnknownDestinationGrace{2000};
  ForwardHolds holds_;             // forwarding backpressure: which upstreams wait, and for what
  rtc::IoLoop::Timer holdsTimer_;  // the earliest grace deadline
  // End to end, per (destination, priority lane).
  using LaneKey = std::pair<std::string, int>;
  std::map<LaneKey, std::uint64_t> nextSequence_;
  ReplayGuard replayGuard_;  // what was delivered, per source
  std::mutex spaceMutex_;
  std::condition_variable spaceCv_;
  std::uint64_t spaceGeneration_ = 0;  // guarded by spaceMutex_
};

}  // namespace ifmesh::detail
