#pragma once
// An agent's budget of connection attempts in flight (AgentConfig::maxConnectingPeers): a link
// that finds it spent waits in line, and the links in line resume in order as slots free. Loop
// thread only.
#include <cstddef>
#include <deque>
#include <memory>

#include "rtc/io_loop.hpp"

namespace ifmesh::detail {

class PeerLink;

class AttemptBudget {
 public:
  AttemptBudget(rtc::IoLoop& loop, std::size_t slots) : loop_(loop), slots_(slots) {}

  // True: a slot is taken. False: `waiter` is in line; its resumeAttempt() runs once a slot
  // frees (not if it is gone by then).
  bool take(const std::shared_ptr<PeerLink>& waiter);
  void release();
  // The agent stops: no link in line resumes.
  void close() { waiting_.clear(); }

 private:
  void resumeWaiting();

  rtc::IoLoop& loop_;
  std::size_t slots_;
  std::size_t inFlight_ = 0;
  std::deque<std::weak_ptr<PeerLink>> waiting_;
  std::shared_ptr<int> alive_ = std::make_shared<int>();  // for tasks posted to the loop
};

}  // namespace ifmesh::detail
