// Server-reflexive gathering on the I/O thread's shared UDP socket (sharedIceSocket with STUN
// servers): a real UDP STUN server on loopback that reports a NAT's address, one query for all
// of a thread's connections, a silent server, and connections that work all the same.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "support/echo_both_ways.hpp"
#include "support/pc_pair.hpp"
#include "support/scripted_stun_server.hpp"

namespace ifmesh {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// What a NAT in front of the socket would make of it: TEST-NET-1, never routed.
ice::StunAddress natAddress() {
  ice::StunAddress a;
  a.ip = {192, 0, 2, 44};
  a.port = 40000;
  return a;
}

RtcConfiguration withStun(const std::string& url, int ioThread = -1) {
  RtcConfiguration c = test::loopbackConfig();
  c.sharedIceSocket = true;
  c.iceServers = {{url, "", ""}};
  c.ioThread = ioThread;
  return c;
}

// A connection's trickled candidates, and when the end of them came.
struct Gathered {
  test::Signal signal;
  std::vector<std::string> candidates;
  std::optional<Clock::time_point> end;

  void attach(PeerConnection& pc) {
    pc.onLocalCandidate([this](const Candidate& c) {
      signal.update([&] {
        if (c.candidate.empty())
          end = Clock::now();
        else
          candidates.push_back(c.candidate);
      });
    });
  }
  bool waitEnd(std::chrono::milliseconds timeout) {
    return signal.waitFor([&] { return end.has_value(); }, timeout);
  }
  std::vector<std::string> ofType(const std::string& type) {
    std::lock_guard lock(signal.mutex());
    std::vector<std::string> out;
    for (const auto& c : candidates)
      if (c.find(" typ " + type) != std::string::npos) out.push_back(c);
    return out;
  }
};

// "candidate:1 1 udp P 127.0.0.1 PORT typ host ...": its port.
std::string portOf(const std::string& line) {
  auto at = line.find("127.0.0.1 ");
  return line.substr(at + 10, line.find(' ', at + 10) - at - 10);
}

TEST(SharedIceSocketStun, GathersTheServerReflexiveAddressAStunServerReports) {
  test::ScriptedStunServer server(natAddress());
  PeerConnection pc(withStun(server.url()));
  Gathered gathered;
  gathered.attach(pc);
  pc.createDataChannel("srflx");
  auto started = Clock::now();
  pc.createOffer();
  ASSERT_TRUE(gathered.waitEnd(2s));
  EXPECT_LT(*gathered.end - started, 1s);  // answered at once: no retransmission waited for
  auto hosts = gathered.ofType("host");
  auto reflexive = gathered.ofType("srflx");
  ASSERT_EQ(hosts.size(), 1u);
  ASSERT_EQ(reflexive.size(), 1u);
  // Its base is the host candidate's socket, the one every connection of the thread shares.
  EXPECT_NE(reflexive[0].find(" 192.0.2.44 40000 typ srflx raddr 127.0.0.1 rport " +
                              portOf(hosts[0]) + " "),
            std::string::npos)
      << reflexive[0];
  EXPECT_NE(reflexive[0].find(" ufrag "), std::string::npos);
  EXPECT_EQ(server.requests(), 1);
  EXPECT_EQ(pc.gatheringState(), GatheringState::Complete);
  // The local description carries it too.
  EXPECT_NE(pc.localDescription()->sdp.find("typ srflx"), std::string::npos);
}

TEST(SharedIceSocketStun, OneQueryServesEveryConnectionOfTheThread) {
  test::ScriptedStunServer server(natAddress());
  std::vector<std::unique_ptr<PeerConnection>> pcs;
  std::vector<std::unique_ptr<Gathered>> gathered;
  for (int i = 0; i < 5; ++i) {
    pcs.push_back(std::make_unique<PeerConnection>(withStun(server.url(), 0)));
    gathered.push_back(std::make_unique<Gathered>());
    gathered.back()->attach(*pcs.back());
    pcs.back()->createDataChannel("x");
    pcs.back()->createOffer();
  }
  for (auto& g : gathered) {
    ASSERT_TRUE(g->waitEnd(2s));
    EXPECT_EQ(g->ofType("srflx").size(), 1u);
  }
  EXPECT_EQ(server.requests(), 1);
}

TEST(SharedIceSocketStun, ASilentServerDelaysOnlyTheEndOfCandidates) {
  test::ScriptedStunServer silent(std::nullopt);
  Gathered gathered;  // outlives the pair, whose callback writes to it
  test::PcPair pair(withStun(silent.url()), withStun(silent.url()));
  // PcPair forwards candidates; this wraps the offerer's to see when its end comes.
  pair.offerer->onLocalCandidate([&](const Candidate& c) {
    pair.answerer->addRemoteCandidate(c);
    gathered.signal.update([&] {
      if (c.candidate.empty()) gathered.end = Clock::now();
    });
  });
  auto channel = pair.offerer->createDataChannel("silent");
  auto started = Clock::now();
  pair.negotiate();
  ASSERT_TRUE(pair.waitConnected());
  ASSERT_TRUE(test::waitOpen(*channel));
  EXPECT_LT(Clock::now() - started, 1s);  // host candidates trickled at once
  test::expectEchoBothWays(pair, *channel);
  EXPECT_FALSE(gathered.end);
  ASSERT_TRUE(gathered.waitEnd(6s));
  // Four transmissions over 3.75 s, then the server is given up.
  EXPECT_GE(*gathered.end - started, 3500ms);
  EXPECT_GE(silent.requests(), 4);
  EXPECT_EQ(pair.offerer->state(), PeerConnectionState::Connected);
}

}  // namespace
}  // namespace ifmesh
