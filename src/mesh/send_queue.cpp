#include "mesh/send_queue.hpp"

#include "ifmesh/error.hpp"
#include "json/json_reader.hpp"
#include "mesh/message_header.hpp"

namespace ifmesh::detail {

namespace {
void fail(AckNotice& acked, const std::string& reason) {
  if (acked) tell(acked, std::make_exception_ptr(Error(Errc::Undeliverable, reason)));
}

// The message as it was pushed: its payload back from the JSON text it was serialized to.
IFMessage withPayload(IFMessage&& m, const std::string& json) {
  auto value = json::parse(json);
  if (value.is_object())
    if (auto it = value.find("payload"); it != value.end()) m.payload = std::move(*it);
  return std::move(m);
}
}  // namespace

std::size_t SendQueue::waitingMessages() const {
  std::size_t n = 0;
  for (const auto& l : lanes_) n += l.waiting.size();
  return n;
}

bool SendQueue::fits(std::size_t bytes, const BandwidthConfig::Queue& limits) const {
  return messages_ + 1 <= limits.maxMessages && bytes_ + bytes <= limits.maxBytes;
}

std::vector<IFMessage> SendQueue::dropFor(std::size_t bytes, const BandwidthConfig::Queue& limits,
                                          std::vector<std::uint64_t>* keys) {
  // Plan first, so a drop that cannot make room drops nothing.
  std::array<std::size_t, kMessagePriorities> cursor{};
  std::vector<std::pair<int, std::size_t>> plan;  // (lane, index) in the order dropped
  std::size_t messages = messages_, held = bytes_;
  auto fitsAfter = [&] {
    return messages + 1 <= limits.maxMessages && held + bytes <= limits.maxBytes;
  };
  while (!fitsAfter()) {
    int best = -1;
    for (int lane = 0; lane < kMessagePriorities; ++lane) {
      auto& w = lanes_[lane].waiting;
      while (cursor[lane] < w.size() && !w[cursor[lane]].message.droppable) ++cursor[lane];
      if (cursor[lane] < w.size() &&
          (best < 0 || w[cursor[lane]].order < lanes_[best].waiting[cursor[best]].order))
        best = lane;
    }
    if (best < 0) return {};
    const auto& victim = lanes_[best].waiting[cursor[best]];
    plan.emplace_back(best, cursor[best]++);
    --messages;
    held -= victim.json.size();
  }
  std::vector<IFMessage> dropped;
  for (auto [lane, index] : plan) {
    auto& w = lanes_[lane].waiting[index];
    dropped.push_back(withPayload(IFMessage(w.message), w.json));
    if (keys) keys->push_back(w.key);
    fail(w.acked, "dropped: queue full");
  }
  for (int lane = 0; lane < kMessagePriorities; ++lane) {
    auto& w = lanes_[lane].waiting;
    LazyDeque<Waiting> kept;
    std::size_t i = 0;
    for (auto& item : w) {
      bool drop = false;
      for (auto [l, index] : plan) drop = drop || (l == lane && index == i);
      ++i;
      if (!drop) {
        kept.push_back(std::move(item));
        continue;
      }
      --messages_;
      bytes_ -= item.json.size();
      waitingBytes_ -= item.json.size();
    }
    w = std::move(kept);
  }
  return dropped;
}

void SendQueue::push(const IFMessage& message, std::string json, int hops, std::uint64_t key,
                     AckNotice acked, bool held) {
  auto& l = lanes_[static_cast<int>(message.priority)];
  ++messages_;
  bytes_ += json.size();
  waitingBytes_ += json.size();
  l.waiting.push_back(
      {withoutPayload(message), std::move(json), hops, nextOrder_++, key, std::move(acked), held});
}

IFMessage SendQueue::takeNext(int lane, const Error& error, std::uint64_t* key) {
  auto& l = lanes_[lane];
  Waiting w = std::move(l.waiting.front());
  l.waiting.pop_front();
  --messages_;
  bytes_ -= w.json.size();
  waitingBytes_ -= w.json.size();
  if (w.acked) tell(w.acked, std::make_exception_ptr(error));
  if (key) *key = w.key;
  return withPayload(std::move(w.message), w.json);
}

const SendQueue::Sent& SendQueue::send(int lane) {
  auto& l = lanes_[lane];
  Waiting w = std::move(l.waiting.front());
  l.waiting.pop_front();
  waitingBytes_ -= w.json.size();
  l.sent.push_back(
      {l.nextSeq++, std::move(w.json), std::move(w.message), w.hops, w.key, std::move(w.acked)});
  return l.sent.back();
}

void SendQueue::renumber(int lane, std::uint64_t after) {
  auto& l = lanes_[lane];
  std::uint64_t seq = after;
  for (auto& s : l.sent) s.seq = ++seq;
  l.nextSeq = seq + 1;
  // The neighbour has none of them under their new numbers, whatever it had before.
  for (auto& w : l.waiting) w.resumed = false;
}

void SendQueue::release(std::uint64_t order) {
  // Held messages are the newest of their lane: the scan stops at the first one that is not.
  for (auto& l : lanes_)
    for (auto it = l.waiting.rbegin(); it != l.waiting.rend() && it->held; ++it)
      if (it->order < order) it->held = false;
}

std::optional<int> SendQueue::nextLane(bool urgentOnly) const {
  int last = urgentOnly ? static_cast<int>(MessagePriority::High) : kMessagePriorities - 1;
  for (int lane = 0; lane <= last; ++lane)
    if (!lanes_[lane].waiting.empty() && !lanes_[lane].waiting.front().held) return lane;
  return std::nullopt;
}

std::size_t SendQueue::acknowledge(int lane, std::uint64_t seq, std::vector<std::uint64_t>* keys) {
  auto& s = lanes_[lane].sent;
  std::size_t released = 0;
  while (!s.empty() && s.front().seq <= seq) {
    bytes_ -= s.front().json.size();
    --messages_;
    ++released;
    if (keys) keys->push_back(s.front().key);
    tell(s.front().acked, nullptr);
    s.pop_front();
  }
  auto& l = lanes_[lane];
  while (s.empty() && !l.waiting.empty() && l.waiting.front().resumed && l.nextSeq <= seq) {
    auto& w = l.waiting.front();
    bytes_ -= w.json.size();
    waitingBytes_ -= w.json.size();
    --messages_;
    ++released;
    ++l.nextSeq;
    if (keys) keys->push_back(w.key);
    l.waiting.pop_front();
  }
  return released;
}

std::vector<IFMessage> SendQueue::takeAll(const std::string& reason,
                                          std::vector<std::uint64_t>* keys) {
  std::vector<IFMessage> out;
  for (auto& l : lanes_) {
    for (auto& s : l.sent) {
      out.push_back(withPayload(std::move(s.message), s.json));
      if (keys) keys->push_back(s.key);
      fail(s.acked, reason);
    }
    for (auto& w : l.waiting) {
      out.push_back(withPayload(std::move(w.message), w.json));
      if (keys) keys->push_back(w.key);
      fail(w.acked, reason);
    }
    l.sent.clear();
    l.waiting.clear();
  }
  messages_ = bytes_ = waitingBytes_ = 0;
  return out;
}

}  // namespace ifmesh::detail
