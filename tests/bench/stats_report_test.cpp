// Statistics and report formatting of the benchmark layer.
#include <gtest/gtest.h>

#include "bench/report.hpp"
#include "bench/stats.hpp"
#include "bench/udp_floor.hpp"

namespace ifmesh::bench {
namespace {

TEST(Stats, NearestRankPercentiles) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  auto s = summarize(v);
  EXPECT_EQ(s.samples, 100u);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.max, 100);
  EXPECT_DOUBLE_EQ(s.avg, 50.5);
  EXPECT_EQ(s.p50, 50);
  EXPECT_EQ(s.p95, 95);
  EXPECT_EQ(s.p99, 99);
  EXPECT_EQ(summarize({}).samples, 0u);
  EXPECT_EQ(summarize({7}).p99, 7);
}

TEST(Report, JsonHasTheIssueSchemaAndBlockHasTheOriginalLines) {
  ScenarioResult r;
  r.scenario = "p2p";
  r.title = "2-Agent P2P (STUN)";
  r.rttUs = summarize({40, 50, 60});
  r.floorUs = summarize({20, 25, 30});
  r.bulkMbitPerS = 800;
  r.bulkMsgsPerS = 6000;
  r.smallMsgsPerS = 150000;
  r.setupMs = summarize({5, 6, 7});
  r.targets.push_back({"p95 < 50ms (original design)", 50, 0.06, "ms"});
  r.targets.push_back({">= 1000 Mbit/s", 1000, 800, " Mbit/s", false});
  auto j = toJson(std::vector<ScenarioResult>{r});
  EXPECT_EQ(j["scenario"], "p2p");
  for (const char* k : {"p50", "p95", "p99", "max"}) EXPECT_TRUE(j["rtt_us"][k].is_number()) << k;
  EXPECT_TRUE(j["floor_udp_rtt_us"]["p50"].is_number());
  EXPECT_TRUE(j["floor_udp_rtt_us"]["p99"].is_number());
  EXPECT_EQ(j["throughput"]["mbit_per_s"], 800);
  EXPECT_EQ(j["throughput"]["msgs_per_s"], 6000);
  EXPECT_EQ(j["small_msgs_per_s"], 150000);
  EXPECT_TRUE(j["setup_ms"]["p50"].is_number());
  EXPECT_TRUE(j["setup_ms"]["p95"].is_number());
  EXPECT_EQ(j["targets"][0]["pass"], true);
  EXPECT_EQ(j["targets"][1]["pass"], false);
  auto two = toJson(std::vector<ScenarioResult>{r, r});
  EXPECT_EQ(two["scenarios"].size(), 2u);

  std::string block = formatBlock(r);
  for (const char* line :
       {"Benchmark: 2-Agent P2P (STUN)", "Samples:      3", "P50 (median): 0.050ms",
        "P95:", "P99:", "Throughput:", "UDP floor:",
        "Target: p95 < 50ms (original design) | Actual: 0.060ms | \u2705 PASS", "\u274c FAIL"})
    EXPECT_NE(block.find(line), std::string::npos) << line << "\n" << block;
}

TEST(Report, BlockWithoutEchoSamplesPrintsNoRtts) {
  ScenarioResult r;
  r.title = "Constrained link";
  r.notes.push_back("adapter on: drained in 1507 ms");
  std::string block = formatBlock(r);
  EXPECT_NE(block.find("Samples:      0 (no echo round trips"), std::string::npos) << block;
  for (const char* line : {"Min RTT:", "P50 (median):", "Throughput:"})
    EXPECT_EQ(block.find(line), std::string::npos) << line << "\n" << block;
  EXPECT_NE(block.find("adapter on: drained in 1507 ms"), std::string::npos) << block;
}

TEST(UdpFloor, MeasuresLoopbackRoundTrips) {
  auto s = measureUdpFloor(64, 50, 500);
  EXPECT_EQ(s.samples, 500u);
  EXPECT_GT(s.p50, 0);
  EXPECT_LE(s.p50, s.p99);
}

}  // namespace
}  // namespace ifmesh::bench
