// PeerConnections whose ICE runs on the I/O thread's shared UDP socket (sharedIceSocket) over
// real loopback sockets: both nomination modes, many connections on one port, a peer on
// libnice (no mux tag: plain DTLS routed by address), IPv6, and the descriptors it saves.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "support/echo_both_ways.hpp"
#include "support/pc_pair.hpp"
#include "support/proc_entries.hpp"

namespace ifmesh {
namespace {

using test::expectEchoBothWays;
using test::PcPair;
using namespace std::chrono_literals;

RtcConfiguration shared() {
  RtcConfiguration c = test::loopbackConfig();
  c.sharedIceSocket = true;
  return c;
}

int openDescriptors() {
  return test::procEntries("/proc/self/fd");
}

std::string localCandidate(PeerConnection& pc) {
  auto stats = pc.stats();
  return stats.selectedPair ? stats.selectedPair->localCandidate : "";
}

TEST(SharedIceSocket, ConnectsWithEitherNominationModeOnEitherSide) {
  for (bool offererAggressive : {true, false}) {
    for (bool answererAggressive : {true, false}) {
      SCOPED_TRACE(std::string("offerer ") + (offererAggressive ? "aggressive" : "regular") +
                   ", answerer " + (answererAggressive ? "aggressive" : "regular"));
      RtcConfiguration a = shared(), b = shared();
      a.aggressiveNomination = offererAggressive;
      b.aggressiveNomination = answererAggressive;
      PcPair pair(a, b);
      auto channel = pair.offerer->createDataChannel("nomination");
      pair.negotiate();
      ASSERT_TRUE(pair.waitConnected());
      ASSERT_TRUE(test::waitOpen(*channel));
      expectEchoBothWays(pair, *channel);
      auto stats = pair.offerer->stats();
      ASSERT_TRUE(stats.selectedPair);
      EXPECT_EQ(stats.selectedPair->localType, "host");
      EXPECT_NE(stats.selectedPair->localCandidate.find("127.0.0.1"), std::string::npos);
    }
  }
}

TEST(SharedIceSocket, TheOfferCarriesTheMuxTag) {
  PeerConnection pc(shared());
  pc.createDataChannel("x");
  auto offer = pc.createOffer();
  EXPECT_NE(offer.sdp.find("a=x-ifmesh-mux:"), std::string::npos) << offer.sdp;
  RtcConfiguration libnice = test::loopbackConfig();
  libnice.sharedIceSocket = false;
  PeerConnection plain(libnice);
  plain.createDataChannel("x");
  EXPECT_EQ(plain.createOffer().sdp.find("a=x-ifmesh-mux:"), std::string::npos);
}

// Many connections of one I/O thread, both ends in this process: all on the same local port,
// the demultiplexer keeps them apart (by ufrag, transaction and mux tag).
TEST(SharedIceSocket, FiftyConnectionsShareOnePort) {
  constexpr int kPairs = 50;
  RtcConfiguration config = shared();
  config.ioThread = 0;
  std::vector<std::unique_ptr<PcPair>> pairs;
  std::vector<std::shared_ptr<DataChannel>> channels;
  for (int i = 0; i < kPairs; ++i) {
    pairs.push_back(std::make_unique<PcPair>(config, config));
    channels.push_back(pairs.back()->offerer->createDataChannel("c" + std::to_string(i)));
    pairs.back()->negotiate();
  }
  std::string port;
  for (int i = 0; i < kPairs; ++i) {
    ASSERT_TRUE(test::waitOpen(*channels[i], 30s)) << i;
    for (auto* pc : {pairs[i]->offerer.get(), pairs[i]->answerer.get()}) {
      auto line = localCandidate(*pc);
      auto at = line.find("127.0.0.1 ");
      ASSERT_NE(at, std::string::npos) << line;
      auto here = line.substr(at + 10, line.find(' ', at + 10) - at - 10);
      if (port.empty()) port = here;
      EXPECT_EQ(here, port) << "connection " << i << " is not on the shared port";
    }
  }
  // Every channel carries its own messages, and only its own.
  for (int i = 0; i < kPairs; ++i) {
    auto remote = pairs[i]->waitRemoteChannel();
    ASSERT_TRUE(remote);
    EXPECT_EQ(remote->label(), "c" + std::to_string(i));
  }
  expectEchoBothWays(*pairs[7], *channels[7]);
  expectEchoBothWays(*pairs[kPairs - 1], *channels[kPairs - 1]);
}

// The peer runs libnice (it announces no tag): DTLS goes plain both ways, routed by address.
TEST(SharedIceSocket, InteroperatesWithALibniceEndInEitherRole) {
  for (bool sharedOffers : {true, false}) {
    SCOPED_TRACE(sharedOffers ? "shared socket offers" : "libnice offers");
    RtcConfiguration a = sharedOffers ? shared() : test::loopbackConfig();
    RtcConfiguration b = sharedOffers ? test::loopbackConfig() : shared();
    test::connectAndEcho(a, b, "mixed");
  }
}

TEST(SharedIceSocket, Ipv6AndIpv4Candidates) {
  RtcConfiguration config = shared();
  config.localAddresses = {"127.0.0.1", "::1"};
  for (int round = 0; round < 3; ++round) {
    PcPair pair(config, config);
    auto channel = pair.offerer->createDataChannel("two-pairs");
    pair.negotiate();
    ASSERT_TRUE(pair.waitConnected()) << "round " << round;
    ASSERT_TRUE(test::waitOpen(*channel)) << "round " << round;
    expectEchoBothWays(pair, *channel);
  }
}

// The offerer's candidates and their end reach the answerer after its remote description and
// before its answer (the offer's end-of-candidates comes late when a STUN server answers
// first): with no local candidate yet, nothing has failed.
TEST(SharedIceSocket, TheOffersEndOfCandidatesBeforeTheAnswerIsNoFailure) {
  auto offerer = std::make_unique<PeerConnection>(shared());
  auto answerer = std::make_unique<PeerConnection>(shared());
  test::Signal signal;
  std::vector<Candidate> fromOfferer;
  bool offererDone = false;
  offerer->onLocalCandidate([&](const Candidate& c) {
    signal.update([&] {
      fromOfferer.push_back(c);
      offererDone = offererDone || c.candidate.empty();
    });
  });
  answerer->onLocalCandidate([&](const Candidate& c) { offerer->addRemoteCandidate(c); });
  auto channel = offerer->createDataChannel("late-answer");
  answerer->setRemoteDescription(offerer->createOffer());
  ASSERT_TRUE(signal.waitFor([&] { return offererDone; }));
  for (const auto& c : fromOfferer) answerer->addRemoteCandidate(c);
  std::this_thread::sleep_for(50ms);  // the answerer's agent ticks with no pair at all
  EXPECT_NE(answerer->state(), PeerConnectionState::Failed) << answerer->stats().failureReason;
  offerer->setRemoteDescription(answerer->createAnswer());
  ASSERT_TRUE(test::waitOpen(*channel)) << answerer->stats().failureReason;
  offerer->onLocalCandidate(nullptr);
  answerer->onLocalCandidate(nullptr);
  offerer->stats();
  answerer->stats();
}

// Descriptors: a connection on the shared socket opens none of its own.
TEST(SharedIceSocket, ConnectionsOpenNoDescriptorsOfTheirOwn) {
  RtcConfiguration config = shared();
  config.ioThread = 0;
  {
    PcPair warm(config, config);  // the shared sockets exist from here on
    auto c = warm.offerer->createDataChannel("warm");
    warm.negotiate();
    ASSERT_TRUE(test::waitOpen(*c));
  }
  int before = openDescriptors();
  constexpr int kPairs = 20;
  std::vector<std::unique_ptr<PcPair>> pairs;
  std::vector<std::shared_ptr<DataChannel>> channels;
  for (int i = 0; i < kPairs; ++i) {
    pairs.push_back(std::make_unique<PcPair>(config, config));
    channels.push_back(pairs.back()->offerer->createDataChannel("c"));
    pairs.back()->negotiate();
  }
  for (auto& c : channels) ASSERT_TRUE(test::waitOpen(*c, 30s));
  int during = openDescriptors();
  EXPECT_LE(during - before, 2) << kPairs * 2 << " connections opened " << during - before
                                << " descriptors";
}

}  // namespace
}  // namespace ifmesh
