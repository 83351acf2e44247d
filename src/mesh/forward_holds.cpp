#include "mesh/forward_holds.hpp"

namespace ifmesh::detail {

bool ForwardHolds::hold(const std::string& upstream, const std::string& hop,
                        Clock::time_point now) {
  auto [it, fresh] = held_.try_emplace(upstream);
  if (!fresh && it->second.hop == hop) return false;  // the same wait, its grace running on
  it->second.hop = hop;
  it->second.until.reset();
  if (hop.empty()) it->second.until = now + grace_;
  return true;
}

std::vector<std::string> ForwardHolds::release(
    Clock::time_point now, bool directoryChanged,
    const std::function<bool(const std::string& hop)>& hasRoom) {
  std::vector<std::string> over;
  for (auto it = held_.begin(); it != held_.end();) {
    const Hold& h = it->second;
    bool done = false;
    if (!h.hop.empty()) {
      done = hasRoom(h.hop);
    } else if (directoryChanged) {
      done = true;
    } else if (h.until && *h.until <= now) {
      refused_.insert(it->first);
      done = true;
    }
    if (!done) {
      ++it;
      continue;
    }
    over.push_back(it->first);
    it = held_.erase(it);
  }
  return over;
}

std::optional<ForwardHolds::Clock::time_point> ForwardHolds::nextDeadline() const {
  std::optional<Clock::time_point> earliest;
  for (const auto& [upstream, h] : held_)
    if (h.until && (!earliest || *h.until < *earliest)) earliest = h.until;
  return earliest;
}

}  // namespace ifmesh::detail
