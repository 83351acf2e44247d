#pragma once
// Decides from periodic snapshots of an association's send state whether it has stopped making
// progress while data is outstanding. Sans-IO: snapshots and times in, a verdict out.
//
// Why it exists: an association that stops making progress while its peer still answers
// heartbeats would otherwise sit "connected" for ever, and agents above it would never heal. The
// one such wedge found (usrsctp lost count of chunks marked for retransmission and stopped its
// T3-rtx timer with nothing in flight) is fixed in the usrsctp that ifmesh links
// (third_party/usrsctp); this watch is the diagnostic for any other: a stuck
// association is reported and ended instead of hanging.
#include <chrono>
#include <cstdint>
#include <optional>

namespace ifmesh::rtc {

class SctpProgressWatch {
 public:
  using Clock = std::chrono::steady_clock;
  struct Snapshot {
    std::uint32_t unackedChunks = 0;
    std::uint32_t peerWindowBytes = 0;
    std::uint32_t congestionWindowBytes = 0;
    std::uint32_t rtoMs = 0;
    bool operator==(const Snapshot&) const = default;
  };

  explicit SctpProgressWatch(std::chrono::milliseconds limit) : limit_(limit) {}

  // True once data has been outstanding with an unchanged snapshot for the limit. Any change
  // (a SACK moving the window, a retransmission timeout changing cwnd or RTO) restarts the clock;
  // nothing outstanding, or a peer window of 0 (the peer is slow, not lost), clears it.
  bool stuck(const Snapshot& s, Clock::time_point now);
  void reset() { since_.reset(); }
  std::chrono::milliseconds limit() const { return limit_; }

 private:
  std::chrono::milliseconds limit_;
  Snapshot last_;
  std::optional<Clock::time_point> since_;
};

}  // namespace ifmesh::rtc
