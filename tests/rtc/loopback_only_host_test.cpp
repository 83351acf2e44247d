// A host whose only interface is loopback (a fresh network namespace, a container without
// network): a PeerConnection with the default configuration (every interface) gathers on
// 127.0.0.1 and connects, instead of failing to gather. The outer test re-runs this binary's
// inner test in a new network namespace (root and util-linux's unshare needed).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "support/pc_pair.hpp"

namespace ifmesh {
namespace {

constexpr const char* kInsideVariable = "IFMESH_INSIDE_LOOPBACK_ONLY_NETNS";

TEST(LoopbackOnlyHost, DefaultConfigurationConnectsOverLoopback) {
  if (!std::getenv(kInsideVariable))
    GTEST_SKIP() << "runs inside the namespace the next test makes";
  test::PcPair pair(RtcConfiguration{}, RtcConfiguration{});
  auto channel = pair.offerer->createDataChannel("only-loopback");
  pair.negotiate();
  ASSERT_TRUE(pair.waitConnected()) << pair.offerer->stats().failureReason;
  ASSERT_TRUE(test::waitOpen(*channel));
  auto remote = pair.waitRemoteChannel();
  ASSERT_TRUE(remote);
  std::atomic<int> received{0};
  remote->onMessage([&](Message&&) { ++received; });
  channel->send(std::string("ping"));
  EXPECT_TRUE(test::eventually([&] { return received.load() == 1; }, std::chrono::seconds(5)));
  auto stats = pair.offerer->stats();
  ASSERT_TRUE(stats.selectedPair.has_value());
  EXPECT_NE(stats.selectedPair->localCandidate.find("127.0.0.1"), std::string::npos);
  remote->onMessage(nullptr);
}

TEST(LoopbackOnlyHost, RunsTheDefaultConfigurationInANamespaceWithOnlyLoopback) {
  if (geteuid() != 0) GTEST_SKIP() << "making a network namespace needs root";
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string command =
      std::string(kInsideVariable) + "=1 unshare --net sh -c 'ip link set lo up && exec " + self +
      " --gtest_filter=LoopbackOnlyHost.DefaultConfigurationConnectsOverLoopback'";
  // The inner test skips itself outside the namespace, so success alone proves nothing: it must
  // say it ran and passed.
  std::unique_ptr<FILE, int (*)(FILE*)> inner(popen((command + " 2>&1").c_str(), "r"), &pclose);
  ASSERT_TRUE(inner) << command;
  std::string output;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, inner.get()))
    output.append(buffer, n);
  int status = pclose(inner.release());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << command << "\n" << output;
  EXPECT_NE(output.find("[       OK ] LoopbackOnlyHost.DefaultConfigurationConnectsOverLoopback"),
            std::string::npos)
      << output;
}

}  // namespace
}  // namespace ifmesh
