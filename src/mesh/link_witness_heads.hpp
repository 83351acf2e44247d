#pragma once
// The witness heads a link session exchanges (docs/witness.md, docs/link-protocol.md): ours,
// shown to a peer that reads them once per connection and then every wheadInterval while our log
// recorded more than heads; and the peer's, taken at most once per wheadMinGap and only when its
// signature verifies with the peer's key. Sans-IO; one thread calls it.
#include <chrono>
#include <optional>

#include "mesh/link_codec.hpp"
#include "mesh/link_session_config.hpp"

namespace ifmesh::detail::link {

class WitnessHeads {
 public:
  using Clock = std::chrono::steady_clock;
  // `config` outlives this object (the session owns both).
  explicit WitnessHeads(const SessionConfig& config) : config_(config) {}

  void connectionClosed();
  // The peer's hello on this connection said whether it reads heads. True: ours is due now,
  // because none was shown on this connection yet.
  bool peerHello(bool readsWhead);
  // When the next of ours is due.
  std::optional<Clock::time_point> due() const { return due_; }
  // Ours to show now, or nothing: the peer does not read heads, or the log recorded nothing
  // but heads since the last one shown on this connection. Schedules the next.
  std::optional<Whead> take(Clock::time_point now);
  // Whether the peer would take one from us now (wheadMinGap since the last one shown).
  bool peerWouldTake(Clock::time_point now) const {
    return !shownAt_ || now - *shownAt_ >= config_.wheadMinGap;
  }
  void cancel() { due_.reset(); }

  // A head from the peer: what to record, or why it is refused (the rest of the time: nothing,
  // a head the same as the last or sooner than wheadMinGap after it is dropped unread).
  struct Received {
    const Whead* taken = nullptr;
    const char* refused = nullptr;
  };
  Received receive(Clock::time_point now, const Whead& head);

 private:
  const SessionConfig& config_;
  bool peerReads_ = false;  // the peer's hello on this connection announced it
  bool shownOnConnection_ = false;
  std::uint64_t shownEvents_ = 0;             // WitnessHead::events of the last head shown
  std::optional<Clock::time_point> shownAt_;  // when this connection last showed one
  std::optional<Clock::time_point> due_;
  std::optional<Clock::time_point> peerHeadAt_;
  Whead peerHead_;
};

}  // namespace ifmesh::detail::link
