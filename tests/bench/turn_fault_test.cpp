// A TURN server that dies mid-session: two peers relayed through a real coturn on 127.0.0.1,
// data flowing, then coturn is SIGKILLed by its PID.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <optional>
#include <thread>

#include "bench/coturn_process.hpp"
#include "bench/direct_pair.hpp"
#include "ifmesh/error.hpp"

namespace ifmesh::bench {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

RtcConfiguration relayConfig(const CoturnProcess& turn) {
  RtcConfiguration c;
  c.localAddresses = {"127.0.0.1"};
  c.forceRelay = true;
  c.iceServers = {{turn.turnUrl(), turn.options().username, turn.options().password}};
  c.consentTimeoutMs = 2000;
  return c;
}

bool down(PeerConnectionState s) {
  return s == PeerConnectionState::Disconnected || s == PeerConnectionState::Failed;
}

// Echo on the answerer's side; the offerer streams numbered messages until told to stop.
struct Traffic {
  explicit Traffic(DirectPair& pair) : pair(pair) {
    pair.remote().onMessage([&pair](Message&& m) {
      if (auto* text = std::get_if<std::string>(&m)) pair.remote().send(*text);
    });
    pair.local().onMessage([this](Message&&) { ++echoes; });
    sender = std::thread([this] {
      for (int n = 0; !stop; ++n) {
        try {
          if (this->pair.local().bufferedAmount() < 256 * 1024)
            this->pair.local().send("message " + std::to_string(n));
        } catch (const Error& e) {
          sendError = static_cast<int>(e.code());
          return;
        }
        std::this_thread::sleep_for(1ms);
      }
    });
  }
  ~Traffic() {
    stop = true;
    sender.join();
    pair.remote().onMessage(nullptr);
    pair.local().onMessage(nullptr);
  }
  DirectPair& pair;
  std::atomic<int> echoes{0};
  std::atomic<bool> stop{false};
  std::atomic<int> sendError{-1};  // an Errc once a send was refused
  std::thread sender;
};

void waitEchoes(Traffic& t, int n) {
  auto deadline = Clock::now() + 5s;
  while (t.echoes < n && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
  ASSERT_GE(t.echoes.load(), n) << "no traffic through the relay before the fault";
}

TEST(TurnFault, KilledCoturnFailsBothSidesWithAReason) {
  ASSERT_TRUE(CoturnProcess::findBinary()) << "coturn must be installed (scripts/install-deps.sh)";
  CoturnProcess turn;
  DirectPair pair(relayConfig(turn), "relayed");
  ASSERT_EQ(pair.offerer().stats().selectedPair->localType, "relay");
  Traffic traffic(pair);
  waitEchoes(traffic, 50);

  auto killedAt = Clock::now();
  turn.kill();
  std::optional<std::chrono::milliseconds> a, b;
  while (Clock::now() < killedAt + 15s && (!a || !b)) {
    auto t = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killedAt);
    if (!a && down(pair.offerer().state())) a = t;
    if (!b && down(pair.answerer().state())) b = t;
    std::this_thread::sleep_for(5ms);
  }
  std::printf("[ measured ] coturn killed: offerer down after %lld ms, answerer after %lld ms\n",
              a ? static_cast<long long>(a->count()) : -1LL,
              b ? static_cast<long long>(b->count()) : -1LL);
  ASSERT_TRUE(a && b) << "a dead relay went unnoticed";
  EXPECT_LE(a->count(), 5000);
  EXPECT_LE(b->count(), 5000);
  for (PeerConnection* pc : {&pair.offerer(), &pair.answerer()}) {
    EXPECT_EQ(pc->state(), PeerConnectionState::Failed);
    std::string reason = pc->stats().failureReason;
    std::printf("[ measured ] failureReason: %s\n", reason.c_str());
    EXPECT_NE(reason.find("TURN"), std::string::npos) << reason;
  }
  // The sender hears about it instead of queueing into a dead path forever.
  auto deadline = Clock::now() + 2s;
  while (traffic.sendError < 0 && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
  traffic.stop = true;
  EXPECT_EQ(traffic.sendError.load(), static_cast<int>(Errc::ChannelClosed));
}

TEST(TurnFault, RestartedCoturnServesANewConnection) {
  ASSERT_TRUE(CoturnProcess::findBinary()) << "coturn must be installed (scripts/install-deps.sh)";
  auto turn = std::make_unique<CoturnProcess>();
  CoturnProcess::Options sameAddress = turn->options();
  sameAddress.port = turn->port();
  {
    DirectPair pair(relayConfig(*turn), "before");
    turn->kill();
    auto deadline = Clock::now() + 10s;
    while (!down(pair.offerer().state()) && Clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    EXPECT_EQ(pair.offerer().state(), PeerConnectionState::Failed);
  }
  turn.reset();
  CoturnProcess restarted(sameAddress);
  DirectPair pair(relayConfig(restarted), "after");
  EXPECT_EQ(pair.offerer().stats().selectedPair->localType, "relay");
  Traffic traffic(pair);
  waitEchoes(traffic, 20);
}

}  // namespace
}  // namespace ifmesh::bench
