// The flood payload: deterministic, about the size asked for, and about as compressible as real
// agent traffic.
#include <gtest/gtest.h>

#include "bench/flood_payload.hpp"
#include "mesh/frame_compression.hpp"

namespace ifmesh::bench {
namespace {

TEST(FloodPayload, TheSameSeedGivesTheSamePayload) {
  EXPECT_EQ(floodPayload(7, 32 * 1024), floodPayload(7, 32 * 1024));
  EXPECT_NE(floodPayload(7, 32 * 1024), floodPayload(8, 32 * 1024));
}

TEST(FloodPayload, IsAboutTheSizeAskedFor) {
  for (std::size_t bytes : {512u, 4096u, 32768u, 65536u}) {
    std::size_t size = floodPayload(1, bytes).dump().size();
    EXPECT_GE(size, bytes);
    EXPECT_LE(size, bytes + 1024);
  }
}

TEST(FloodPayload, CompressesLikeAgentTraffic) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    std::string text = floodPayload(seed, 32 * 1024).dump();
    auto z = detail::compressFrame(text, 3);
    ASSERT_TRUE(z);
    double ratio = static_cast<double>(text.size()) / static_cast<double>(z->size());
    EXPECT_GE(ratio, 3.0) << "seed " << seed;
    EXPECT_LE(ratio, 5.0) << "seed " << seed;
  }
}

}  // namespace
}  // namespace ifmesh::bench
