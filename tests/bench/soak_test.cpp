// The soak scenario, short: bulk and small-message transfers in both directions on one pair, with
// the system's UDP buffers and with 4 KiB ones (datagrams dropped all the time). Every transfer
// either completes or ends its connection with a reason; none sits "connected" without moving.
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

void expectNoSilentStall(const ScenarioResult& r, std::size_t transfers) {
  const auto& soak = r.extra.at("soak");
  EXPECT_EQ(soak.at("transfers").get<std::size_t>(), transfers);
  EXPECT_EQ(soak.at("silent_stalls").get<std::size_t>(), 0u) << r.notes.at(0);
  const auto stalls = soak.at("stalls").get<std::size_t>();
  // The transfers that completed delivered every message they sent (counted per transfer).
  EXPECT_EQ(soak.at("bulk_mbit_per_s").at("samples").get<std::size_t>() + stalls, transfers);
  for (std::size_t i = 1; i < r.notes.size(); ++i)
    EXPECT_NE(r.notes[i].find("stopped retransmitting"), std::string::npos) << r.notes[i];
  EXPECT_GT(r.bulkMbitPerS, 0);
  EXPECT_GT(r.smallMsgsPerS, 0);
}

TEST(Soak, TransfersInBothDirectionsNeverStallSilently) {
  auto r = runSoakScenario(shortSoak(20, 0));
  expectNoSilentStall(r, 20);
}

TEST(Soak, DroppedDatagramsSlowTransfersButNeverStopThemSilently) {
  auto r = runSoakScenario(shortSoak(4, 4096));
  expectNoSilentStall(r, 4);
  // The tiny buffers really do drop datagrams: the transfers ran on SCTP's loss recovery.
  EXPECT_GT(r.extra["soak"]["udp_receive_buffer_drops"].get<std::uint64_t>(), 0u);
  EXPECT_GT(r.extra["soak"]["sctp_data_chunks_retransmitted"].get<std::uint32_t>(), 0u);
}

}  // namespace
}  // namespace ifmesh::bench
