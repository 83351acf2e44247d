#pragma once
// The floor of a relayed round trip: a plain UDP ping-pong between two sockets of this process,
// each through its own allocation on the same TURN server, as the turn scenario's two agents are.
// Each side allocates (long-term credentials, RFC 5766), binds a channel to the other's relayed
// address and sends ChannelData, as libnice does once a channel is bound; a datagram thus crosses
// three UDP hops each way (client -> server, relay -> relay, server -> client) against the direct
// floor's one. No DTLS, SCTP or ICE: what the relay path alone costs on this machine.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ifmesh::bench {

struct TurnCredentials {
  std::uint16_t port = 0;  // the server on 127.0.0.1, UDP
  std::string username;
  std::string password;
};

// Round-trip times in microseconds. Throws std::runtime_error when the server refuses or does not
// answer a request, or a datagram is lost.
std::vector<double> measureTurnFloorSamples(const TurnCredentials& server, std::size_t payload,
                                            std::size_t warmup, std::size_t samples);

}  // namespace ifmesh::bench
