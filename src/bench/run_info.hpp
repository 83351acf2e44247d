#pragma once
// What a benchmark report says about its run: when, the command line, the commit the binary was
// built from, and the machine (CPU model, cores, memory, kernel), plus the scenarios that were
// skipped or failed and why.
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace ifmesh::bench {

struct RunInfo {
  std::string date;       // when the run began, UTC, "2026-12-05 06:10:00 UTC"
  double seconds = 0;     // how long it took
  std::string command;    // the command line as given
  std::string commit;     // git commit of the build
  std::string buildType;  // CMAKE_BUILD_TYPE
  std::string cpu;        // model name from /proc/cpuinfo
  unsigned cores = 0;     // online CPUs
  std::string memory;     // "24 GiB"
  std::string kernel;     // "Linux 6.1.0-18-amd64"
  std::vector<std::pair<std::string, std::string>> skipped;  // scenario, why
  std::vector<std::pair<std::string, std::string>> failed;   // scenario, error
};

// This process's run, begun now: machine, commit, date and command line.
RunInfo currentRun();
nlohmann::json toJson(const RunInfo& run);

}  // namespace ifmesh::bench
