#pragma once
// Forwarding backpressure (docs/link-protocol.md, forwarding): the upstream neighbours a relay
// left a message unacknowledged with, and what each waits for: room on the next hop, or (no
// hop) its destination to join the directory within a grace period. When the grace runs out,
// that upstream's messages to unknown destinations are refused at once until one of its
// messages names a known destination. Sans-IO: time in, upstreams to ask for a resend out.
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ifmesh::detail {

class ForwardHolds {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ForwardHolds(std::chrono::milliseconds grace) : grace_(grace) {}

  // Whether a message from `upstream` to a destination not in the directory is refused at once.
  bool refusesUnknown(const std::string& upstream) const { return refused_.count(upstream) > 0; }
  // A message from `upstream` named a known destination.
  void destinationKnown(const std::string& upstream) { refused_.erase(upstream); }

  // `upstream` waits for room on `hop` (empty: for the destination to join). True when this is
  // a new wait, not the one already recorded.
  bool hold(const std::string& upstream, const std::string& hop, Clock::time_point now);
  // Removes and returns the upstreams whose wait is over: their hop has room (hasRoom(hop)),
  // the directory changed (for those waiting for a destination), or their grace ran out (those
  // are refused from now on). Each is to be asked to resend.
  std::vector<std::string> release(Clock::time_point now, bool directoryChanged,
                                   const std::function<bool(const std::string& hop)>& hasRoom);
  // When the earliest grace runs out, if any upstream waits for a destination.
  std::optional<Clock::time_point> nextDeadline() const;
  std::size_t size() const { return held_.size(); }

 private:
  struct Hold {
    std::string hop;                         // empty: waits for the destination to join
    std::optional<Clock::time_point> until;  // grace deadline of a wait for a destination
  };
  std::chrono::milliseconds grace_;
  std::map<std::string, Hold> held_;  // by upstream
  std::set<std::string> refused_;
};

}  // namespace ifmesh::detail
