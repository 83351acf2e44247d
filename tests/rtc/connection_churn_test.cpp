// Connections replaced one after another on the same I/O thread, the old one destroyed and the new
// one created in the same loop task (as an agent link does when it reconnects). The new sockets
// then often get the descriptor numbers just closed, in the same GLib cell
// (rtc/context_driver.hpp): such a socket once looked registered with epoll but was not, and the
// new connection never heard its peer.
#include <gtest/gtest.h>

#include <memory>

#include "rtc/runtime.hpp"
#include "support/pc_pair.hpp"

namespace ifmesh {
namespace {

TEST(ConnectionChurn, ConnectionsReplacedInOneLoopTaskEachConnect) {
  auto config = test::loopbackConfig();
  config.ioThread = 0;
  auto& loop = rtc::Runtime::instance().loop(0);
  std::unique_ptr<test::PcPair> pair;
  std::shared_ptr<DataChannel> channel;
  for (int i = 0; i < 40; ++i) {
    loop.invoke([&] {
      if (pair) pair->offerer->onLocalCandidate(nullptr), pair->answerer->onLocalCandidate(nullptr);
      channel.reset();
      pair.reset();  // sockets closed here...
      pair = std::make_unique<test::PcPair>(config, config);
      channel = pair->offerer->createDataChannel("churn");
      pair->negotiate();  // ...and new ones opened here, before the loop polls again
    });
    ASSERT_TRUE(pair->waitConnected(std::chrono::seconds(5))) << "connection " << i;
    ASSERT_TRUE(test::waitOpen(*channel, std::chrono::seconds(5))) << "channel " << i;
  }
  loop.invoke([&] {
    channel.reset();
    pair.reset();
  });
}

}  // namespace
}  // namespace ifmesh
