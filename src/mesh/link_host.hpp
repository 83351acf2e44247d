#pragma once
// What a link needs from the agent that owns it, and all it may call there: AgentCore
// implements it, and a link never sees the rest of the agent. Loop thread only.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "ifmesh/agent.hpp"
#include "ifmesh/bandwidth.hpp"
#include "ifmesh/identity.hpp"
#include "ifmesh/ifmessage.hpp"
#include "ifmesh/witness.hpp"
#include "mesh/ack_notice.hpp"
#include "rtc/io_loop.hpp"

namespace ifmesh::detail {

class DurableState;
class PeerLink;

// How every link of an agent behaves (from its AgentConfig).
struct LinkSettings {
  HealingConfig healing;
  bool turnAvailable = false;  // TURN servers to fall back to
  std::size_t maxMessageBytes = 0;
  bool payloadAsText = false;  // AgentConfig::payloadAsText
  BandwidthConfig::Queue queue;
  BandwidthConfig::Compression compression;
};

class LinkHost {
 public:
  // Who we are, and how links behave.
  virtual const std::string& id() const = 0;
  virtual std::uint64_t incarnation() const = 0;
  virtual const AgentIdentity& identity() const = 0;
  virtual const LinkSettings& linkSettings() const = 0;
  virtual RtcConfiguration rtcConfig(bool relay) const = 0;
  // The key the directory announced for an agent, or null.
  virtual const PublicKey* peerKey(const std::string& agentId) const = 0;
  virtual rtc::IoLoop& loop() = 0;
  virtual std::mt19937& rng() = 0;
  // Batching and compression of the current quality mode.
  virtual std::chrono::milliseconds batchDelay() const = 0;
  virtual QualityMode qualityMode() = 0;

  // Connection attempts: signaling, and the agent's budget of offers in flight. False from
  // takeAttemptSlot: `waiter` is queued and its resumeAttempt() runs once a slot frees.
  virtual void signal(const std::string& to, const std::string& type, nlohmann::json body) = 0;
  virtual bool takeAttemptSlot(const std::shared_ptr<PeerLink>& waiter) = 0;
  virtual void releaseAttemptSlot() = 0;

  // What happens on a link. receive: a message taken off it, delivered here or forwarded; false
  // when it cannot be taken now (see PeerLink::enqueue).
  virtual bool receive(const IFMessage& message, int hops, const std::string& fromPeer) = 0;
  virtual void peerStateChanged(const std::string& peerId, PeerState state) = 0;
  virtual void undeliverable(const IFMessage& message, const std::string& reason) = 0;
  virtual void dropped(const IFMessage& message, const std::string& peerId) = 0;
  virtual void spaceFreed() = 0;  // a link's queue shrank
  virtual void batchSent(std::size_t messages) = 0;
  virtual void compressed(std::size_t before, std::size_t after) = 0;
  virtual void witness(const char* event, const std::string& peerId,
                       nlohmann::json metadata = {}) = 0;
  // Whether witness events go anywhere now (WitnessSink::wantsEvents): per-message events are
  // not built otherwise.
  virtual bool witnessing() const = 0;
  // Whether the agent has a witness at all: its links then take the heads their peers show.
  virtual bool hasWitness() const = 0;
  // The signed head of the agent's witness log, when it is signed with the agent's own key (the
  // key a peer checks it with).
  virtual std::optional<WitnessHead> witnessHead() = 0;
  // The agent's state store (AgentConfig::state), or null when it keeps none.
  virtual DurableState* durable() = 0;
  // True inside a gathering pass (AgentCore::runGathered): a link that queues a message then
  // holds its frames back and hands `flush` over, to be called in the same task when the pass
  // ends, so that the messages of the pass to one peer share channel messages.
  virtual bool gathering() const = 0;
  virtual void gathered(std::function<void()> flush) = 0;
  // Who waits for the acknowledgement of the local message being sent (empty when nobody does):
  // the link that queues it takes it.
  virtual AckNotice takeAckNotice() = 0;

 protected:
  ~LinkHost() = default;
};

}  // namespace ifmesh::detail
