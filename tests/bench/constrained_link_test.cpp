// The bandwidth adapter on a real rate-limited link: two network namespaces joined by a veth pair
// with tbf at 4 Mbit/s, a sender and a receiver agent as separate processes, one in each.
#include <gtest/gtest.h>

#include "bench/constrained_scenario.hpp"
#include "bench/process.hpp"

namespace ifmesh::bench {
namespace {

TEST(ConstrainedLink, AdapterStepsDownAndBackAndNothingIsLost) {
  if (!NetnsPair::available())
    GTEST_SKIP() << "needs root for network namespaces (CI runs as root)";
  ConstrainedOptions o;
  o.cliPath = IFMESH_CLI_PATH;
  // 16 KiB messages so that a batch (64 KiB at most) holds several: with 32 KiB ones only the
  // small control messages could ever share one, and whether they did was a matter of timing.
  o.count = 100;
  o.messageBytes = 16 * 1024;
  auto with = runConstrainedFlood(o, true);
  EXPECT_TRUE(with["all_acknowledged"].get<bool>()) << with.dump();
  EXPECT_TRUE(with["receiver_sequences_ok"].get<bool>()) << with.dump();
  EXPECT_GE(with["receiver_messages"].get<std::size_t>(), 100u);
  std::string transitions;
  for (const auto& t : with["transitions"]) transitions += t.get<std::string>() + " ";
  EXPECT_NE(transitions.find("HIGH>MEDIUM"), std::string::npos) << transitions;
  EXPECT_NE(transitions.find("MEDIUM>LOW"), std::string::npos) << transitions;
  EXPECT_EQ(with["final_mode"], "HIGH") << transitions;
  EXPECT_GT(with["peak_buffered"].get<std::size_t>(), 1024u * 1024);
  EXPECT_GT(with["batches_sent"].get<std::size_t>(), 0u) << with.dump();
}

}  // namespace
}  // namespace ifmesh::bench
