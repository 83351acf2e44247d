// DataChannel behaviour between two real PeerConnections on 127.0.0.1.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <map>
#include <numeric>
#include <set>

#include "ifmesh/error.hpp"
#include "support/pc_pair.hpp"

namespace ifmesh {
namespace {

using test::PcPair;
using namespace std::chrono_literals;

// Collects messages delivered on the I/O thread for the test thread to inspect.
struct Inbox {
  void attach(DataChannel& channel) {
    channel.onMessage(
        [this](Message&& m) { signal.update([&] { messages.push_back(std::move(m)); }); });
  }
  bool waitCount(std::size_t n, std::chrono::milliseconds timeout = 20s) {
    return signal.waitFor([&] { return messages.size() >= n; }, timeout);
  }
  test::Signal signal;
  std::vector<Message> messages;
};

Binary pattern(std::size_t size) {
  Binary b(size);
  for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::byte>(i * 31 + 7);
  return b;
}

struct Connected {
  PcPair pair;
  std::shared_ptr<DataChannel> local;
  std::shared_ptr<DataChannel> remote;
  explicit Connected(const DataChannelInit& init = {}, std::string label = "chan") {
    local = pair.offerer->createDataChannel(label, init);
    pair.negotiate();
    EXPECT_TRUE(test::waitOpen(*local));
    remote = pair.waitRemoteChannel();
    EXPECT_TRUE(remote);
  }
};

TEST(DataChannel, OpensFromOffererWithLabelProtocolAndIds) {
  DataChannelInit init;
  init.protocol = "ifmesh-v1";
  Connected c(init, "if-agent-messaging");
  EXPECT_EQ(c.remote->label(), "if-agent-messaging");
  EXPECT_EQ(c.remote->protocol(), "ifmesh-v1");
  ASSERT_TRUE(c.local->id().has_value());
  EXPECT_EQ(c.local->id(), c.remote->id());
  // The offerer is the DTLS server (the answerer takes setup:active), so it uses odd ids.
  EXPECT_EQ(*c.local->id() % 2, 1);
}

TEST(DataChannel, OpensFromAnswererSide) {
  Connected c;
  std::shared_ptr<DataChannel> fromAnswerer = c.pair.answerer->createDataChannel("reverse");
  test::Signal got;
  std::shared_ptr<DataChannel> atOfferer;
  c.pair.offerer->onDataChannel(
      [&](std::shared_ptr<DataChannel> ch) { got.update([&] { atOfferer = ch; }); });
  ASSERT_TRUE(test::waitOpen(*fromAnswerer));
  ASSERT_TRUE(got.waitFor([&] { return atOfferer != nullptr; }));
  EXPECT_EQ(atOfferer->label(), "reverse");
  EXPECT_EQ(*fromAnswerer->id() % 2, 0);
  Inbox inbox;
  inbox.attach(*atOfferer);
  fromAnswerer->send("ping from answerer");
  ASSERT_TRUE(inbox.waitCount(1));
  EXPECT_EQ(std::get<std::string>(inbox.messages[0]), "ping from answerer");
  c.pair.offerer->onDataChannel(nullptr);
}

TEST(DataChannel, TextAndBinaryOfEverySize) {
  Connected c;
  Inbox inbox;
  inbox.attach(*c.remote);
  std::size_t max = c.local->maxMessageSize();
  EXPECT_EQ(max, 256u * 1024);
  std::vector<std::size_t> sizes = {0, 1, 64 * 1024, max};
  for (auto size : sizes) {
    c.local->send(std::string(size, 'x'));
    c.local->send(pattern(size));
  }
  ASSERT_TRUE(inbox.waitCount(sizes.size() * 2));
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const auto& text = inbox.messages[2 * i];
    const auto& binary = inbox.messages[2 * i + 1];
    ASSERT_TRUE(std::holds_alternative<std::string>(text)) << sizes[i];
    ASSERT_TRUE(std::holds_alternative<Binary>(binary)) << sizes[i];
    EXPECT_EQ(std::get<std::string>(text), std::string(sizes[i], 'x'));
    EXPECT_EQ(std::get<Binary>(binary), pattern(sizes[i]));
  }
}

TEST(DataChannel, OversizeSendIsAClearError) {
  Connected c;
  try {
    c.local->send(std::string(c.local->maxMessageSize() + 1, 'x'));
    FAIL() << "oversize send accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::MessageTooLarge);
    EXPECT_NE(std::string(e.what()).find("max-message-size"), std::string::npos);
  }
  // The channel is still fine.
  Inbox inbox;
  inbox.attach(*c.remote);
  c.local->send("still here");
  ASSERT_TRUE(inbox.waitCount(1));
}

TEST(DataChannel, RemoteMaxMessageSizeLimitsSends) {
  RtcConfiguration small = test::loopbackConfig();
  small.maxMessageSize = 1000;
  PcPair pair(test::loopbackConfig(), small);
  auto channel = pair.offerer->createDataChannel("x");
  pair.negotiate();
  ASSERT_TRUE(test::waitOpen(*channel));
  EXPECT_EQ(channel->maxMessageSize(), 1000u);
  EXPECT_THROW(channel->send(std::string(1001, 'y')), Error);
  EXPECT_NO_THROW(channel->send(std::string(1000, 'y')));
}

TEST(DataChannel, HundredThousandOrderedMessagesArriveCompleteAndInOrder) {
  Connected c;
  constexpr std::uint32_t kCount = 100'000;
  std::atomic<std::uint32_t> received{0};
  std::atomic<bool> inOrder{true};
  test::Signal done;
  c.remote->onMessage([&](Message&& m) {
    const auto& b = std::get<Binary>(m);
    std::uint32_t seq;
    std::memcpy(&seq, b.data(), sizeof seq);
    if (seq != received.load()) inOrder = false;
    if (++received == kCount) done.notify();
  });
  c.local->setBufferedAmountLowThreshold(256 * 1024);
  Binary msg(64);
  for (std::uint32_t i = 0; i < kCount; ++i) {
    std::memcpy(msg.data(), &i, sizeof i);
    while (c.local->bufferedAmount() > 4 * 1024 * 1024) std::this_thread::sleep_for(100us);
    c.local->send(msg);
  }
  ASSERT_TRUE(done.waitFor([&] { return received.load() == kCount; }, 60s))
      << "received " << received.load();
  EXPECT_TRUE(inOrder);
}

TEST(DataChannel, UnorderedPartiallyReliableChannelDelivers) {
  DataChannelInit init;
  init.ordered = false;
  init.maxRetransmits = 0;
  Connected c(init, "lossy");
  Inbox inbox;
  inbox.attach(*c.remote);
  constexpr int kCount = 1000;
  for (int i = 0; i < kCount; ++i) c.local->send("m" + std::to_string(i));
  // Loopback does not lose packets: everything arrives, perhaps out of order.
  ASSERT_TRUE(inbox.waitCount(kCount));
  std::set<std::string> seen;
  for (auto& m : inbox.messages) seen.insert(std::get<std::string>(m));
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kCount));

  DataChannelInit timed;
  timed.ordered = false;
  timed.maxPacketLifeTime = 100;
  auto second = c.pair.offerer->createDataChannel("timed", timed);
  ASSERT_TRUE(test::waitOpen(*second));
  auto remote2 = c.pair.waitRemoteChannel(1);
  ASSERT_TRUE(remote2);
  Inbox inbox2;
  inbox2.attach(*remote2);
  second->send("t");
  ASSERT_TRUE(inbox2.waitCount(1));
}

TEST(DataChannel, FiftyChannelsOnOneConnection) {
  Connected c;
  constexpr int kChannels = 50;
  std::vector<std::shared_ptr<DataChannel>> locals;
  for (int i = 1; i < kChannels; ++i)
    locals.push_back(c.pair.offerer->createDataChannel("ch" + std::to_string(i)));
  for (auto& ch : locals) ASSERT_TRUE(test::waitOpen(*ch));
  locals.insert(locals.begin(), c.local);
  ASSERT_TRUE(c.pair.waitRemoteChannel(kChannels - 1));
  std::map<std::string, std::unique_ptr<Inbox>> inboxes;
  {
    std::lock_guard lock(c.pair.signal.mutex());
    for (auto& remote : c.pair.remoteChannels) {
      auto& inbox = inboxes[remote->label()];
      inbox = std::make_unique<Inbox>();
      inbox->attach(*remote);
    }
  }
  ASSERT_EQ(inboxes.size(), static_cast<std::size_t>(kChannels));
  for (auto& ch : locals) ch->send("on " + ch->label());
  for (auto& [label, inbox] : inboxes) {
    ASSERT_TRUE(inbox->waitCount(1)) << label;
    EXPECT_EQ(std::get<std::string>(inbox->messages[0]), "on " + label);
  }
}

TEST(DataChannel, CloseFromEitherSideReachesTheOther) {
  for (bool fromOfferer : {true, false}) {
    Connected c;
    std::atomic<bool> localClosed{false}, remoteClosed{false};
    c.local->onClose([&] { localClosed = true; });
    c.remote->onClose([&] { remoteClosed = true; });
    Inbox inbox;
    inbox.attach(*c.remote);
    if (fromOfferer) {
      c.local->send("last words");
      c.local->close();
    } else {
      c.remote->close();
    }
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!(localClosed && remoteClosed) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(5ms);
    EXPECT_TRUE(localClosed) << fromOfferer;
    EXPECT_TRUE(remoteClosed) << fromOfferer;
    EXPECT_FALSE(c.local->isOpen());
    EXPECT_FALSE(c.remote->isOpen());
    if (fromOfferer) {
      ASSERT_TRUE(inbox.waitCount(1));  // sent before close(): not lost
      EXPECT_EQ(std::get<std::string>(inbox.messages[0]), "last words");
    }
    EXPECT_THROW(c.local->send("after close"), Error);
    EXPECT_EQ(c.pair.offerer->state(), PeerConnectionState::Connected);
  }
}

TEST(DataChannel, BufferedAmountLowFiresWhenTheQueueDrains) {
  Connected c;
  std::atomic<int> lowEvents{0};
  c.local->setBufferedAmountLowThreshold(64 * 1024);
  c.local->onBufferedAmountLow([&] { ++lowEvents; });
  Binary chunk(16 * 1024);
  std::size_t peak = 0;
  for (int i = 0; i < 2000; ++i) {
    c.local->send(chunk);
    peak = std::max(peak, c.local->bufferedAmount());
  }
  EXPECT_GT(peak, 64u * 1024) << "the queue never filled: the test proves nothing";
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while ((c.local->bufferedAmount() > 0 || lowEvents == 0) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_EQ(c.local->bufferedAmount(), 0u);
  EXPECT_GE(lowEvents.load(), 1);
}

// A send window holds a backlog in bufferedAmount (a message enters SCTP only when it fits, or
// alone): what SCTP holds never exceeds it by more than one message. An urgent message takes
// itself and everything before it past the window, in order, far sooner than the window would.
TEST(DataChannel, SendWindowHoldsTheBacklogAndUrgentMessagesPassIt) {
  Connected c;
  Inbox inbox;
  inbox.attach(*c.remote);
  constexpr std::size_t kWindow = 1;
  constexpr std::size_t kMessages = 50'000;
  c.local->setSendWindow(kWindow);
  for (std::size_t i = 0; i < kMessages; ++i) c.local->send("backlog " + std::to_string(i));
  std::size_t worstHeld = 0;
  auto started = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - started < 300ms) {
    // Read in this order, sent - acknowledged never overstates what SCTP held.
    std::uint64_t sent = c.local->bytesSent();
    std::uint64_t acknowledged = c.local->bytesAcknowledged();
    if (sent >= acknowledged) worstHeld = std::max<std::size_t>(worstHeld, sent - acknowledged);
    std::this_thread::sleep_for(1ms);
  }
  std::size_t before = 0;
  {
    std::lock_guard lock(inbox.signal.mutex());
    before = inbox.messages.size();
  }
  ASSERT_LT(before, kMessages / 2) << "the window held nothing back: the test proves nothing";
  EXPECT_LE(worstHeld, std::string("backlog 49999").size()) << "SCTP held more than one message";
  double windowRate = static_cast<double>(std::max<std::size_t>(before, 1)) / 0.3;  // per second
  auto urgentAt = std::chrono::steady_clock::now();
  c.local->sendUrgent("urgent");
  ASSERT_TRUE(inbox.waitCount(kMessages + 1));
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - urgentAt).count();
  double windowSeconds = static_cast<double>(kMessages - before) / windowRate;
  EXPECT_LT(seconds, windowSeconds / 2)
      << "the urgent message waited for the window: " << seconds << " s against " << windowSeconds
      << " s at the window's pace";
  for (std::size_t i = 0; i < kMessages; ++i)
    ASSERT_EQ(std::get<std::string>(inbox.messages[i]), "backlog " + std::to_string(i));
  EXPECT_EQ(std::get<std::string>(inbox.messages[kMessages]), "urgent");
  // Everything delivered is acknowledged, and counted (the association's count also holds the
  // channel's DCEP OPEN).
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (c.local->bytesAcknowledged() < c.local->bytesSent() &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_GE(c.local->bytesAcknowledged(), c.local->bytesSent());
  EXPECT_LE(c.local->bytesAcknowledged(), c.local->bytesSent() + 64);
}

TEST(DataChannel, NegotiatedChannelsNeedNoDcep) {
  PcPair pair;
  DataChannelInit init;
  init.negotiatedId = 42;
  auto a = pair.offerer->createDataChannel("neg", init);
  auto b = pair.answerer->createDataChannel("neg", init);
  pair.negotiate();
  ASSERT_TRUE(test::waitOpen(*a));
  ASSERT_TRUE(test::waitOpen(*b));
  Inbox inbox;
  inbox.attach(*b);
  a->send("negotiated");
  ASSERT_TRUE(inbox.waitCount(1));
  EXPECT_EQ(std::get<std::string>(inbox.messages[0]), "negotiated");
}

}  // namespace
}  // namespace ifmesh
