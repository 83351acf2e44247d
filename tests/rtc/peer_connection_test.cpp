// PeerConnection over real UDP sockets on 127.0.0.1: negotiation, DTLS identity, errors, scale.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "ifmesh/error.hpp"
#include "support/echo_both_ways.hpp"
#include "support/pc_pair.hpp"
#include "support/proc_entries.hpp"

namespace ifmesh {
namespace {

using test::expectEchoBothWays;
using test::PcPair;
using namespace std::chrono_literals;

int threadCount() {
  return test::procEntries("/proc/self/task");
}

TEST(PeerConnection, ConnectsOnLoopbackAndReportsStates) {
  PcPair pair;
  std::vector<PeerConnectionState> states;
  std::mutex m;
  pair.offerer->onStateChange([&](PeerConnectionState s) {
    std::lock_guard lock(m);
    states.push_back(s);
  });
  auto channel = pair.offerer->createDataChannel("hello");
  pair.negotiate();
  ASSERT_TRUE(pair.waitConnected());
  ASSERT_TRUE(test::waitOpen(*channel));
  EXPECT_EQ(pair.offerer->iceState() == IceState::Connected ||
                pair.offerer->iceState() == IceState::Completed,
            true);
  EXPECT_EQ(pair.offerer->dtlsState(), DtlsState::Connected);
  auto stats = pair.offerer->stats();
  ASSERT_TRUE(stats.selectedPair.has_value());
  EXPECT_NE(stats.selectedPair->localCandidate.find("127.0.0.1"), std::string::npos);
  EXPECT_EQ(stats.selectedPair->localType, "host");
  EXPECT_GT(stats.bytesSent, 0u);
  std::lock_guard lock(m);
  ASSERT_FALSE(states.empty());
  EXPECT_EQ(states.front(), PeerConnectionState::Connecting);
  EXPECT_EQ(states.back(), PeerConnectionState::Connected);
}

TEST(PeerConnection, StatsShowTheSctpAssociationAndTheUdpReceiveBuffer) {
  RtcConfiguration config = test::loopbackConfig();
  config.udpReceiveBufferBytes = 65536;
  PcPair pair(config, config);
  auto channel = pair.offerer->createDataChannel("stats");
  pair.negotiate();
  ASSERT_TRUE(pair.waitConnected());
  ASSERT_TRUE(test::waitOpen(*channel));
  auto remote = pair.waitRemoteChannel();
  ASSERT_TRUE(remote);
  std::atomic<int> received{0};
  remote->onMessage([&](Message&&) { ++received; });
  for (int i = 0; i < 50; ++i) channel->send(Binary(4096, std::byte{1}));
  ASSERT_TRUE(test::eventually([&] { return received.load() == 50; }, std::chrono::seconds(10)));
  auto sctp = pair.offerer->stats().sctp;
  ASSERT_TRUE(sctp.has_value());
  EXPECT_EQ(sctp->state, "established");
  EXPECT_TRUE(sctp->pathReachable);
  EXPECT_GT(sctp->peerWindowBytes, 0u);
  EXPECT_GT(sctp->congestionWindowBytes, 0u);
  EXPECT_GE(sctp->rtoMs, 200u);  // RTO.min as configured
  EXPECT_TRUE(test::eventually([&] { return pair.offerer->stats().sctp->unackedChunks == 0; },
                               std::chrono::seconds(5)));
  remote->onMessage(nullptr);
}

TEST(PeerConnection, OfferCarriesDataChannelSdp) {
  PeerConnection pc(test::loopbackConfig());
  pc.createDataChannel("x");
  auto offer = pc.createOffer();
  EXPECT_EQ(offer.type, Description::Type::Offer);
  for (const char* line :
       {"m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "a=sctp-port:", "a=mid:0",
        "a=group:BUNDLE 0", "a=ice-ufrag:", "a=ice-pwd:", "a=ice-options:trickle",
        "a=fingerprint:sha-256 ", "a=setup:actpass", "a=max-message-size:262144"})
    EXPECT_NE(offer.sdp.find(line), std::string::npos) << line;
  EXPECT_NE(offer.sdp.find(pc.localFingerprint()), std::string::npos);
  // 5000 for the process's first connection, as other stacks expect; later ones count up from
  // it (Runtime::nextSctpPort), so the test holds wherever it runs in the process.
  auto at = offer.sdp.find("a=sctp-port:");
  ASSERT_NE(at, std::string::npos);
  int port = std::stoi(offer.sdp.substr(at + 12));
  EXPECT_GE(port, 5000);
  EXPECT_LT(port, 5000 + 4096);
}

TEST(PeerConnection, AnswerKeepsTheOffersMediaOrder) {
  // An offer from a browser that also negotiates audio: the answer must keep the audio section
  // first (rejected, port 0) and the data section second, as offered.
  PeerConnection offerer(test::loopbackConfig());
  offerer.createDataChannel("x");
  std::string sdp = offerer.createOffer().sdp;
  auto data = sdp.find("m=application");
  ASSERT_NE(data, std::string::npos);
  sdp.insert(data, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:a\r\n");
  PeerConnection answerer(test::loopbackConfig());
  answerer.setRemoteDescription({Description::Type::Offer, sdp});
  std::string answer = answerer.createAnswer().sdp;
  auto audio = answer.find("m=audio 0 ");
  auto app = answer.find("m=application 9 ");
  ASSERT_NE(audio, std::string::npos);
  ASSERT_NE(app, std::string::npos);
  EXPECT_LT(audio, app);
}

TEST(PeerConnection, CandidatesTrickleAndEndWithEmptyCandidate) {
  PeerConnection pc(test::loopbackConfig());
  std::vector<Candidate> candidates;
  test::Signal done;
  pc.onLocalCandidate([&](const Candidate& c) { done.update([&] { candidates.push_back(c); }); });
  pc.createOffer();
  ASSERT_TRUE(
      done.waitFor([&] { return !candidates.empty() && candidates.back().candidate.empty(); }));
  ASSERT_GE(candidates.size(), 2u);
  EXPECT_EQ(candidates.front().candidate.rfind("candidate:", 0), 0u);
  EXPECT_NE(candidates.front().candidate.find("127.0.0.1"), std::string::npos);
  EXPECT_EQ(pc.gatheringState(), GatheringState::Complete);
}

TEST(PeerConnection, FingerprintMismatchFailsTheConnection) {
  PcPair pair;
  auto channel = pair.offerer->createDataChannel("x");
  Description offer = pair.offerer->createOffer();
  pair.answerer->setRemoteDescription(offer);
  Description answer = pair.answerer->createAnswer();
  // Replace the answerer's fingerprint by another valid one: the certificate no longer matches.
  auto pos = answer.sdp.find("a=fingerprint:sha-256 ");
  ASSERT_NE(pos, std::string::npos);
  pos += std::string("a=fingerprint:sha-256 ").size();
  answer.sdp[pos] = answer.sdp[pos] == 'A' ? 'B' : 'A';
  pair.offerer->setRemoteDescription(answer);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline &&
         pair.offerer->state() != PeerConnectionState::Failed)
    std::this_thread::sleep_for(5ms);
  EXPECT_EQ(pair.offerer->state(), PeerConnectionState::Failed);
  EXPECT_EQ(pair.offerer->dtlsState(), DtlsState::Failed);
  EXPECT_FALSE(channel->isOpen());
}

TEST(PeerConnection, MalformedSdpIsAnErrorNotACrash) {
  PeerConnection pc(test::loopbackConfig());
  for (const char* sdp : {"", "garbage", "v=0\r\n", "v=0\r\nm=audio 9 RTP/AVP 0\r\n",
                          "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                          "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                          "a=ice-ufrag:ab\r\na=ice-pwd:short\r\n"}) {
    try {
      pc.setRemoteDescription({Description::Type::Offer, sdp});
      ADD_FAILURE() << "accepted: " << sdp;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::MalformedSdp) << e.what();
    }
  }
  // Still usable afterwards.
  PeerConnection other(test::loopbackConfig());
  other.createDataChannel("x");
  EXPECT_NO_THROW(pc.setRemoteDescription(other.createOffer()));
}

TEST(PeerConnection, MalformedCandidateIsAnError) {
  PcPair pair;
  pair.offerer->createDataChannel("x");
  pair.negotiate();
  for (const char* c :
       {"candidate:", "candidate:1 1 udp", "candidate:1 1 udp x 127.0.0.1 5 typ host",
        "candidate:1 1 udp 1 127.0.0.1 99999 typ host", "hello"}) {
    try {
      pair.offerer->addRemoteCandidate({c, "0"});
      ADD_FAILURE() << "accepted: " << c;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::MalformedCandidate) << e.what();
    }
  }
  EXPECT_TRUE(pair.waitConnected());
}

TEST(PeerConnection, AnswerBeforeOfferIsAnInvalidStateError) {
  PeerConnection pc(test::loopbackConfig());
  try {
    pc.createAnswer();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::InvalidState);
  }
}

// Messages both ways on an open pair: what a selected candidate pair must carry.
TEST(PeerConnection, ConnectsWithEitherNominationModeOnEitherSide) {
  for (bool offererAggressive : {true, false}) {
    for (bool answererAggressive : {true, false}) {
      SCOPED_TRACE(std::string("offerer ") + (offererAggressive ? "aggressive" : "regular") +
                   ", answerer " + (answererAggressive ? "aggressive" : "regular"));
      RtcConfiguration a = test::loopbackConfig(), b = test::loopbackConfig();
      a.aggressiveNomination = offererAggressive;
      b.aggressiveNomination = answererAggressive;
      test::connectAndEcho(a, b, "nomination");
    }
  }
}

// Aggressive nomination with more than one working pair: each side may first select whichever
// pair answered first; the connection must still carry everything, on a pair of loopback hosts.
TEST(PeerConnection, AggressiveNominationWithTwoWorkingPairsCarriesData) {
  RtcConfiguration config = test::loopbackConfig();
  config.localAddresses = {"127.0.0.1", "::1"};
  for (int round = 0; round < 5; ++round) {
    PcPair pair(config, config);
    auto channel = pair.offerer->createDataChannel("two-pairs");
    pair.negotiate();
    ASSERT_TRUE(pair.waitConnected()) << "round " << round;
    ASSERT_TRUE(test::waitOpen(*channel)) << "round " << round;
    expectEchoBothWays(pair, *channel);
    for (auto* pc : {pair.offerer.get(), pair.answerer.get()}) {
      auto stats = pc->stats();
      ASSERT_TRUE(stats.selectedPair.has_value());
      EXPECT_EQ(stats.selectedPair->localType, "host");
      bool v4 = stats.selectedPair->localCandidate.find("127.0.0.1") != std::string::npos;
      bool v6 = stats.selectedPair->localCandidate.find("::1") != std::string::npos;
      EXPECT_TRUE(v4 || v6) << stats.selectedPair->localCandidate;
    }
  }
}

TEST(PeerConnection, TwentyConnectionsOpenInParallel) {
  constexpr int kPairs = 20;
  std::vector<std::unique_ptr<PcPair>> pairs;
  std::vector<std::shared_ptr<DataChannel>> channels;
  for (int i = 0; i < kPairs; ++i) {
    pairs.push_back(std::make_unique<PcPair>());
    channels.push_back(pairs.back()->offerer->createDataChannel("c" + std::to_string(i)));
  }
  std::vector<std::thread> threads;
  for (auto& p : pairs) threads.emplace_back([&p] { p->negotiate(); });
  for (auto& t : threads) t.join();
  for (int i = 0; i < kPairs; ++i) {
    ASSERT_TRUE(test::waitOpen(*channels[i])) << "pair " << i;
    auto remote = pairs[i]->waitRemoteChannel();
    ASSERT_TRUE(remote);
    EXPECT_EQ(remote->label(), "c" + std::to_string(i));
  }
}

TEST(PeerConnection, TwoHundredConnectionsShareOneIoThread) {
  // Warm the runtime so its one I/O thread exists before we count.
  { PeerConnection warm(test::loopbackConfig()); }
  int before = threadCount();
  constexpr int kPairs = 100;  // 200 PeerConnections
  std::vector<std::unique_ptr<PcPair>> pairs;
  std::vector<std::shared_ptr<DataChannel>> channels;
  for (int i = 0; i < kPairs; ++i) {
    pairs.push_back(std::make_unique<PcPair>());
    channels.push_back(pairs.back()->offerer->createDataChannel("c"));
    pairs.back()->negotiate();
  }
  for (int i = 0; i < kPairs; ++i) ASSERT_TRUE(test::waitOpen(*channels[i], 30s)) << i;
  int during = threadCount();
  EXPECT_LE(during - before, 2) << "threads before " << before << ", with 200 connections "
                                << during;
}

TEST(PeerConnection, CloseReachesTheRemoteChannels) {
  PcPair pair;
  auto channel = pair.offerer->createDataChannel("x");
  pair.negotiate();
  ASSERT_TRUE(test::waitOpen(*channel));
  auto remote = pair.waitRemoteChannel();
  ASSERT_TRUE(remote);
  std::atomic<bool> closed{false};
  remote->onClose([&] { closed = true; });
  pair.offerer->close();
  EXPECT_EQ(pair.offerer->state(), PeerConnectionState::Closed);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!closed && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(closed);
}

}  // namespace
}  // namespace ifmesh
