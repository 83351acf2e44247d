#include "mesh/peer_link.hpp"

#include <nlohmann/json.hpp>

#include "ifmesh/error.hpp"
#include "mesh/agent_core.hpp"
#include "mesh/backoff.hpp"
#include "mesh/link_frame.hpp"

namespace ifmesh::detail {

namespace {
constexpr const char* kChannelLabel = "if-agent-messaging";
constexpr std::uint16_t kChannelId = 0;  // negotiated out of band: no DCEP round trip
constexpr std::uint64_t kAckEvery = 64;
constexpr std::chrono::milliseconds kAckDelay{5};
}  // namespace

PeerLink::PeerLink(AgentCore& agent, std::string peerId)
    : agent_(agent), peerId_(std::move(peerId)) {}

PeerLink::~PeerLink() {
  closeConnection();
}

std::optional<std::size_t> PeerLink::bufferedAmount() const {
  if (!channel_ || !channel_->isOpen()) return std::nullopt;
  return channel_->bufferedAmount() + batchBytes_;
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
  attempt();
}

void PeerLink::attempt() {
  if (intentional_) return;
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
  DataChannelInit init;
  init.negotiatedId = kChannelId;
  channel_ = pc_->createDataChannel(kChannelLabel, init);
  peerHelloSeen_ = false;
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
  channel_->onMessage([weak, sid](Message&& m) {
    auto self = weak.lock();
    if (!self || self->sid_ != sid) return;
    if (auto* text = std::get_if<std::string>(&m)) self->onChannelFrame(*text);
  });
}

void PeerLink::handleOffer(std::uint64_t sid, const std::string& sdp) {
  intentional_ = false;
  createConnection(false, sid);  // the offerer's session id names this connection
  try {
    pc_->setRemoteDescription({Description::Type::Offer, sdp});
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
  reconnectTimer_.cancel();
  attemptTimer_.cancel();
  closeConnection();
  setState(PeerState::Disconnected);
  agent_.witness("peer_disconnected", peerId_, {{"reason", "peer said bye"}});
}

void PeerLink::disconnect() {
  intentional_ = true;
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
  batch_.clear();  // still in unacked_: resent after the next hello
  batchBytes_ = 0;
}

void PeerLink::onChannelOpen() {
  attemptTimer_.cancel();
  reconnectTimer_.cancel();
  bool reconnected = everConnected_ || failedAttempts_ > 0;
  everConnected_ = true;
  setState(PeerState::Connected);
  if (reconnected) {
    auto downtime = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - downSince_);
    agent_.witness("peer_reconnected_successfully", peerId_,
                   {{"total_attempts", failedAttempts_ + 1},
                    {"total_downtime_ms", downtime.count()},
                    {"strategy", useRelay_ ? "turn" : "direct"},
                    {"failed_attempts", failedAttempts_}});
  } else {
    agent_.witness("peer_connected", peerId_, {{"strategy", useRelay_ ? "turn" : "direct"}});
  }
  failedAttempts_ = 0;
  sendHello();
}

void PeerLink::onTransportDown(const std::string& why) {
  if (intentional_ || state_ == PeerState::Unreachable) return;
  bool wasConnected = state_ == PeerState::Connected;
  closeConnection();
  if (wasConnected) {
    downSince_ = std::chrono::steady_clock::now();
    agent_.witness("peer_disconnected", peerId_,
                   {{"reason", why}, {"unacknowledged", unacked_.size()}});
    setState(PeerState::Reconnecting);
    attemptTimer_.cancel();
    failedAttempts_ = 0;
    scheduleReconnect();
  }
  // A failure during an attempt is handled by the attempt's own timeout, so one failed attempt
  // is counted once.
}

void PeerLink::attemptTimedOut() {
  if (intentional_ || state_ == PeerState::Connected) return;
  closeConnection();
  if (!everConnected_ && failedAttempts_ == 0) downSince_ = std::chrono::steady_clock::now();
  ++failedAttempts_;
  agent_.witness(
      "reconnection_attempt_failed", peerId_,
      {{"attempt_number", failedAttempts_}, {"strategy", useRelay_ ? "turn" : "direct"}});
  if (failedAttempts_ >= agent_.config().healing.maxRetries) {
    setState(PeerState::Unreachable);
    agent_.witness("peer_permanently_unreachable", peerId_, {{"failed_attempts", failedAttempts_}});
    failAll("peer permanently unreachable after " + std::to_string(failedAttempts_) + " attempts");
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

void PeerLink::enqueue(const IFMessage& message, int hops) {
  // The link sequence ("s") is this hop's; the IFMessage's own sequence is end to end.
  std::uint64_t linkSeq = nextSeq_;
  nlohmann::json frame = {{"t", "msg"}, {"s", linkSeq}, {"h", hops}, {"m", toJson(message)}};
  std::string text = frame.dump();
  if (text.size() > agent_.config().maxMessageBytes)
    throw Error(Errc::MessageTooLarge,
                "IFMessage of " + std::to_string(text.size()) + " bytes exceeds the " +
                    std::to_string(agent_.config().maxMessageBytes) + "-byte limit");
  // The peer drops deeper frames unacknowledged, which would stall every later message.
  if (jsonNestingDepth(text, kMaxLinkFrameDepth) > kMaxLinkFrameDepth)
    throw Error(Errc::InvalidArgument,
                "IFMessage nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  ++nextSeq_;
  unacked_.push_back({linkSeq, text, message});
  // The peer's hello (which may arrive before our open event) is what makes sending safe.
  if (peerHelloSeen_) transmit(text);
  agent_.witness("ifmessage_sent", peerId_,
                 {{"message_id", message.id},
                  {"sequence_num", message.sequence},
                  {"destination", message.destination},
                  {"hops", hops},
                  {"buffer_amount", channel_ ? channel_->bufferedAmount() : 0}});
}

void PeerLink::transmit(const std::string& frame) {
  if (!channel_ || !channel_->isOpen()) return;  // kept in unacked_, resent after reconnect
  auto delay = agent_.batchDelay();
  if (delay.count() == 0 && batch_.empty()) return sendNow(frame);
  // MEDIUM/LOW quality: frames to this peer leave together, once per batch delay.
  if (batchBytes_ + frame.size() > kMaxBatchBytes) flushBatch();
  batch_.push_back(frame);
  batchBytes_ += frame.size() + 1;
  if (!batchTimer_.active())
    batchTimer_ = agent_.loop().addTimer(std::max(delay, std::chrono::milliseconds(1)), [this] {
      batchTimer_ = rtc::IoLoop::Timer();
      flushBatch();
      return false;
    });
}

void PeerLink::sendNow(const std::string& text) {
  if (!channel_ || !channel_->isOpen()) return;
  try {
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
  transmit(nlohmann::json{{"t", "hello"}, {"recv", delivered_}}.dump());
}

void PeerLink::resendUnacked() {
  for (const auto& p : unacked_) transmit(p.frame);
}

void PeerLink::scheduleAck() {
  if (delivered_ - ackSent_ >= kAckEvery) {
    ackSent_ = delivered_;
    ackTimer_.cancel();
    transmit(nlohmann::json{{"t", "ack"}, {"seq", delivered_}}.dump());
    return;
  }
  if (ackTimer_.active()) return;
  ackTimer_ = agent_.loop().addTimer(kAckDelay, [this] {
    ackTimer_ = rtc::IoLoop::Timer();
    if (delivered_ > ackSent_) {
      ackSent_ = delivered_;
      transmit(nlohmann::json{{"t", "ack"}, {"seq", delivered_}}.dump());
    }
    return false;
  });
}

void PeerLink::onChannelFrame(const std::string& text) {
  for (auto& frame : splitLinkFrames(text)) handleFrame(frame);  // batches split transparently
}

void PeerLink::handleFrame(nlohmann::json& frame) {
  auto frameType = linkFrameType(frame);
  if (!frameType) {
    agent_.witness("ifmessage_rejected", peerId_, {{"reason", "malformed frame"}});
    return;
  }
  const std::string& type = *frameType;
  auto seqOf = [&](const char* key) { return linkFrameSeq(frame, key); };
  if (type == "hello") {
    auto recv = seqOf("recv");
    if (!recv) return;
    while (!unacked_.empty() && unacked_.front().seq <= *recv) unacked_.pop_front();
    peerHelloSeen_ = true;
    resendUnacked();
  } else if (type == "ack") {
    auto seq = seqOf("seq");
    if (!seq) return;
    while (!unacked_.empty() && unacked_.front().seq <= *seq) unacked_.pop_front();
  } else if (type == "msg" && frame.contains("m")) {
    IFMessage message;
    try {
      // The frame's size was bounded by the channel's max-message-size; parse it only once.
      message = ifmessageFromJsonValue(frame["m"]);
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
    if (*linkSeq <= delivered_) {  // a resend we already took
      scheduleAck();
      return;
    }
    if (*linkSeq != delivered_ + 1) {
      // Something went missing: ask for a resend from where we are (once per gap).
      if (resyncRequestedAt_ != delivered_) {
        resyncRequestedAt_ = delivered_;
        sendHello();
      }
      return;
    }
    delivered_ = *linkSeq;
    agent_.receive(message, hops, peerId_);
    scheduleAck();
  } else {
    agent_.witness("ifmessage_rejected", peerId_, {{"reason", "unknown frame type " + type}});
  }
}

void PeerLink::failAll(const std::string& reason) {
  auto pending = std::move(unacked_);
  unacked_.clear();
  for (auto& p : pending) agent_.undeliverable(p.message, reason);
}

}  // namespace ifmesh::detail
