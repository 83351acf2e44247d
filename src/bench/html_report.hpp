#pragma once
// A self-contained HTML report (inline SVG, no scripts, no network): per scenario the figures, a
// latency CDF and a histogram; and the mesh scaling chart when mesh scenarios ran.
#include <string>
#include <vector>

#include "bench/report.hpp"

namespace ifmesh::bench {

std::string htmlReport(const std::vector<ScenarioResult>& results);
void writeHtmlFile(const std::string& path, const std::vector<ScenarioResult>& results);

}  // namespace ifmesh::bench
