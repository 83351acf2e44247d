#pragma once
// The PeerConnection configuration of an agent's links: its addresses and ICE servers (TURN only
// for a relayed attempt), one negotiated channel, and the agent's own I/O thread.
#include <cstddef>

#include "ifmesh/agent.hpp"
#include "ifmesh/rtc/peer_connection.hpp"

namespace ifmesh::detail {

RtcConfiguration linkRtcConfiguration(const AgentConfig& config, std::size_t ioThread, bool relay);

}  // namespace ifmesh::detail
