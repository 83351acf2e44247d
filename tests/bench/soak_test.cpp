// The soak scenario, short: bulk and small-message transfers in both directions on one pair, with
// the system's UDP buffers, with 4 KiB ones (datagrams dropped all the time) and through a tbf
// whose queue overflows. Every transfer completes: loss slows a transfer, never stops it.
#include <gtest/gtest.h>

#include <string>

#include "bench/namespaced_soak.hpp"
#include "bench/soak_scenario.hpp"

namespace ifmesh::bench {
namespace {

using namespace std::chrono_literals;

SoakOptions shortSoak(std::size_t transfers, int udpReceiveBuffer) {
  SoakOptions o;
  o.transfers = transfers;
  o.setupPairs = 4;
  o.bulkDuration = 300ms;
  o.floodDuration = 100ms;
  o.stallTimeout = 20s;  // longer than the association's own 10 s progress watch
  o.config.udpReceiveBufferBytes = udpReceiveBuffer;
  return o;
}

// Every note: the summary first, then what each stall left behind.
std::string allNotes(const ScenarioResult& r) {
  std::string all;
  for (const auto& note : r.notes) all += note + "\n";
  return all;
}

void expectNoStall(const ScenarioResult& r, std::size_t transfers) {
  const auto& soak = r.extra.at("soak");
  EXPECT_EQ(soak.at("transfers").get<std::size_t>(), transfers);
  EXPECT_EQ(soak.at("stalls").get<std::size_t>(), 0u) << allNotes(r);
  EXPECT_EQ(soak.at("silent_stalls").get<std::size_t>(), 0u) << allNotes(r);
  // Every transfer completed, each delivering every message it sent (counted per transfer).
  EXPECT_EQ(soak.at("bulk_mbit_per_s").at("samples").get<std::size_t>(), transfers);
  EXPECT_GT(r.bulkMbitPerS, 0);
  EXPECT_GT(r.smallMsgsPerS, 0);
}

TEST(Soak, TransfersInBothDirectionsNeverStall) {
  auto r = runSoakScenario(shortSoak(20, 0));
  expectNoStall(r, 20);
}

TEST(Soak, DroppedDatagramsSlowTransfersButNeverStopThem) {
  auto r = runSoakScenario(shortSoak(4, 4096));
  expectNoStall(r, 4);
  // The tiny buffers really do drop datagrams: the transfers ran on SCTP's loss recovery.
  EXPECT_GT(r.extra["soak"]["udp_receive_buffer_drops"].get<std::uint64_t>(), 0u);
  EXPECT_GT(r.extra["soak"]["sctp_data_chunks_retransmitted"].get<std::uint32_t>(), 0u);
}

// The CLI's soak in a loopback-only namespace whose loopback has a 50 Mbit/s tbf with a 5 ms
// queue: the bulk sender overflows the queue, so the transfers run into drops at the bottleneck.
TEST(Soak, AnOverflowingTbfSlowsTransfersButNeverStopsThem) {
  if (!namespacedSoakAvailable()) GTEST_SKIP() << "needs root and `ip netns`";
  NamespacedSoakOptions o;
  o.scenario = "soak-tbf";
  o.cliPath = IFMESH_CLI_PATH;
  o.tbfRateKbit = 50000;
  o.transfers = 6;
  auto r = runNamespacedSoak(o);
  expectNoStall(r, 6);
  const auto& tbf = r.extra["soak"]["tbf"];
  EXPECT_GT(tbf["dropped"].get<std::uint64_t>(), 0u) << r.notes.back();
  EXPECT_LT(r.bulkMbitPerS, 50);  // the bottleneck, not loopback, set the pace
}

}  // namespace
}  // namespace ifmesh::bench
