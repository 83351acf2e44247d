#include "mesh/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace ifmesh::mesh {

std::chrono::milliseconds backoffDelay(const HealingConfig& config, int attempt,
                                       std::mt19937& rng) {
  double base = static_cast<double>(config.initialDelay.count()) *
                std::pow(config.multiplier, std::max(0, attempt));
  base = std::min(base, static_cast<double>(config.maxDelay.count()));
  std::uniform_real_distribution<double> spread(-config.jitter, config.jitter);
  return std::chrono::milliseconds(static_cast<long long>(std::max(0.0, base * (1 + spread(rng)))));
}

}  // namespace ifmesh::mesh
