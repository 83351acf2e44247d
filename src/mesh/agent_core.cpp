#include "mesh/agent_core.hpp"
#include "mesh/wire_id.hpp"

#include <filesystem>

#include "ifmesh/error.hpp"
#include "mesh/topology.hpp"
#include "rtc/runtime.hpp"

namespace ifmesh::detail {

namespace {
AgentIdentity makeIdentity(const IdentityConfig& c, const StateConfig& state) {
  if (!c.keyFile.empty()) return AgentIdentity::loadOrCreate(c.keyFile);
  // A durable agent keeps its key with its state: its peers know it by that key.
  if (!state.directory.empty()) {
    store::makeStateDirectory(state.directory);
    return AgentIdentity::loadOrCreate(
        (std::filesystem::path(state.directory) / "identity.pem").string());
  }
  return AgentIdentity::generate();
}
}  // namespace

AgentCore::AgentCore(AgentConfig config)
    : config_(std::move(config)),
      identity_(makeIdentity(config_.identity, config_.state)),
      loop_(rtc::Runtime::instance().nextLoop()),
      rng_(std::random_device{}()),
      durable_(config_.state.directory.empty()
                   ? nullptr
                   : std::make_unique<DurableState>(
                         config_.state.directory, config_.state.syncToDisk,
                         [this] { commitState(); },
                         [this](std::function<void()> task) { postIfAlive(std::move(task)); })),
      incarnation_(durable_ ? durable_->incarnation(randomWireId(rng_)) : randomWireId(rng_)),
      signaling_(loop_),
      router_(*this, config_),
      stamper_(config_, identity_, incarnation_),
      attempts_(loop_, config_.maxConnectingPeers),
      bandwidth_(config_.bandwidth),
      keys_(config_.identity.maxClockSkew) {
  if (config_.agentId.empty()) throw Error(Errc::InvalidArgument, "agent id must not be empty");
  if (config_.maxConnectingPeers == 0)
    throw Error(Errc::InvalidArgument, "maxConnectingPeers must be at least 1");
  // The audit log is signed with the agent's own key, the one the directory hands out for it.
  if (config_.witness) config_.witness->setSigner(witnessSigner(identity_, config_.agentId));
  linkSettings_.healing = config_.healing;
  linkSettings_.turnAvailable = !config_.turnServers.empty();
  linkSettings_.maxMessageBytes = config_.maxMessageBytes;
  linkSettings_.payloadAsText = config_.payloadAsText;
  linkSettings_.queue = config_.bandwidth.queue;
  linkSettings_.compression = config_.bandwidth.compression;
  if (durable_) durable_->restore(stamper_, router_.replayGuard());
}

AgentCore::~AgentCore() {
  links.clear();  // before the state store they write to (empty after shutdown())
}

void AgentCore::postIfAlive(std::function<void()> task) {
  loop_.post([weak = weak_from_this(), task = std::move(task)] {
    if (auto self = weak.lock(); self && self->durable_) task();
  });
}

void AgentCore::runGathered(const std::function<void()>& fn) {
  struct Pass {
    AgentCore& core;
    explicit Pass(AgentCore& c) : core(c) { ++core.gatherDepth_; }
    ~Pass() {
      if (--core.gatherDepth_ > 0) return;
      // A flush may send more (acks, waiting messages): those leave at once, outside the pass.
      for (auto& flush : std::exchange(core.gatherFlushes_, {})) flush();
    }
  } pass(*this);
  fn();
}

void AgentCore::defer(std::function<void()> fn) {
  deferred_.push_back(std::move(fn));
  if (deferred_.size() > 1) return;  // the batch's task is posted already
  loop_.post([weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self) return;
    // Calls deferred while these run wait for the next task.
    auto batch = std::exchange(self->deferred_, {});
    for (auto& fn : batch) fn();
  });
}

void AgentCore::commitState() {
  // After the work at hand: everything it wrote goes into this one commit.
  postIfAlive([this] {
    try {
      durable_->commit();
    } catch (const Error& e) {
      witness("state_store_failed", "", {{"error", e.what()}});
    }
  });
}

void AgentCore::resumeStoredLinks() {
  // The links of the process before, to the peers still there, come back at once: what was
  // stored goes out, and a peer that still holds messages for us learns of the restart now
  // rather than when its transport times out.
  if (!durable_ || resumedStoredLinks_) return;
  resumedStoredLinks_ = true;
  for (const auto& peer : durable_->storedPeers()) {
    if (!router_.directory().contains(peer)) continue;
    auto l = link(peer, true);
    if (l->state() == PeerState::Connecting) l->start();
  }
}

void AgentCore::start() {
  std::weak_ptr<AgentCore> weak = weak_from_this();
  // A weak pointer: signaling callbacks may still be under way while this agent is destroyed.
  signaling_.start(config_, identity_.publicKey(), weak);
  // The monitor always samples (stats stay meaningful); only mode changes need `enabled`.
  loop_.invoke([this, weak] {
    bandwidthTimer_ = loop_.addTimer(config_.bandwidth.checkInterval, [weak] {
      auto self = weak.lock();
      if (!self || self->shutdown_) return false;
      self->sampleBandwidth();
      return true;
    });
  });
}

void AgentCore::sampleBandwidth() {
  std::size_t max = 0, total = 0, channels = 0, queued = 0, queuedBytes = 0;
  for (auto& [id, l] : links) {
    l->pump();  // a safety net: waiting messages also move when the channel reports it drained
    queued += l->unacknowledged();
    queuedBytes += l->queuedBytes();
    if (auto buffered = l->bufferedAmount()) {
      max = std::max(max, *buffered);
      total += *buffered;
      ++channels;
    }
  }
  AgentBandwidth::Sample sample{max, channels ? total / channels : 0, channels, queued,
                                queuedBytes};
  auto change = bandwidth_.sample(sample, std::chrono::steady_clock::now());
  if (!change) return;
  auto [before, after] = *change;
  const auto& t = config_.bandwidth.thresholds;
  witness("bandwidth_quality_changed", "",
          {{"old_mode", toString(before)},
           {"new_mode", toString(after)},
           {"max_buffered", sample.maxBuffered},
           {"avg_buffered", sample.avgBuffered},
           {"channel_count", channels},
           {"threshold_high_to_medium", t.highToMedium},
           {"threshold_medium_to_low", t.mediumToLow}});
  onQualityChange(before, after);
}

void AgentCore::dropped(const IFMessage& message, const std::string& peerId) {
  bandwidth_.dropped();
  witness("ifmessage_dropped", peerId,
          {{"message_id", message.id},
           {"sequence_num", message.sequence},
           {"destination", message.destination},
           {"priority", toString(message.priority)},
           {"reason", "queue full"}});
  undeliverable(message, "dropped: queue full");
}

void AgentCore::spaceFreed() {
  router_.resumeHeld(false);
  space.freed();
}

void AgentCore::shutdown() {
  if (closing_.exchange(true)) return;
  loop_.invoke([this] {
    shutdown_ = true;
    bandwidthTimer_.cancel();
    holdsTimer_.cancel();
    // Peers get the log's head as it stands at the close: written first, so it can be shown.
    if (config_.witness) config_.witness->flush();
    for (auto& [id, link] : links) {
      if (link->state() != PeerState::Connected) continue;
      link->closing();
      signal(id, "bye", nlohmann::json::object());
    }
    links.clear();
    attempts_.close();
    if (durable_) {
      try {
        durable_->commit(true);
      } catch (const Error& e) {
        witness("state_store_failed", "", {{"error", e.what()}});
      }
    }
  });
  signaling_.close();
  space.close();
}

void AgentCore::registered(const std::vector<std::string>& agents) {
  registration.registered();
  router_.setDirectory(agents);
  for (const auto& id : agents) keys_.joined(id);
  formTopology();
  resumeStoredLinks();
  router_.resumeHeld(true);
}

void AgentCore::formTopology(const std::string* joined) {
  if (config_.topology == Topology::Manual) return;
  const auto& directory = router_.directory();
  std::vector<std::string> all(directory.begin(), directory.end());
  all.push_back(config_.agentId);
  auto wanted =
      mesh::neighbours(config_.topology, config_.agentId, all, config_.partialMeshK, config_.hubId);
  for (const auto& peer : wanted) {
    topologyLinks_.insert(peer);
    auto l = link(peer, true);
    bool returned = joined && *joined == peer && l->stoppedByPeer();
    if (l->isOfferer() && (l->state() == PeerState::Connecting || returned)) l->start();
  }
  // While the directory was still filling, small meshes were full; links the grown graph no
  // longer wants are closed once they carry nothing unacknowledged (traffic then forwards).
  std::set<std::string> keep(wanted.begin(), wanted.end());
  for (auto it = topologyLinks_.begin(); it != topologyLinks_.end();) {
    auto l = link(*it, false);
    // A peer missing from the directory is not a reason: after a signaling restart the directory
    // refills one registration at a time, and healthy links must not be torn down meanwhile.
    bool known = directory.count(*it) > 0;
    if (keep.count(*it) || !known || !l || l->unacknowledged() > 0) {
      ++it;
      continue;
    }
    if (l->isOfferer()) l->disconnect();  // one side decides, the other hears "bye"
    it = topologyLinks_.erase(it);
  }
}

std::shared_ptr<PeerLink> AgentCore::link(const std::string& peerId, bool create) {
  auto it = links.find(peerId);
  if (it != links.end()) return it->second;
  if (!create) return nullptr;
  auto l = std::make_shared<PeerLink>(*this, peerId);
  links.emplace(peerId, l);
  return l;
}

void AgentCore::connect(const std::string& peerId) {
  if (shutdown_) throw Error(Errc::InvalidState, "the agent is closed");
  if (peerId == config_.agentId)
    throw Error(Errc::InvalidArgument, "an agent cannot connect to itself");
  link(peerId, true)->start();
}

void AgentCore::disconnect(const std::string& peerId) {
  if (auto l = link(peerId, false)) l->disconnect();
}

std::optional<std::uint64_t> AgentCore::send(const std::string& peerId, IFMessage message,
                                             bool mayWait) {
  return send(peerId, std::move(message), mayWait, nullptr);
}

std::optional<std::uint64_t> AgentCore::send(const std::string& peerId, IFMessage message,
                                             bool mayWait, AckNotice acked) {
  if (shutdown_) throw Error(Errc::InvalidState, "the agent is closed");
  if (peerId == config_.agentId) throw Error(Errc::InvalidArgument, "cannot send to self");
  stamper_.stamp(message, peerId, router_.nextHop(peerId) != peerId);
  // Stored before the message is: a stored message's number is never above the stored one, so
  // a restarted agent never gives its number to another message (a refused send takes it back
  // below).
  if (durable_)
    durable_->store().setStamp(peerId, static_cast<int>(message.priority), message.sequence);
  try {
    ackNotice_ = std::move(acked);
    router_.route(message, 0);  // throws before the sequence number is used
    // Not queued on a link (the notice was not taken): reported undeliverable instead.
    if (ackNotice_)
      tell(ackNotice_, std::make_exception_ptr(Error(
                           Errc::Undeliverable, "message " + message.id + " to " + peerId +
                                                    " is undeliverable: peer is unreachable")));
  } catch (const Error& e) {
    ackNotice_ = nullptr;
    // Refused before anything was stored: its number goes back on disk too, or a process that
    // restarts before the next accepted message would count it as accepted (and `ifmesh send
    // --count` resumes after the last number its earlier run accepted).
    if (durable_)
      durable_->store().setStamp(peerId, static_cast<int>(message.priority),
                                 stamper_.last(peerId, static_cast<int>(message.priority)));
    if (e.code() != Errc::QueueFull) throw;
    if (mayWait && config_.bandwidth.queue.policy == QueuePolicy::Block) return std::nullopt;
    bandwidth_.rejected();
    throw;
  }
  stamper_.sent(message);
  if (durable_) durable_->changed();
  return message.sequence;
}

std::optional<PeerState> AgentCore::linkState(const std::string& peerId) const {
  auto it = links.find(peerId);
  if (it == links.end()) return std::nullopt;
  return it->second->state();
}

bool AgentCore::enqueue(const std::string& hop, const IFMessage& message, int hops) {
  auto l = link(hop, true);
  if (!l->enqueue(message, hops)) return false;
  if (l->state() == PeerState::Connecting) l->start();  // first message to this peer: link now
  return true;
}

bool AgentCore::hasRoomToForward(const std::string& hop) const {
  auto it = links.find(hop);
  return it == links.end() || it->second->hasRoomToForward();
}

void AgentCore::resumeReceiving(const std::string& upstream) {
  if (auto l = link(upstream, false)) l->resumeReceiving();
}

void AgentCore::wakeRouterAt(std::optional<std::chrono::steady_clock::time_point> due) {
  holdsTimer_.cancel();
  if (!due) return;
  auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(
      *due - std::chrono::steady_clock::now());
  std::weak_ptr<AgentCore> weak = weak_from_this();
  holdsTimer_ = loop_.addTimer(std::max(delay, std::chrono::milliseconds(1)), [weak] {
    if (auto self = weak.lock(); self && !self->shutdown_) self->router_.resumeHeld(false);
    return false;
  });
}

void AgentCore::signal(const std::string& to, const std::string& type, nlohmann::json body) {
  signaling_.send(to, type, std::move(body));
}

void AgentCore::peerSignal(const std::string& from, const PeerSignal& signal) {
  // A peer must announce its key before it can link (its hello is verified against it), so an
  // offer or a connect request from a keyless id is refused before anything is allocated for it.
  if (signal.createsLink() && !links.count(from) && !peerKey(from))
    return refuseKeyless(from, signal.type());
  if (!signal.wellFormed) return;
  auto l = link(from, signal.createsLink());
  if (!l) return;
  switch (signal.kind) {
    case PeerSignal::Kind::Offer:
      return l->handleOffer(signal.sid, signal.sdp);
    case PeerSignal::Kind::Answer:
      return l->handleAnswer(signal.sid, signal.sdp);
    case PeerSignal::Kind::Candidate:
      return l->handleCandidate(signal.sid, signal.candidate, signal.mid);
    case PeerSignal::Kind::ConnectRequest:
      if (l->isOfferer()) l->handleConnectRequest();
      return;
    case PeerSignal::Kind::Bye:
      return l->handleBye();
  }
}

void AgentCore::signalingError(const std::string& code, const std::string& message) {
  registration.error(code, message);
  onSignalingError(code, message);
}

void AgentCore::refuseKeyless(const std::string& from, const char* type) {
  // Witnessed once per id (a bounded set), so a flood of offers cannot flood the audit log.
  if (keylessRefused_.size() >= 1024) keylessRefused_.clear();
  if (keylessRefused_.insert(from).second)
    witness("link_refused", from,
            {{"reason", "the peer announced no public key"}, {"signal_type", type}});
}

std::optional<WitnessHead> AgentCore::witnessHead() {
  if (!config_.witness) return std::nullopt;
  auto head = config_.witness->signedHead();
  // A Witness shared by several agents signs with the first one's key: no other agent can
  // show its heads as its own.
  if (!head || head->publicKey != identity_.publicKey()) return std::nullopt;
  return head;
}

void AgentCore::witness(const char* event, const std::string& peerId, nlohmann::json metadata) {
  if (config_.witness)
    config_.witness->emit(event, config_.agentId, peerId,
                          metadata.is_null() ? nlohmann::json::object() : std::move(metadata));
}

void AgentCore::agentJoined(const std::string& agentId) {
  router_.joined(agentId);
  keys_.joined(agentId);
  formTopology(&agentId);
  router_.resumeHeld(true);
  forgetDeparted(std::chrono::steady_clock::now());
}

void AgentCore::agentLeft(const std::string& agentId) {
  router_.left(agentId);
  auto now = std::chrono::steady_clock::now();
  keys_.left(agentId, now);
  forgetDeparted(now);
}

void AgentCore::forgetDeparted(std::chrono::steady_clock::time_point now) {
  auto linked = [this](const std::string& id) {
    auto l = link(id, false);
    return l && l->connected();
  };
  for (const auto& id : keys_.forgetDeparted(now, linked)) keylessRefused_.erase(id);
}

void AgentCore::keyAnnounced(const std::string& agentId, const std::string& key) {
  if (!keys_.learn(agentId, key))
    witness("peer_key_rejected", agentId, {{"reason", "not a base64 Ed25519 public key"}});
}

void AgentCore::peerStateChanged(const std::string& peerId, PeerState state) {
  onPeerState(peerId, state);
}

void AgentCore::undeliverable(const IFMessage& message, const std::string& reason) {
  witness("message_undeliverable", message.destination,
          {{"message_id", message.id}, {"sequence_num", message.sequence}, {"reason", reason}});
  onUndeliverable(message, reason);
}

}  // namespace ifmesh::detail
