#include "mesh/key_directory.hpp"

namespace ifmesh::detail {

bool KeyDirectory::learn(const std::string& agentId, const std::string& keyBase64) {
  auto parsed = PublicKey::parse(keyBase64);
  if (!parsed) return false;
  keys_.insert_or_assign(agentId, std::move(*parsed));
  return true;
}

const PublicKey* KeyDirectory::key(const std::string& agentId) const {
  auto it = keys_.find(agentId);
  return it == keys_.end() ? nullptr : &it->second;
}

void KeyDirectory::joined(const std::string& agentId) {
  departedAt_.erase(agentId);
}

void KeyDirectory::left(const std::string& agentId, Clock::time_point now) {
  departedAt_.insert_or_assign(agentId, now);
  departures_.emplace_back(now, agentId);
}

std::vector<std::string> KeyDirectory::forgetDeparted(
    Clock::time_point now, const std::function<bool(const std::string&)>& keep) {
  // Bounded even when agents come and go faster than the window lets entries age out.
  constexpr std::size_t kMaxDepartures = 65536;
  std::vector<std::string> forgotten;
  while (!departures_.empty() &&
         (departures_.front().first + forgetAfter_ <= now || departures_.size() > kMaxDepartures)) {
    auto [when, id] = std::move(departures_.front());
    departures_.pop_front();
    auto latest = departedAt_.find(id);
    if (latest == departedAt_.end() || latest->second != when) continue;  // came back since
    departedAt_.erase(latest);
    if (keep(id)) continue;
    keys_.erase(id);
    forgotten.push_back(std::move(id));
  }
  return forgotten;
}

}  // namespace ifmesh::detail
