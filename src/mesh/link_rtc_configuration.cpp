#include "mesh/link_rtc_configuration.hpp"

#include <algorithm>

namespace ifmesh::detail {

RtcConfiguration linkRtcConfiguration(const AgentConfig& config, std::size_t ioThread, bool relay) {
  RtcConfiguration c;
  c.localAddresses = config.localAddresses;
  c.iceServers = relay ? config.turnServers : config.iceServers;
  c.forceRelay = relay;
  c.sharedIceSocket = config.sharedIceSocket;
  c.maxMessageSize = std::max<std::size_t>(config.maxMessageBytes, 64 * 1024);
  // One negotiated channel per peer (stream 0); each stream costs usrsctp ~150 bytes per
  // association in each direction.
  c.maxChannels = 2;
  // Every link of an agent on the agent's own I/O thread: its state is then single-threaded.
  c.ioThread = static_cast<int>(ioThread);
  return c;
}

}  // namespace ifmesh::detail
