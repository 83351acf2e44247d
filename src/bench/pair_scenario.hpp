#pragma once
// The two-agent scenarios (p2p direct with STUN, turn through a relay): echo RTT, bulk throughput
// under bufferedAmount backpressure, small-message rate and connection setup time, plus the UDP
// floor measured in the same run.
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "bench/report.hpp"
#include "ifmesh/rtc/configuration.hpp"

namespace ifmesh::bench {

struct PairOptions {
  std::string scenario = "p2p";
  std::string title = "2-Agent P2P (STUN)";
  RtcConfiguration config;  // ICE servers, relay policy; localAddresses default to 127.0.0.1
  std::size_t samples = 10000;
  std::size_t warmup = 1000;
  std::size_t echoPayload = 64;
  std::size_t bulkMessageSize = 16 * 1024;
  std::chrono::milliseconds bulkDuration{3000};
  std::size_t smallMessageSize = 100;
  std::chrono::milliseconds smallDuration{2000};
  std::size_t setupConnections = 20;
  std::function<void(const std::string& phase, double fraction)> progress;
};

ScenarioResult runPairScenario(const PairOptions& options);

}  // namespace ifmesh::bench
