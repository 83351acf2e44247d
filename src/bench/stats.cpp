#include "bench/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ifmesh::bench {

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

LatencySummary summarize(std::vector<double> samples) {
  LatencySummary s;
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  s.samples = samples.size();
  s.min = samples.front();
  s.max = samples.back();
  s.avg =
      std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(samples.size());
  s.p50 = percentile(samples, 50);
  s.p95 = percentile(samples, 95);
  s.p99 = percentile(samples, 99);
  return s;
}

nlohmann::json toJson(const LatencySummary& s) {
  return {{"samples", s.samples}, {"min", s.min}, {"max", s.max}, {"avg", s.avg},
          {"p50", s.p50},         {"p95", s.p95}, {"p99", s.p99}};
}

}  // namespace ifmesh::bench
