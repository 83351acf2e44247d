// ChannelBudget: a peer link's transport budget follows the link's drain rate, driven here by
// simulated links (no sockets).
#include <gtest/gtest.h>

#include <algorithm>

#include "mesh/channel_budget.hpp"

namespace ifmesh::detail {
namespace {

using namespace std::chrono_literals;
using Clock = ChannelBudget::Clock;

ChannelBudget::Config smallFloor() {
  ChannelBudget::Config c;
  c.floor = 4 * 1024;
  return c;
}

// A link of `bytesPerSecond` and round trip `rtt` with a backlog waiting in the channel: every
// millisecond it drains what the link carries, but never more than the budget per round trip
// (SCTP holds at most the budget).
std::size_t runLink(ChannelBudget& b, Clock::time_point& now, std::uint64_t& acked,
                    double bytesPerSecond, std::chrono::microseconds rtt,
                    std::chrono::milliseconds duration) {
  for (auto end = now + duration; now < end; now += 1ms) {
    double byRate = bytesPerSecond / 1000.0;
    double byWindow = static_cast<double>(b.budget()) * 1000.0 / static_cast<double>(rtt.count());
    acked += static_cast<std::uint64_t>(std::min(byRate, byWindow));
    b.update(now, acked, 64 * 1024);
  }
  return b.budget();
}

TEST(ChannelBudget, StartsAtTheFloor) {
  ChannelBudget b;
  EXPECT_EQ(b.budget(), ChannelBudget::Config{}.floor);
  EXPECT_EQ(b.update(Clock::now(), 0, 0), ChannelBudget::Config{}.floor);
  EXPECT_EQ(b.bytesPerSecond(), 0);
}

TEST(ChannelBudget, SettlesAtRateTimesTargetOnASlowLink) {
  ChannelBudget b(smallFloor());
  auto now = Clock::time_point{} + 1s;
  std::uint64_t acked = 0;
  // 4 Mbit/s = 500 kB/s with a 5 ms round trip: 25 ms of it is 12.5 kB.
  std::size_t budget = runLink(b, now, acked, 500e3, 5ms, 2s);
  EXPECT_NEAR(b.bytesPerSecond(), 500e3, 25e3);
  EXPECT_NEAR(static_cast<double>(budget), 12.5e3, 1e3);
}

TEST(ChannelBudget, NeverGoesBelowTheFloor) {
  ChannelBudget b;  // floor 16 KiB
  auto now = Clock::time_point{} + 1s;
  std::uint64_t acked = 0;
  EXPECT_EQ(runLink(b, now, acked, 100e3, 5ms, 2s), 16u * 1024);
}

TEST(ChannelBudget, GrowsToTheCeilingOnAFastLink) {
  ChannelBudget b;
  auto now = Clock::time_point{} + 1s;
  std::uint64_t acked = 0;
  // 1 GB/s with a 200 us round trip: the window, not the link, limits at first.
  EXPECT_EQ(runLink(b, now, acked, 1e9, 200us, 100ms), ChannelBudget::Config{}.ceiling);
}

TEST(ChannelBudget, FollowsALinkThatSlowsDown) {
  ChannelBudget b(smallFloor());
  auto now = Clock::time_point{} + 1s;
  std::uint64_t acked = 0;
  runLink(b, now, acked, 4e6, 5ms, 1s);
  EXPECT_NEAR(static_cast<double>(b.budget()), 100e3, 5e3);
  // Within a few samples at the lower rate.
  runLink(b, now, acked, 500e3, 5ms, 200ms);
  EXPECT_NEAR(static_cast<double>(b.budget()), 12.5e3, 1e3);
}

TEST(ChannelBudget, AnIdleChannelDoesNotShrinkIt) {
  ChannelBudget b(smallFloor());
  auto now = Clock::time_point{} + 1s;
  std::uint64_t acked = 0;
  std::size_t fast = runLink(b, now, acked, 4e6, 5ms, 1s);
  // A trickle with nothing waiting says the link is at least this fast, not that it is slow.
  for (int i = 0; i < 500; ++i) {
    now += 1ms;
    acked += 10;
    b.update(now, acked, 0);
  }
  EXPECT_EQ(b.budget(), fast);
}

TEST(ChannelBudget, ANewChannelStartsOver) {
  ChannelBudget b(smallFloor());
  auto now = Clock::time_point{} + 1s;
  std::uint64_t acked = 0;
  runLink(b, now, acked, 4e6, 5ms, 1s);
  ASSERT_GT(b.budget(), 4u * 1024);
  // The running count restarts with the channel of a new connection.
  EXPECT_EQ(b.update(now + 1ms, 100, 0), 4u * 1024);
  EXPECT_EQ(b.bytesPerSecond(), 0);
}

TEST(ChannelBudget, SamplesSpanTheSampleInterval) {
  ChannelBudget b(smallFloor());
  auto now = Clock::time_point{} + 1s;
  b.update(now, 0, 1000);
  // 1 MB within 5 ms is no sample yet.
  EXPECT_EQ(b.update(now + 5ms, 1000000, 1000), 4u * 1024);
  EXPECT_EQ(b.bytesPerSecond(), 0);
  b.update(now + 20ms, 1000000, 1000);
  EXPECT_NEAR(b.bytesPerSecond(), 50e6, 1e3);
}

}  // namespace
}  // namespace ifmesh::detail
