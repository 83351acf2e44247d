// Signaling URLs, parsed without a socket: what a Client connects to, and every form it refuses
// at construction instead of retrying a connection that can never work.
#include "signaling/signaling_url.hpp"

#include <gtest/gtest.h>

#include "ifmesh/error.hpp"

namespace ifmesh::signaling {
namespace {

TEST(SignalingUrl, HostPortPathAndScheme) {
  auto plain = parseSignalingUrl("ws://127.0.0.1:8443");
  EXPECT_EQ(plain.host, "127.0.0.1");
  EXPECT_EQ(plain.port, "8443");
  EXPECT_EQ(plain.path, "/");
  EXPECT_FALSE(plain.tls);
  auto secure = parseSignalingUrl("wss://signal.example/mesh/a");
  EXPECT_EQ(secure.host, "signal.example");
  EXPECT_EQ(secure.port, "443");
  EXPECT_EQ(secure.path, "/mesh/a");
  EXPECT_TRUE(secure.tls);
  EXPECT_EQ(parseSignalingUrl("ws://h").port, "80");
  auto v6 = parseSignalingUrl("ws://[::1]:9000/x");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, "9000");
  auto v6NoPort = parseSignalingUrl("ws://[::1]");
  EXPECT_EQ(v6NoPort.host, "::1");
  EXPECT_EQ(v6NoPort.port, "80");
}

TEST(SignalingUrl, RefusesWhatCanNeverConnect) {
  for (const char* bad : {"", "foo", "http://127.0.0.1:1", "ws://", "ws://:8443", "ws://h:0",
                          "ws://h:65536", "ws://h:99999", "ws://h:80x", "ws://h:", "ws://a b:1",
                          "ws://user@h:1", "ws://h?q:1", "ws://[::1", "ws://[]:1"}) {
    try {
      parseSignalingUrl(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::InvalidArgument) << bad;
    }
  }
}

}  // namespace
}  // namespace ifmesh::signaling
