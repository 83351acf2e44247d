#include "bench/connection_report.hpp"

namespace ifmesh::bench {

std::string describeConnection(PeerConnection& pc) {
  auto st = pc.stats();
  std::string s = toString(st.state);
  if (!st.failureReason.empty()) s += " (" + st.failureReason + ")";
  if (!st.disconnectReason.empty()) s += " (" + st.disconnectReason + ")";
  s += ", DTLS bytes sent " + std::to_string(st.bytesSent) + " received " +
       std::to_string(st.bytesReceived);
  if (st.sctp)
    s += ", SCTP " + st.sctp->state + (st.sctp->pathReachable ? "" : ", path unreachable") +
         ", unacked " + std::to_string(st.sctp->unackedChunks) + " chunks, pending " +
         std::to_string(st.sctp->pendingChunks) + ", peer window " +
         std::to_string(st.sctp->peerWindowBytes) + " B, cwnd " +
         std::to_string(st.sctp->congestionWindowBytes) + " B, RTO " +
         std::to_string(st.sctp->rtoMs) + " ms, queued " + std::to_string(st.sctp->queuedMessages) +
         " messages";
  return s;
}

}  // namespace ifmesh::bench
