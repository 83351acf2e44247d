#pragma once
// The benchmark suite: which scenarios exist, what each needs, and their targets.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bench/report.hpp"

namespace ifmesh::bench {

struct SuiteOptions {
  std::size_t samples = 10000;
  std::size_t setupConnections = 20;
  bool signEveryMessage = false;  // agent scenarios: MessageSignatures::Always
  // Agent scenarios: how long the all-pairs echo runs (0: the scenario's own default).
  std::chrono::milliseconds meshTraffic{0};
  std::size_t soakTransfers = 200;  // soak scenarios: bulk + small-message transfers
  int udpReceiveBufferBytes = 0;    // pair and soak scenarios: SO_RCVBUF (0: system default)
  // p2p and agent scenarios: ICE on the I/O thread's shared socket (true) or libnice (false);
  // nothing: the library's defaults (RtcConfiguration: libnice, AgentConfig: shared).
  std::optional<bool> sharedIceSocket;
  std::function<void(const std::string& scenario, const std::string& phase, double fraction)>
      progress;
};

std::vector<std::string> scenarioNames();
// Why a scenario cannot run on this machine (e.g. coturn missing), or nullopt when it can.
// `inFullSuite`: scenarios known not to finish on this build are skipped (with the reason) when
// the whole suite runs, and still run when asked for by name.
std::optional<std::string> skipReason(const std::string& scenario, bool inFullSuite);
// Runs one scenario. Throws std::invalid_argument for an unknown name, std::runtime_error when
// the scenario fails.
ScenarioResult runScenario(const std::string& scenario, const SuiteOptions& options);

}  // namespace ifmesh::bench
