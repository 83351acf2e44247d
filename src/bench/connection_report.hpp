#pragma once
// One line on a connection's state for a benchmark's error or note: what a reader needs to tell a
// dead connection from a stuck association or a full queue.
#include <string>

#include "ifmesh/rtc/peer_connection.hpp"

namespace ifmesh::bench {

std::string describeConnection(PeerConnection& pc);

}  // namespace ifmesh::bench
