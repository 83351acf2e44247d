#pragma once
// The floor of a mesh scenario: the same all-pairs echo (every agent keeps a window of pings in
// flight, round-robin over its peers; a pong's arrival sends the agent's next ping) over plain
// UDP sockets on 127.0.0.1, one connected socket per connection end, as ICE has, and each agent's
// sockets served by one epoll thread, as its connections are by one I/O thread. No DTLS, SCTP,
// framing or JSON: what the kernel alone costs for a datagram each way, so a mesh's round trips/s
// and RTT can be read against the most this machine could give the same traffic.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace ifmesh::bench {

struct MeshFloorOptions {
  std::size_t agents = 0;
  // Connections as pairs of agent indexes (each pair once).
  std::vector<std::pair<std::size_t, std::size_t>> links;
  // The thread (0 .. threads-1) serving each agent's sockets; empty: agent i on i % threads.
  std::vector<std::size_t> threadOf;
  std::size_t threads = 2;
  std::size_t window = 4;
  std::size_t payload = 256;  // bytes per datagram, at least 9 (kind and send time)
  std::chrono::milliseconds duration{2000};
};

struct MeshFloorResult {
  std::vector<double> rttUs;
  double roundTripsPerS = 0;
  double cpuUsPerRoundTrip = 0;  // the whole process, user + system
  std::uint64_t sendErrors = 0;  // datagrams the kernel refused (each shrinks a window by one)
};

// Throws std::invalid_argument for a link naming an unknown agent or itself, and
// std::runtime_error if a socket cannot be made (e.g. out of file descriptors).
MeshFloorResult measureMeshUdpFloor(const MeshFloorOptions& options);

}  // namespace ifmesh::bench
