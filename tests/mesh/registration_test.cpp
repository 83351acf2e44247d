// Agent::waitRegistered against a real signaling server on 127.0.0.1: registered, or the reason
// it is not, as soon as that is known rather than after the timeout.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mesh/mesh_fixture.hpp"

namespace ifmesh {
namespace {

using namespace test;
using Clock = std::chrono::steady_clock;

std::chrono::milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

// A loopback port nothing listens on: bound by the kernel's choice, then released.
std::uint16_t closedLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(Registration, SucceedsWithAnEmptyCode) {
  auto server = startSignaling();
  Agent a(meshAgentConfig("reg-ok", *server));
  a.connectToSignaling();
  RegistrationResult r = a.waitRegistered(5s);
  ASSERT_TRUE(r) << r.code << ": " << r.message;
  EXPECT_TRUE(r.registered);
  EXPECT_TRUE(r.code.empty());
  EXPECT_TRUE(a.isRegistered());
}

TEST(Registration, ADuplicateIdIsReportedWellBeforeTheTimeout) {
  auto server = startSignaling();
  Agent first(meshAgentConfig("twin", *server)), second(meshAgentConfig("twin", *server));
  first.connectToSignaling();
  ASSERT_TRUE(first.waitRegistered(5s));
  second.connectToSignaling();
  auto start = Clock::now();
  RegistrationResult r = second.waitRegistered(20s);
  EXPECT_LT(since(start), 5s);
  EXPECT_FALSE(r);
  EXPECT_EQ(r.code, "duplicate_id");
  EXPECT_NE(r.message.find("twin"), std::string::npos) << r.message;
  // The refusal stands for this connection: asking again answers at once.
  start = Clock::now();
  EXPECT_EQ(second.waitRegistered(20s).code, "duplicate_id");
  EXPECT_LT(since(start), 1s);
  EXPECT_TRUE(first.isRegistered());
}

TEST(Registration, ABadTokenIsUnauthorized) {
  signaling::ServerConfig sc;
  sc.port = 0;
  sc.sharedSecret = "s3cret";
  signaling::Server server(sc);
  server.start();
  auto c = meshAgentConfig("intruder", server);
  c.authToken =
      signaling::makeAuthToken("not the secret", "intruder", std::chrono::system_clock::now() + 1h);
  Agent a(c);
  std::mutex mutex;
  std::vector<std::string> codes;
  a.onSignalingError([&](const std::string& code, const std::string&) {
    std::lock_guard lock(mutex);
    codes.push_back(code);
  });
  a.connectToSignaling();
  auto start = Clock::now();
  RegistrationResult r = a.waitRegistered(20s);
  EXPECT_LT(since(start), 5s);
  EXPECT_EQ(r.code, "unauthorized");
  EXPECT_FALSE(r.registered);
  // The callback hears of it too (on the agent's thread, so perhaps a moment later).
  EXPECT_TRUE(waitFor([&] {
    std::lock_guard lock(mutex);
    return codes == std::vector<std::string>{"unauthorized"};
  }));
}

TEST(Registration, NothingListeningIsUnreachableAndEachRetryEndsOneWait) {
  AgentConfig c;
  c.agentId = "lonely";
  c.signalingUrl = "ws://127.0.0.1:" + std::to_string(closedLoopbackPort());
  c.localAddresses = {"127.0.0.1"};
  Agent a(c);
  a.connectToSignaling();
  auto start = Clock::now();
  RegistrationResult r = a.waitRegistered(20s);
  EXPECT_LT(since(start), 5s);
  EXPECT_EQ(r.code, "unreachable");
  EXPECT_FALSE(r.message.empty());
  // The agent retries in the background; the next wait reports the next attempt.
  start = Clock::now();
  EXPECT_EQ(a.waitRegistered(20s).code, "unreachable");
  EXPECT_LT(since(start), 10s);
}

TEST(Registration, NothingHappeningIsATimeout) {
  auto server = startSignaling();
  Agent a(meshAgentConfig("idle", *server));  // never asked to connect
  auto start = Clock::now();
  RegistrationResult r = a.waitRegistered(200ms);
  EXPECT_GE(since(start), 200ms);
  EXPECT_EQ(r.code, "timeout");
  EXPECT_FALSE(r);
}

TEST(Registration, AfterARegistrationFailedReconnectionsDoNotEndTheWait) {
  auto server = startSignaling();
  Agent a(meshAgentConfig("healing", *server));
  a.connectToSignaling();
  ASSERT_TRUE(a.waitRegistered(5s));
  server->stop();
  ASSERT_TRUE(waitFor([&] { return !a.isRegistered(); }, 20s));
  auto start = Clock::now();
  RegistrationResult r = a.waitRegistered(1500ms);
  EXPECT_GE(since(start), 1500ms);
  EXPECT_EQ(r.code, "timeout");
  EXPECT_NE(r.message.find("last error: unreachable"), std::string::npos) << r.message;
}

}  // namespace
}  // namespace ifmesh
