#include "mesh/peer_link.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "ifmesh/error.hpp"
#include "mesh/agent_core.hpp"
#include "mesh/backoff.hpp"
#include "mesh/link_auth.hpp"
#include "rtc/sdp.hpp"

namespace ifmesh::detail {

namespace {
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
    : agent_(agent),
      peerId_(std::move(peerId)),
      session_(sessionConfig(), [this](IFMessage&& message, int hops) {
        return agent_.receive(message, hops, peerId_);
      }) {}

PeerLink::~PeerLink() {
  releaseAttemptSlot();
  closeConnection();
}

std::optional<std::size_t> PeerLink::bufferedAmount() const {
  if (!channel_ || !channel_->isOpen()) return std::nullopt;
  // Messages held back by the high-water mark are as much a backlog as the channel's own.
  return channel_->bufferedAmount() + session_.backlogBytes();
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
  init.negotiatedId = link::kChannelStreamId;  // negotiated out of band: no DCEP round trip
  channel_ = pc_->createDataChannel(link::kChannelLabel, init);
  remoteFingerprint_.clear();
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
      self->onChannelText(*text);
    else if (auto* binary = std::get_if<Binary>(&m))
      self->onChannelBinary(*binary);
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
  session_.close();
  sessionTimer_.cancel();
  sessionTimerDue_.reset();
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
  openSession();  // the peer's hello may have opened it already
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
                   {{"reason", why}, {"unacknowledged", session_.unacknowledged()}});
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

link::SessionConfig PeerLink::sessionConfig() const {
  link::SessionConfig c;
  c.ownId = agent_.id();
  c.peerId = peerId_;
  c.incarnation = agent_.incarnation();
  c.maxMessageBytes = agent_.config().maxMessageBytes;
  c.queue = agent_.config().bandwidth.queue;
  c.ackEvery = kAckEvery;
  c.ackDelay = kAckDelay;
  c.peerKey = [this] { return agent_.peerKey(peerId_); };
  return c;
}

void PeerLink::configureSession() {
  session_.setBatchDelay(agent_.batchDelay());
  const auto& c = agent_.config().bandwidth.compression;
  session_.setCompression(c.enabled && agent_.qualityMode() == QualityMode::Low, c.threshold,
                          c.level);
}

void PeerLink::openSession() {
  if (session_.isOpen() || !channel_ || !pc_) return;
  link::Connection c;
  c.localFingerprint = pc_->localFingerprint();
  c.helloSignature = agent_.identity().sign(
      helloSigningInput(agent_.id(), agent_.incarnation(), c.localFingerprint, peerId_));
  c.remoteFingerprint = remoteFingerprint_;
  c.channelFull = [this](std::size_t pending) {
    return !channel_ ||
           channel_->bufferedAmount() + pending >= agent_.config().bandwidth.queue.channelHighWater;
  };
  configureSession();
  session_.open(std::chrono::steady_clock::now(), std::move(c));
  drive();
}

void PeerLink::drive() {
  for (auto& out : session_.takeOutput()) {
    if (!channel_ || !channel_->isOpen()) break;  // kept in the session, resent after reconnect
    try {
      if (out.binary)
        channel_->send(
            std::span(reinterpret_cast<const std::byte*>(out.bytes.data()), out.bytes.size()));
      else
        channel_->send(out.bytes);
    } catch (const Error&) {
      break;  // the channel closed under us: unacknowledged messages are resent later
    }
  }
  for (auto& e : session_.takeEvents()) {
    if (std::holds_alternative<link::Authenticated>(e)) {
      authFailures_ = 0;
    } else if (auto* failed = std::get_if<link::AuthFailed>(&e)) {
      refuse(failed->reason);
    } else if (auto* rejected = std::get_if<link::Rejected>(&e)) {
      nlohmann::json meta = {{"reason", rejected->reason}};
      if (!rejected->messageId.empty()) meta["message_id"] = rejected->messageId;
      agent_.witness("ifmessage_rejected", peerId_, std::move(meta));
    } else if (std::holds_alternative<link::Released>(e)) {
      agent_.spaceFreed();
    } else if (auto* restarted = std::get_if<link::PeerRestarted>(&e)) {
      agent_.witness("peer_restarted", peerId_,
                     {{"unacknowledged", restarted->unacknowledged},
                      {"waiting", restarted->waiting},
                      {"delivered_from_old", restarted->deliveredFromOld}});
    } else if (auto* batch = std::get_if<link::BatchSent>(&e)) {
      agent_.batchSent(batch->frames);
    } else if (auto* z = std::get_if<link::Compressed>(&e)) {
      agent_.compressed(z->before, z->after);
    }
  }
  armSessionTimer();
}

void PeerLink::armSessionTimer() {
  auto due = session_.nextDeadline();
  if (due == sessionTimerDue_ && (!due || sessionTimer_.active())) return;
  sessionTimer_.cancel();
  sessionTimerDue_ = due;
  if (!due) return;
  auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(
      *due - std::chrono::steady_clock::now());
  sessionTimer_ = agent_.loop().addTimer(std::max(delay, std::chrono::milliseconds(1)), [this] {
    sessionTimer_ = rtc::IoLoop::Timer();
    sessionTimerDue_.reset();
    configureSession();
    session_.tick(std::chrono::steady_clock::now());
    drive();
    return false;
  });
}

bool PeerLink::enqueue(const IFMessage& message, int hops) {
  configureSession();
  auto result = session_.enqueue(std::chrono::steady_clock::now(), message, hops);
  if (!result.taken) return false;
  if (agent_.witnessing())
    agent_.witness("ifmessage_sent", peerId_,
                   {{"message_id", message.id},
                    {"sequence_num", message.sequence},
                    {"destination", message.destination},
                    {"priority", toString(message.priority)},
                    {"hops", hops},
                    {"buffer_amount", channel_ ? channel_->bufferedAmount() : 0}});
  drive();
  // Reported only now that the new message is queued: the callback may send again.
  for (const auto& d : result.dropped) agent_.dropped(d, peerId_);
  return true;
}

bool PeerLink::hasRoomToForward() const {
  return session_.hasRoomToForward();
}

void PeerLink::resumeReceiving() {
  session_.resumeReceiving(std::chrono::steady_clock::now());
  drive();
}

void PeerLink::pump() {
  configureSession();
  session_.pump(std::chrono::steady_clock::now());
  drive();
}

void PeerLink::onChannelText(const std::string& text) {
  openSession();  // the peer's hello may arrive before our open event
  configureSession();
  session_.receive(std::chrono::steady_clock::now(), text);
  drive();
}

void PeerLink::onChannelBinary(std::span<const std::byte> data) {
  openSession();
  configureSession();
  session_.receiveBinary(std::chrono::steady_clock::now(), data);
  drive();
}

void PeerLink::refuse(const std::string& reason) {
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

void PeerLink::failAll(const std::string& reason) {
  auto pending = session_.takeAll();
  agent_.spaceFreed();
  for (auto& m : pending) agent_.undeliverable(m, reason);
}

}  // namespace ifmesh::detail
