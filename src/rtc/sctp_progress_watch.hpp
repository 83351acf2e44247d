#pragma once
// Decides from periodic snapshots of an association's send state whether it has stopped making
// progress while data is outstanding. Sans-IO: snapshots and times in, a verdict out.
//
// Why it exists: usrsctp 0.9.5.0 can leave DATA chunks marked for retransmission while its count
// of such chunks reads 0. With nothing counted in flight its SACK handling then stops the T3-rtx
// timer and its flight-size audit finds nothing to repair, so those chunks are never sent again:
// the association stays up (heartbeats are answered) and never delivers another byte. Seen with
// gdb on a stalled bulk transfer: 5 chunks RESEND, sent_queue_retran_cnt 0, total_flight 0,
// rxt_timer stopped from SCTP_FROM_SCTP_INDATA + SCTP_LOC_36. Nothing in the socket API repairs
// that state, so a stuck association is reported and ended instead of hanging for ever.
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

 private:
  std::chrono::milliseconds limit_;
  Snapshot last_;
  std::optional<Clock::time_point> since_;
};

}  // namespace ifmesh::rtc
