#pragma once
// Benchmark results: the formatted block the original design printed, and the JSON schema.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/stats.hpp"

namespace ifmesh::bench {

struct Target {
  std::string name;    // e.g. "p95 < 50ms (original design)"
  double limit = 0;    // in `unit`
  double actual = 0;   // in `unit`
  std::string unit;    // "ms", "x floor", "Mbit/s", ...
  bool atMost = true;  // pass when actual <= limit (false: actual >= limit)
  // The same quantity over plain UDP in the same run ("UDP floor p95 0.34 ms"), where the
  // scenario measures one; empty otherwise.
  std::string floor{};
  bool pass() const { return atMost ? actual <= limit : actual >= limit; }
};

struct ScenarioResult {
  std::string scenario;  // "p2p", "turn", ...
  std::string title;     // "2-Agent P2P (STUN)"
  LatencySummary rttUs;
  LatencySummary floorUs;
  double echoRoundTripsPerS = 0;
  double bulkMbitPerS = 0;
  double bulkMsgsPerS = 0;
  double smallMsgsPerS = 0;
  LatencySummary setupMs;  // one sample per connection timed alone
  // Agent scenarios: from the first agent's start until every link was up, and the connections
  // formed by then: one timing of the whole topology, not a per-connection figure.
  double establishMs = 0;
  std::size_t connections = 0;
  std::vector<Target> targets;
  std::vector<double> rttSamplesUs;  // raw samples, for plots
  // Each floor's raw RTT samples with its name, for plots (HTML only, not in the JSON).
  struct FloorSamples {
    std::string name;  // "UDP floor (direct)"
    std::vector<double> us;
  };
  std::vector<FloorSamples> floorSamples;
  nlohmann::json extra = nlohmann::json::object();  // scenario-specific figures
  std::vector<std::string> notes;
};

// value / floor, or 0 when there is no floor (nothing measured): the x-factor of a target line.
double ratio(double value, double floor);

std::string formatBlock(const ScenarioResult& r);
nlohmann::json toJson(const ScenarioResult& r);
// One scenario: its object. Several: {"scenarios": [...]}.
nlohmann::json toJson(const std::vector<ScenarioResult>& results);
// `run` (bench/run_info.hpp as JSON), when given, goes in as the top-level "run".
void writeJsonFile(const std::string& path, const std::vector<ScenarioResult>& results,
                   const nlohmann::json& run = nullptr);

}  // namespace ifmesh::bench
