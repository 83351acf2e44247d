#include "mesh/attempt_budget.hpp"

#include "mesh/peer_link.hpp"

namespace ifmesh::detail {

bool AttemptBudget::take(const std::shared_ptr<PeerLink>& waiter) {
  if (inFlight_ < slots_) {
    ++inFlight_;
    return true;
  }
  waiting_.push_back(waiter);
  return false;
}

void AttemptBudget::release() {
  if (inFlight_ > 0) --inFlight_;
  if (waiting_.empty()) return;
  // Not inline: the releasing link is in the middle of its own state change.
  loop_.post([this, alive = std::weak_ptr<int>(alive_)] {
    if (!alive.expired()) resumeWaiting();
  });
}

void AttemptBudget::resumeWaiting() {
  while (inFlight_ < slots_ && !waiting_.empty()) {
    auto l = waiting_.front().lock();
    waiting_.pop_front();
    if (l) l->resumeAttempt();
  }
}

}  // namespace ifmesh::detail
