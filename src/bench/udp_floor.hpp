#pragma once
// The physical floor of a round trip on this machine: a plain UDP ping-pong on 127.0.0.1 between
// two threads of one process, the same shape as the DataChannel echo.
#include <cstddef>
#include <vector>

#include "bench/stats.hpp"

namespace ifmesh::bench {

// Round-trip times in microseconds. Throws std::runtime_error if a socket fails.
std::vector<double> measureUdpFloorSamples(std::size_t payload, std::size_t warmup,
                                           std::size_t samples);
LatencySummary measureUdpFloor(std::size_t payload, std::size_t warmup, std::size_t samples);

}  // namespace ifmesh::bench
