#include "mesh/peer_link.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "ifmesh/error.hpp"
#include "mesh/agent_core.hpp"
#include "mesh/backoff.hpp"
#include "mesh/channel_budget.hpp"
#include "mesh/frame_compression.hpp"
#include "mesh/link_auth.hpp"
#include "mesh/link_frame.hpp"
#include "rtc/sdp.hpp"

namespace ifmesh::detail {

namespace {
constexpr const char* kChannelLabel = "if-agent-messaging";
constexpr std::uint16_t kChannelId = 0;  // negotiated out of band: no DCEP round trip
// A link ack only lets the sender forget what it keeps for a resend, so it waits to ride on
// our next message to the peer (takeAck) and goes alone after kAckEvery messages or kAckDelay.
// Alone it costs two datagrams (the ack and the peer's SCTP SACK of it): with 5 ms, mesh100's
// sparse all-pairs echo sent one for nearly every pong, a quarter of all its datagrams; with 1 s,
// on a machine where each link carried a message about every 1.2 s each way, still ~0.45 per
// round trip. The delay only bounds how long the sender keeps an acknowledged message.
constexpr std::uint64_t kAckEvery = 64;
constexpr std::chrono::milliseconds kAckDelay{5000};

// The certificate fingerprint a remote description pins: the DTLS handshake of the connection
// succeeds only with that certificate, so it names who is at the other end of this channel.
// (Read from the SDP we applied rather than from src/rtc, which keeps it to itself.)
std::string pinnedFingerprint(const std::string& sdp, rtc::sdp::SessionDescription::Type type) {
  try {
    return rtc::sdp::formatFingerprint(rtc::sdp::parse(sdp, type).fingerprint);
  } catch (const Error&) {
    return {};
  }
}
}  // namespace

PeerLink::PeerLink(AgentCore& agent, std::string peerId)
    : agent_(agent), peerId_(std::move(peerId)) {}

PeerLink::~PeerLink() {
  releaseAttemptSlot();
  closeConnection();
}

std::optional<std::size_t> PeerLink::bufferedAmount() const {
  if (!channel_ || !channel_->isOpen()) return std::nullopt;
  // Messages held back by the high-water mark are as much a backlog as the channel's own.
  return channel_->bufferedAmount() + batchBytes_ + queue_.waitingBytes();
}

bool PeerLink::isOfferer() const {
  return agent_.id() < peerId_;
}

void PeerLink::setState(PeerState next) {
  if (state_ == next) return;
  state_ = next;
  agent_.peerStateChanged(peerId_, next);
}

void PeerLink::start() {
  intentional_ = false;
  if (state_ == PeerState::Connected) return;
  // Starting again would tear down an attempt in flight: every directory change during a mesh's
  // formation used to restart every pending offer.
  if (attemptTimer_.active() || reconnectTimer_.active() || waitingForAttemptSlot_) return;
  attempt();
}

void PeerLink::resumeAttempt() {
  waitingForAttemptSlot_ = false;
  attempt();
}

void PeerLink::releaseAttemptSlot() {
  if (!holdsAttemptSlot_) return;
  holdsAttemptSlot_ = false;
  agent_.releaseAttemptSlot();
}

void PeerLink::attempt() {
  if (intentional_) return;
  if (isOfferer() && !holdsAttemptSlot_) {
    if (waitingForAttemptSlot_) return;
    if (!agent_.takeAttemptSlot(shared_from_this())) {
      waitingForAttemptSlot_ = true;
      return;
    }
    holdsAttemptSlot_ = true;
  }
  if (failedAttempts_ > 0) {
    agent_.witness(
        "reconnection_attempt_started", peerId_,
        {{"attempt_number", failedAttempts_ + 1}, {"strategy", useRelay_ ? "turn" : "direct"}});
  }
  attemptTimer_ = agent_.loop().addTimer(agent_.config().healing.attemptTimeout, [this] {
    attemptTimedOut();
    return false;
  });
  if (isOfferer())
    offer();
  else
    agent_.signal(peerId_, "connect-request", nlohmann::json::object());
}

void PeerLink::offer() {
  createConnection(useRelay_);
  auto description = pc_->createOffer();
  agent_.signal(peerId_, "offer",
                {{"sid", sid_}, {"offer", {{"type", "offer"}, {"sdp", description.sdp}}}});
  releaseCandidates();
}

void PeerLink::releaseCandidates() {
  descriptionSent_ = true;
  for (auto& body : heldCandidates_) agent_.signal(peerId_, "ice-candidate", std::move(body));
  heldCandidates_.clear();
}

void PeerLink::createConnection(bool relay, std::uint64_t sid) {
  closeConnection();
  if (sid == 0) {
    sid = (static_cast<std::uint64_t>(agent_.rng()()) << 20) ^ agent_.rng()();
    sid = (sid & ((1ULL << 52) - 1)) | 1;  // non-zero, and exact in JavaScript numbers
  }
  sid_ = sid;
  descriptionSent_ = false;
  heldCandidates_.clear();
  pc_ = std::make_unique<PeerConnection>(agent_.rtcConfig(relay));
  ++connectionsCreated_;
  DataChannelInit init;
  init.negotiatedId = kChannelId;
  channel_ = pc_->createDataChannel(kChannelLabel, init);
  peerHelloSeen_ = false;
  helloSent_ = false;
  remoteFingerprint_.clear();
  peerAuthenticated_ = false;
  refused_ = false;
  helloFingerprint_.clear();
  helloSignature_.clear();
  wireConnection();
}

void PeerLink::wireConnection() {
  std::weak_ptr<PeerLink> weak = weak_from_this();
  std::uint64_t sid = sid_;
  auto onLoop = [weak, sid, &loop = agent_.loop()](auto fn) {
    // Connection callbacks run on the loop already; re-post so that we never tear a connection
    // down from inside its own callback.
    loop.post([weak, sid, fn] {
      if (auto self = weak.lock(); self && self->sid_ == sid) fn(*self);
    });
  };
  pc_->onLocalCandidate([this, sid](const Candidate& c) {
    nlohmann::json body = {{"sid", sid},
                           {"candidate", {{"candidate", c.candidate}, {"sdpMid", c.mid}}}};
    // Gathering starts inside createOffer/createAnswer: hold candidates until the description
    // itself has been signaled, so the peer never sees a candidate for a session it lacks.
    if (!descriptionSent_)
      heldCandidates_.push_back(std::move(body));
    else
      agent_.signal(peerId_, "ice-candidate", std::move(body));
  });
  pc_->onStateChange([onLoop](PeerConnectionState s) {
    if (s == PeerConnectionState::Failed || s == PeerConnectionState::Disconnected ||
        s == PeerConnectionState::Closed)
      onLoop([s](PeerLink& self) { self.onTransportDown(toString(s)); });
  });
  channel_->onOpen([onLoop] { onLoop([](PeerLink& self) { self.onChannelOpen(); }); });
  channel_->onClose(
      [onLoop] { onLoop([](PeerLink& self) { self.onTransportDown("channel closed"); }); });
  // Waiting Normal/Low messages follow as soon as the channel drains below half the high-water.
  channel_->setBufferedAmountLowThreshold(agent_.config().bandwidth.queue.channelHighWater / 2);
  channel_->onBufferedAmountLow([onLoop] { onLoop([](PeerLink& self) { self.pump(); }); });
  channel_->onMessage([weak, sid](Message&& m) {
    auto self = weak.lock();
    if (!self || self->sid_ != sid) return;
    if (auto* text = std::get_if<std::string>(&m))
      self->onChannelFrame(*text);
    else if (auto* binary = std::get_if<Binary>(&m))
      self->onBinaryFrame(*binary);
  });
}

void PeerLink::handleOffer(std::uint64_t sid, const std::string& sdp) {
  intentional_ = false;
  createConnection(false, sid);  // the offerer's session id names this connection
  try {
    pc_->setRemoteDescription({Description::Type::Offer, sdp});
    remoteFingerprint_ = pinnedFingerprint(sdp, rtc::sdp::SessionDescription::Type::Offer);
    auto answer = pc_->createAnswer();
    agent_.signal(peerId_, "answer",
                  {{"sid", sid_}, {"answer", {{"type", "answer"}, {"sdp", answer.sdp}}}});
    releaseCandidates();
  } catch (const Error& e) {
    agent_.witness("ifmessage_rejected", peerId_,
                   {{"reason", std::string("bad offer: ") + e.what()}});
    closeConnection();
    return;
  }
  if (!attemptTimer_.active())
    attemptTimer_ = agent_.loop().addTimer(agent_.config().healing.attemptTimeout, [this] {
      attemptTimedOut();
      return false;
    });
}

void PeerLink::handleAnswer(std::uint64_t sid, const std::string& sdp) {
  if (!pc_ || sid != sid_) return;  // an answer to an attempt we abandoned
  try {
    pc_->setRemoteDescription({Description::Type::Answer, sdp});
    remoteFingerprint_ = pinnedFingerprint(sdp, rtc::sdp::SessionDescription::Type::Answer);
  } catch (const Error& e) {
    agent_.witness("ifmessage_rejected", peerId_,
                   {{"reason", std::string("bad answer: ") + e.what()}});
  }
}

void PeerLink::handleCandidate(std::uint64_t sid, const std::string& candidate,
                               const std::string& mid) {
  if (!pc_ || sid != sid_) return;
  try {
    pc_->addRemoteCandidate({candidate, mid});
  } catch (const Error&) {
    // A malformed candidate is ignored; the others may still connect.
  }
}

void PeerLink::handleConnectRequest() {
  if (!isOfferer() || intentional_) return;
  if (state_ == PeerState::Connected && channel_ && channel_->isOpen()) {
    // The peer lost the connection we still believe in: start over.
    onTransportDown("peer requested a new connection");
    return;
  }
  reconnectTimer_.cancel();
  attemptTimer_.cancel();
  attempt();
}

void PeerLink::handleBye() {
  intentional_ = true;
  releaseAttemptSlot();
  reconnectTimer_.cancel();
  attemptTimer_.cancel();
  closeConnection();
  setState(PeerState::Disconnected);
  agent_.witness("peer_disconnected", peerId_, {{"reason", "peer said bye"}});
}

void PeerLink::disconnect() {
  intentional_ = true;
  releaseAttemptSlot();
  reconnectTimer_.cancel();
  attemptTimer_.cancel();
  agent_.signal(peerId_, "bye", nlohmann::json::object());
  closeConnection();
  setState(PeerState::Disconnected);
  agent_.witness("peer_disconnected", peerId_, {{"reason", "local disconnect"}});
}

void PeerLink::drop() {
  if (!pc_) return;
  closeConnection();
  onTransportDown("connection dropped");
}

void PeerLink::closeConnection() {
  if (channel_) {
    channel_->onOpen(nullptr);
    channel_->onClose(nullptr);
    channel_->onMessage(nullptr);
    channel_->onBufferedAmountLow(nullptr);
  }
  channel_.reset();
  if (pc_) {
    pc_->onLocalCandidate(nullptr);
    pc_->onStateChange(nullptr);
    // Destroying a PeerConnection from its own loop is safe: transports die after this dispatch.
    pc_.reset();
  }
  ackTimer_.cancel();
  batchTimer_.cancel();
  batch_.clear();  // still in queue_ as sent: resent after the next hello
  batchBytes_ = 0;
}

void PeerLink::onChannelOpen() {
  releaseAttemptSlot();
  attemptTimer_.cancel();
  reconnectTimer_.cancel();
  bool reconnected = everConnected_ || failedAttempts_ > 0;
  everConnected_ = true;
  setState(PeerState::Connected);
  nlohmann::json link = {{"strategy", useRelay_ ? "turn" : "direct"}};
  if (agent_.witnessing() && pc_) {
    if (auto pair = pc_->stats().selectedPair) {  // which path ICE chose, e.g. host to host
      link["local_candidate_type"] = pair->localType;
      link["remote_candidate_type"] = pair->remoteType;
    }
  }
  if (reconnected) {
    auto downtime = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - downSince_);
    link["total_attempts"] = failedAttempts_ + 1;
    link["total_downtime_ms"] = downtime.count();
    link["failed_attempts"] = failedAttempts_;
    agent_.witness("peer_reconnected_successfully", peerId_, std::move(link));
  } else {
    agent_.witness("peer_connected", peerId_, std::move(link));
  }
  failedAttempts_ = 0;
  if (!helloSent_) sendHello();  // the peer's hello may have made us say ours already
}

void PeerLink::onTransportDown(std::string why) {
  if (intentional_ || state_ == PeerState::Unreachable) return;
  if (pc_)
    if (auto reason = pc_->stats().failureReason; !reason.empty()) why += " (" + reason + ")";
  bool wasConnected = state_ == PeerState::Connected;
  closeConnection();
  if (wasConnected) {
    downSince_ = std::chrono::steady_clock::now();
    agent_.witness("peer_disconnected", peerId_,
                   {{"reason", why}, {"unacknowledged", queue_.messages()}});
    setState(PeerState::Reconnecting);
    attemptTimer_.cancel();
    failedAttempts_ = 0;
    scheduleReconnect();
  }
  // A failed attempt ends now rather than at its timeout; stale connections never get here.
  else if (attemptTimer_.active()) {
    attemptTimer_.cancel();
    attemptFailed(why);
  }
}

void PeerLink::attemptTimedOut() {
  if (intentional_ || state_ == PeerState::Connected) return;
  attemptFailed("attempt timed out");
}

void PeerLink::attemptFailed(const std::string& why) {
  releaseAttemptSlot();
  closeConnection();
  if (!everConnected_ && failedAttempts_ == 0) downSince_ = std::chrono::steady_clock::now();
  ++failedAttempts_;
  agent_.witness("reconnection_attempt_failed", peerId_,
                 {{"attempt_number", failedAttempts_},
                  {"strategy", useRelay_ ? "turn" : "direct"},
                  {"reason", why}});
  retryOrGiveUp("peer permanently unreachable after " + std::to_string(failedAttempts_) +
                " attempts");
}

void PeerLink::retryOrGiveUp(const std::string& givingUpReason) {
  if (failedAttempts_ >= agent_.config().healing.maxRetries) {
    setState(PeerState::Unreachable);
    agent_.witness("peer_permanently_unreachable", peerId_, {{"failed_attempts", failedAttempts_}});
    failAll(givingUpReason);
    return;
  }
  setState(PeerState::Reconnecting);
  scheduleReconnect();
}

void PeerLink::scheduleReconnect() {
  const auto& healing = agent_.config().healing;
  if (!useRelay_ && failedAttempts_ >= healing.turnAfterFailures &&
      !agent_.config().turnServers.empty()) {
    useRelay_ = true;
    agent_.witness("reconnection_using_turn", peerId_, {{"failed_attempts", failedAttempts_}});
  }
  auto delay = mesh::backoffDelay(healing, failedAttempts_, agent_.rng());
  agent_.witness("reconnection_attempt_scheduled", peerId_,
                 {{"attempt_number", failedAttempts_ + 1},
                  {"backoff_delay_ms", delay.count()},
                  {"strategy", useRelay_ ? "turn" : "direct"},
                  {"failed_attempts", failedAttempts_}});
  reconnectTimer_ = agent_.loop().addTimer(delay, [this] {
    attempt();
    return false;
  });
}

namespace {

std::string msgFrame(std::uint64_t seq, int hops, int lane, const std::string& json,
                     std::uint64_t ack = 0) {
  std::string f = "{\"t\":\"msg\",\"s\":" + std::to_string(seq) + ",\"h\":" + std::to_string(hops);
  if (lane != static_cast<int>(MessagePriority::Normal)) f += ",\"l\":" + std::to_string(lane);
  if (ack != 0) f += ",\"a\":" + std::to_string(ack);
  f += ",\"m\":";
  f += json;
  f += '}';
  return f;
}

bool urgentLane(int lane) {
  return isUrgent(static_cast<MessagePriority>(lane));
}

}  // namespace

bool PeerLink::enqueue(const IFMessage& message, int hops) {
  std::string json;
  try {
    json = serialize(message);
  } catch (const nlohmann::json::exception& e) {  // e.g. a payload string that is not UTF-8
    throw Error(Errc::InvalidArgument, std::string("payload cannot be serialized: ") + e.what());
  }
  // The largest frame this message can become (20 digits: any link sequence).
  std::size_t frameBytes = msgFrame(UINT64_MAX, hops, 0, json, UINT64_MAX).size();
  if (frameBytes > agent_.config().maxMessageBytes)
    throw Error(Errc::MessageTooLarge,
                "IFMessage of " + std::to_string(frameBytes) + " bytes exceeds the " +
                    std::to_string(agent_.config().maxMessageBytes) + "-byte limit");
  // The peer drops deeper frames unacknowledged, which would stall every later message.
  if (jsonNestingDepth(json, kMaxJsonDepth) > kMaxJsonDepth)
    throw Error(Errc::InvalidArgument,
                "IFMessage nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  // A forwarded message is never dropped for room: it is not taken, and the neighbour that sent
  // it keeps it until this queue drains.
  const auto& limits = agent_.config().bandwidth.queue;
  std::vector<IFMessage> dropped;
  if (!queue_.fits(json.size(), limits)) {
    if (hops > 0) return false;
    dropped = makeRoom(message, json.size());
  }
  queue_.push(message, std::move(json), hops);
  if (agent_.witnessing())
    agent_.witness("ifmessage_sent", peerId_,
                   {{"message_id", message.id},
                    {"sequence_num", message.sequence},
                    {"destination", message.destination},
                    {"priority", toString(message.priority)},
                    {"hops", hops},
                    {"buffer_amount", channel_ ? channel_->bufferedAmount() : 0}});
  // Reported only now that the new message is queued: the callback may send again.
  for (const auto& d : dropped) agent_.dropped(d, peerId_);
  pump();
  return true;
}

bool PeerLink::hasRoomToForward() const {
  const auto& limits = agent_.config().bandwidth.queue;
  return queue_.messages() <= limits.maxMessages / 2 && queue_.bytes() <= limits.maxBytes / 2;
}

void PeerLink::resumeReceiving() {
  for (auto& r : received_) r.resyncRequestedAt.reset();
  sendHello();
}

std::vector<IFMessage> PeerLink::makeRoom(const IFMessage& message, std::size_t bytes) {
  const auto& limits = agent_.config().bandwidth.queue;
  if (limits.policy == QueuePolicy::DropOldest) {
    auto dropped = queue_.dropFor(bytes, limits);
    if (!dropped.empty()) return dropped;
  }
  throw Error(Errc::QueueFull,
              "send queue to " + peerId_ + " holds " + std::to_string(queue_.messages()) +
                  " messages / " + std::to_string(queue_.bytes()) + " bytes (limits " +
                  std::to_string(limits.maxMessages) + " / " + std::to_string(limits.maxBytes) +
                  ", policy " + toString(limits.policy) + "); message " + message.id +
                  " not accepted");
}

void PeerLink::pump() {
  // The peer's hello (which may arrive before our open event) is what makes sending safe.
  if (!peerHelloSeen_ || !channel_ || !channel_->isOpen()) return;
  const std::size_t highWater =
      applyChannelBudget(budget_, *channel_, agent_.config().bandwidth.queue.channelHighWater);
  while (auto lane = queue_.nextLane(false)) {
    bool urgent = urgentLane(*lane);
    // The batch is bounded by kMaxBatchBytes on its own; counting it here would let a LOW-mode
    // batch delay throttle a link to one high-water mark per delay.
    if (!urgent && channel_->bufferedAmount() >= highWater) return;
    const auto& sent = queue_.send(*lane, [&](std::uint64_t seq, const SendQueue::Waiting& w) {
      return msgFrame(seq, w.hops, *lane, w.json, takeAck(*lane));
    });
    transmit(sent.frame, urgent);
    if (!channel_) return;  // the send found the channel closed
  }
}

void PeerLink::transmit(const std::string& frame, bool urgent) {
  if (!channel_ || !channel_->isOpen()) return;  // kept in the queue, resent after reconnect
  auto delay = agent_.batchDelay();
  // Control/High frames go out at once, ahead of whatever waits in the batch.
  if (urgent || (delay.count() == 0 && batch_.empty())) return sendNow(frame);
  // MEDIUM/LOW quality: frames to this peer leave together, once per batch delay.
  if (batchBytes_ + frame.size() > kMaxBatchBytes) flushBatch();
  batch_.push_back(frame);
  batchBytes_ += frame.size() + 1;
  if (!batchTimer_.active())
    batchTimer_ = agent_.loop().addTimer(std::max(delay, std::chrono::milliseconds(1)), [this] {
      batchTimer_ = rtc::IoLoop::Timer();
      flushBatch();
      pump();
      return false;
    });
}

void PeerLink::sendNow(const std::string& text) {
  if (!channel_ || !channel_->isOpen()) return;
  try {
    const auto& c = agent_.config().bandwidth.compression;
    if (c.enabled && text.size() > c.threshold && agent_.qualityMode() == QualityMode::Low) {
      if (auto z = compressFrame(text, c.level)) {
        channel_->send(std::span(reinterpret_cast<const std::byte*>(z->data()), z->size()));
        agent_.compressed(text.size(), z->size());
        return;
      }
    }
    channel_->send(text);
  } catch (const Error&) {
    // The channel closed under us: messages stay unacknowledged and are resent later.
  }
}

void PeerLink::flushBatch() {
  if (batch_.empty()) return;
  if (batch_.size() == 1) {
    sendNow(batch_.front());
  } else {
    // Each frame is a JSON object, so joining them makes a valid JSON array.
    std::string text = "{\"t\":\"batch\",\"f\":[";
    for (std::size_t i = 0; i < batch_.size(); ++i) {
      if (i) text += ',';
      text += batch_[i];
    }
    text += "]}";
    sendNow(text);
    agent_.batchSent(batch_.size());
  }
  batch_.clear();
  batchBytes_ = 0;
}

void PeerLink::sendHello() {
  if (!channel_ || !channel_->isOpen()) return;
  helloSent_ = true;
  nlohmann::json lanes = nlohmann::json::array();
  for (const auto& r : received_) lanes.push_back(r.delivered);
  auto normal = static_cast<int>(MessagePriority::Normal);
  if (helloSignature_.empty()) {
    const auto& hook = agent_.testHooks.helloFingerprint;
    helloFingerprint_ = hook.empty() ? pc_->localFingerprint() : hook;
    helloSignature_ = agent_.identity().sign(
        helloSigningInput(agent_.id(), agent_.incarnation(), helloFingerprint_, peerId_));
  }
  transmit(nlohmann::json{{"t", "hello"},
                          {"recv", received_[normal].delivered},
                          {"lanes", lanes},
                          {"inc", agent_.incarnation()},
                          {"peer", peerIncarnation_},
                          {"fp", helloFingerprint_},
                          {"sig", helloSignature_}}
               .dump(),
           true);
}

void PeerLink::refuse(const char* reason) {
  refused_ = true;  // the rest of this connection's frames are ignored
  ++authFailures_;
  agent_.witness("peer_auth_failed", peerId_,
                 {{"reason", reason}, {"consecutive_failures", authFailures_}});
  // Not from inside the channel's own callback: tear down on the next turn of the loop. Counted
  // like a failed attempt, so a peer that never proves itself ends up unreachable.
  std::weak_ptr<PeerLink> weak = weak_from_this();
  agent_.loop().post([weak, sid = sid_] {
    auto self = weak.lock();
    if (!self || self->sid_ != sid || self->intentional_) return;
    // The attempt ends here: its slot and its timeout go with it.
    self->releaseAttemptSlot();
    self->attemptTimer_.cancel();
    self->closeConnection();
    self->failedAttempts_ = self->authFailures_;
    self->downSince_ = std::chrono::steady_clock::now();
    self->retryOrGiveUp("peer failed authentication " + std::to_string(self->failedAttempts_) +
                        " times");
  });
}

void PeerLink::peerRestarted(std::uint64_t incarnation) {
  // The new process delivered nothing of ours and numbers its own messages from 1 in every lane.
  // Renumbering what it has not acknowledged from 1 is what lets it take them: it would
  // otherwise wait for sequence 1 forever while we resend from the old numbering. Waiting
  // messages get their sequences on send, after these.
  std::uint64_t deliveredFromOld = 0;
  for (const auto& r : received_) deliveredFromOld += r.delivered;
  agent_.witness("peer_restarted", peerId_,
                 {{"unacknowledged", queue_.messages()},
                  {"waiting", queue_.waitingMessages()},
                  {"delivered_from_old", deliveredFromOld}});
  received_ = {};
  ackTimer_.cancel();
  queue_.renumber([&](int lane, const SendQueue::Sent& s) {
    return msgFrame(s.seq, s.hops, lane, serialize(s.message));
  });
  peerIncarnation_ = incarnation;
}

void PeerLink::resendSent() {
  for (int lane = 0; lane < kMessagePriorities; ++lane)
    for (const auto& s : queue_.sent(lane)) transmit(s.frame, urgentLane(lane));
}

void PeerLink::sendAcks() {
  for (int lane = 0; lane < kMessagePriorities; ++lane) {
    auto& r = received_[lane];
    if (r.delivered <= r.ackSent) continue;
    r.ackSent = r.delivered;
    nlohmann::json ack = {{"t", "ack"}, {"seq", r.delivered}};
    if (lane != static_cast<int>(MessagePriority::Normal)) ack["l"] = lane;
    transmit(ack.dump(), urgentLane(lane));
  }
}

std::uint64_t PeerLink::takeAck(int lane) {
  auto& r = received_[lane];
  if (r.delivered <= r.ackSent) return 0;
  r.ackSent = r.delivered;
  if (std::all_of(received_.begin(), received_.end(),
                  [](const auto& other) { return other.delivered <= other.ackSent; }))
    ackTimer_.cancel();
  return r.delivered;
}

void PeerLink::scheduleAck() {
  bool owed = false;
  for (const auto& r : received_) {
    if (r.delivered - r.ackSent >= kAckEvery) {
      ackTimer_.cancel();
      sendAcks();
      return;
    }
    owed = owed || r.delivered > r.ackSent;
  }
  if (!owed || ackTimer_.active()) return;  // nothing owed: a reply already carried the ack
  ackTimer_ = agent_.loop().addTimer(kAckDelay, [this] {
    ackTimer_ = rtc::IoLoop::Timer();
    sendAcks();
    return false;
  });
}

void PeerLink::acknowledged(int lane, std::uint64_t seq) {
  if (queue_.acknowledge(lane, seq) > 0) agent_.spaceFreed();
}

void PeerLink::onChannelFrame(const std::string& text) {
  for (auto& frame : splitLinkFrames(text)) handleFrame(frame);  // batches split transparently
}

void PeerLink::onBinaryFrame(std::span<const std::byte> data) {
  std::string text;
  try {
    // A batch holds at most kMaxBatchBytes of frames, or one frame up to maxMessageBytes.
    text = decompressFrame(data, agent_.config().maxMessageBytes + kMaxBatchBytes + 64);
  } catch (const Error& e) {
    // What it carried is never acknowledged: the gap makes us ask for a resend.
    agent_.witness("ifmessage_rejected", peerId_, {{"reason", e.what()}});
    return;
  }
  onChannelFrame(text);
}

void PeerLink::handleFrame(nlohmann::json& frame) {
  if (refused_) return;
  auto frameType = linkFrameType(frame);
  if (!frameType) {
    agent_.witness("ifmessage_rejected", peerId_, {{"reason", "malformed frame"}});
    return;
  }
  const std::string& type = *frameType;
  auto seqOf = [&](const char* key) { return linkFrameSeq(frame, key); };
  auto lane = linkFrameLane(frame);
  if (!lane) {
    agent_.witness("ifmessage_rejected", peerId_, {{"reason", "bad priority lane"}});
    return;
  }
  if (type == "hello") {
    auto recv = seqOf("recv");
    if (!recv) return;
    if (!peerAuthenticated_) {
      if (const char* reason =
              verifyHello(frame, agent_.peerKey(peerId_), peerId_, agent_.id(), remoteFingerprint_))
        return refuse(reason);
      peerAuthenticated_ = true;
      authFailures_ = 0;
    }
    if (auto inc = seqOf("inc"); inc && *inc != 0) {
      // Our hello precedes all we send on a connection, so peerIncarnation_ is known before
      // anything from that process is delivered: a different one is a restart.
      if (peerIncarnation_ != 0 && *inc != peerIncarnation_)
        peerRestarted(*inc);
      else
        peerIncarnation_ = *inc;
    }
    if (!helloSent_) sendHello();  // before any resend: the peer learns who we are first
    // Counts of what an earlier process of ours sent say nothing about this one's messages.
    auto about = seqOf("peer");
    if (!about || *about == agent_.incarnation()) {
      if (auto lanes = linkFrameLanes(frame)) {
        for (int l = 0; l < kMessagePriorities; ++l) acknowledged(l, (*lanes)[l]);
      } else {
        acknowledged(static_cast<int>(MessagePriority::Normal), *recv);
      }
    }
    peerHelloSeen_ = true;
    resendSent();
    pump();
  } else if (!peerAuthenticated_) {
    // The peer says hello before anything else: nothing precedes its proof of identity.
    agent_.witness("ifmessage_rejected", peerId_, {{"reason", "unauthenticated_link"}});
  } else if (type == "ack") {
    auto seq = seqOf("seq");
    if (!seq) return;
    acknowledged(*lane, *seq);
  } else if (type == "msg" && frame.contains("m")) {
    if (auto ack = seqOf("a")) acknowledged(*lane, *ack);
    IFMessage message;
    try {
      // The frame's size was bounded by the channel's max-message-size; parse it only once.
      message = ifmessageFromJsonValue(std::move(frame["m"]));  // the frame is ours to take
    } catch (const Error& e) {
      agent_.witness("ifmessage_rejected", peerId_, {{"reason", e.what()}});
      return;
    }
    auto linkSeq = seqOf("s");
    int hops = linkFrameHops(frame);
    if (!linkSeq) {
      agent_.witness("ifmessage_rejected", peerId_, {{"reason", "frame without link sequence"}});
      return;
    }
    // A message that has not been forwarded must come from the neighbour that sent it.
    if (hops == 0 && message.source != peerId_) {
      agent_.witness(
          "ifmessage_rejected", peerId_,
          {{"reason", "source does not match the sending peer"}, {"message_id", message.id}});
      return;
    }
    auto& r = received_[*lane];
    if (*linkSeq <= r.delivered) {  // a resend we already took
      scheduleAck();
      return;
    }
    if (*linkSeq != r.delivered + 1) {
      // Something went missing: ask for a resend from where we are (once per gap).
      if (r.resyncRequestedAt != r.delivered) {
        r.resyncRequestedAt = r.delivered;
        sendHello();
      }
      return;
    }
    // Counted before delivery, so a reply sent from the message callback carries its ack.
    r.delivered = *linkSeq;
    if (!agent_.receive(message, hops, peerId_)) {
      // Held back (the next hop's queue is full; no callback ran): unacknowledged, so the peer
      // keeps it and resends it after our next hello; later frames of the lane wait for it too.
      r.delivered = *linkSeq - 1;
      r.resyncRequestedAt = r.delivered;
      return;
    }
    scheduleAck();
  } else {
    agent_.witness("ifmessage_rejected", peerId_, {{"reason", "unknown frame type " + type}});
  }
}

void PeerLink::failAll(const std::string& reason) {
  auto pending = queue_.takeAll();
  agent_.spaceFreed();
  for (auto& m : pending) agent_.undeliverable(m, reason);
}

}  // namespace ifmesh::detail
