#pragma once
// A self-contained HTML report of a benchmark run (inline SVG, no scripts, nothing fetched). It
// opens with the summary (every target: measured, the floor of the same run, pass or fail) and
// the run (date, command, commit, machine); then the figures of each kind of scenario, the
// mesh scaling charts, and each scenario's latency distribution.
#include <string>
#include <vector>

#include "bench/report.hpp"
#include "bench/run_info.hpp"

namespace ifmesh::bench {

std::string htmlReport(const std::vector<ScenarioResult>& results, const RunInfo& run);
void writeHtmlFile(const std::string& path, const std::vector<ScenarioResult>& results,
                   const RunInfo& run);

}  // namespace ifmesh::bench
