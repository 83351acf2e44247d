#include "mesh/link_session.hpp"

#include <algorithm>
#include <limits>

#include "ifmesh/error.hpp"
#include "json/json_validate.hpp"
#include "mesh/link_auth.hpp"

namespace ifmesh::detail::link {

namespace {
bool urgentLane(int lane) {
  return isUrgent(static_cast<MessagePriority>(lane));
}
}  // namespace

Session::Session(SessionConfig config, Deliver deliver)
    : config_(std::move(config)),
      deliver_(std::move(deliver)),
      heads_(config_),
      output_([this](std::size_t before, std::size_t after) { event<Compressed>(before, after); },
              [this](std::size_t frames) { event<BatchSent>(frames); }) {}

void Session::open(Connection connection) {
  close();
  connection_ = std::move(connection);
  output_.setChannelMessageLimit(connection_.maxChannelMessage);
  open_ = true;
  sendHello();  // before anything else on every connection
}

void Session::close() {
  open_ = false;
  connection_ = {};
  authenticated_ = refused_ = false;
  heads_.connectionClosed();
  // What the batch held is still in the queue as sent: resent after the next hello.
  output_.reset();
  // Acks owed go out in the next connection's hello.
  ackDue_.reset();
}

std::vector<Event> Session::takeEvents() {
  return std::exchange(events_, {});
}

void Session::transmit(Clock::time_point now, std::string frame, bool urgent) {
  if (open_) output_.send(now, std::move(frame), urgent);  // else resent after the next hello
}

void Session::tick(Clock::time_point now) {
  if (ackDue_ && now >= *ackDue_) {
    ackDue_.reset();
    sendAcks(now);
  }
  if (auto due = heads_.due(); due && now >= *due) sendWhead(now);
  if (auto due = output_.batchDue(); due && now >= *due) {
    output_.flush();
    pump(now);
  }
}

void Session::endCoalescing(Clock::time_point now) {
  output_.setCoalesce(false);
  // Gathered frames are due when they were queued; a MEDIUM/LOW batch keeps its delay.
  if (auto due = output_.batchDue(); due && *due <= now) {
    output_.flush();
    pump(now);
  }
}

std::optional<Clock::time_point> Session::nextDeadline() const {
  std::optional<Clock::time_point> due;
  for (const auto& d : {ackDue_, output_.batchDue(), heads_.due()})
    if (d && (!due || *d < *due)) due = d;
  return due;
}

void Session::sendWhead(Clock::time_point now, bool urgent) {
  if (!ready()) return heads_.cancel();
  if (auto head = heads_.take(now)) transmit(now, encode(*head), urgent);
}

void Session::closing(Clock::time_point now) {
  output_.flush();
  ackDue_.reset();
  sendAcks(now, true);
  // A head sooner than wheadMinGap after the last would be dropped unread by the peer. Urgent:
  // the connection closes right after, and a frame still waiting for the channel's send window
  // would go with it.
  if (heads_.peerWouldTake(now)) sendWhead(now, true);
}

void Session::sendHello() {
  if (!open_) return;
  Hello h;
  for (int l = 0; l < kLanes; ++l) h.delivered[l] = ackable(l);
  h.incarnation = config_.incarnation;
  h.aboutIncarnation = peerIncarnation_;
  h.fingerprint = connection_.localFingerprint;
  h.signature = connection_.helloSignature;
  h.readsZstd = true;
  h.readsWhead = config_.readsWhead;
  output_.sendNow(encode(h), true);
}

Session::Enqueued Session::enqueue(Clock::time_point now, const IFMessage& message, int hops,
                                   AckNotice acked) {
  std::string json;
  try {
    json = serialize(message);
  } catch (const nlohmann::json::exception& e) {  // e.g. a payload string that is not UTF-8
    throw Error(Errc::InvalidArgument, std::string("payload cannot be serialized: ") + e.what());
  }
  std::size_t frameBytes = maxMsgFrameBytes(hops, json);
  if (frameBytes > config_.maxMessageBytes)
    throw Error(Errc::MessageTooLarge, "IFMessage of " + std::to_string(frameBytes) +
                                           " bytes exceeds the " +
                                           std::to_string(config_.maxMessageBytes) + "-byte limit");
  // The peer drops deeper frames unacknowledged, which would stall every later message. The
  // message's text nests one level above its payload (no other field is a container).
  std::size_t payloadDepth = 0;
  if (message.payloadJson.empty()) {
    payloadDepth = valueNestingDepth(message.payload, kMaxJsonDepth - 1);
  } else {
    // Spliced into the frame as it is: it must be JSON, or the whole frame is not.
    auto checked = json::check(message.payloadJson, kMaxJsonDepth - 1);
    if (!checked.ok && !checked.tooDeep)
      throw Error(Errc::InvalidArgument, "payload is not one valid JSON value");
    payloadDepth = checked.tooDeep ? kMaxJsonDepth : checked.depth;
  }
  if (1 + payloadDepth > kMaxJsonDepth)
    throw Error(Errc::InvalidArgument,
                "IFMessage nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  Enqueued result;
  const auto& limits = config_.queue;
  if (!queue_.fits(json.size(), limits)) {
    // A forwarded message is never dropped for room: it is not taken, and the neighbour that
    // sent it keeps it until this queue drains.
    if (hops > 0) return {false, {}, {}};
    if (limits.policy == QueuePolicy::DropOldest)
      result.dropped = queue_.dropFor(json.size(), limits, &result.droppedKeys);
    if (result.dropped.empty())
      throw Error(
          Errc::QueueFull,
          "send queue to " + config_.peerId + " holds " + std::to_string(queue_.messages()) +
              " messages / " + std::to_string(queue_.bytes()) + " bytes (limits " +
              std::to_string(limits.maxMessages) + " / " + std::to_string(limits.maxBytes) +
              ", policy " + toString(limits.policy) + "); message " + message.id + " not accepted");
  }
  std::uint64_t key = config_.persist ? config_.persist(message, json, hops) : 0;
  // With a store, the message leaves once its outbox entry is durable (committed()).
  queue_.push(message, std::move(json), hops, key, std::move(acked), config_.persist != nullptr);
  pump(now);
  return result;
}

bool Session::hasRoomToForward() const {
  const auto& limits = config_.queue;
  return queue_.messages() <= limits.maxMessages / 2 && queue_.bytes() <= limits.maxBytes / 2;
}

void Session::pump(Clock::time_point now) {
  // The peer's hello (which may arrive before our open) is what makes sending safe.
  if (!ready()) return;
  // The messages one call sends leave together (a channel that drained takes many at once),
  // unless a caller's coalescing (beginCoalescing) gathers them for longer.
  const bool coalescing = output_.coalescing();
  if (!coalescing) output_.setCoalesce(true);
  sendWaiting(now);
  if (!coalescing) {
    output_.setCoalesce(false);
    if (auto due = output_.batchDue(); due && *due <= now) output_.flush();
  }
}

void Session::sendWaiting(Clock::time_point now) {
  while (auto lane = queue_.nextLane(false)) {
    bool urgent = urgentLane(*lane);
    // The batch is bounded by kMaxBatchBytes on its own; counting it here would let a LOW-mode
    // batch delay throttle a link to one channel's worth per delay.
    if (!urgent && connection_.channelFull && connection_.channelFull(output_.pendingBytes()))
      return;
    if (tooLargeForChannel(*lane)) continue;
    const auto& sent = queue_.send(*lane);
    // A message somebody waits for asks the peer to acknowledge it promptly.
    transmit(now,
             encodeMsg(sent.seq, sent.hops, *lane, takeAck(*lane), sent.json, sent.ackRequested()),
             urgent);
  }
}

bool Session::tooLargeForChannel(int lane) {
  const std::size_t limit = connection_.maxChannelMessage;
  if (limit == 0) return false;
  const auto& next = queue_.waitingFront(lane);
  // The envelope is longest with the longest hop count: a message that fits with it fits, and
  // only one near the limit costs an envelope's encoding to measure.
  static const std::size_t kLongestEnvelope = maxMsgFrameBytes(std::numeric_limits<int>::max(), {});
  if (next.json.size() + kLongestEnvelope <= limit) return false;
  const std::size_t frame = maxMsgFrameBytes(next.hops, next.json);
  if (frame <= limit) return false;
  std::string reason = "IFMessage frame of " + std::to_string(frame) + " bytes exceeds the " +
                       std::to_string(limit) + "-byte max-message-size of the channel to " +
                       config_.peerId;
  std::uint64_t key = 0;
  auto message = queue_.takeNext(lane, Error(Errc::MessageTooLarge, reason), &key);
  event<TooLarge>(std::move(message), key, std::move(reason));
  return true;
}

void Session::resumeReceiving() {
  for (auto& r : received_) r.resyncRequestedAt.reset();
  sendHello();
}

std::vector<IFMessage> Session::takeAll(const std::string& reason,
                                        std::vector<std::uint64_t>* keys) {
  return queue_.takeAll(reason, keys);
}

Counters Session::counters() const {
  Counters c;
  c.peerIncarnation = peerIncarnation_;
  for (int l = 0; l < kLanes; ++l) {
    c.acknowledged[l] = queue_.acknowledged(l);
    c.delivered[l] = received_[l].delivered;
  }
  return c;
}

void Session::resume(const Counters& counters, std::vector<Stored> messages) {
  peerIncarnation_ = counters.peerIncarnation;
  for (int l = 0; l < kLanes; ++l) {
    auto& r = received_[l];
    r.delivered = r.durable = r.ackSent = counters.delivered[l];
    queue_.resume(l, counters.acknowledged[l]);
  }
  // Sent again with the link sequences they had: the lane's messages in order, numbered on
  // from the last one the peer acknowledged.
  for (auto& m : messages) {
    std::string json = serialize(m.message);
    queue_.pushResumed(m.message, std::move(json), m.hops, m.key);
  }
}

Session::CommitPoint Session::commitPoint() const {
  CommitPoint p;
  p.peerIncarnation = peerIncarnation_;
  for (int l = 0; l < kLanes; ++l) p.delivered[l] = received_[l].delivered;
  p.queued = queue_.nextOrder();
  return p;
}

Session::CommitPoint Session::commitPoint(const Counters& stored) const {
  return {stored.peerIncarnation, stored.delivered, queue_.nextOrder()};
}

void Session::committed(Clock::time_point now, const CommitPoint& point) {
  queue_.release(point.queued);
  if (config_.durableAcks && point.peerIncarnation == peerIncarnation_) {
    // Deliveries after the commit are not in it: they wait for a later one.
    for (int l = 0; l < kLanes; ++l) {
      auto& r = received_[l];
      r.durable = std::max(r.durable, std::min(r.delivered, point.delivered[l]));
    }
    scheduleAck(now);
  }
  pump(now);
}

void Session::resendSent(Clock::time_point now) {
  for (int lane = 0; lane < kLanes; ++lane)
    for (const auto& s : queue_.sent(lane))
      transmit(now, encodeMsg(s.seq, s.hops, lane, 0, s.json, s.ackRequested()), urgentLane(lane));
}

void Session::peerRestarted(std::uint64_t incarnation) {
  // The new process delivered nothing of ours and numbers its own messages from 1 in every lane.
  // Renumbering what it has not acknowledged from 1 is what lets it take them: it would
  // otherwise wait for sequence 1 forever while we resend from the old numbering. Waiting
  // messages get their sequences on send, after these.
  std::uint64_t deliveredFromOld = 0;
  for (const auto& r : received_) deliveredFromOld += r.delivered;
  event<PeerRestarted>(queue_.messages(), queue_.waitingMessages(), deliveredFromOld);
  received_ = {};
  ackDue_.reset();
  for (int lane = 0; lane < kLanes; ++lane) renumber(lane, 0);
  peerIncarnation_ = incarnation;
}

void Session::renumber(int lane, std::uint64_t after) {
  queue_.renumber(lane, after);
}

void Session::peerLostState(const Hello& hello) {
  // The same process acknowledges less than it did: its store lost what it had made durable
  // (restored from an older copy, a disk that dropped synced writes). The messages in between
  // are gone on both sides; numbering on from its count lets the lane go on instead of waiting
  // for a resend nobody can make.
  for (int lane = 0; lane < kLanes; ++lane) {
    const std::uint64_t acked = queue_.acknowledged(lane), delivered = hello.delivered[lane];
    if (delivered >= acked) continue;
    event<PeerLostState>(lane, acked - delivered);
    renumber(lane, delivered);
  }
}

void Session::acknowledged(int lane, std::uint64_t seq) {
  std::vector<std::uint64_t> keys;
  if (auto n = queue_.acknowledge(lane, seq, config_.persist ? &keys : nullptr); n > 0)
    event<Released>(n, std::move(keys));
}

std::uint64_t Session::takeAck(int lane) {
  auto& r = received_[lane];
  const std::uint64_t ack = ackable(lane);
  if (ack <= r.ackSent) return 0;
  r.ackSent = ack;
  bool owed = false;
  for (int l = 0; l < kLanes; ++l) owed = owed || ackable(l) > received_[l].ackSent;
  if (!owed) ackDue_.reset();
  return ack;
}

void Session::sendAcks(Clock::time_point now, bool urgent) {
  for (int lane = 0; lane < kLanes; ++lane) {
    auto& r = received_[lane];
    const std::uint64_t ack = ackable(lane);
    if (ack <= r.ackSent) continue;
    r.ackSent = ack;
    transmit(now, encode(Ack{ack, lane}), urgent || urgentLane(lane));
  }
}

void Session::scheduleAck(Clock::time_point now) {
  bool owed = false, requested = false;
  for (int lane = 0; lane < kLanes; ++lane) {
    const auto& r = received_[lane];
    const std::uint64_t ack = ackable(lane), sent = r.ackSent;
    if (ack > sent && ack - sent >= config_.ackEvery) {
      ackDue_.reset();
      sendAcks(now);
      return;
    }
    owed = owed || ack > sent;
    requested = requested || (ack > sent && r.ackRequestedUpTo > sent);
  }
  if (!owed) return;  // nothing owed: a reply already carried the ack
  if (requested) {
    if (!ackDue_ || *ackDue_ > now) ackDue_ = now;
    return;
  }
  if (!ackDue_) ackDue_ = now + config_.ackDelay;
}

void Session::receive(Clock::time_point now, std::string_view text) {
  for (auto& frame : decode(text, config_.payloadAsText)) handle(now, frame);
}

void Session::receiveBinary(Clock::time_point now, std::span<const std::byte> bytes) {
  // A batch holds at most kMaxBatchBytes of frames, or one frame up to maxMessageBytes. What a
  // bad one carried is never acknowledged: the gap makes us ask for a resend.
  for (auto& frame :
       decodeBinary(bytes, config_.maxMessageBytes + kMaxBatchBytes + 64, config_.payloadAsText))
    handle(now, frame);
}

void Session::handle(Clock::time_point now, Frame& frame) {
  if (refused_ || !open_) return;
  if (auto* bad = std::get_if<Malformed>(&frame))
    return event<Rejected>(bad->reason, std::string());
  if (auto* hello = std::get_if<Hello>(&frame)) return onHello(now, *hello);
  // The peer says hello before anything else: nothing precedes its proof of identity.
  if (!authenticated_) return event<Rejected>("unauthenticated_link", std::string());
  if (auto* ack = std::get_if<Ack>(&frame)) return acknowledged(ack->lane, ack->seq);
  if (auto* msg = std::get_if<Msg>(&frame)) return onMsg(now, *msg);
  if (auto* head = std::get_if<Whead>(&frame)) return onWhead(now, *head);
}

void Session::onWhead(Clock::time_point now, const Whead& head) {
  auto received = heads_.receive(now, head);
  if (received.refused) return event<Rejected>(received.refused, std::string());
  if (received.taken) event<PeerWhead>(*received.taken);
}

void Session::onHello(Clock::time_point now, const Hello& hello) {
  // The first hello of a connection counts at least everything the peer acknowledged on the
  // ones before; a later one may be older than an ack of this connection.
  const bool first = !authenticated_;
  if (first) {
    const char* reason =
        hello.version != kProtocolVersion
            ? "unsupported_version"
            : verifyHello(hello, config_.peerKey ? config_.peerKey() : nullptr, config_.peerId,
                          config_.ownId, connection_.remoteFingerprint);
    if (reason) {
      refused_ = true;  // the rest of this connection's frames are ignored
      return event<AuthFailed>(reason);
    }
    authenticated_ = true;
    event<Authenticated>();
  }
  output_.setPeerReadsZstd(hello.readsZstd);
  // Our head follows our hello on every connection to a peer that reads it.
  if (heads_.peerHello(hello.readsWhead)) sendWhead(now);
  if (hello.incarnation != 0) {
    // Our hello precedes all we send on a connection, so peerIncarnation_ is known before
    // anything from that process is delivered: a different one is a restart.
    if (peerIncarnation_ != 0 && hello.incarnation != peerIncarnation_)
      peerRestarted(hello.incarnation);
    else
      peerIncarnation_ = hello.incarnation;
  }
  // Counts of what an earlier process of ours sent say nothing about this one's messages.
  if (!hello.aboutIncarnation || *hello.aboutIncarnation == config_.incarnation) {
    for (int l = 0; l < kLanes; ++l) acknowledged(l, hello.delivered[l]);
    if (first && hello.aboutIncarnation) peerLostState(hello);
  }
  resendSent(now);
  pump(now);
}

void Session::onMsg(Clock::time_point now, Msg& msg) {
  if (msg.ack != 0) acknowledged(msg.lane, msg.ack);
  // A message that has not been forwarded must come from the neighbour that sent it.
  if (msg.hops == 0 && msg.message.source != config_.peerId)
    return event<Rejected>("source does not match the sending peer", msg.message.id);
  auto& r = received_[msg.lane];
  if (msg.ackRequested && msg.seq <= r.delivered + 1)
    r.ackRequestedUpTo = std::max(r.ackRequestedUpTo, msg.seq);
  if (msg.seq <= r.delivered) return scheduleAck(now);  // a resend we already took
  if (msg.seq != r.delivered + 1) {
    // Something went missing: ask for a resend from where we are (once per gap).
    if (r.resyncRequestedAt != r.delivered) {
      r.resyncRequestedAt = r.delivered;
      sendHello();
    }
    return;
  }
  // Counted before delivery, so a reply sent from inside deliver carries its ack.
  r.delivered = msg.seq;
  if (!deliver_(std::move(msg.message), msg.hops)) {
    // Held back: unacknowledged, so the peer keeps it and resends it after our next hello;
    // later frames of the lane wait for it too.
    r.delivered = msg.seq - 1;
    r.resyncRequestedAt = r.delivered;
    return;
  }
  scheduleAck(now);
}

}  // namespace ifmesh::detail::link
