#include "mesh/send_queue.hpp"

namespace ifmesh::detail {

std::size_t SendQueue::waitingMessages() const {
  std::size_t n = 0;
  for (const auto& l : lanes_) n += l.waiting.size();
  return n;
}

bool SendQueue::fits(std::size_t bytes, const BandwidthConfig::Queue& limits) const {
  return messages_ + 1 <= limits.maxMessages && bytes_ + bytes <= limits.maxBytes;
}

std::vector<IFMessage> SendQueue::dropFor(std::size_t bytes, const BandwidthConfig::Queue& limits) {
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
  for (auto [lane, index] : plan) dropped.push_back(lanes_[lane].waiting[index].message);
  for (int lane = 0; lane < kMessagePriorities; ++lane) {
    auto& w = lanes_[lane].waiting;
    std::deque<Waiting> kept;
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

void SendQueue::push(IFMessage message, std::string json, int hops) {
  auto& l = lanes_[static_cast<int>(message.priority)];
  ++messages_;
  bytes_ += json.size();
  waitingBytes_ += json.size();
  l.waiting.push_back({std::move(message), std::move(json), hops, nextOrder_++});
}

std::optional<int> SendQueue::nextLane(bool urgentOnly) const {
  int last = urgentOnly ? static_cast<int>(MessagePriority::High) : kMessagePriorities - 1;
  for (int lane = 0; lane <= last; ++lane)
    if (!lanes_[lane].waiting.empty()) return lane;
  return std::nullopt;
}

std::size_t SendQueue::acknowledge(int lane, std::uint64_t seq) {
  auto& s = lanes_[lane].sent;
  std::size_t released = 0;
  while (!s.empty() && s.front().seq <= seq) {
    bytes_ -= s.front().frame.size();
    --messages_;
    ++released;
    s.pop_front();
  }
  return released;
}

std::vector<IFMessage> SendQueue::takeAll() {
  std::vector<IFMessage> out;
  for (auto& l : lanes_) {
    for (auto& s : l.sent) out.push_back(std::move(s.message));
    for (auto& w : l.waiting) out.push_back(std::move(w.message));
    l.sent.clear();
    l.waiting.clear();
  }
  messages_ = bytes_ = waitingBytes_ = 0;
  return out;
}

}  // namespace ifmesh::detail
