#pragma once
// Latency statistics: percentiles by the nearest-rank method (the value below which p % of the
// samples fall, always an observed sample).
#include <cstddef>
#include <vector>

#include <nlohmann/json.hpp>

namespace ifmesh::bench {

struct LatencySummary {
  std::size_t samples = 0;
  double min = 0, max = 0, avg = 0, p50 = 0, p95 = 0, p99 = 0;
};

LatencySummary summarize(std::vector<double> samples);
double percentile(const std::vector<double>& sorted, double p);
nlohmann::json toJson(const LatencySummary& s);

}  // namespace ifmesh::bench
