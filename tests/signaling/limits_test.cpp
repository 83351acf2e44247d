// The signaling server's per-client limits (frame size, message rate), each with the error a
// client gets when it crosses them, over real WebSockets on 127.0.0.1.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "signaling/signaling_fixture.hpp"

namespace ifmesh::signaling {
namespace {

using namespace std::chrono_literals;
using namespace test;
namespace beast = boost::beast;

// A register message padded to exactly `size` bytes.
std::string registerFrame(const std::string& id, std::size_t size) {
  nlohmann::json m{{"type", "register"}, {"agent_id", id}, {"pad", ""}};
  std::size_t base = m.dump().size();
  m["pad"] = std::string(size - base, 'p');
  return m.dump();
}

TEST(SignalingLimits, FrameAtTheLimitPassesOneByteMoreClosesWith1009) {
  ServerConfig config = loopbackServer();
  config.maxFrameBytes = 4096;
  Server server(config);
  server.start();

  RawSocket atLimit(server);
  atLimit.ws.write(boost::asio::buffer(registerFrame("fits", 4096)));
  auto reply = atLimit.read();
  ASSERT_FALSE(reply.is_discarded());
  EXPECT_EQ(reply["type"], "registered") << reply.dump();

  RawSocket over(server);
  over.ws.write(boost::asio::buffer(registerFrame("too-big", 4097)));
  // The WebSocket layer fails the connection at once with close code 1009 (message too big):
  // that is the error a client sees (docs/signaling-protocol.md).
  EXPECT_TRUE(over.read().is_discarded()) << "the connection stayed open after a too-large frame";
  EXPECT_EQ(over.ws.reason().code, beast::websocket::close_code::too_big);
  EXPECT_EQ(server.agentCount(), 1u);  // only "fits"
}

TEST(SignalingLimits, RateLimitedClientIsToldOnceAndDroppedUntilTheNextWindow) {
  ServerConfig config = loopbackServer();
  config.maxMessagesPerSecond = 50;
  Server server(config);
  server.start();
  Client a(clientFor(server, "a")), b(clientFor(server, "b"));
  std::atomic<int> received{0};
  std::atomic<int> rateErrors{0};
  std::atomic<bool> lateArrived{false};
  b.onRelay([&](const std::string&, const std::string&, const nlohmann::json& m) {
    ++received;
    if (m.value("late", false)) lateArrived = true;
  });
  a.onError([&](const std::string& code, const std::string&) {
    if (code == "rate_limited") ++rateErrors;
  });
  a.connect();
  b.connect();
  ASSERT_TRUE(a.waitRegistered(5s));
  ASSERT_TRUE(b.waitRegistered(5s));

  for (int i = 0; i < 500; ++i) a.send("b", "app", {{"n", i}});
  std::this_thread::sleep_for(500ms);
  // One window's worth passes (two if the burst straddles a window boundary); the rest is dropped.
  EXPECT_GE(received.load(), 25);
  EXPECT_LE(received.load(), 100);
  EXPECT_GE(rateErrors.load(), 1);
  EXPECT_LE(rateErrors.load(), 2) << "one rate_limited error per window, not one per message";

  // The client is throttled, not banned: the next window serves it again.
  std::this_thread::sleep_for(1100ms);
  a.send("b", "app", {{"late", true}});
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!lateArrived && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(lateArrived);
  EXPECT_EQ(server.agentCount(), 2u);
}

}  // namespace
}  // namespace ifmesh::signaling
