#pragma once
// Random ids the link and signaling protocols carry as JSON numbers (session ids, incarnations):
// non-zero (0 means "none") and below 2^52, so JavaScript agents read them exactly.
#include <cstdint>
#include <random>

namespace ifmesh::detail {

inline std::uint64_t randomWireId(std::mt19937& rng) {
  std::uint64_t r = (static_cast<std::uint64_t>(rng()) << 20) ^ rng();
  return (r & ((1ULL << 52) - 1)) | 1;
}

}  // namespace ifmesh::detail
