#include "mesh/peer_link.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "ifmesh/error.hpp"
#include "mesh/backoff.hpp"
#include "mesh/link_auth.hpp"
#include "mesh/link_connection.hpp"
#include "mesh/link_host.hpp"

namespace ifmesh::detail {

namespace {}  // namespace

PeerLink::PeerLink(LinkHost& agent, std::string peerId)
    : agent_(agent),
      peerId_(std::move(peerId)),
      delivery_(
          agent, peerId_, [this] { authFailures_ = 0; },
          [this](const std::string& reason) { refuse(reason); }) {}

PeerLink::~PeerLink() {
  releaseAttemptSlot();
  closeConnection();
}

std::optional<std::size_t> PeerLink::bufferedAmount() const {
  if (!connection_ || !connection_->isOpen()) return std::nullopt;
  // Messages held back by the high-water mark are as much a backlog as the channel's own.
  return connection_->bufferedAmount() + delivery_.backlogBytes();
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
  attemptTimer_ = agent_.loop().addTimer(agent_.linkSettings().healing.attemptTimeout, [this] {
    attemptTimedOut();
    return false;
  });
  if (isOfferer())
    offer();
  else
    agent_.signal(peerId_, "connect-request", nlohmann::json::object());
}

void PeerLink::offer() {
  createConnection(useRelay_,
                   LinkConnection::newSid((std::uint64_t{agent_.rng()()} << 20) ^ agent_.rng()()));
  connection_->offer();
}

void PeerLink::createConnection(bool relay, std::uint64_t sid) {
  closeConnection();
  ++connectionsCreated_;
  // Connection callbacks run on the loop already; re-post so that we never tear a connection
  // down from inside its own callback. Each is for this attempt only (its sid).
  std::weak_ptr<PeerLink> weak = weak_from_this();
  auto onLoop = [weak, sid, &loop = agent_.loop()](auto fn) {
    return [weak, sid, &loop, fn](auto&&... args) {
      loop.post([weak, sid, fn, args...] {
        if (auto self = weak.lock(); self && self->sid_ == sid) fn(*self, args...);
      });
    };
  };
  auto now = [weak, sid](auto fn) {
    return [weak, sid, fn](auto&&... args) {
      if (auto self = weak.lock(); self && self->sid_ == sid) fn(*self, args...);
    };
  };
  LinkConnection::Events events;
  events.open = onLoop([](PeerLink& self) { self.onChannelOpen(); });
  events.down = onLoop([](PeerLink& self, std::string why) { self.onTransportDown(why); });
  events.drained = onLoop([](PeerLink& self) { self.pump(); });
  events.text = now([](PeerLink& self, const std::string& text) { self.onChannelText(text); });
  events.binary =
      now([](PeerLink& self, std::span<const std::byte> data) { self.onChannelBinary(data); });
  sid_ = sid;
  connection_ = std::make_unique<LinkConnection>(
      agent_.rtcConfig(relay), sid,
      [this](const char* type, nlohmann::json body) {
        agent_.signal(peerId_, type, std::move(body));
      },
      std::move(events),
      // Waiting Normal/Low messages follow as soon as the channel drains below half the
      // high-water mark.
      agent_.linkSettings().queue.channelHighWater / 2);
}

void PeerLink::handleOffer(std::uint64_t sid, const std::string& sdp) {
  intentional_ = false;
  createConnection(false, sid);  // the offerer's session id names this connection
  try {
    connection_->answer(sdp);
  } catch (const Error& e) {
    agent_.witness("ifmessage_rejected", peerId_,
                   {{"reason", std::string("bad offer: ") + e.what()}});
    closeConnection();
    return;
  }
  if (!attemptTimer_.active())
    attemptTimer_ = agent_.loop().addTimer(agent_.linkSettings().healing.attemptTimeout, [this] {
      attemptTimedOut();
      return false;
    });
}

void PeerLink::handleAnswer(std::uint64_t sid, const std::string& sdp) {
  if (!connection_ || sid != sid_) return;  // an answer to an attempt we abandoned
  try {
    connection_->applyAnswer(sdp);
  } catch (const Error& e) {
    agent_.witness("ifmessage_rejected", peerId_,
                   {{"reason", std::string("bad answer: ") + e.what()}});
  }
}

void PeerLink::handleCandidate(std::uint64_t sid, const std::string& candidate,
                               const std::string& mid) {
  if (connection_ && sid == sid_) connection_->addCandidate(candidate, mid);
}

void PeerLink::handleConnectRequest() {
  if (!isOfferer() || intentional_) return;
  if (state_ == PeerState::Connected && connection_ && connection_->isOpen()) {
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
  if (!connection_) return;
  closeConnection();
  onTransportDown("connection dropped");
}

void PeerLink::closeConnection() {
  connection_.reset();
  delivery_.detach();
}

void PeerLink::onChannelOpen() {
  releaseAttemptSlot();
  attemptTimer_.cancel();
  reconnectTimer_.cancel();
  bool reconnected = everConnected_ || failedAttempts_ > 0;
  everConnected_ = true;
  setState(PeerState::Connected);
  nlohmann::json link = {{"strategy", useRelay_ ? "turn" : "direct"}};
  if (agent_.witnessing() && connection_) {
    if (auto pair = connection_->stats().selectedPair) {  // which path ICE chose, e.g. host to host
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
  openDelivery();  // the peer's hello may have opened it already
}

void PeerLink::onTransportDown(std::string why) {
  if (intentional_ || state_ == PeerState::Unreachable) return;
  if (connection_)
    if (auto reason = connection_->stats().failureReason; !reason.empty())
      why += " (" + reason + ")";
  bool wasConnected = state_ == PeerState::Connected;
  closeConnection();
  if (wasConnected) {
    downSince_ = std::chrono::steady_clock::now();
    agent_.witness("peer_disconnected", peerId_,
                   {{"reason", why}, {"unacknowledged", delivery_.unacknowledged()}});
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
  if (failedAttempts_ >= agent_.linkSettings().healing.maxRetries) {
    setState(PeerState::Unreachable);
    agent_.witness("peer_permanently_unreachable", peerId_, {{"failed_attempts", failedAttempts_}});
    failAll(givingUpReason);
    return;
  }
  setState(PeerState::Reconnecting);
  scheduleReconnect();
}

void PeerLink::scheduleReconnect() {
  const auto& healing = agent_.linkSettings().healing;
  if (!useRelay_ && failedAttempts_ >= healing.turnAfterFailures &&
      agent_.linkSettings().turnAvailable) {
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

bool PeerLink::enqueue(const IFMessage& message, int hops) {
  return delivery_.enqueue(message, hops);
}

void PeerLink::resumeReceiving() {
  delivery_.resumeReceiving();
}

void PeerLink::pump() {
  delivery_.pump();
}

void PeerLink::sendRaw(const std::string& text) {
  if (connection_ && connection_->isOpen()) connection_->sendText(text);
}

void PeerLink::openDelivery() {
  if (connection_) delivery_.attach(*connection_);
}

void PeerLink::onChannelText(const std::string& text) {
  openDelivery();  // the peer's hello may arrive before our open event
  delivery_.onText(text);
}

void PeerLink::onChannelBinary(std::span<const std::byte> data) {
  openDelivery();
  delivery_.onBinary(data);
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
  delivery_.failAll(reason);
}

}  // namespace ifmesh::detail
