#pragma once
// Many agents in this process, linked through an embedded signaling server on 127.0.0.1, with
// all-pairs echo traffic: every agent keeps a window of pings in flight, round-robin over its
// peers.
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "bench/report.hpp"
#include "ifmesh/agent.hpp"

namespace ifmesh::bench {

struct MeshOptions {
  std::string scenario = "mesh5";
  std::string title;
  std::size_t agents = 5;
  Topology topology = Topology::FullMesh;
  std::size_t k = 0;
  std::chrono::milliseconds duration{3000};
  // Pings each agent keeps in flight, addressed round-robin over all its peers so that every
  // link carries traffic. RTT then measures the mesh rather than a queue: with one ping per
  // ordered pair, a 100-agent mesh holds 9,900 in flight and RTT = 9,900 / throughput.
  std::size_t window = 4;
  MessageSignatures messageSignatures = MessageSignatures::Relayed;
  bool sharedIceSocket = AgentConfig{}.sharedIceSocket;
  std::chrono::milliseconds establishTimeout{120000};
  // After the mesh is torn down, the same traffic over plain UDP sockets for this long
  // (bench/mesh_udp_floor.hpp), reported as the scenario's floor; 0: none.
  std::chrono::milliseconds floorDuration{2000};
  std::function<void(const std::string& phase, double fraction)> progress;
};

ScenarioResult runMeshScenario(const MeshOptions& options);

// Why this process cannot hold `connections` (file descriptors), after raising its limit as far
// as it may; nothing when it can.
std::optional<std::string> descriptorShortfall(std::size_t connections, std::size_t agents,
                                               bool sharedIceSocket);

// RSS growth per connection while the topology formed, in bytes; negative when the process
// shrank meanwhile (the allocator returned more than the connections took).
double rssPerConnection(std::size_t rssBefore, std::size_t rssEstablished, std::size_t connections);

// Process figures for the scaling table.
std::size_t residentBytes();
std::size_t threadCount();

}  // namespace ifmesh::bench
