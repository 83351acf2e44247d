#pragma once
// The Ed25519 keys the signaling directory announced, latest per agent id, and when to forget
// them: a departed agent's key is kept for one clock-skew window (its messages are stale after
// that) unless it comes back or is still linked. Sans-IO: time comes in. Loop thread only.
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ifmesh/identity.hpp"

namespace ifmesh::detail {

class KeyDirectory {
 public:
  using Clock = std::chrono::steady_clock;
  explicit KeyDirectory(std::chrono::milliseconds forgetAfter) : forgetAfter_(forgetAfter) {}

  // False when `keyBase64` is not an Ed25519 public key (nothing is stored).
  bool learn(const std::string& agentId, const std::string& keyBase64);
  const PublicKey* key(const std::string& agentId) const;
  std::size_t size() const { return keys_.size(); }

  void joined(const std::string& agentId);
  void left(const std::string& agentId, Clock::time_point now);
  // Forgets the keys of agents that left at least forgetAfter ago and did not come back, except
  // those `keep` names (still linked); returns whose keys went.
  std::vector<std::string> forgetDeparted(Clock::time_point now,
                                          const std::function<bool(const std::string&)>& keep);

 private:
  std::chrono::milliseconds forgetAfter_;
  std::map<std::string, PublicKey> keys_;
  // Agents that left, oldest first, and each one's latest departure.
  std::deque<std::pair<Clock::time_point, std::string>> departures_;
  std::map<std::string, Clock::time_point> departedAt_;
};

}  // namespace ifmesh::detail
