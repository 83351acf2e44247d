// The soak scenario, short: bulk and small-message transfers in both directions on one pair, with
// the system's UDP buffers and with 4 KiB ones (datagrams dropped all the time). Every transfer
// completes: loss slows a transfer, never stops it.
#include <gtest/gtest.h>

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

void expectNoStall(const ScenarioResult& r, std::size_t transfers) {
  const auto& soak = r.extra.at("soak");
  EXPECT_EQ(soak.at("transfers").get<std::size_t>(), transfers);
  EXPECT_EQ(soak.at("stalls").get<std::size_t>(), 0u) << r.notes.at(0);
  EXPECT_EQ(soak.at("silent_stalls").get<std::size_t>(), 0u) << r.notes.at(0);
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

}  // namespace
}  // namespace ifmesh::bench
