#pragma once
// Reconnection delays: exponential with a cap and symmetric jitter, so a fleet that lost the same
// link does not reconnect in lock-step.
#include <chrono>
#include <random>

#include "ifmesh/agent.hpp"

namespace ifmesh::mesh {

std::chrono::milliseconds backoffDelay(const HealingConfig& config, int attempt, std::mt19937& rng);

}  // namespace ifmesh::mesh
