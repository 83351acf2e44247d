// usrsctp keeps one set of statistics for its one stack; this reads the few that tell what
// DataChannel traffic costs in packets and whether any were lost.
#include <usrsctp.h>

#include "ifmesh/rtc/peer_connection.hpp"
#include "rtc/runtime.hpp"

namespace ifmesh {

SctpStackCounters sctpStackCounters() {
  rtc::Runtime::instance();  // the stack exists from here on
  sctpstat stat{};
  usrsctp_get_stat(&stat);
  SctpStackCounters c;
  c.dataChunksSent = stat.sctps_senddata;
  c.dataChunksRetransmitted = stat.sctps_sendretransdata;
  c.sacksSent = stat.sctps_sendsacks;
  c.delayedSackTimeouts = stat.sctps_timosack;
  c.retransmissionTimeouts = stat.sctps_timodata;
  c.heartbeatsSent = stat.sctps_sendheartbeat;
  return c;
}

}  // namespace ifmesh
