#pragma once
// Consent freshness (RFC 7675), sans-IO: once ICE selected a pair, the agent asks the peer with a
// Binding request every `interval` (randomized to 0.8-1.2 times it, so that many connections
// do not ask in step) whether it still wants the traffic, and stops sending when no
// authenticated answer came for `timeout`. The caller sends the requests (BindingCheck) and
// reports their successes; only answers to our own requests renew consent, never the peer's
// requests, which an attacker could replay.
#include <algorithm>
#include <chrono>
#include <functional>

namespace ifmesh::ice {

class ConsentFreshness {
 public:
  using Clock = std::chrono::steady_clock;
  struct Config {
    std::chrono::milliseconds interval{5000};
    std::chrono::milliseconds timeout{30000};
  };

  // `granted`: when the check that selected the pair succeeded. `random01`: uniform in [0, 1).
  ConsentFreshness(Clock::time_point granted, Config config, std::function<double()> random01);

  // When the next consent request is due.
  Clock::time_point nextRequest() const { return nextRequest_; }
  // A consent request went out at `now`.
  void requestSent(Clock::time_point now);
  // An authenticated success response to one of our consent requests arrived at `now`.
  void renewed(Clock::time_point now);

  Clock::time_point expiresAt() const { return lastGranted_ + config_.timeout; }
  bool expired(Clock::time_point now) const { return now >= expiresAt(); }
  // The next time something is due: a request, or the expiry.
  Clock::time_point nextDeadline() const { return std::min(nextRequest_, expiresAt()); }

 private:
  Clock::duration jittered() const;

  Config config_;
  std::function<double()> random01_;
  Clock::time_point lastGranted_;
  Clock::time_point nextRequest_;
};

}  // namespace ifmesh::ice
