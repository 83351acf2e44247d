#pragma once
// A link's place in the agent's budget of offers in flight (AgentConfig::maxConnectingPeers): an
// offerer holds a slot from its offer until the attempt ends, or waits in line for one. Loop
// thread only.
#include <memory>

#include "mesh/link_host.hpp"

namespace ifmesh::detail {

class PeerLink;

class AttemptSlot {
 public:
  explicit AttemptSlot(LinkHost& host) : host_(host) {}
  ~AttemptSlot() { release(); }
  AttemptSlot(const AttemptSlot&) = delete;
  AttemptSlot& operator=(const AttemptSlot&) = delete;

  bool waiting() const { return waiting_; }
  // True when the slot is held (already, or from now on). False: `waiter` is in line and its
  // resumeAttempt() runs once a slot frees; it calls resumed() then.
  bool take(const std::shared_ptr<PeerLink>& waiter) {
    if (held_) return true;
    if (waiting_) return false;
    held_ = host_.takeAttemptSlot(waiter);
    waiting_ = !held_;
    return held_;
  }
  void resumed() { waiting_ = false; }
  void release() {
    if (!held_) return;
    held_ = false;
    host_.releaseAttemptSlot();
  }

 private:
  LinkHost& host_;
  bool held_ = false;
  bool waiting_ = false;
};

}  // namespace ifmesh::detail
