#include "rtc/sctp_progress_watch.hpp"

namespace ifmesh::rtc {

bool SctpProgressWatch::stuck(const Snapshot& s, Clock::time_point now) {
  // Nothing outstanding, or a closed peer window (the peer asked us to wait: window probes
  // continue on their own timer), is not a stall.
  if (s.unackedChunks == 0 || s.peerWindowBytes == 0) {
    since_.reset();
    return false;
  }
  if (!since_ || !(s == last_)) {
    last_ = s;
    since_ = now;
    return false;
  }
  return now - *since_ >= limit_;
}

}  // namespace ifmesh::rtc
