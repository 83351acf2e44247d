// TURN through a real coturn on 127.0.0.1, and the two-agent scenario end to end.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "bench/coturn_process.hpp"
#include "bench/direct_pair.hpp"
#include "bench/pair_scenario.hpp"

namespace ifmesh::bench {
namespace {

using namespace std::chrono_literals;

RtcConfiguration relayConfig(const CoturnProcess& turn, const std::string& password) {
  RtcConfiguration c;
  c.localAddresses = {"127.0.0.1"};
  c.forceRelay = true;
  c.iceServers = {{turn.turnUrl(), turn.options().username, password}};
  return c;
}

TEST(Turn, BothSidesRelayedThroughCoturn) {
  ASSERT_TRUE(CoturnProcess::findBinary()) << "coturn must be installed (scripts/install-deps.sh)";
  CoturnProcess turn;
  DirectPair pair(relayConfig(turn, turn.options().password), "relayed");
  auto stats = pair.offerer().stats();
  ASSERT_TRUE(stats.selectedPair.has_value());
  EXPECT_EQ(stats.selectedPair->localType, "relay");
  EXPECT_NE(stats.selectedPair->localCandidate.find("typ relay"), std::string::npos);
  std::promise<std::string> echoed;
  pair.remote().onMessage([&](Message&& m) { echoed.set_value(std::get<std::string>(m)); });
  pair.local().send("through the relay");
  auto f = echoed.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(f.get(), "through the relay");
  pair.remote().onMessage(nullptr);
}

TEST(Turn, WrongCredentialsFailClearlyInsteadOfHanging) {
  CoturnProcess turn;
  RtcConfiguration bad = relayConfig(turn, "wrong-password");
  PeerConnection a(bad), b(bad);
  a.onLocalCandidate([&b](const Candidate& c) { b.addRemoteCandidate(c); });
  b.onLocalCandidate([&a](const Candidate& c) { a.addRemoteCandidate(c); });
  a.createDataChannel("x");
  b.setRemoteDescription(a.createOffer());
  a.setRemoteDescription(b.createAnswer());
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (a.state() != PeerConnectionState::Failed && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(a.state(), PeerConnectionState::Failed);
  EXPECT_NE(a.stats().failureReason.find("TURN"), std::string::npos) << a.stats().failureReason;
  a.onLocalCandidate(nullptr);
  b.onLocalCandidate(nullptr);
  a.stats();
}

TEST(PairScenario, ProducesEveryFigureWithSmallCounts) {
  PairOptions o;
  o.samples = 300;
  o.warmup = 30;
  o.setupConnections = 3;
  o.bulkDuration = 200ms;
  o.smallDuration = 200ms;
  auto r = runPairScenario(o);
  EXPECT_EQ(r.rttUs.samples, 300u);
  EXPECT_GT(r.rttUs.p50, 0);
  EXPECT_GT(r.floorUs.p50, 0);
  EXPECT_GT(r.bulkMbitPerS, 0);
  EXPECT_GT(r.smallMsgsPerS, 0);
  EXPECT_EQ(r.setupMs.samples, 3u);
}

}  // namespace
}  // namespace ifmesh::bench
