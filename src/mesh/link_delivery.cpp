#include "mesh/link_delivery.hpp"

#include <algorithm>

#include "ifmesh/error.hpp"
#include "mesh/link_auth.hpp"
#include "mesh/link_connection.hpp"
#include "mesh/link_host.hpp"

namespace ifmesh::detail {

namespace {
// A link ack only lets the sender forget what it keeps for a resend, so it waits to ride on
// our next message to the peer and goes alone after kAckEvery messages or kAckDelay. Alone it
// costs two datagrams (the ack and the peer's SCTP SACK of it): with 5 ms, mesh100's sparse
// all-pairs echo sent one for nearly every pong, a quarter of all its datagrams; with 1 s, on a
// machine where each link carried a message about every 1.2 s each way, still ~0.45 per round
// trip. The delay only bounds how long the sender keeps an acknowledged message.
constexpr std::uint64_t kAckEvery = 64;
constexpr std::chrono::milliseconds kAckDelay{5000};

auto now() {
  return std::chrono::steady_clock::now();
}
}  // namespace

LinkDelivery::LinkDelivery(LinkHost& host, std::string peerId, std::function<void()> authenticated,
                           std::function<void(const std::string& reason)> refused)
    : host_(host),
      peerId_(std::move(peerId)),
      authenticated_(std::move(authenticated)),
      refused_(std::move(refused)),
      session_(sessionConfig(), [this](IFMessage&& message,
                                       int hops) { return host_.receive(message, hops, peerId_); }),
      durable_(host_.durable()) {
  if (durable_) resumeStored();
}

LinkDelivery::~LinkDelivery() {
  if (durable_) durable_->forget(this);
}

void LinkDelivery::resumeStored() {
  const auto link = durable_->takeLink(peerId_);
  link::Counters c;
  c.peerIncarnation = link.peerIncarnation;
  c.acknowledged = link.acked;
  c.delivered = link.delivered;
  std::vector<link::Session::Stored> messages;
  std::vector<std::uint64_t> unreadable;
  for (auto& entry : durable_->takeOutbox(peerId_)) {
    try {
      messages.push_back(
          {ifmessageFromJson(entry.json, 2 * host_.linkSettings().maxMessageBytes + 4096),
           entry.hops, entry.key});
      messages.back().message.droppable = entry.droppable;
    } catch (const Error& e) {
      // Not ours as written: reported, never sent.
      host_.witness("state_entry_unreadable", peerId_, {{"key", entry.key}, {"error", e.what()}});
      unreadable.push_back(entry.key);
    }
  }
  session_.resume(c, std::move(messages));
  storedCounters_ = c;
  unstore(unreadable);
}

void LinkDelivery::unstore(const std::vector<std::uint64_t>& keys) {
  if (keys.empty()) return;
  for (auto key : keys)
    if (key != 0) durable_->store().removeFromOutbox(key);
  durable_->changed();
}

void LinkDelivery::storeCounters() {
  auto c = session_.counters();
  if (c == storedCounters_) return;
  // Delivered counts advanced: acknowledged once committed.
  bool delivered = c.delivered != storedCounters_.delivered;
  storedCounters_ = c;
  durable_->store().setLink(peerId_, {c.peerIncarnation, c.acknowledged, c.delivered});
  durable_->changed(delivered ? this : nullptr);
}

void LinkDelivery::committing(std::uint64_t commit) {
  // The counters as stored, not the session's: a commit made while the session is inside a
  // delivery (a forward's drive on another link) does not hold that delivery yet.
  commits_.emplace_back(commit, session_.commitPoint(storedCounters_));
}

void LinkDelivery::committed(std::uint64_t commit) {
  std::optional<link::Session::CommitPoint> point;
  while (!commits_.empty() && commits_.front().first <= commit) {
    point = commits_.front().second;
    commits_.pop_front();
  }
  if (point) session_.committed(now(), *point);
  drive();
}

link::SessionConfig LinkDelivery::sessionConfig() {
  link::SessionConfig c;
  c.ownId = host_.id();
  c.peerId = peerId_;
  c.incarnation = host_.incarnation();
  c.maxMessageBytes = host_.linkSettings().maxMessageBytes;
  c.payloadAsText = host_.linkSettings().payloadAsText;
  c.queue = host_.linkSettings().queue;
  c.ackEvery = kAckEvery;
  c.ackDelay = kAckDelay;
  c.peerKey = [this] { return host_.peerKey(peerId_); };
  if (host_.hasWitness()) {
    c.readsWhead = true;
    c.witnessHead = [this] { return host_.witnessHead(); };
  }
  if (auto* durable = host_.durable()) {
    c.durableAcks = true;
    c.persist = [this, durable](const IFMessage& m, const std::string& json, int hops) {
      auto key = durable->store().addToOutbox(peerId_, hops, m.droppable, json);
      durable->changed(this);  // sent once durable
      return key;
    };
  }
  return c;
}

void LinkDelivery::configure() {
  session_.setBatchDelay(host_.batchDelay());
  const auto& c = host_.linkSettings().compression;
  session_.setCompression(c.enabled && host_.qualityMode() == QualityMode::Low, c.threshold,
                          c.level);
  const std::size_t highWater = host_.linkSettings().queue.channelHighWater;
  channelLimit_ = connection_ && connection_->isOpen()
                      ? connection_->applyBudget(budget_, highWater)
                      : highWater;
}

void LinkDelivery::attach(LinkConnection& connection) {
  if (session_.isOpen()) return;
  connection_ = &connection;
  link::Connection c;
  c.localFingerprint = connection.localFingerprint();
  c.helloSignature = host_.identity().sign(
      helloSigningInput(host_.id(), host_.incarnation(), c.localFingerprint, peerId_));
  c.remoteFingerprint = connection.remoteFingerprint();
  c.maxChannelMessage = connection.maxMessageSize();
  c.channelFull = [this](std::size_t pending) {
    return !connection_ || connection_->bufferedAmount() + pending >= channelLimit_;
  };
  configure();
  session_.open(std::move(c));
  drive();
}

void LinkDelivery::detach() {
  connection_ = nullptr;
  session_.close();
  timer_.cancel();
  timerDue_.reset();
}

void LinkDelivery::drive() {
  // A channel budget that grew (configure()) can lift the drain mark above what the channel
  // holds, and then no drain event comes: what waits and now fits goes out here.
  if (session_.waitingMessages() > 0) session_.pump(now());
  for (auto& out : session_.takeOutput()) {
    if (!connection_ || !connection_->isOpen()) break;  // kept, resent after reconnect
    try {
      if (out.binary)
        connection_->sendBinary(
            std::span(reinterpret_cast<const std::byte*>(out.bytes.data()), out.bytes.size()),
            out.urgent);
      else
        connection_->sendText(out.bytes, out.urgent);
    } catch (const Error&) {
      break;  // the channel closed under us: unacknowledged messages are resent later
    }
  }
  auto events = session_.takeEvents();
  if (durable_) {
    // Outbox entries the peer acknowledged and the counters that say so change together,
    // before any callback below can lead to a commit: a restarted process numbers its stored
    // messages on from the stored acknowledgement, so the two must never be apart on disk.
    for (const auto& e : events) {
      if (auto* released = std::get_if<link::Released>(&e)) unstore(released->keys);
      if (auto* tooLarge = std::get_if<link::TooLarge>(&e)) unstore({tooLarge->key});
    }
    storeCounters();
  }
  for (auto& e : events) {
    if (std::holds_alternative<link::Authenticated>(e)) {
      authenticated_();
    } else if (auto* failed = std::get_if<link::AuthFailed>(&e)) {
      refused_(failed->reason);
    } else if (auto* rejected = std::get_if<link::Rejected>(&e)) {
      nlohmann::json meta = {{"reason", rejected->reason}};
      if (!rejected->messageId.empty()) meta["message_id"] = rejected->messageId;
      host_.witness("ifmessage_rejected", peerId_, std::move(meta));
    } else if (std::holds_alternative<link::Released>(e)) {
      host_.spaceFreed();
    } else if (auto* restarted = std::get_if<link::PeerRestarted>(&e)) {
      host_.witness("peer_restarted", peerId_,
                    {{"unacknowledged", restarted->unacknowledged},
                     {"waiting", restarted->waiting},
                     {"delivered_from_old", restarted->deliveredFromOld}});
    } else if (auto* lost = std::get_if<link::PeerLostState>(&e)) {
      host_.witness(
          "peer_state_regressed", peerId_,
          {{"priority", toString(static_cast<MessagePriority>(lost->lane))}, {"lost", lost->lost}});
    } else if (auto* batch = std::get_if<link::BatchSent>(&e)) {
      host_.batchSent(batch->frames);
    } else if (auto* z = std::get_if<link::Compressed>(&e)) {
      host_.compressed(z->before, z->after);
    } else if (auto* tooLarge = std::get_if<link::TooLarge>(&e)) {
      host_.undeliverable(tooLarge->message, tooLarge->reason);
      host_.spaceFreed();
    } else if (auto* head = std::get_if<link::PeerWhead>(&e)) {
      host_.witness(kPeerWitnessHeadEvent, peerId_,
                    {{"seq", head->head.seq}, {"hash", head->head.hash}, {"sig", head->head.sig}});
    }
  }
  if (durable_) {
    storeCounters();              // what the callbacks above changed
    durable_->commitIfOverdue();  // a consistent point: see durable_state.hpp
  }
  armTimer();
}

void LinkDelivery::endGathering() {
  gathered_ = false;
  session_.endCoalescing(now());
  drive();
}

void LinkDelivery::armTimer() {
  if (gathered_) return;  // endGathering() drives the session again before the task ends
  auto due = session_.nextDeadline();
  if (due && *due <= now()) {
    timer_.cancel();
    timerDue_.reset();
    if (tickPosted_) return;
    tickPosted_ = true;
    host_.loop().post([this, alive = std::weak_ptr<int>(alive_)] {
      if (alive.expired()) return;
      tickPosted_ = false;
      configure();
      session_.tick(now());
      drive();
    });
    return;
  }
  if (due == timerDue_ && (!due || timer_.active())) return;
  timer_.cancel();
  timerDue_ = due;
  if (!due) return;
  auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(*due - now());
  timer_ = host_.loop().addTimer(std::max(delay, std::chrono::milliseconds(1)), [this] {
    timer_ = rtc::IoLoop::Timer();
    timerDue_.reset();
    configure();
    session_.tick(now());
    drive();
    return false;
  });
}

bool LinkDelivery::enqueue(const IFMessage& message, int hops) {
  configure();
  if (!gathered_ && host_.gathering()) {
    gathered_ = true;
    session_.beginCoalescing();
    host_.gathered([this, alive = std::weak_ptr<int>(alive_)] {
      if (!alive.expired()) endGathering();
    });
  }
  auto result = session_.enqueue(now(), message, hops, hops == 0 ? host_.takeAckNotice() : nullptr);
  if (!result.taken) return false;
  if (durable_) unstore(result.droppedKeys);
  if (host_.witnessing())
    host_.witness("ifmessage_sent", peerId_,
                  {{"message_id", message.id},
                   {"sequence_num", message.sequence},
                   {"destination", message.destination},
                   {"priority", toString(message.priority)},
                   {"hops", hops},
                   {"buffer_amount", connection_ ? connection_->bufferedAmount() : 0}});
  drive();
  // Reported only now that the new message is queued: the callback may send again.
  for (const auto& d : result.dropped) host_.dropped(d, peerId_);
  return true;
}

void LinkDelivery::resumeReceiving() {
  session_.resumeReceiving();
  drive();
}

void LinkDelivery::closing() {
  session_.closing(now());
  drive();
}

void LinkDelivery::pump() {
  configure();
  session_.pump(now());
  drive();
}

void LinkDelivery::onText(const std::string& text) {
  if (durable_) durable_->notify();  // a safe point: no session is inside a call
  configure();
  session_.receive(now(), text);
  drive();
}

void LinkDelivery::onBinary(std::span<const std::byte> data) {
  if (durable_) durable_->notify();  // a safe point: no session is inside a call
  configure();
  session_.receiveBinary(now(), data);
  drive();
}

void LinkDelivery::failAll(const std::string& reason) {
  std::vector<std::uint64_t> keys;
  auto pending = session_.takeAll(reason, &keys);
  if (durable_) unstore(keys);
  host_.spaceFreed();
  for (auto& m : pending) host_.undeliverable(m, reason);
}

}  // namespace ifmesh::detail
