// The relay path's floor: plain UDP through two allocations on a real coturn on 127.0.0.1.
#include "bench/turn_floor.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "bench/coturn_process.hpp"

namespace ifmesh::bench {
namespace {

TEST(TurnFloor, PingPongThroughTwoAllocationsOnCoturn) {
  ASSERT_TRUE(CoturnProcess::findBinary()) << "coturn must be installed (scripts/install-deps.sh)";
  CoturnProcess turn;
  TurnCredentials server{turn.port(), turn.options().username, turn.options().password};
  std::vector<double> rtts = measureTurnFloorSamples(server, 64, 20, 200);
  ASSERT_EQ(rtts.size(), 200u);
  for (double rtt : rtts) EXPECT_GT(rtt, 0);
  // New allocations on the same server (the first two were given back), larger datagrams.
  EXPECT_EQ(measureTurnFloorSamples(server, 1000, 0, 50).size(), 50u);
}

TEST(TurnFloor, AWrongPasswordIsRefusedWithAClearError) {
  ASSERT_TRUE(CoturnProcess::findBinary()) << "coturn must be installed (scripts/install-deps.sh)";
  CoturnProcess turn;
  TurnCredentials server{turn.port(), turn.options().username, "not-the-password"};
  try {
    measureTurnFloorSamples(server, 64, 0, 10);
    FAIL() << "a wrong password must not allocate";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("refused the credentials"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ifmesh::bench
