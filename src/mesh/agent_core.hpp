#pragma once
// The state behind ifmesh::Agent: its links, and the parts that each do one job for it
// (AgentSignaling, MessageRouter, MessageStamper, AgentBandwidth, KeyDirectory). Everything runs
// on the agent's I/O loop: signaling events and public calls are posted there, so links need no
// locks (see src/rtc/io_loop.hpp). The exceptions say so: start() and shutdown() (the user's
// thread), Registration, the send-space wait and the bandwidth stats (any thread).
#include <atomic>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ifmesh/agent.hpp"
#include "ifmesh/bandwidth.hpp"
#include "ifmesh/identity.hpp"
#include "mesh/agent_bandwidth.hpp"
#include "mesh/agent_signaling.hpp"
#include "mesh/attempt_budget.hpp"
#include "mesh/durable_state.hpp"
#include "mesh/key_directory.hpp"
#include "mesh/link_host.hpp"
#include "mesh/link_rtc_configuration.hpp"
#include "mesh/message_router.hpp"
#include "mesh/message_stamper.hpp"
#include "mesh/peer_link.hpp"
#include "mesh/registration.hpp"
#include "mesh/send_space.hpp"
#include "rtc/callback_slot.hpp"
#include "rtc/io_loop.hpp"

namespace ifmesh::detail {

class AgentCore final : public LinkHost,
                        public RouterHost,
                        public SignalingEvents,
                        public std::enable_shared_from_this<AgentCore> {
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
  // Accepts a message (see Agent::send). With mayWait, a full queue under QueuePolicy::Block
  // returns nothing instead of throwing, so the user thread can wait for space and retry.
  std::optional<std::uint64_t> send(const std::string& peerId, IFMessage message,
                                    bool mayWait = false);
  void signal(const std::string& to, const std::string& type, nlohmann::json body) override;
  void witness(const char* event, const std::string& peerId, nlohmann::json metadata = {}) override;
  // Whether witness events go anywhere now: per-message events (two JSON objects per message)
  // are not even built otherwise.
  bool witnessing() const override {
    return config_.witness != nullptr && config_.witness->wantsEvents();
  }
  bool hasWitness() const override { return config_.witness != nullptr; }
  std::optional<WitnessHead> witnessHead() override;
  // A message taken off a link, for the router (MessageRouter::receive).
  bool receive(const IFMessage& message, int hops, const std::string& fromPeer) override {
    return router_.receive(message, hops, fromPeer);
  }
  void peerStateChanged(const std::string& peerId, PeerState state) override;
  void undeliverable(const IFMessage& message, const std::string& reason) override;
  std::mt19937& rng() override { return rng_; }
  // Connection attempt slots (config().maxConnectingPeers; AttemptBudget).
  bool takeAttemptSlot(const std::shared_ptr<PeerLink>& waiter) override {
    return attempts_.take(waiter);
  }
  void releaseAttemptSlot() override { attempts_.release(); }
  // Random per Agent object, so a restarted process is told apart from the one before it.
  std::uint64_t incarnation() const override { return incarnation_; }
  const AgentIdentity& identity() const override { return identity_; }
  // The key the directory announced for an agent, or null (loop thread).
  const PublicKey* peerKey(const std::string& agentId) const override { return keys_.key(agentId); }
  RtcConfiguration rtcConfig(bool relay) const override {
    return linkRtcConfiguration(config_, loop_.index(), relay);
  }
  std::chrono::milliseconds batchDelay() const override { return bandwidth_.batchDelay(); }
  void batchSent(std::size_t messages) override { bandwidth_.batchSent(messages); }
  void compressed(std::size_t before, std::size_t after) override {
    bandwidth_.compressed(before, after);
  }
  // A queued message dropped under QueuePolicy::DropOldest: reported, never silent.
  void dropped(const IFMessage& message, const std::string& peerId) override;
  DurableState* durable() override { return durable_.get(); }
  AckNotice takeAckNotice() override { return std::exchange(ackNotice_, nullptr); }
  std::uint64_t lastSequence(const std::string& peerId, MessagePriority priority) const {
    return stamper_.last(peerId, static_cast<int>(priority));
  }
  // As send(), and `acked` hears of the message's acknowledgement by its next hop.
  std::optional<std::uint64_t> send(const std::string& peerId, IFMessage message, bool mayWait,
                                    AckNotice acked);
  // Runs fn (loop thread) as one pass: the messages it sends to one peer leave together when it
  // returns, in as few channel messages as fit (LinkHost::gathering).
  void runGathered(const std::function<void()>& fn);
  bool gathering() const override { return gatherDepth_ > 0; }
  void gathered(std::function<void()> flush) override {
    gatherFlushes_.push_back(std::move(flush));
  }
  // Runs fn after the work at hand (loop thread): a caller's callback runs outside the links'
  // processing, so that it may call into the agent. In order, one loop task per batch.
  void defer(std::function<void()> fn);

  // Send-queue space, for senders blocked under QueuePolicy::Block (any thread).
  void spaceFreed() override;  // loop thread: a queue shrank
  SendSpace space;
  void sampleBandwidth();
  QualityMode qualityMode() override { return bandwidth_.mode(); }
  BandwidthStats bandwidthStats() { return bandwidth_.stats(); }
  rtc::CallbackSlot<QualityMode, QualityMode> onQualityChange;

  Registration registration;
  rtc::CallbackSlot<const IFMessage&> onMessage;
  rtc::CallbackSlot<const std::string&, PeerState> onPeerState;
  rtc::CallbackSlot<const IFMessage&, const std::string&> onUndeliverable;
  rtc::CallbackSlot<const std::string&, const std::string&> onSignalingError;
  std::map<std::string, std::shared_ptr<PeerLink>> links;  // loop thread

 private:
  // SignalingEvents: what the signaling server reports, on the loop thread.
  bool listening() const override { return !shutdown_; }
  void keyAnnounced(const std::string& agentId, const std::string& key) override;
  void registered(const std::vector<std::string>& directory) override;
  void agentJoined(const std::string& agentId) override;
  void agentLeft(const std::string& agentId) override;
  void peerSignal(const std::string& from, const PeerSignal& signal) override;
  void signalingError(const std::string& code, const std::string& message) override;
  void signalingDisconnected() override { registration.disconnected(); }

  // RouterHost: the links and outcomes the router works with.
  std::optional<PeerState> linkState(const std::string& peerId) const override;
  bool enqueue(const std::string& hop, const IFMessage& message, int hops) override;
  bool hasRoomToForward(const std::string& hop) const override;
  void resumeReceiving(const std::string& upstream) override;
  void deliver(const IFMessage& message) override { onMessage(message); }
  void wakeRouterAt(std::optional<std::chrono::steady_clock::time_point> due) override;

  // Forgets the keys of agents that left more than identity.maxClockSkew ago and did not come
  // back (their messages are stale by then) and are not linked to us.
  void forgetDeparted(std::chrono::steady_clock::time_point now);
  void refuseKeyless(const std::string& from, const char* type);
  // Links to the neighbours the topology wants; `joined`: the agent that just registered, whose
  // link is started again if its previous process said bye.
  void formTopology(const std::string* joined = nullptr);
  void commitState();
  void postIfAlive(std::function<void()> task);
  void resumeStoredLinks();

  AgentConfig config_;
  LinkSettings linkSettings_;
  AgentIdentity identity_;
  rtc::IoLoop& loop_;
  std::mt19937 rng_;
  // Opened before anything that uses the incarnation; destroyed after the links.
  std::unique_ptr<DurableState> durable_;
  bool resumedStoredLinks_ = false;
  AckNotice ackNotice_;                          // of the message being sent
  std::vector<std::function<void()>> deferred_;  // waiting for defer's task
  int gatherDepth_ = 0;
  std::vector<std::function<void()>> gatherFlushes_;  // of the links that held frames back
  std::uint64_t incarnation_;
  AgentSignaling signaling_;
  MessageRouter router_;
  MessageStamper stamper_;
  std::set<std::string> topologyLinks_;  // links the topology made (and may prune)
  bool shutdown_ = false;
  AttemptBudget attempts_;
  AgentBandwidth bandwidth_;
  rtc::IoLoop::Timer bandwidthTimer_;
  KeyDirectory keys_;                     // announced keys, latest per agent id
  std::set<std::string> keylessRefused_;  // ids whose link was refused (witnessed once)
  rtc::IoLoop::Timer holdsTimer_;         // when the router's earliest held forward is due
  std::atomic<bool> closing_{false};      // shutdown() ran (any thread)
};

}  // namespace ifmesh::detail
