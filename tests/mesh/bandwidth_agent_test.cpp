// Bandwidth adaptation inside an Agent, on real DataChannels: a flood fills the channel's buffer,
// the agent steps down to LOW and back up to HIGH, and every message arrives exactly once.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "mesh/mesh_fixture.hpp"

namespace ifmesh {
namespace {

using namespace test;

TEST(AgentBandwidth, FloodStepsDownToLowAndRecoversWithoutLosingMessages) {
  auto server = startSignaling();
  auto witness = std::make_shared<Witness>();
  std::mutex mutex;
  std::vector<std::string> transitions;
  witness->addSink(std::make_shared<CallbackWitnessSink>([&](const WitnessEvent& e) {
    if (e.event != "bandwidth_quality_changed") return;
    std::lock_guard lock(mutex);
    transitions.push_back(e.metadata["old_mode"].get<std::string>() + ">" +
                          e.metadata["new_mode"].get<std::string>());
  }));
  auto config = [&](const std::string& id) {
    // The library's default healing, which this test has always run with.
    auto c = meshAgentConfig(id, *server, witness, HealingConfig{});
    c.bandwidth.checkInterval = 20ms;
    // 72 MB of flood is more than the default 16 MiB queue bound: the producer waits for room.
    c.bandwidth.queue.policy = QueuePolicy::Block;
    return c;
  };
  Agent a(config("a")), b(config("b"));
  std::atomic<int> received{0};
  std::atomic<bool> inOrder{true};
  b.onMessage([&](const IFMessage& m) {
    if (m.payload["n"].get<int>() != received.load()) inOrder = false;
    ++received;
  });
  a.connectToSignaling();
  b.connectToSignaling();
  ASSERT_TRUE(a.waitRegistered(5s) && b.waitRegistered(5s));
  a.connect("b");
  waitFor([&] { return !a.peers().empty(); }, 10s, 5ms);
  ASSERT_FALSE(a.peers().empty());

  constexpr int kCount = 600;
  std::string blob(120 * 1024, 'x');
  for (int i = 0; i < kCount; ++i) {
    IFMessage m;
    m.payload = {{"n", i}, {"blob", blob}};
    a.send("b", m);
  }
  waitFor([&] { return received >= kCount; }, 60s, 10ms);
  EXPECT_EQ(received.load(), kCount);
  EXPECT_TRUE(inOrder);
  waitFor([&] { return a.getQualityMode() == QualityMode::High; }, 10s, 10ms);
  EXPECT_EQ(a.getQualityMode(), QualityMode::High);
  auto stats = a.getBandwidthStats();
  EXPECT_GE(stats.transitions, 4u);
  EXPECT_GT(stats.peakBuffered, 1024u * 1024);
  std::lock_guard lock(mutex);
  std::string seen;
  for (const auto& t : transitions) seen += t + " ";
  EXPECT_NE(seen.find("HIGH>MEDIUM"), std::string::npos) << seen;
  EXPECT_NE(seen.find("MEDIUM>LOW"), std::string::npos) << seen;
  EXPECT_NE(seen.find("LOW>MEDIUM"), std::string::npos) << seen;
  EXPECT_NE(seen.find("MEDIUM>HIGH"), std::string::npos) << seen;
}

}  // namespace
}  // namespace ifmesh
