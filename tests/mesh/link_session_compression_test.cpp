// A link session compresses (LOW mode) only toward a peer whose hello on this connection said it
// reads zstd ("compress": ["zstd"]), and says so in its own hello. No sockets: the peer's hellos
// are made here and fed in.
#include <gtest/gtest.h>

#include "mesh/scripted_peer.hpp"

namespace ifmesh::detail::link {
namespace {

struct Pair : test::ScriptedPeer {
  Pair() {
    start(aliceConfig());
    session->setCompression(true, 100, 1);
  }

  // bob's hello, as his session would say it.
  void hello(bool readsZstd) {
    Hello h = bobsHello();
    h.readsZstd = readsZstd;
    session->receive(now, encode(h));
  }

  // alice sends a compressible message; how many of the channel messages were compressed.
  std::size_t send() {
    IFMessage m;
    m.source = "alice";
    m.destination = "bob";
    m.payload = {{"text", std::string(4000, 'x')}};
    session->enqueue(now, m, 0);
    std::size_t binary = 0;
    for (const auto& out : session->takeOutput()) binary += out.binary ? 1 : 0;
    return binary;
  }
};

TEST(LinkSessionCompression, OurHelloSaysWeReadZstd) {
  Pair p;
  p.open();
  auto out = p.session->takeOutput();
  ASSERT_EQ(out.size(), 1u);
  auto frames = decode(out[0].bytes);
  ASSERT_EQ(frames.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<Hello>(frames[0]));
  EXPECT_TRUE(std::get<Hello>(frames[0]).readsZstd);
  EXPECT_NE(out[0].bytes.find(R"("compress":["zstd"])"), std::string::npos) << out[0].bytes;
}

TEST(LinkSessionCompression, OnlyTowardAPeerThatReadsZstd) {
  Pair p;
  p.open();
  p.hello(false);
  p.session->takeOutput();
  EXPECT_EQ(p.send(), 0u) << "compressed for a peer that cannot read it";
  // A new connection whose hello announces it: compressed from then on.
  p.open();
  p.hello(true);
  p.session->takeOutput();
  EXPECT_EQ(p.send(), 1u);
  // And the next connection's hello decides anew.
  p.open();
  p.hello(false);
  p.session->takeOutput();
  EXPECT_EQ(p.send(), 0u);
}

}  // namespace
}  // namespace ifmesh::detail::link
