#pragma once
// A PcPair's channel carries `count` messages each way: the offerer's `local` channel and the
// channel it opened at the answerer. Failures are the caller's test's.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>

#include "support/pc_pair.hpp"

namespace ifmesh::test {

inline void expectEchoBothWays(PcPair& pair, DataChannel& local, int count = 50) {
  auto remote = pair.waitRemoteChannel();
  ASSERT_TRUE(remote);
  ASSERT_TRUE(waitOpen(*remote));
  std::atomic<int> atRemote{0}, atLocal{0};
  remote->onMessage([&](Message&&) { ++atRemote; });
  local.onMessage([&](Message&&) { ++atLocal; });
  for (int i = 0; i < count; ++i) {
    local.send("to answerer");
    remote->send("to offerer");
  }
  eventually([&] { return atRemote >= count && atLocal >= count; }, std::chrono::seconds(10),
             std::chrono::milliseconds(1));
  EXPECT_EQ(atRemote.load(), count);
  EXPECT_EQ(atLocal.load(), count);
  remote->onMessage(nullptr);
  local.onMessage(nullptr);
}

// Connects a pair with these configurations, opens channel `label` and echoes over it both ways.
inline void connectAndEcho(const RtcConfiguration& offerer, const RtcConfiguration& answerer,
                           const std::string& label) {
  PcPair pair(offerer, answerer);
  auto channel = pair.offerer->createDataChannel(label);
  pair.negotiate();
  ASSERT_TRUE(pair.waitConnected());
  ASSERT_TRUE(waitOpen(*channel));
  expectEchoBothWays(pair, *channel);
}

}  // namespace ifmesh::test
