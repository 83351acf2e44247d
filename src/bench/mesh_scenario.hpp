#pragma once
// Many agents in this process, linked through an embedded signaling server on 127.0.0.1, with
// all-pairs echo traffic: every ordered pair keeps one ping in flight for the whole run.
#include <chrono>
#include <functional>
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
  std::chrono::milliseconds establishTimeout{120000};
  std::function<void(const std::string& phase, double fraction)> progress;
};

ScenarioResult runMeshScenario(const MeshOptions& options);

// Process figures for the scaling table.
std::size_t residentBytes();
std::size_t threadCount();

}  // namespace ifmesh::bench
