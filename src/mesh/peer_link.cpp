#include "mesh/peer_link.hpp"

#include <nlohmann/json.hpp>

#include "ifmesh/error.hpp"
#include "mesh/link_connection.hpp"
#include "mesh/link_host.hpp"
#include "mesh/wire_id.hpp"

namespace ifmesh::detail {

PeerLink::PeerLink(LinkHost& agent, std::string peerId)
    : agent_(agent),
      peerId_(std::move(peerId)),
      delivery_(
          agent, peerId_, [this] { authFailures_ = 0; },
          [this](const std::string& reason) { refuse(reason); }),
      healing_(agent, peerId_, [this] { attempt(); }),
      attemptSlot_(agent) {}

PeerLink::~PeerLink() {
  attemptSlot_.release();
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
  endByeDrain();
  intentional_ = peerSaidBye_ = false;
  if (state_ == PeerState::Connected) return;
  // Restarting would tear down an attempt in flight at each directory change of a forming mesh.
  if (attemptTimer_.active() || healing_.retryScheduled() || attemptSlot_.waiting()) return;
  attempt();
}

void PeerLink::resumeAttempt() {
  attemptSlot_.resumed();
  attempt();
}

void PeerLink::attempt() {
  if (intentional_) return;
  if (isOfferer() && !attemptSlot_.take(shared_from_this())) return;
  healing_.attemptStarted();
  armAttemptTimer();
  if (isOfferer())
    offer();
  else
    agent_.signal(peerId_, "connect-request", nlohmann::json::object());
}

void PeerLink::offer() {
  createConnection(healing_.relay(), randomWireId(agent_.rng()));
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
  endByeDrain();
  intentional_ = peerSaidBye_ = false;
  // The peer started over (restarted, or lost what we still hold): ours is down from now.
  if (state_ == PeerState::Connected) onTransportDown("peer offered a new connection");
  createConnection(healing_.relayForAnswer(), sid);  // the offerer's sid names it
  try {
    connection_->answer(sdp);
  } catch (const Error& e) {
    agent_.witness("ifmessage_rejected", peerId_,
                   {{"reason", std::string("bad offer: ") + e.what()}});
    closeConnection();
    return;
  }
  if (!attemptTimer_.active()) armAttemptTimer();
}

void PeerLink::armAttemptTimer() {
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
  endByeDrain();
  if (!isOfferer()) return;
  // After our own disconnect the request is refused; after the peer's bye it is a new process
  // of the peer (or the same one changing its mind) asking to be linked again.
  if (intentional_ && !peerSaidBye_) return;
  intentional_ = peerSaidBye_ = false;
  if (state_ == PeerState::Connected && connection_ && connection_->isOpen()) {
    // The peer lost the connection we still believe in: start over.
    onTransportDown("peer requested a new connection");
    return;
  }
  healing_.cancel();
  attemptTimer_.cancel();
  attempt();
}

void PeerLink::handleBye() {
  peerSaidBye_ = true;
  if (!connection_ || state_ != PeerState::Connected) return stop("peer said bye");
  // The bye comes through signaling and can overtake the peer's last frames (the head of its
  // witness log at the close), which are still on the connection's path. The link stops healing
  // now and reads on until the transport closes: the peer's ABORT follows its frames on that
  // path. kByeDrain bounds the wait should the ABORT be lost.
  intentional_ = true;
  attemptSlot_.release();
  healing_.cancel();
  attemptTimer_.cancel();
  byeDrain_ = agent_.loop().addTimer(kByeDrain, [this] {
    stop("peer said bye");
    return false;
  });
}

void PeerLink::endByeDrain() {
  if (byeDrain_.active()) stop("peer said bye");
}

void PeerLink::disconnect() {
  peerSaidBye_ = false;
  agent_.signal(peerId_, "bye", nlohmann::json::object());
  stop("local disconnect");
}

void PeerLink::stop(const char* reason) {
  intentional_ = true;
  byeDrain_.cancel();
  attemptSlot_.release();
  healing_.cancel();
  attemptTimer_.cancel();
  closeConnection();
  setState(PeerState::Disconnected);
  agent_.witness("peer_disconnected", peerId_, {{"reason", reason}});
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
  attemptSlot_.release();
  attemptTimer_.cancel();
  setState(PeerState::Connected);
  healing_.connected(agent_.witnessing() && connection_ ? connection_->selectedPath()
                                                        : nlohmann::json::object());
  openDelivery();  // the peer's hello may have opened it already
}

void PeerLink::onTransportDown(std::string why) {
  if (byeDrain_.active()) return stop("peer said bye");
  if (intentional_ || state_ == PeerState::Unreachable) return;
  if (connection_)
    if (auto reason = connection_->stats().failureReason; !reason.empty())
      why += " (" + reason + ")";
  bool wasConnected = state_ == PeerState::Connected;
  closeConnection();
  if (wasConnected) {
    agent_.witness("peer_disconnected", peerId_,
                   {{"reason", why}, {"unacknowledged", delivery_.unacknowledged()}});
    setState(PeerState::Reconnecting);
    attemptTimer_.cancel();
    healing_.lost();
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
  attemptSlot_.release();
  closeConnection();
  healed(healing_.attemptFailed(why));
}

void PeerLink::healed(const std::optional<std::string>& givenUp) {
  if (!givenUp) return setState(PeerState::Reconnecting);
  setState(PeerState::Unreachable);
  failAll(*givenUp);
}

bool PeerLink::enqueue(const IFMessage& message, int hops) {
  return delivery_.enqueue(message, hops);
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
  // Not from inside the channel's own callback: tear down on the next turn of the loop.
  std::weak_ptr<PeerLink> weak = weak_from_this();
  agent_.loop().post([weak, sid = sid_] {
    auto self = weak.lock();
    if (!self || self->sid_ != sid || self->intentional_) return;
    // The attempt ends here: its slot and its timeout go with it.
    self->attemptSlot_.release();
    self->attemptTimer_.cancel();
    self->closeConnection();
    self->healed(self->healing_.refused(self->authFailures_));
  });
}

void PeerLink::failAll(const std::string& reason) {
  delivery_.failAll(reason);
}

}  // namespace ifmesh::detail
