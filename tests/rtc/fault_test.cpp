// Fault injection over real sockets on 127.0.0.1: peers that vanish without a word, peers that
// send faster than we read, peers that open more channels than the association has streams.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ice/datagram_demux.hpp"
#include "ifmesh/error.hpp"
#include "support/pc_pair.hpp"
#include "support/udp_relay.hpp"

namespace ifmesh {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::eventually;

// The process's resident set, from /proc/self/status ("VmRSS:  123 kB"); `field` may be VmHWM.
std::size_t statusKb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  std::size_t len = std::strlen(field);
  while (std::getline(in, line))
    if (line.compare(0, len, field) == 0 && line.size() > len && line[len] == ':')
      return std::stoul(line.substr(len + 1));
  return 0;
}

// Resets VmHWM to the current RSS, so a later VmHWM is the peak since this call.
void resetPeakRss() {
  std::ofstream("/proc/self/clear_refs") << "5";
}

bool down(PeerConnectionState s) {
  return s == PeerConnectionState::Disconnected || s == PeerConnectionState::Failed;
}

// Two PeerConnections whose every datagram passes a UdpRelay that the test can cut.
struct RelayedPair {
  // `prepare` runs before the offer goes out (e.g. to make the link lossy from the start).
  explicit RelayedPair(RtcConfiguration config,
                       const std::function<void(test::UdpRelay&)>& prepare = nullptr) {
    if (prepare) prepare(relay);
    config.localAddresses = {"127.0.0.1"};
    config.ioThread = 0;  // the candidate callbacks call across: one thread, no waiting cycles
    a = std::make_unique<PeerConnection>(config);
    b = std::make_unique<PeerConnection>(config);
    a->onLocalCandidate([this](const Candidate& c) {
      if (auto line = relay.fromA(c.candidate)) b->addRemoteCandidate({*line, c.mid});
    });
    b->onLocalCandidate([this](const Candidate& c) {
      if (auto line = relay.fromB(c.candidate)) a->addRemoteCandidate({*line, c.mid});
    });
    b->onDataChannel([this](std::shared_ptr<DataChannel> channel) {
      // Echo everything back, so the test sees the whole path work before the fault.
      channel->onMessage([raw = channel.get()](Message&& m) {
        if (auto* text = std::get_if<std::string>(&m)) raw->send(*text);
      });
      signal.update([&] { remote = channel; });
    });
    local = a->createDataChannel("vanish");
    b->setRemoteDescription(a->createOffer());
    a->setRemoteDescription(b->createAnswer());
  }
  ~RelayedPair() {
    a->onLocalCandidate(nullptr);
    b->onLocalCandidate(nullptr);
    b->onDataChannel(nullptr);
    if (remote) remote->onMessage(nullptr);
    a->stats();  // one loop round: no callback is still running
  }

  test::UdpRelay relay;
  std::unique_ptr<PeerConnection> a, b;
  std::shared_ptr<DataChannel> local, remote;
  test::Signal signal;
};

// Connects, proves the echo path works, cuts the relay, and returns how long each side took to
// notice (or nullopt if it did not within `bound`).
struct Detection {
  std::optional<std::chrono::milliseconds> a, b;
};

Detection vanishAndMeasure(RelayedPair& p, std::chrono::milliseconds bound, bool sending) {
  EXPECT_TRUE(test::waitOpen(*p.local));
  std::atomic<int> echoes{0};
  p.local->onMessage([&](Message&&) { ++echoes; });
  p.local->send("ping");
  EXPECT_TRUE(eventually([&] { return echoes > 0; }, 5s));
  EXPECT_GT(p.relay.forwarded(), 0u);

  std::atomic<bool> stopSending{false};
  std::thread sender;
  if (sending) {
    // Data in flight at the moment of the fault (SCTP is retransmitting, not idle).
    sender = std::thread([&] {
      Binary chunk(8 * 1024);
      while (!stopSending) {
        try {
          if (p.local->bufferedAmount() < 512 * 1024) p.local->send(chunk);
        } catch (const Error&) {
          return;  // the channel closed: expected once the failure is detected
        }
        std::this_thread::sleep_for(1ms);
      }
    });
    std::this_thread::sleep_for(200ms);
  }

  auto cutAt = Clock::now();
  p.relay.cut();
  Detection d;
  auto deadline = cutAt + bound;
  while (Clock::now() < deadline && (!d.a || !d.b)) {
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - cutAt);
    if (!d.a && down(p.a->state())) d.a = elapsed;
    if (!d.b && down(p.b->state())) d.b = elapsed;
    std::this_thread::sleep_for(5ms);
  }
  stopSending = true;
  if (sender.joinable()) sender.join();
  p.local->onMessage(nullptr);
  std::printf("[ measured ] failureReason: %s\n", p.a->stats().failureReason.c_str());
  std::printf("[ measured ] vanished peer detected after: a %lld ms (%s), b %lld ms (%s)\n",
              d.a ? static_cast<long long>(d.a->count()) : -1LL, toString(p.a->state()),
              d.b ? static_cast<long long>(d.b->count()) : -1LL, toString(p.b->state()));
  return d;
}

void expectVanishedIdlePeerDetected(const RtcConfiguration& config) {
  RelayedPair p(config);
  auto d = vanishAndMeasure(p, 10s, false);
  ASSERT_TRUE(d.a && d.b) << "a vanished peer went unnoticed";
  // Not before the timeout (no false alarm), not much after it.
  EXPECT_GE(d.a->count(), 1500);
  EXPECT_LE(d.a->count(), 4000);
  EXPECT_LE(d.b->count(), 4000);
  EXPECT_EQ(p.a->state(), PeerConnectionState::Failed);
  EXPECT_NE(p.a->stats().failureReason.find("unresponsive"), std::string::npos)
      << p.a->stats().failureReason;
  // The surviving side's channel is closed and says so, instead of swallowing sends.
  EXPECT_TRUE(eventually([&] { return !p.local->isOpen(); }, 1s));
  try {
    p.local->send("into the void");
    ADD_FAILURE() << "send on a failed connection was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::ChannelClosed);
  }
}

TEST(Fault, IdlePeerThatVanishesIsDetectedWithinTheConsentTimeout) {
  for (bool shared : {true, false}) {
    SCOPED_TRACE(shared ? "shared ICE socket" : "libnice");
    RtcConfiguration config;
    config.consentTimeoutMs = 2000;
    config.sharedIceSocket = shared;
    expectVanishedIdlePeerDetected(config);
  }
}

TEST(Fault, PeerThatVanishesMidTransferIsDetected) {
  RtcConfiguration config;
  config.consentTimeoutMs = 2000;
  RelayedPair p(config);
  auto d = vanishAndMeasure(p, 10s, true);
  ASSERT_TRUE(d.a && d.b);
  EXPECT_LE(d.a->count(), 4000);
  EXPECT_LE(d.b->count(), 4000);
  EXPECT_FALSE(p.a->stats().failureReason.empty());
}

TEST(Fault, IdleButHealthyConnectionOutlivesTheConsentTimeout) {
  // The heartbeats must keep a quiet connection alive: no false alarm after 3 timeouts of silence.
  RtcConfiguration config;
  config.consentTimeoutMs = 1000;
  RelayedPair p(config);
  ASSERT_TRUE(test::waitOpen(*p.local));
  std::this_thread::sleep_for(3500ms);
  EXPECT_EQ(p.a->state(), PeerConnectionState::Connected) << p.a->stats().failureReason;
  EXPECT_EQ(p.b->state(), PeerConnectionState::Connected) << p.b->stats().failureReason;
  std::atomic<int> echoes{0};
  p.local->onMessage([&](Message&&) { ++echoes; });
  p.local->send("still there?");
  EXPECT_TRUE(eventually([&] { return echoes > 0; }, 5s));
  p.local->onMessage(nullptr);
}

TEST(Fault, ByDefaultAVanishedIdlePeerIsDetectedWhenConsentExpires) {
  // The default consentTimeoutMs is RFC 7675's 30 s consent expiry.
  RelayedPair p(RtcConfiguration{});
  auto d = vanishAndMeasure(p, 40s, false);
  ASSERT_TRUE(d.a && d.b) << "a vanished peer went unnoticed";
  EXPECT_GE(d.a->count(), 29000);  // not before the expiry: no false alarm
  EXPECT_EQ(p.a->state(), PeerConnectionState::Failed);
  EXPECT_NE(p.a->stats().failureReason.find("unresponsive"), std::string::npos)
      << p.a->stats().failureReason;
}

// ASan keeps up to 256 MB of freed memory in quarantine: resident, but not ours.
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kRssSlackKb = 300 * 1024;
#else
constexpr std::size_t kRssSlackKb = 0;
#endif

std::uint8_t patternByte(std::uint32_t seq, std::size_t i) {
  return static_cast<std::uint8_t>(seq * 131 + i * 7);
}

// Message `seq` of a checked stream: every byte follows from (seq, position).
void fillPattern(Binary& message, std::uint32_t seq) {
  for (std::size_t i = 0; i < message.size(); ++i) message[i] = std::byte{patternByte(seq, i)};
}

// `from`: the bytes before it carry something else (e.g. the sequence number itself).
bool matchesPattern(const Message& m, std::uint32_t seq, std::size_t size, std::size_t from = 0) {
  auto* bytes = std::get_if<Binary>(&m);
  if (!bytes || bytes->size() != size) return false;
  for (std::size_t i = from; i < size; ++i)
    if ((*bytes)[i] != std::byte{patternByte(seq, i)}) return false;
  return true;
}

TEST(Fault, FastSenderAgainstSlowReaderIsBoundedAndLossless) {
  constexpr std::size_t kMessage = 64 * 1024;
  constexpr std::uint32_t kCount = 3200;  // 200 MiB
  constexpr std::size_t kHigh = 4 * 1024 * 1024;
  constexpr std::size_t kLow = 1024 * 1024;
  test::PcPair pair;
  auto local = pair.offerer->createDataChannel("flood");
  pair.negotiate();
  ASSERT_TRUE(test::waitOpen(*local));
  auto remote = pair.waitRemoteChannel();
  ASSERT_TRUE(remote);

  std::atomic<std::uint32_t> received{0};
  std::atomic<std::uint32_t> corrupt{0};
  remote->onMessage([&](Message&& m) {
    // A slow consumer: the I/O thread is busy here, so the stack must hold the sender back.
    std::this_thread::sleep_for(2ms);
    std::uint32_t seq = received.load();
    if (!matchesPattern(m, seq, kMessage)) ++corrupt;
    received = seq + 1;
  });

  test::Signal low;
  std::atomic<int> lowEvents{0};
  local->setBufferedAmountLowThreshold(kLow);
  local->onBufferedAmountLow([&] {
    ++lowEvents;
    low.notify();
  });

  std::size_t rssBefore = statusKb("VmRSS");
  resetPeakRss();
  auto start = Clock::now();
  std::size_t peakBuffered = 0;
  int waits = 0;
  Binary message(kMessage);
  for (std::uint32_t seq = 0; seq < kCount; ++seq) {
    if (local->bufferedAmount() >= kHigh) {
      ++waits;
      // The documented backpressure loop: stop at the high mark, resume on bufferedAmountLow.
      ASSERT_TRUE(low.waitFor([&] { return local->bufferedAmount() <= kLow; }, 20s))
          << "bufferedAmountLow never came; buffered " << local->bufferedAmount();
    }
    fillPattern(message, seq);
    local->send(message);
    peakBuffered = std::max(peakBuffered, local->bufferedAmount());
  }
  ASSERT_TRUE(eventually([&] { return received == kCount; }, 25s))
      << received << " of " << kCount << " arrived";
  auto seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::size_t peakRss = statusKb("VmHWM");
  std::printf(
      "[ measured ] 200 MiB to a slow reader in %.1f s: peak bufferedAmount %zu KiB, %d "
      "waits, %d bufferedAmountLow, RSS %zu -> peak %zu KiB\n",
      seconds, peakBuffered / 1024, waits, lowEvents.load(), rssBefore, peakRss);
  EXPECT_EQ(corrupt.load(), 0u);
  EXPECT_GT(waits, 0) << "the sender never had to wait: the reader was not slow enough";
  EXPECT_GT(lowEvents.load(), 0);
  EXPECT_LE(peakBuffered, kHigh + kMessage);
  EXPECT_LT(peakRss, rssBefore + 300 * 1024 + kRssSlackKb);
  EXPECT_EQ(pair.offerer->state(), PeerConnectionState::Connected);
  remote->onMessage(nullptr);
  local->onBufferedAmountLow(nullptr);
}

TEST(Fault, LostConsentChecksDoNotEndAConnectionThatIsTalking) {
  // libnice's consent check fails a connection 10 s after its last answered check, even while
  // authenticated data keeps arriving; ours counts the data (PeerCore's consent watchdog).
  std::atomic<int> echoes{0};  // before the pair: callbacks may run until it is gone
  RelayedPair p(RtcConfiguration{});
  ASSERT_TRUE(test::waitOpen(*p.local));
  p.local->onMessage([&](Message&&) { ++echoes; });
  p.relay.dropStun();
  int sent = 0;
  for (auto end = Clock::now() + 14s; Clock::now() < end; ++sent) {
    try {
      p.local->send("ping " + std::to_string(sent));
    } catch (const Error& e) {
      FAIL() << "the connection ended after " << sent << " pings: " << e.what() << " ("
             << p.a->stats().failureReason << ")";
    }
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(eventually([&] { return echoes == sent; }, 5s)) << echoes << " of " << sent;
  EXPECT_EQ(p.a->state(), PeerConnectionState::Connected) << p.a->stats().failureReason;
  EXPECT_EQ(p.b->state(), PeerConnectionState::Connected) << p.b->stats().failureReason;
  p.local->onMessage(nullptr);
}

// Bulk data through a link that loses datagrams in bursts: SCTP must retransmit its way through
// every loss and deliver each message once, intact and in order, and never stall for good.
TEST(Fault, BulkThroughALossyLinkArrivesCompleteAndInOrder) {
  constexpr std::size_t kMessage = 16 * 1024;
  constexpr std::uint32_t kCount = 640;  // 10 MiB
  const char* seedText = std::getenv("IFMESH_LOSS_SEED");
  unsigned seed = seedText ? static_cast<unsigned>(std::stoul(seedText))
                           : static_cast<unsigned>(Clock::now().time_since_epoch().count());
  std::atomic<std::uint32_t> received{0};  // before the pair: callbacks may run until it is gone
  std::atomic<std::uint32_t> corrupt{0};
  RelayedPair p(RtcConfiguration{});
  ASSERT_TRUE(test::waitOpen(*p.local));
  ASSERT_TRUE(p.signal.waitFor([&] { return p.remote != nullptr; }));
  p.remote->onMessage([&](Message&& m) {
    std::uint32_t seq = received.load();
    if (!matchesPattern(m, seq, kMessage)) ++corrupt;
    received = seq + 1;
  });
  p.relay.setLoss(0.005, 2ms, seed);
  auto start = Clock::now();
  Binary message(kMessage);
  for (std::uint32_t seq = 0; seq < kCount; ++seq) {
    ASSERT_TRUE(eventually([&] { return p.local->bufferedAmount() < 1024 * 1024; }, 30s))
        << "the sender's buffer stopped draining at message " << seq << ", " << received
        << " arrived (loss seed " << seed << ")";
    fillPattern(message, seq);
    p.local->send(message);
  }
  ASSERT_TRUE(eventually([&] { return received == kCount; }, 30s))
      << received << " of " << kCount << " arrived (loss seed " << seed << ")";
  auto seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("[ measured ] 10 MiB through %llu lost of %llu datagrams in %.2f s (seed %u)\n",
              static_cast<unsigned long long>(p.relay.dropped()),
              static_cast<unsigned long long>(p.relay.dropped() + p.relay.forwarded()), seconds,
              seed);
  EXPECT_EQ(corrupt.load(), 0u);
  EXPECT_GT(p.relay.dropped(), 0u);
  EXPECT_EQ(p.a->state(), PeerConnectionState::Connected);
  p.remote->onMessage(nullptr);
}

// A channel that never retransmits (maxRetransmits 0, unordered) through a lossy link: a message
// of several packets that lost one is abandoned (FORWARD-TSN) and must vanish whole, never arrive
// cut short, merged with the next or twice; the association itself stays reliable for others.
TEST(Fault, PartiallyReliableMessagesThroughALossyLinkArriveWholeOrNotAtAll) {
  constexpr std::size_t kMessage = 4 * 1024;  // four packets each
  constexpr std::uint32_t kCount = 2000;
  std::mutex mutex;
  std::vector<int> seen(kCount, 0);
  std::atomic<std::uint32_t> corrupt{0};
  std::atomic<int> echoes{0};
  RelayedPair p(RtcConfiguration{});
  ASSERT_TRUE(test::waitOpen(*p.local));
  ASSERT_TRUE(p.signal.waitFor([&] { return p.remote != nullptr; }));
  std::shared_ptr<DataChannel> reliableRemote;
  {
    std::lock_guard lock(p.signal.mutex());
    reliableRemote = p.remote;
  }
  DataChannelInit init;
  init.ordered = false;
  init.maxRetransmits = 0;
  auto lossy = p.a->createDataChannel("lossy", init);
  ASSERT_TRUE(test::waitOpen(*lossy));
  ASSERT_TRUE(p.signal.waitFor([&] { return p.remote != reliableRemote; }));
  std::shared_ptr<DataChannel> lossyRemote;
  {
    std::lock_guard lock(p.signal.mutex());
    lossyRemote = p.remote;
  }
  lossyRemote->onMessage([&](Message&& m) {
    auto* bytes = std::get_if<Binary>(&m);
    std::uint32_t seq = kCount;
    if (bytes && bytes->size() == kMessage) std::memcpy(&seq, bytes->data(), sizeof seq);
    if (seq >= kCount || !matchesPattern(m, seq, kMessage, sizeof seq)) {
      ++corrupt;
      return;
    }
    std::lock_guard lock(mutex);
    ++seen[seq];
  });
  p.relay.setLoss(0.05, 0us, 7);
  Binary message(kMessage);
  for (std::uint32_t seq = 0; seq < kCount; ++seq) {
    ASSERT_TRUE(eventually([&] { return lossy->bufferedAmount() < 256 * 1024; }, 20s));
    fillPattern(message, seq);
    std::memcpy(message.data(), &seq, sizeof seq);
    lossy->send(message);
  }
  ASSERT_TRUE(eventually([&] { return lossy->bufferedAmount() == 0; }, 20s));
  std::this_thread::sleep_for(1s);  // stragglers
  lossyRemote->onMessage(nullptr);
  int delivered = 0, twice = 0;
  {
    std::lock_guard lock(mutex);
    for (int n : seen) {
      delivered += n > 0;
      twice += n > 1;
    }
  }
  std::printf(
      "[ measured ] maxRetransmits 0 through %llu lost of %llu datagrams: %d of %u "
      "messages of 4 KiB delivered\n",
      static_cast<unsigned long long>(p.relay.dropped()),
      static_cast<unsigned long long>(p.relay.dropped() + p.relay.forwarded()), delivered, kCount);
  EXPECT_EQ(corrupt.load(), 0u) << "a message arrived cut short or merged";
  EXPECT_EQ(twice, 0) << "a message arrived twice";
  EXPECT_GT(delivered, static_cast<int>(kCount) / 2);
  EXPECT_LT(delivered, static_cast<int>(kCount)) << "nothing was lost: the link was not lossy";
  // The reliable channel on the same association still delivers, through the same loss.
  p.local->onMessage([&](Message&&) { ++echoes; });
  for (int k = 0; k < 10; ++k) p.local->send("after " + std::to_string(k));
  EXPECT_TRUE(eventually([&] { return echoes == 10; }, 30s)) << echoes << " of 10";
  p.local->onMessage(nullptr);
}

TEST(Fault, ConnectionsFormThroughALossyLink) {
  // ICE checks, the DTLS handshake, SCTP's INIT and DCEP all meet lost datagrams and must
  // retransmit their way through.
  constexpr int kConnections = 12;
  std::vector<double> setupMs, echoMs;
  for (int i = 0; i < kConnections; ++i) {
    auto start = Clock::now();
    std::atomic<int> echoes{0};  // before the pair: callbacks may run until it is gone
    RelayedPair p(RtcConfiguration{}, [i](test::UdpRelay& relay) {
      relay.setLoss(0.1, 0us, 1000 + static_cast<unsigned>(i));
    });
    ASSERT_TRUE(test::waitOpen(*p.local, 20s))
        << "connection " << i << " did not open: " << p.a->stats().failureReason;
    setupMs.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    p.local->onMessage([&](Message&&) { ++echoes; });
    auto sentAt = Clock::now();
    for (int k = 0; k < 20; ++k) p.local->send("echo " + std::to_string(k));
    // Generous: when the handshake itself needed retransmissions SCTP has no round-trip time yet
    // and its retransmission timeout stays backed off (3 s, the cap) until a chunk is answered
    // without one, so every loss among these first messages or their SACKs costs 3 s: one
    // connection of a run took 12 s (4 losses), in normal and ASan builds alike.
    EXPECT_TRUE(eventually([&] { return echoes == 20; }, 60s)) << echoes << " of 20";
    echoMs.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sentAt).count());
    p.local->onMessage(nullptr);
  }
  for (auto* v : {&setupMs, &echoMs}) std::sort(v->begin(), v->end());
  std::printf(
      "[ measured ] through 10 %% loss: open min %.0f, median %.0f, max %.0f ms; 20 echoes min "
      "%.0f, median %.0f, max %.0f ms\n",
      setupMs.front(), setupMs[setupMs.size() / 2], setupMs.back(), echoMs.front(),
      echoMs[echoMs.size() / 2], echoMs.back());
}

// The records of one DTLS datagram: content type and, for a plaintext handshake record (epoch
// 0), its handshake message type (else -1).
std::vector<std::pair<int, int>> dtlsRecords(const unsigned char* d, std::size_t n) {
  std::vector<std::pair<int, int>> out;
  for (std::size_t off = 0; off + 13 <= n;) {
    const int type = d[off];
    const int epoch = d[off + 3] << 8 | d[off + 4];
    const std::size_t length = static_cast<std::size_t>(d[off + 11] << 8 | d[off + 12]);
    out.emplace_back(type, type == 22 && epoch == 0 && length > 0 ? d[off + 13] : -1);
    off += 13 + length;
  }
  return out;
}

void expectLostHandshakeFlightResentWhole(const RtcConfiguration& config);

TEST(Fault, ALostHandshakeFlightGoesAgainInOneDatagram) {
  for (bool shared : {true, false}) {
    SCOPED_TRACE(shared ? "shared ICE socket" : "libnice");
    RtcConfiguration config;
    config.sharedIceSocket = shared;
    expectLostHandshakeFlightResentWhole(config);
  }
}

void expectLostHandshakeFlightResentWhole(const RtcConfiguration& config) {
  // The answerer (B) is the DTLS client. Its second flight (certificate, key exchange,
  // certificate verify, change cipher spec, finished) is lost once; OpenSSL resends it record by
  // record, and each record alone in a datagram made every one of them a chance to lose the
  // flight again. It must go again packed, as the first time. The server's last flight carries
  // no session ticket (WebRTC never resumes).
  constexpr int kCertificate = 11, kKeyExchange = 16, kCertificateVerify = 15, kTicket = 4;
  constexpr int kChangeCipherSpec = 20, kHandshake = 22;
  std::mutex m;
  std::vector<std::vector<std::pair<int, int>>> clientFlights;  // datagrams carrying its cert
  int splitDatagrams = 0, tickets = 0;
  bool droppedOne = false;
  RelayedPair p(config, [&](test::UdpRelay& relay) {
    relay.inspect([&](bool toA, const unsigned char* d, std::size_t n) {
      // Between two shared ICE sockets DTLS travels behind the receiver's mux tag.
      if (n > ice::kMuxTagBytes && d[0] == ice::kMuxTagByte) {
        d += ice::kMuxTagBytes;
        n -= ice::kMuxTagBytes;
      }
      if (n == 0 || (d[0] != kHandshake && d[0] != kChangeCipherSpec)) return false;
      auto records = dtlsRecords(d, n);
      std::lock_guard lock(m);
      if (!toA) {
        for (auto [type, hs] : records) tickets += hs == kTicket;
        return false;
      }
      if (records.front().second == kKeyExchange || records.front().second == kCertificateVerify)
        ++splitDatagrams;
      if (records.front().second != kCertificate) return false;
      clientFlights.push_back(records);
      if (droppedOne) return false;
      droppedOne = true;
      return true;
    });
  });
  ASSERT_TRUE(test::waitOpen(*p.local, 20s)) << p.a->stats().failureReason;
  std::lock_guard lock(m);
  ASSERT_GE(clientFlights.size(), 2u);
  for (const auto& flight : clientFlights) {
    auto has = [&](int type, int hs) {
      return std::find(flight.begin(), flight.end(), std::pair{type, hs}) != flight.end();
    };
    EXPECT_TRUE(has(kHandshake, kCertificate) && has(kHandshake, kKeyExchange) &&
                has(kHandshake, kCertificateVerify) && has(kChangeCipherSpec, -1) &&
                has(kHandshake, -1))
        << "a client flight of " << flight.size() << " records is not whole in one datagram";
  }
  EXPECT_EQ(splitDatagrams, 0);
  EXPECT_EQ(tickets, 0);
}

TEST(Fault, ThousandsOfChannelsHitTheStreamLimitWithAClearError) {
  test::PcPair pair;
  auto first = pair.offerer->createDataChannel("first");
  pair.negotiate();
  ASSERT_TRUE(test::waitOpen(*first));
  auto firstRemote = pair.waitRemoteChannel(0);
  ASSERT_TRUE(firstRemote);
  firstRemote->onMessage([raw = firstRemote.get()](Message&& m) {
    if (auto* text = std::get_if<std::string>(&m)) raw->send(*text);
  });

  std::size_t rssBefore = statusKb("VmRSS");
  resetPeakRss();
  std::vector<std::shared_ptr<DataChannel>> opened;
  std::size_t refused = 0;
  std::string firstError;
  for (int i = 0; i < 5000; ++i) {
    try {
      opened.push_back(pair.offerer->createDataChannel("c" + std::to_string(i)));
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::TooManyChannels) << e.what();
      if (firstError.empty()) firstError = e.what();
      ++refused;
    }
  }
  std::printf("[ measured ] %zu channels opened, %zu refused: %s\n", opened.size() + 1, refused,
              firstError.c_str());
  // 1024 streams, the offerer (DTLS server) takes the odd ids: 512 channels, "first" included.
  EXPECT_EQ(opened.size() + 1, 512u);
  EXPECT_EQ(refused, 5000u - 511);
  EXPECT_NE(firstError.find("no free SCTP stream"), std::string::npos);
  ASSERT_TRUE(pair.waitRemoteChannel(511)) << "the peer did not see every accepted channel";
  for (auto& c : opened) EXPECT_TRUE(test::waitOpen(*c, 1s));

  // The receiving side is healthy: the first channel still echoes.
  std::atomic<int> echoes{0};
  first->onMessage([&](Message&&) { ++echoes; });
  first->send("still here");
  EXPECT_TRUE(eventually([&] { return echoes > 0; }, 5s));
  EXPECT_EQ(pair.offerer->state(), PeerConnectionState::Connected);
  EXPECT_EQ(pair.answerer->state(), PeerConnectionState::Connected);
  std::size_t peakRss = statusKb("VmHWM");
  std::printf("[ measured ] RSS %zu -> peak %zu KiB\n", rssBefore, peakRss);
  EXPECT_LT(peakRss, rssBefore + 100 * 1024 + kRssSlackKb);

  // Closing channels frees their streams for new ones.
  for (int i = 0; i < 10; ++i) opened[i]->close();
  std::shared_ptr<DataChannel> again;
  EXPECT_TRUE(eventually(
      [&] {
        try {
          again = pair.offerer->createDataChannel("again");
          return true;
        } catch (const Error&) {
          return false;
        }
      },
      5s));
  if (again) {
    EXPECT_TRUE(test::waitOpen(*again));
  }
  first->onMessage(nullptr);
  firstRemote->onMessage(nullptr);
}

TEST(Fault, PeerWithFewerStreamsCapsOurChannels) {
  // The answerer accepts 16 inbound streams; we offer 1024. Channels beyond 16 must be refused
  // here, not opened on streams the peer never accepted.
  RtcConfiguration small = test::loopbackConfig();
  small.maxChannels = 16;
  test::PcPair pair(test::loopbackConfig(), small);
  auto first = pair.offerer->createDataChannel("first");
  pair.negotiate();
  ASSERT_TRUE(test::waitOpen(*first));
  std::vector<std::shared_ptr<DataChannel>> opened{first};
  bool refusedClearly = false;
  for (int i = 0; i < 100; ++i) {
    try {
      opened.push_back(pair.offerer->createDataChannel("c" + std::to_string(i)));
    } catch (const Error& e) {
      refusedClearly = e.code() == Errc::TooManyChannels;
      break;
    }
  }
  EXPECT_TRUE(refusedClearly);
  EXPECT_EQ(opened.size(), 8u);  // odd ids below 16
  ASSERT_TRUE(pair.waitRemoteChannel(opened.size() - 1));
  // Every accepted channel really reaches the peer.
  std::vector<std::shared_ptr<DataChannel>> remotes;
  {
    std::lock_guard lock(pair.signal.mutex());
    remotes = pair.remoteChannels;
  }
  EXPECT_EQ(remotes.size(), opened.size());
  std::atomic<int> got{0};
  for (auto& r : remotes) r->onMessage([&](Message&&) { ++got; });
  for (auto& c : opened) c->send("hello");
  EXPECT_TRUE(eventually([&] { return got == static_cast<int>(opened.size()); }, 5s));
  for (auto& r : remotes) r->onMessage(nullptr);
}

}  // namespace
}  // namespace ifmesh
