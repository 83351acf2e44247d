// A link session keeps every channel message within what the channel takes: batches (delayed, or
// frames taken together) fit its max-message-size and kMaxBatchBytes with their wrapper, and a
// message whose frame alone exceeds a smaller limit of the peer is failed, not sent. A channel
// refuses a larger message, and what else was taken with it would be lost until a reconnect. No
// sockets: the peer's hello is made here and fed in.
#include <gtest/gtest.h>

#include <future>

#include "ifmesh/error.hpp"
#include "mesh/scripted_peer.hpp"

namespace ifmesh::detail::link {
namespace {

struct Limited : test::ScriptedPeer {
  explicit Limited(std::size_t maxChannelMessage) {
    start(aliceConfig());
    Connection c = connection();
    c.maxChannelMessage = maxChannelMessage;
    session->open(std::move(c));
    session->receive(now, encode(bobsHello()));
    session->takeOutput();
    session->takeEvents();
  }

  std::shared_ptr<std::promise<void>> send(std::size_t payloadBytes, char fill = 'x') {
    IFMessage m;
    m.source = "alice";
    m.destination = "bob";
    m.id = "m" + std::to_string(++sent);
    m.payload = {{"text", std::string(payloadBytes, fill)}};
    auto acked = std::make_shared<std::promise<void>>();
    session->enqueue(now, m, 0, detail::noticeFor(acked));
    return acked;
  }

  // Every channel message taken, checked against `limit`; the msg frames they carry.
  std::size_t takeChecked(std::size_t limit) {
    std::size_t frames = 0;
    for (const auto& out : session->takeOutput()) {
      EXPECT_LE(out.bytes.size(), limit);
      for (const auto& f : decode(out.bytes)) frames += std::holds_alternative<Msg>(f) ? 1 : 0;
    }
    return frames;
  }

  int sent = 0;
};

TEST(LinkSessionChannelLimit, TheBatchWrapperCountsInTheLimit) {
  EXPECT_EQ(encodeBatch({}).size(), kBatchOverhead);
  std::vector<std::string> two = {"{}", "{}"};
  EXPECT_EQ(encodeBatch(two).size(), kBatchOverhead + 2 + 2 + 1);
}

// Frames taken together fill batches to the limit and never past it, for every frame size
// around the point where the frames alone would just fit and the wrapper would not.
TEST(LinkSessionChannelLimit, FramesTakenTogetherStayWithinTheChannel) {
  for (std::size_t limit : {kMaxBatchBytes, std::size_t{65536}, std::size_t{16384}}) {
    for (std::size_t payload = 1000; payload < 1040; ++payload) {
      Limited p(limit);
      // Sent before the caller takes any: taken together.
      for (int i = 0; i < 200; ++i) p.send(payload);
      EXPECT_EQ(p.takeChecked(limit), 200u) << "limit " << limit << ", payload " << payload;
    }
  }
}

TEST(LinkSessionChannelLimit, DelayedBatchesStayWithinTheChannel) {
  for (std::size_t payload = 1000; payload < 1040; ++payload) {
    Limited p(65536);
    p.session->setBatchDelay(std::chrono::milliseconds(50));
    for (int i = 0; i < 200; ++i) p.send(payload);
    p.now += std::chrono::milliseconds(60);
    p.session->tick(p.now);
    EXPECT_EQ(p.takeChecked(65536), 200u) << "payload " << payload;
  }
}

TEST(LinkSessionChannelLimit, AFrameBeyondThePeersLimitFailsAndTheNextGoes) {
  Limited p(16384);
  auto big = p.send(20000);
  auto small = p.send(100);
  EXPECT_EQ(p.takeChecked(16384), 1u);
  try {
    big->get_future().get();
    FAIL() << "a message the channel cannot carry was not failed";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::MessageTooLarge);
  }
  bool reported = false;
  for (auto& e : p.session->takeEvents())
    if (auto* t = std::get_if<TooLarge>(&e)) {
      reported = true;
      EXPECT_EQ(t->message.id, "m1");
      EXPECT_EQ(t->message.payload["text"].get<std::string>().size(), 20000u);
    }
  EXPECT_TRUE(reported);
  EXPECT_EQ(p.session->unacknowledged(), 1u) << "only the small message is held for an ack";
  EXPECT_EQ(small->get_future().wait_for(std::chrono::seconds(0)), std::future_status::timeout);
}

}  // namespace
}  // namespace ifmesh::detail::link
